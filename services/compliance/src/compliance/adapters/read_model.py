"""The compliance read model: facts projected from the services' published events, in SQL.

Every row keeps the id of the event it came from, and `recorded_at`, the time the producer
recorded that event (its CloudEvent time). Nothing is updated in place: a correction is a row of
its own. The reader applies the second time axis, `known_at`, to every table in one place
(`_known`: only the rows recorded by then); the pure domain then decides, for a date, which facts
were in force (see compliance.domain.facts). Each projection is idempotent by construction: a
row is keyed by the event's business identity (a session and supervisee, a referral and a
target, a correction of a session at the time it was recorded...) and inserted with ON CONFLICT
DO NOTHING, so an event delivered twice, or a producer's log re-published under new event ids,
changes nothing.

The projector applies a batch of events in the consumer's transaction: each event parsed once,
its rows grouped per table, each table written once per batch. It says which supervisees,
credential holders, referrals and sites a batch touched, so that a view materialized from the
facts can be brought up to date in the same transaction. An event compliance could not apply is
recorded (`unapplied_events`), and every view of what it names says it is incomplete until the
event is applied after all.

The projection is rebuilt from scratch by emptying these tables and the inbox and re-publishing
the producers' logs.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    and_,
    cast,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from compliance.application.queries import SuperviseePage
from compliance.domain.agreements import (
    AgreementAmendment,
    AgreementApproval,
    AgreementFact,
    AgreementTermination,
    AgreementTerms,
)
from compliance.domain.engine.inputs import ApprovedLeave, Decisions, Resolution
from compliance.domain.facts import (
    Concern,
    ConcernKind,
    LapseMark,
    ReferralChange,
    ReferralFact,
    ReferralStatus,
    ServiceLevelBreach,
    SessionCorrection,
    SessionFigures,
    SupervisionSessionFact,
    UnappliedEvent,
    concern_fields,
    concerns,
    recorded_on,
)
from compliance.domain.record import (
    Credentials,
    DomainScore,
    EvaluationFact,
    MonthEvent,
    PracticeHoursFact,
    SuperviseeFact,
    SuperviseeFacts,
    TransferFact,
)
from compliance.domain.standing import DesignationFact, LicenseChange, LicenseFact
from contracts import events as ev
from contracts.fields import ID_MAX_LENGTH, LABEL_MAX_LENGTH
from infra.bulk import InsertOnce
from infra.db import Database, Migration, UtcDateTime
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import KafkaRecord, dead_letter_reason, record_payload
from infra.schema import inbox

metadata = MetaData()

ID = String(ID_MAX_LENGTH)
EVENT_ID = String(36)
# A short name or code on one line (`contracts.fields.Label`).
LABEL = String(LABEL_MAX_LENGTH)

# One row per session and supervisee, as logged: a group session counts for each person in it.
supervision_sessions = Table(
    "supervision_sessions",
    metadata,
    Column("session_id", ID, nullable=False),
    Column("supervisee_id", ID, nullable=False),
    Column("date", Date, nullable=False),
    Column("format", String(20), nullable=False),
    Column("modality", String(20), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("supervisor_id", ID, nullable=False),
    Column("site_id", ID, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
    # Added by migration 2 (SessionLogged v2).
    Column("kind", String(20), nullable=False, server_default="clinical"),
    Column("start_time", Time),
    Column("techniques", JSON),
    Column("focus", JSON),
    Column("recorded_at", UtcDateTime),
    PrimaryKeyConstraint("session_id", "supervisee_id"),
    # Added by migration 2: the views read one supervisee's sessions.
    Index("ix_supervision_sessions_supervisee_id", "supervisee_id"),
)

# Amendments and voids of a session, each in force from the time it was recorded.
session_corrections = Table(
    "session_corrections",
    metadata,
    Column("event_id", EVENT_ID, primary_key=True),
    Column("session_id", ID, nullable=False, index=True),
    Column("change", String(20), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor", ID, nullable=False),
    Column("reason", Text, nullable=False),
    # The session as an amendment says it now stands (NULL for a void).
    Column("kind", String(20)),
    Column("format", String(20)),
    Column("modality", String(20)),
    Column("date", Date),
    Column("start_time", Time),
    Column("minutes", Integer),
    Column("techniques", JSON),
    Column("focus", JSON),
    UniqueConstraint("session_id", "change", "recorded_at"),
)

session_lapse_marks = Table(
    "session_lapse_marks",
    metadata,
    Column("session_id", ID, nullable=False),
    Column("license_id", ID, nullable=False),
    Column("lapse", String(20), nullable=False),
    Column("supervisor_id", ID, nullable=False),
    Column("date", Date, nullable=False),
    Column("lapsed_since", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
    PrimaryKeyConstraint("session_id", "license_id", "lapse"),
)

supervisees = Table(
    "supervisees",
    metadata,
    Column("supervisee_id", ID, primary_key=True),
    Column("credential_track", ID, nullable=False),
    # Sealed by its producer (an envelope, longer than any id): see migration 6.
    Column("license_number", Text, nullable=False),
    Column("home_site_id", ID, nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
    # Added by migration 3: a site's supervisees.
    Index("ix_supervisees_home_site_id", "home_site_id"),
)

supervisee_transfers = Table(
    "supervisee_transfers",
    metadata,
    Column("supervisee_id", ID, nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("to_site_id", ID, nullable=False),
    Column("from_site_id", ID, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
    PrimaryKeyConstraint("supervisee_id", "effective_on", "to_site_id"),
)

agreements = Table(
    "agreements",
    metadata,
    Column("agreement_id", ID, primary_key=True),
    Column("supervisee_id", ID, nullable=False, index=True),
    Column("supervisor_id", ID, nullable=False),
    Column("site_id", ID, nullable=False),
    Column("credential_track", ID, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("modalities", JSON, nullable=False),
    Column("sessions_per_period", Integer),
    Column("period", String(20)),
    Column("board_approval_required", Boolean, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
)

# Approvals, amendments and terminations of an agreement.
agreement_changes = Table(
    "agreement_changes",
    metadata,
    Column("event_id", EVENT_ID, primary_key=True),
    Column("agreement_id", ID, nullable=False),
    Column("supervisee_id", ID, nullable=False, index=True),
    Column("change", String(20), nullable=False),
    # approved_on, terminated_on; for an amendment, the day it was recorded.
    Column("on_date", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor", ID),
    Column("reason", Text),
    Column("approval_reference", Text),  # sealed: see migration 6
    # The terms an amendment puts in force.
    Column("end_date", Date),
    Column("modalities", JSON),
    Column("sessions_per_period", Integer),
    Column("period", String(20)),
    UniqueConstraint("agreement_id", "change", "recorded_at"),
)

practice_hours = Table(
    "practice_hours",
    metadata,
    Column("event_id", EVENT_ID, primary_key=True),
    Column("supervisee_id", ID, nullable=False, index=True),
    Column("site_id", ID, nullable=False),
    Column("week_start", Date, nullable=False),
    Column("direct_minutes", Integer, nullable=False),
    Column("indirect_minutes", Integer, nullable=False),
    Column("correction", Text),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("supervisee_id", "site_id", "week_start", "recorded_at"),
)

month_sign_offs = Table(
    "month_sign_offs",
    metadata,
    Column("event_id", EVENT_ID, primary_key=True),
    Column("supervisee_id", ID, nullable=False, index=True),
    Column("month", String(7), nullable=False),
    Column("action", String(20), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("actor", ID, nullable=False),
    Column("reason", Text),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("supervisee_id", "month", "action", "recorded_at"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("evaluation_id", ID, primary_key=True),
    Column("supervisee_id", ID, nullable=False, index=True),
    Column("supervisor_id", ID, nullable=False),
    Column("framework", String(100), nullable=False),
    Column("framework_version", LABEL, nullable=False),
    Column("scale_min", Integer, nullable=False),
    Column("scale_max", Integer, nullable=False),
    Column("expected_min", Integer, nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("below_expectations", JSON, nullable=False),
    Column("remediation_required", Boolean, nullable=False),
    Column("evidence_session_ids", JSON, nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
)

evaluation_acknowledgements = Table(
    "evaluation_acknowledgements",
    metadata,
    Column("evaluation_id", ID, primary_key=True),
    Column("supervisee_id", ID, nullable=False, index=True),
    Column("acknowledged_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
)

referrals = Table(
    "referrals",
    metadata,
    Column("referral_id", ID, primary_key=True),
    Column("client_id", ID, nullable=False),
    Column("site_id", ID, nullable=False, index=True),
    Column("to_service", String(20), nullable=False),
    Column("urgency", String(20), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("source_event_ids", JSON, nullable=False),
    # Added by migration 3.
    Column("recorded_at", UtcDateTime),
)

# Every step of a referral's loop after it was raised.
referral_changes = Table(
    "referral_changes",
    metadata,
    Column("event_id", EVENT_ID, primary_key=True),
    Column("referral_id", ID, nullable=False, index=True),
    Column("status", String(30), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("to_service", String(20)),
    Column("appointment_on", Date),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("referral_id", "status", "recorded_at"),
)

# Recorded once per referral and target by the referral service's clock.
referral_breaches = Table(
    "referral_breaches",
    metadata,
    Column("referral_id", ID, nullable=False),
    Column("target", String(20), nullable=False),
    Column("site_id", ID, nullable=False, index=True),
    Column("to_service", String(20), nullable=False),
    Column("urgency", String(20), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
    # Added by migration 3.
    Column("recorded_at", UtcDateTime),
    PrimaryKeyConstraint("referral_id", "target"),
)

# The credential registry's published facts, projected like any other service's (the
# registry's own tables are its event store and its license index).
projected_licenses = Table(
    "projected_licenses",
    metadata,
    Column("license_id", ID, primary_key=True),
    Column("holder_id", ID, nullable=False, index=True),
    Column("kind", ID, nullable=False),
    Column("number", Text, nullable=False),  # sealed: see migration 6
    Column("state", LABEL, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
)

projected_license_changes = Table(
    "projected_license_changes",
    metadata,
    Column("event_id", EVENT_ID, primary_key=True),
    Column("license_id", ID, nullable=False, index=True),
    Column("holder_id", ID, nullable=False, index=True),
    Column("change", String(20), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("expires_on", Date),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("license_id", "change", "recorded_at"),
)

projected_designations = Table(
    "projected_designations",
    metadata,
    Column("designation_id", ID, primary_key=True),
    Column("holder_id", ID, nullable=False, index=True),
    Column("designation", ID, nullable=False),
    Column("state", LABEL, nullable=False),
    Column("granted_on", Date, nullable=False),
    Column("expires_on", Date),
    Column("training_hours", Integer, nullable=False),
    Column("training_completed_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
)

# The events compliance received and could not apply (they went to the dead-letter topic), kept
# so that every view of what they name says it is incomplete. A mark clears (applied_at) when
# the same event is applied after all, a replay after a fix; it is kept for the audit trail.
unapplied_events = Table(
    "unapplied_events",
    metadata,
    # The event id, or topic/partition@offset for a message that is not a readable event.
    Column("event_key", String(120), primary_key=True),
    Column("event_id", EVENT_ID, index=True),
    Column("event_type", String(200)),
    Column("reason", Text, nullable=False),
    Column("error_type", String(200), nullable=False),
    Column("record_topic", String(200), nullable=False),
    Column("record_partition", Integer, nullable=False),
    Column("record_offset", BigInteger, nullable=False),
    # When the producer recorded the event (when it was set aside, if unreadable): every view
    # known from then on lacks it.
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
    Column("applied_at", UtcDateTime),
)

# What an unapplied event names, read from its payload as far as it could be read.
unapplied_event_concerns = Table(
    "unapplied_event_concerns",
    metadata,
    Column("event_key", String(120), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("subject_id", String(200), nullable=False),
    PrimaryKeyConstraint("event_key", "kind", "subject_id"),
    Index("ix_unapplied_event_concerns_subject", "kind", "subject_id"),
)

# What compliance officers record beside the facts (their own events, read back from the
# compliance topic like every other fact): approved leave, and resolutions of verdicts.
approved_leaves = Table(
    "approved_leaves",
    metadata,
    Column("leave_id", ID, primary_key=True),
    Column("supervisee_id", ID, nullable=False, index=True),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("approved_by", ID, nullable=False),
    Column("reason", Text, nullable=False),
    Column("recorded_by", ID, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
)

verdict_resolutions = Table(
    "verdict_resolutions",
    metadata,
    Column("resolution_id", ID, primary_key=True),
    Column("supervisee_id", ID, nullable=False, index=True),
    Column("verdict_id", ID, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("resolved_by", ID, nullable=False),
    Column("on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
)

# The shape migration 1 created; later migrations change it with explicit DDL.
_v1 = MetaData()
_v1_tables = (
    Table(
        "supervision_sessions",
        _v1,
        Column("session_id", String(64), nullable=False),
        Column("supervisee_id", String(64), nullable=False),
        Column("date", Date, nullable=False),
        Column("format", String(20), nullable=False),
        Column("modality", String(20), nullable=False),
        Column("minutes", Integer, nullable=False),
        Column("supervisor_id", String(64), nullable=False),
        Column("site_id", String(64), nullable=False),
        Column("source_event_id", String(36), nullable=False),
        PrimaryKeyConstraint("session_id", "supervisee_id"),
    ),
    Table(
        "referrals",
        _v1,
        Column("referral_id", String(64), primary_key=True),
        Column("client_id", String(64), nullable=False),
        Column("site_id", String(64), nullable=False, index=True),
        Column("to_service", String(20), nullable=False),
        Column("urgency", String(20), nullable=False),
        Column("raised_on", Date, nullable=False),
        Column("closed_on", Date),
        Column("source_event_ids", JSON, nullable=False),
    ),
)

# The shape migration 2 created of the tables migration 3 changes.
_v2 = MetaData()
_v2_supervisees = Table(
    "supervisees",
    _v2,
    Column("supervisee_id", String(64), primary_key=True),
    Column("credential_track", String(64), nullable=False),
    Column("license_number", String(64), nullable=False),
    Column("home_site_id", String(64), nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", String(36), nullable=False),
)
_v2_referral_breaches = Table(
    "referral_breaches",
    _v2,
    Column("referral_id", String(64), nullable=False),
    Column("target", String(20), nullable=False),
    Column("site_id", String(64), nullable=False, index=True),
    Column("to_service", String(20), nullable=False),
    Column("urgency", String(20), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("source_event_id", String(36), nullable=False),
    PrimaryKeyConstraint("referral_id", "target"),
)


def _create_read_model(conn: Connection) -> None:
    _v1.create_all(conn, tables=list(_v1_tables))


# Column -> what follows its type in ALTER TABLE ... ADD COLUMN.
_ADDED_SESSION_COLUMNS = {
    "kind": "NOT NULL DEFAULT 'clinical'",  # every session logged before v2 was clinical
    "start_time": "",
    "techniques": "",
    "focus": "",
    "recorded_at": "",
}
_V2_TABLES = (
    session_corrections,
    session_lapse_marks,
    _v2_supervisees,
    supervisee_transfers,
    agreements,
    agreement_changes,
    practice_hours,
    month_sign_offs,
    evaluations,
    evaluation_acknowledgements,
    referral_changes,
    _v2_referral_breaches,
    projected_licenses,
    projected_license_changes,
    projected_designations,
)


def _the_full_record(conn: Connection) -> None:
    for name, constraint in _ADDED_SESSION_COLUMNS.items():
        column_type = supervision_sessions.c[name].type.compile(dialect=conn.dialect)
        conn.execute(
            text(f"ALTER TABLE supervision_sessions ADD COLUMN {name} {column_type} {constraint}")
        )
    for index in supervision_sessions.indexes:
        index.create(conn)
    # A referral's closing is a step of its own now (referral_changes).
    conn.execute(text("ALTER TABLE referrals DROP COLUMN closed_on"))
    for table in _V2_TABLES:
        table.create(conn)


def _add_column(conn: Connection, table: Table, name: str) -> None:
    column_type = table.c[name].type.compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {column_type}"))


def _when_applied(conn: Connection, event_ids: Collection[str]) -> dict[str, dt.datetime]:
    """When compliance applied these events (the inbox's time), by event id."""
    ids = sorted({uuid.UUID(e) for e in event_ids if _is_uuid(e)})
    applied: dict[str, dt.datetime] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(inbox.c.event_id, func.min(inbox.c.processed_at).label("processed_at"))
            .where(inbox.c.event_id.in_(ids[start : start + 500]))
            .group_by(inbox.c.event_id)
        )
        applied.update((str(row.event_id), row.processed_at) for row in rows)
    return applied


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _both_time_axes(conn: Connection) -> None:
    # A missed target was recorded when the referral service's clock detected it.
    _add_column(conn, referral_breaches, "recorded_at")
    conn.execute(update(referral_breaches).values(recorded_at=referral_breaches.c.detected_at))
    # Sessions projected before migration 2 and referrals have no recorded time: the time
    # compliance applied their event is the earliest it can be shown to have been known (the
    # migration's own time where even that is gone).
    now = dt.datetime.now(dt.UTC)
    _add_column(conn, referrals, "recorded_at")
    raised = conn.execute(select(referrals.c.referral_id, referrals.c.source_event_ids)).all()
    applied = _when_applied(conn, [ids[0] for _, ids in raised if ids])
    for referral_id, ids in raised:
        conn.execute(
            update(referrals)
            .where(referrals.c.referral_id == referral_id)
            .values(recorded_at=applied.get(ids[0], now) if ids else now)
        )
    unknown = conn.execute(
        select(
            supervision_sessions.c.session_id,
            supervision_sessions.c.supervisee_id,
            supervision_sessions.c.source_event_id,
        ).where(supervision_sessions.c.recorded_at.is_(None))
    ).all()
    applied = _when_applied(conn, [row.source_event_id for row in unknown])
    for row in unknown:
        conn.execute(
            update(supervision_sessions)
            .where(
                supervision_sessions.c.session_id == row.session_id,
                supervision_sessions.c.supervisee_id == row.supervisee_id,
            )
            .values(recorded_at=applied.get(row.source_event_id, now))
        )
    for index in supervisees.indexes:
        index.create(conn)
    unapplied_events.create(conn)
    unapplied_event_concerns.create(conn)


def _officers_decisions(conn: Connection) -> None:
    approved_leaves.create(conn)
    verdict_resolutions.create(conn)


# Columns created narrower than the kind of the event field they hold: PostgreSQL refused a
# longer value (SQLite keeps any length, so there is nothing to change there).
_WIDENED = (
    (evaluations, "framework_version"),
    (projected_licenses, "state"),
    (projected_designations, "state"),
    (verdict_resolutions, "verdict_id"),
)


def _widen_to_their_kinds(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table, name in _WIDENED:
        column_type = table.c[name].type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {table.name} ALTER COLUMN {name} TYPE {column_type}"))


# The columns that hold what producers seal (`contracts.fields.sealable`): an envelope is longer
# than the plain value's bound. PostgreSQL holds VARCHAR to its length; SQLite does not.
_SEALED_COLUMNS = (
    ("supervisees", "license_number"),
    ("projected_licenses", "number"),
    ("agreement_changes", "approval_reference"),
)


def _sealed_values(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table, column in _SEALED_COLUMNS:
        conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT"))


MIGRATIONS = (
    Migration("compliance", 1, "supervision sessions and referrals read model", _create_read_model),
    Migration(
        "compliance",
        2,
        "the full record: session corrections and lapse marks, supervisees, agreements, practice "
        "hours, sign-offs, evaluations, referral steps and breaches, licenses and designations",
        _the_full_record,
    ),
    Migration(
        "compliance",
        3,
        "both time axes on every fact (recorded_at on referrals and breaches), a site's "
        "supervisees, and the events compliance could not apply",
        _both_time_axes,
    ),
    Migration(
        "compliance",
        4,
        "what compliance officers record: approved leave and resolutions of verdicts",
        _officers_decisions,
    ),
    Migration(
        "compliance",
        5,
        "columns as wide as the kinds they hold: evaluations.framework_version, the state of "
        "projected licenses and designations (labels), verdict_resolutions.verdict_id (an id)",
        _widen_to_their_kinds,
    ),
    Migration(
        "compliance",
        6,
        "license numbers and approval references as their producers seal them: unbounded text",
        _sealed_values,
    ),
)

# --- projection: the rows each published event adds --------------------------------------

Rows = list[tuple[Table, dict[str, Any]]]
RowsOf = Callable[[Any, str, dt.datetime], Rows]
"""The rows one event adds: (event, its id, when its producer recorded it) -> (table, row)s."""


def _figures(event: ev.SessionLogged | ev.SessionAmended) -> SessionFigures:
    return SessionFigures(
        kind=event.kind,
        format=event.format,
        modality=event.modality,
        date=event.date,
        start_time=event.start_time,
        minutes=event.minutes,
        techniques=event.techniques,
        focus=event.focus,
    )


def _figure_columns(figures: SessionFigures) -> dict[str, Any]:
    return {
        "kind": figures.kind,
        "format": figures.format,
        "modality": figures.modality,
        "date": figures.date,
        "start_time": figures.start_time,
        "minutes": figures.minutes,
        "techniques": list(figures.techniques),
        "focus": list(figures.focus),
    }


def _session_logged(event: ev.SessionLogged, event_id: str, recorded_at: dt.datetime) -> Rows:
    """One row per supervisee: a group session counts for each person in it. A session re-logged
    under a new event id (a producer's log re-published after it was rebuilt) adds nothing."""
    figures = _figure_columns(_figures(event))  # refuses figures no view could show
    return [
        (
            supervision_sessions,
            {
                "session_id": event.session_id,
                "supervisee_id": supervisee_id,
                **figures,
                "supervisor_id": event.supervisor_id,
                "site_id": event.site_id,
                "source_event_id": event_id,
                "recorded_at": recorded_at,
            },
        )
        for supervisee_id in event.supervisee_ids
    ]


_NO_FIGURES = dict.fromkeys(
    ("kind", "format", "modality", "date", "start_time", "minutes", "techniques", "focus")
)


def _session_correction(
    event: ev.SessionAmended | ev.SessionVoided,
    event_id: str,
    recorded_at: dt.datetime,
    *,
    actor: str,
    figures: dict[str, Any] | None = None,
) -> Rows:
    return [
        (
            session_corrections,
            {
                "event_id": event_id,
                "session_id": event.session_id,
                "change": "amended" if figures is not None else "voided",
                "recorded_at": recorded_at,
                "actor": actor,
                "reason": event.reason,
                **(figures if figures is not None else _NO_FIGURES),
            },
        )
    ]


def _session_amended(event: ev.SessionAmended, event_id: str, recorded_at: dt.datetime) -> Rows:
    figures = _figure_columns(_figures(event))
    return _session_correction(
        event, event_id, recorded_at, actor=event.amended_by, figures=figures
    )


def _session_voided(event: ev.SessionVoided, event_id: str, recorded_at: dt.datetime) -> Rows:
    return _session_correction(event, event_id, recorded_at, actor=event.voided_by)


def _supervisor_lapse_marked(
    event: ev.SupervisorLapseMarked, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return [
        (
            session_lapse_marks,
            {
                "session_id": event.session_id,
                "license_id": event.license_id,
                "lapse": event.lapse,
                "supervisor_id": event.supervisor_id,
                "date": event.date,
                "lapsed_since": event.lapsed_since,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


def _supervisee_registered(
    event: ev.SuperviseeRegistered, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return [
        (
            supervisees,
            {
                "supervisee_id": event.supervisee_id,
                "credential_track": event.credential_track,
                "license_number": event.license_number,
                "home_site_id": event.home_site_id,
                "registered_on": event.registered_on,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


def _supervisee_transferred(
    event: ev.SuperviseeTransferred, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return [
        (
            supervisee_transfers,
            {
                "supervisee_id": event.supervisee_id,
                "effective_on": event.effective_on,
                "to_site_id": event.to_site_id,
                "from_site_id": event.from_site_id,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


def _agreement_signed(event: ev.AgreementSigned, event_id: str, recorded_at: dt.datetime) -> Rows:
    return [
        (
            agreements,
            {
                "agreement_id": event.agreement_id,
                "supervisee_id": event.supervisee_id,
                "supervisor_id": event.supervisor_id,
                "site_id": event.site_id,
                "credential_track": event.credential_track,
                "start_date": event.start_date,
                "end_date": event.end_date,
                "modalities": list(event.modalities),
                "sessions_per_period": event.sessions_per_period,
                "period": event.period,
                "board_approval_required": event.board_approval_required,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


_NO_AGREEMENT_CHANGE = dict.fromkeys(
    (
        "actor",
        "reason",
        "approval_reference",
        "end_date",
        "modalities",
        "sessions_per_period",
        "period",
    )
)


def _agreement_change(
    event: ev.AgreementApproved | ev.AgreementAmended | ev.AgreementTerminated,
    event_id: str,
    recorded_at: dt.datetime,
    **columns: Any,
) -> Rows:
    return [
        (
            agreement_changes,
            {
                **_NO_AGREEMENT_CHANGE,
                "event_id": event_id,
                "agreement_id": event.agreement_id,
                "supervisee_id": event.supervisee_id,
                "recorded_at": recorded_at,
                **columns,
            },
        )
    ]


def _agreement_approved(
    event: ev.AgreementApproved, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return _agreement_change(
        event,
        event_id,
        recorded_at,
        change="approved",
        on_date=event.approved_on,
        approval_reference=event.approval_reference,
    )


def _agreement_amended(event: ev.AgreementAmended, event_id: str, recorded_at: dt.datetime) -> Rows:
    return _agreement_change(
        event,
        event_id,
        recorded_at,
        change="amended",
        # New terms have no date of their own: in force from the day they were recorded.
        on_date=recorded_on(recorded_at),
        actor=event.amended_by,
        reason=event.reason,
        end_date=event.end_date,
        modalities=list(event.modalities),
        sessions_per_period=event.sessions_per_period,
        period=event.period,
    )


def _agreement_terminated(
    event: ev.AgreementTerminated, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return _agreement_change(
        event,
        event_id,
        recorded_at,
        change="terminated",
        on_date=event.terminated_on,
        actor=event.terminated_by,
        reason=event.reason,
    )


def _practice_hours_recorded(
    event: ev.PracticeHoursRecorded, event_id: str, recorded_at: dt.datetime
) -> Rows:
    fact = PracticeHoursFact(  # refuses negative minutes (a permanent error)
        site_id=event.site_id,
        week_start=event.week_start,
        direct_minutes=event.direct_minutes,
        indirect_minutes=event.indirect_minutes,
        correction=event.correction,
        recorded_at=recorded_at,
        source_event_id=event_id,
    )
    return [
        (
            practice_hours,
            {
                "event_id": event_id,
                "supervisee_id": event.supervisee_id,
                "site_id": fact.site_id,
                "week_start": fact.week_start,
                "direct_minutes": fact.direct_minutes,
                "indirect_minutes": fact.indirect_minutes,
                "correction": fact.correction,
                "recorded_at": recorded_at,
            },
        )
    ]


def _month_event(supervisee_id: str, fact: MonthEvent) -> Rows:
    return [
        (
            month_sign_offs,
            {
                "event_id": fact.source_event_id,
                "supervisee_id": supervisee_id,
                "month": fact.month,
                "action": fact.action,
                "on_date": fact.on,
                "actor": fact.by,
                "reason": fact.reason,
                "recorded_at": fact.recorded_at,
            },
        )
    ]


def _month_signed_off(event: ev.MonthSignedOff, event_id: str, recorded_at: dt.datetime) -> Rows:
    return _month_event(
        event.supervisee_id,
        MonthEvent(
            month=event.month,
            action="signed_off",
            on=event.signed_on,
            by=event.supervisor_id,
            recorded_at=recorded_at,
            source_event_id=event_id,
        ),
    )


def _month_reopened(event: ev.MonthReopened, event_id: str, recorded_at: dt.datetime) -> Rows:
    return _month_event(
        event.supervisee_id,
        MonthEvent(
            month=event.month,
            action="reopened",
            on=event.reopened_on,
            by=event.reopened_by,
            reason=event.reason,
            recorded_at=recorded_at,
            source_event_id=event_id,
        ),
    )


def _competency_evaluated(
    event: ev.CompetencyEvaluated, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return [
        (
            evaluations,
            {
                "evaluation_id": event.evaluation_id,
                "supervisee_id": event.supervisee_id,
                "supervisor_id": event.supervisor_id,
                "framework": event.framework,
                "framework_version": event.framework_version,
                "scale_min": event.scale_min,
                "scale_max": event.scale_max,
                "expected_min": event.expected_min,
                "trigger": event.trigger,
                "period_start": event.period_start,
                "period_end": event.period_end,
                "scores": [s.model_dump() for s in event.scores],
                "below_expectations": list(event.below_expectations),
                "remediation_required": event.remediation_required,
                "evidence_session_ids": list(event.evidence_session_ids),
                "signed_on": event.signed_on,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


def _evaluation_acknowledged(
    event: ev.EvaluationAcknowledged, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return [
        (
            evaluation_acknowledgements,
            {
                "evaluation_id": event.evaluation_id,
                "supervisee_id": event.supervisee_id,
                "acknowledged_on": event.acknowledged_on,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


def _referral_raised(event: ev.ReferralRaised, event_id: str, recorded_at: dt.datetime) -> Rows:
    return [
        (
            referrals,
            {
                "referral_id": event.referral_id,
                "client_id": event.client_id,
                "site_id": event.site_id,
                "to_service": event.to_service,
                "urgency": event.urgency,
                "raised_on": event.raised_on,
                "source_event_ids": [event_id],
                "recorded_at": recorded_at,
            },
        )
    ]


def _fields_of(event: type[ev.EventContract], *fields: str) -> None:
    """Refuses, when the table below is built, a field name the event does not have."""
    missing = [f for f in fields if f not in event.model_fields]
    if missing:
        raise TypeError(f"{event.__name__} has no field {', '.join(missing)}")


def _referral_step(
    event: type[ev.EventContract], status: ReferralStatus, on: str, **columns: str
) -> RowsOf:
    """The rows of one step of the referral loop: a row in `referral_changes` with the status it
    moved to, the event's date field `on` and extra columns read from event fields."""
    _fields_of(event, on, *columns.values())
    extra = {"to_service": None, "appointment_on": None}

    def step_rows(event: Any, event_id: str, recorded_at: dt.datetime) -> Rows:
        return [
            (
                referral_changes,
                {
                    **extra,
                    "event_id": event_id,
                    "referral_id": event.referral_id,
                    "status": status,
                    "on_date": getattr(event, on),
                    "recorded_at": recorded_at,
                    **{column: getattr(event, name) for column, name in columns.items()},
                },
            )
        ]

    return step_rows


def _referral_service_level_breached(
    event: ev.ReferralServiceLevelBreached, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return [
        (
            referral_breaches,
            {
                "referral_id": event.referral_id,
                "target": event.target,
                "site_id": event.site_id,
                "to_service": event.to_service,
                "urgency": event.urgency,
                "due_at": event.due_at,
                "detected_at": event.detected_at,
                "source_event_id": event_id,
                "recorded_at": recorded_at,
            },
        )
    ]


def _license_recorded(event: ev.LicenseRecorded, event_id: str, recorded_at: dt.datetime) -> Rows:
    return [
        (
            projected_licenses,
            {
                "license_id": event.license_id,
                "holder_id": event.holder_id,
                "kind": event.kind,
                "number": event.number,
                "state": event.state,
                "issued_on": event.issued_on,
                "expires_on": event.expires_on,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


def _license_change(
    event: type[ev.EventContract], change: str, effective_on: str, expires_on: str | None = None
) -> RowsOf:
    """The rows of a change to a license: a row in `projected_license_changes` dated by the
    event's field `effective_on` (and the new expiry read from `expires_on`, for a renewal)."""
    _fields_of(event, effective_on, *([expires_on] if expires_on else []))

    def change_rows(event: Any, event_id: str, recorded_at: dt.datetime) -> Rows:
        return [
            (
                projected_license_changes,
                {
                    "event_id": event_id,
                    "license_id": event.license_id,
                    "holder_id": event.holder_id,
                    "change": change,
                    "effective_on": getattr(event, effective_on),
                    "expires_on": getattr(event, expires_on) if expires_on else None,
                    "recorded_at": recorded_at,
                },
            )
        ]

    return change_rows


def _supervisor_designation_recorded(
    event: ev.SupervisorDesignationRecorded, event_id: str, recorded_at: dt.datetime
) -> Rows:
    return [
        (
            projected_designations,
            {
                "designation_id": event.designation_id,
                "holder_id": event.holder_id,
                "designation": event.designation,
                "state": event.state,
                "granted_on": event.granted_on,
                "expires_on": event.expires_on,
                "training_hours": event.training_hours,
                "training_completed_on": event.training_completed_on,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


def _leave_approved(event: ev.LeaveApproved, event_id: str, recorded_at: dt.datetime) -> Rows:
    return [
        (
            approved_leaves,
            {
                "leave_id": event.leave_id,
                "supervisee_id": event.supervisee_id,
                "start": event.start,
                "end": event.end,
                "approved_by": event.approved_by,
                "reason": event.reason,
                "recorded_by": event.recorded_by,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


def _verdict_resolved(event: ev.VerdictResolved, event_id: str, recorded_at: dt.datetime) -> Rows:
    return [
        (
            verdict_resolutions,
            {
                "resolution_id": event.resolution_id,
                "supervisee_id": event.supervisee_id,
                "verdict_id": event.verdict_id,
                "kind": event.kind,
                "reason": event.reason,
                "resolved_by": event.resolved_by,
                "on": event.on,
                "recorded_at": recorded_at,
                "source_event_id": event_id,
            },
        )
    ]


# Every event the read model is built from, and the rows it adds. ConsultationLogged is not
# among them: a consultation is not supervision and stays out of every figure.
PROJECTORS: Mapping[type[ev.EventContract], RowsOf] = {
    ev.SuperviseeRegistered: _supervisee_registered,
    ev.SuperviseeTransferred: _supervisee_transferred,
    ev.AgreementSigned: _agreement_signed,
    ev.AgreementApproved: _agreement_approved,
    ev.AgreementAmended: _agreement_amended,
    ev.AgreementTerminated: _agreement_terminated,
    ev.SessionLogged: _session_logged,
    ev.SessionAmended: _session_amended,
    ev.SessionVoided: _session_voided,
    ev.SupervisorLapseMarked: _supervisor_lapse_marked,
    ev.PracticeHoursRecorded: _practice_hours_recorded,
    ev.MonthSignedOff: _month_signed_off,
    ev.MonthReopened: _month_reopened,
    ev.CompetencyEvaluated: _competency_evaluated,
    ev.EvaluationAcknowledged: _evaluation_acknowledged,
    ev.ReferralRaised: _referral_raised,
    ev.ReferralAccepted: _referral_step(ev.ReferralAccepted, "accepted", "accepted_on"),
    ev.ReferralDeclined: _referral_step(ev.ReferralDeclined, "declined", "declined_on"),
    ev.ReferralRedirected: _referral_step(
        ev.ReferralRedirected, "redirected", "redirected_on", to_service="to_service"
    ),
    ev.ReferralScheduled: _referral_step(
        ev.ReferralScheduled, "scheduled", "scheduled_on", appointment_on="appointment_on"
    ),
    ev.ReferralCompleted: _referral_step(ev.ReferralCompleted, "completed", "completed_on"),
    ev.ReferralClosedUnableToEngage: _referral_step(
        ev.ReferralClosedUnableToEngage, "closed_unable_to_engage", "closed_on"
    ),
    ev.ReferralCancelled: _referral_step(ev.ReferralCancelled, "cancelled", "cancelled_on"),
    ev.ReferralServiceLevelBreached: _referral_service_level_breached,
    ev.LicenseRecorded: _license_recorded,
    ev.LicenseRenewed: _license_change(
        ev.LicenseRenewed, "renewed", "renewed_on", expires_on="expires_on"
    ),
    ev.LicenseSuspended: _license_change(ev.LicenseSuspended, "suspended", "effective_on"),
    ev.LicenseReinstated: _license_change(ev.LicenseReinstated, "reinstated", "effective_on"),
    ev.LicenseRevoked: _license_change(ev.LicenseRevoked, "revoked", "effective_on"),
    ev.LicenseExpired: _license_change(ev.LicenseExpired, "expired", "expired_on"),
    ev.SupervisorDesignationRecorded: _supervisor_designation_recorded,
    ev.LeaveApproved: _leave_approved,
    ev.VerdictResolved: _verdict_resolved,
}

# Every table the projector writes, in the order it writes them, each once per batch.
_WRITERS: dict[Table, InsertOnce] = {
    table: InsertOnce(table)
    for table in (
        supervisees,
        supervisee_transfers,
        agreements,
        agreement_changes,
        supervision_sessions,
        session_corrections,
        session_lapse_marks,
        practice_hours,
        month_sign_offs,
        evaluations,
        evaluation_acknowledgements,
        referrals,
        referral_changes,
        referral_breaches,
        projected_licenses,
        projected_license_changes,
        projected_designations,
        approved_leaves,
        verdict_resolutions,
    )
}


# Per projected schema, the fields that name what its events concern.
_NAMED_BY = {schema: concern_fields(schema.model_fields) for schema in PROJECTORS}


class NotProjected(LookupError):
    """An event the read model is not built from."""


@dataclass
class Touched:
    """What one transaction of the projector changed: the supervisees (and the credential
    holders, referrals and sites) whose materialized standing is to be brought up to date in the
    same transaction."""

    supervisees: set[str] = field(default_factory=set)
    holders: set[str] = field(default_factory=set)
    referrals: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)
    # Sessions named without their supervisees (a lapse mark): resolved from the sessions table.
    sessions: set[str] = field(default_factory=set)

    def note(self, named: Iterable[tuple[str, str]]) -> None:
        for kind, subject_id in named:
            match kind:
                case "supervisee":
                    self.supervisees.add(subject_id)
                case "holder":
                    self.holders.add(subject_id)
                case "referral":
                    self.referrals.add(subject_id)
                case "site":
                    self.sites.add(subject_id)
                case "session":
                    self.sessions.add(subject_id)


AfterApply = Callable[[AsyncConnection, Touched], Awaitable[None]]
"""Runs in the projector's transaction, after a batch's facts are written."""


class Projector:
    """Applies published events to the read model in the caller's transaction."""

    def __init__(self, after_apply: AfterApply | None = None) -> None:
        self._after_apply = after_apply

    async def apply(self, conn: AsyncConnection, events: Sequence[IncomingEvent]) -> Touched:
        """Applies the events in order (a batch, or one) and says what they touched; raises
        NotProjected, or a validation error, for an event the read model cannot take."""
        pending: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        touched = Touched()
        event_ids = []
        for event in events:
            # Parsed once, upcast to the newest version (a SessionLogged v1 as v2).
            contract = event.contract()
            schema = type(contract)
            rows_of = PROJECTORS.get(schema)
            if rows_of is None:
                raise NotProjected(
                    f"{contract.ce_type()} is not projected into the compliance view"
                )
            if event.time.tzinfo is None:
                raise ValueError(f"event {event.event_id}: its time must be timezone-aware")
            event_id = str(event.event_id)
            event_ids.append(event_id)
            for table, row in rows_of(contract, event_id, event.time):
                pending[table].append(row)
            touched.note(concerns(vars(contract), _NAMED_BY[schema]))
        for table, writer in _WRITERS.items():
            await writer(conn, pending.get(table, ()))
        await _applied_after_all(conn, event_ids)
        if touched.sessions:
            touched.supervisees |= await _supervisees_of_sessions(conn, touched.sessions)
        if self._after_apply is not None:
            await self._after_apply(conn, touched)
        return touched


async def _supervisees_of_sessions(conn: AsyncConnection, session_ids: Iterable[str]) -> set[str]:
    ids = sorted(set(session_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        found.update(
            await conn.scalars(
                select(supervision_sessions.c.supervisee_id).where(
                    supervision_sessions.c.session_id.in_(ids[start : start + 500])
                )
            )
        )
    return found


# --- events that could not be applied ----------------------------------------------------


async def _applied_after_all(conn: AsyncConnection, event_ids: Sequence[str]) -> None:
    """Clears the marks of events applied now after having been set aside before. Marks are few
    (a poison message is rare): they are looked up, rather than every event of the batch."""
    if not event_ids:
        return
    standing = set(
        await conn.scalars(
            select(unapplied_events.c.event_id).where(
                unapplied_events.c.applied_at.is_(None), unapplied_events.c.event_id.is_not(None)
            )
        )
    )
    applied = standing.intersection(event_ids)
    if applied:
        await conn.execute(
            update(unapplied_events)
            .where(
                unapplied_events.c.applied_at.is_(None),
                unapplied_events.c.event_id.in_(sorted(applied)),
            )
            .values(applied_at=dt.datetime.now(dt.UTC))
        )


async def record_unapplied(
    conn: AsyncConnection, event: IncomingEvent | None, record: KafkaRecord, error: Exception
) -> None:
    """Records, in the consumer's dead-letter transaction, an event compliance could not apply
    and what its payload names, so that every view of those says it is incomplete."""
    now = dt.datetime.now(dt.UTC)
    key = (
        str(event.event_id)
        if event is not None
        else f"{record.topic}/{record.partition}@{record.offset}"
    )
    values = {
        "event_key": key,
        "event_id": str(event.event_id) if event is not None else None,
        "event_type": event.ce_type if event is not None else None,
        "reason": dead_letter_reason(error),
        "error_type": f"{type(error).__module__}.{type(error).__qualname__}",
        "record_topic": record.topic,
        "record_partition": record.partition,
        "record_offset": record.offset,
        "recorded_at": event.time if event is not None else now,
        "failed_at": now,
        "applied_at": None,
    }
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(unapplied_events).values(values)
    # Set aside again (a redelivery, or a replay that still fails): the latest reason stands.
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[unapplied_events.c.event_key],
            set_={
                name: statement.excluded[name]
                for name in ("reason", "error_type", "failed_at", "applied_at")
            },
        )
    )
    named = concerns(record_payload(event, record))
    if named:
        await _CONCERNS(
            conn,
            [{"event_key": key, "kind": kind, "subject_id": subject} for kind, subject in named],
        )


_CONCERNS = InsertOnce(unapplied_event_concerns)

# --- reading -----------------------------------------------------------------------------


def _known(table: Table, known_at: dt.datetime) -> ColumnElement[bool]:
    """The second time axis, applied here and only here, to every table a view reads: only the
    rows whose event had been recorded by `known_at`."""
    return table.c.recorded_at <= known_at


def _select(table: Table, known_at: dt.datetime, *where: ColumnElement[bool]) -> Select[Any]:
    return select(*_columns(table)).where(_known(table, known_at), *where)


def _columns(table: Table) -> list[ColumnElement[Any]]:
    """The table's columns, its lists of names as their JSON text: a site's sessions repeat a
    handful of technique and focus lists thousands of times, and `_Lists` decodes each once."""
    return [cast(c, Text).label(c.name) if c.name in _NAME_LISTS else c for c in table.columns]


# The JSON columns that hold a list of plain names (strings).
_NAME_LISTS = frozenset({"techniques", "focus"})


class _Lists:
    """Lists of names read as JSON text, each distinct text decoded once."""

    def __init__(self) -> None:
        self._decoded: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str | None) -> tuple[str, ...]:
        if text is None:
            return ()
        found = self._decoded.get(text)
        if found is None:
            found = self._decoded[text] = tuple(json.loads(text) or ())
        return found


def _transfer_in_force(as_of: dt.date, known_at: dt.datetime) -> Any:
    """The site of a supervisee's transfer in force at the end of `as_of`, as a subquery
    correlated with `supervisees`: the latest effective by then (the same order as the domain's
    supervisee_as_of), among those known at `known_at`; NULL when none is."""
    s, t = supervisees.c, supervisee_transfers.c
    return (
        select(t.to_site_id)
        .where(t.supervisee_id == s.supervisee_id, t.effective_on <= as_of)
        .where(_known(supervisee_transfers, known_at))
        .order_by(t.effective_on.desc(), t.source_event_id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


def _figures_of(row: Row[Any], lists: _Lists) -> SessionFigures:
    return SessionFigures(
        kind=row.kind,
        format=row.format,
        modality=row.modality,
        date=row.date,
        start_time=row.start_time,
        minutes=row.minutes,
        techniques=lists(row.techniques),
        focus=lists(row.focus),
    )


class SqlFactsReader:
    """The projected facts as known at a moment, read from the read-model tables in one read
    transaction (`conn`): all of one view's reads see the same committed state."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def supervisee_facts(self, supervisee_id: str, known_at: dt.datetime) -> SuperviseeFacts:
        return (await self.supervisees_facts((supervisee_id,), known_at))[supervisee_id]

    async def supervisees_facts(
        self, supervisee_ids: Collection[str], known_at: dt.datetime
    ) -> dict[str, SuperviseeFacts]:
        """Everything projected about each of these supervisees, read table by table for all
        of them at once (a site's list reads hundreds)."""
        conn = self._conn
        ids = sorted(set(supervisee_ids))
        registrations = await _registrations(conn, ids, known_at)
        agreements_of = await _agreements(conn, ids, known_at)
        sessions_of = await _sessions(conn, ids, known_at)
        practice_of = await _practice_hours(conn, ids, known_at)
        months_of = await _months(conn, ids, known_at)
        evaluations_of = await _evaluations(conn, ids, known_at)
        return {
            i: SuperviseeFacts(
                supervisee_id=i,
                registration=registrations.get(i),
                agreements=agreements_of.get(i, ()),
                sessions=sessions_of.get(i, ()),
                practice_hours=practice_of.get(i, ()),
                months=months_of.get(i, ()),
                evaluations=evaluations_of.get(i, ()),
            )
            for i in ids
        }

    async def decisions(
        self, supervisee_ids: Collection[str], known_at: dt.datetime
    ) -> dict[str, Decisions]:
        conn = self._conn
        ids = sorted(set(supervisee_ids))
        leaves_of = await _of(conn, approved_leaves, ids, known_at)
        resolutions_of = await _of(conn, verdict_resolutions, ids, known_at)
        return {i: _decisions(leaves_of.get(i, ()), resolutions_of.get(i, ())) for i in ids}

    async def referrals_at(
        self, site_id: str, raised_by: dt.date, known_at: dt.datetime
    ) -> list[ReferralFact]:
        conn = self._conn
        rows = (
            await conn.execute(
                _select(
                    referrals,
                    known_at,
                    referrals.c.site_id == site_id,
                    referrals.c.raised_on <= raised_by,
                )
            )
        ).all()
        ids = [row.referral_id for row in rows]
        steps = await _by(conn, referral_changes, "referral_id", ids, known_at)
        breaches = await _by(conn, referral_breaches, "referral_id", ids, known_at)
        return [
            ReferralFact(
                referral_id=row.referral_id,
                client_id=row.client_id,
                site_id=row.site_id,
                to_service=row.to_service,
                urgency=row.urgency,
                raised_on=row.raised_on,
                recorded_at=row.recorded_at,
                source_event_ids=_tuple(row.source_event_ids),
                changes=tuple(
                    ReferralChange(
                        status=step.status,
                        on=step.on_date,
                        recorded_at=step.recorded_at,
                        source_event_id=step.event_id,
                        to_service=step.to_service,
                        appointment_on=step.appointment_on,
                    )
                    for step in steps[row.referral_id]
                ),
                breaches=tuple(
                    ServiceLevelBreach(
                        target=breach.target,
                        due_at=breach.due_at,
                        detected_at=breach.detected_at,
                        recorded_at=breach.recorded_at,
                        source_event_id=breach.source_event_id,
                    )
                    for breach in breaches[row.referral_id]
                ),
            )
            for row in rows
        ]

    async def credentials(
        self, holder_ids: Collection[str] | None, known_at: dt.datetime
    ) -> Credentials:
        """The licenses and designations of these holders, or of everyone (None)."""
        conn = self._conn
        if holder_ids is None:
            license_rows = (await conn.execute(_select(projected_licenses, known_at))).all()
            designation_rows = (await conn.execute(_select(projected_designations, known_at))).all()
        else:
            license_rows = await _rows_of(
                conn, projected_licenses, "holder_id", holder_ids, known_at
            )
            designation_rows = await _rows_of(
                conn, projected_designations, "holder_id", holder_ids, known_at
            )
        changes = await _by(
            conn,
            projected_license_changes,
            "license_id",
            [row.license_id for row in license_rows],
            known_at,
        )
        return Credentials(
            licenses=tuple(
                LicenseFact(
                    license_id=row.license_id,
                    holder_id=row.holder_id,
                    kind=row.kind,
                    number=row.number,
                    state=row.state,
                    issued_on=row.issued_on,
                    expires_on=row.expires_on,
                    recorded_at=row.recorded_at,
                    source_event_id=row.source_event_id,
                    changes=tuple(
                        LicenseChange(
                            change=change.change,
                            effective_on=change.effective_on,
                            expires_on=change.expires_on,
                            recorded_at=change.recorded_at,
                            source_event_id=change.event_id,
                        )
                        for change in changes[row.license_id]
                    ),
                )
                for row in license_rows
            ),
            designations=tuple(
                DesignationFact(
                    designation_id=row.designation_id,
                    holder_id=row.holder_id,
                    designation=row.designation,
                    state=row.state,
                    granted_on=row.granted_on,
                    expires_on=row.expires_on,
                    training_hours=row.training_hours,
                    training_completed_on=row.training_completed_on,
                    recorded_at=row.recorded_at,
                    source_event_id=row.source_event_id,
                )
                for row in designation_rows
            ),
        )

    async def unapplied(
        self,
        known_at: dt.datetime,
        *,
        concerning: Collection[Concern] = (),
        kinds: Collection[ConcernKind] = (),
    ) -> tuple[UnappliedEvent, ...]:
        """The events set aside and not applied since that a view known at `known_at` lacks,
        among those naming one of `concerning` or anything of one of `kinds`."""
        by_kind: defaultdict[str, set[str]] = defaultdict(set)
        for kind, subject_id in concerning:
            by_kind[kind].add(subject_id)
        c = unapplied_event_concerns.c
        matches = [
            *(and_(c.kind == kind, c.subject_id.in_(sorted(ids))) for kind, ids in by_kind.items()),
            *([c.kind.in_(sorted(kinds))] if kinds else []),
        ]
        if not matches:
            return ()
        conn = self._conn
        rows = (
            await conn.execute(
                _select(
                    unapplied_events,
                    known_at,
                    unapplied_events.c.applied_at.is_(None),
                    unapplied_events.c.event_key.in_(select(c.event_key).where(or_(*matches))),
                ).order_by(unapplied_events.c.recorded_at, unapplied_events.c.event_key)
            )
        ).all()
        named = await _by_key(conn, [row.event_key for row in rows])
        return tuple(
            UnappliedEvent(
                event_key=row.event_key,
                event_id=row.event_id,
                event_type=row.event_type,
                reason=row.reason,
                recorded_at=row.recorded_at,
                failed_at=row.failed_at,
                concerns=tuple(named[row.event_key]),
            )
            for row in rows
        )

    async def supervisees_at_site(
        self,
        site_id: str,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        after: str | None = None,
        limit: int = 100,
    ) -> SuperviseePage:
        """The supervisees registered by `as_of` whose home site at the end of that day (after
        the transfers effective by then) is `site_id`, by id, `limit` at most after `after`."""
        if limit < 1:
            raise ValueError(f"limit is {limit}; a page holds at least one supervisee")
        s = supervisees.c
        latest = _transfer_in_force(as_of, known_at)
        query = (
            select(s.supervisee_id)
            .where(_known(supervisees, known_at), s.registered_on <= as_of)
            .where(func.coalesce(latest, s.home_site_id) == site_id)
            .order_by(s.supervisee_id)
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(s.supervisee_id > after)
        conn = self._conn
        ids = tuple((await conn.scalars(query)).all())
        page = ids[:limit]
        return SuperviseePage(page, page[-1] if len(ids) > limit else None)

    async def home_sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        """The sites that are the home site, at the end of `as_of`, of a supervisee registered by
        then: each one's latest transfer effective by `as_of`, else where they registered."""
        s = supervisees.c
        home = func.coalesce(_transfer_in_force(as_of, known_at), s.home_site_id).label("site_id")
        query = (
            select(home)
            .where(_known(supervisees, known_at), s.registered_on <= as_of)
            .distinct()
            .order_by(home)
        )
        return tuple((await self._conn.scalars(query)).all())

    async def site_heard_of(self, site_id: str, known_at: dt.datetime) -> bool:
        s, t = supervisees.c, supervisee_transfers.c
        registered = select(s.supervisee_id).where(
            _known(supervisees, known_at), s.home_site_id == site_id
        )
        transferred = select(t.supervisee_id).where(
            _known(supervisee_transfers, known_at),
            or_(t.to_site_id == site_id, t.from_site_id == site_id),
        )
        found = await self._conn.scalar(registered.union_all(transferred).limit(1))
        return found is not None

    async def referral_sites(self, raised_by: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        r = referrals.c
        query = (
            select(r.site_id)
            .where(_known(referrals, known_at), r.raised_on <= raised_by)
            .distinct()
            .order_by(r.site_id)
        )
        return tuple((await self._conn.scalars(query)).all())

    async def supervised_by(self, supervisor_id: str, known_at: dt.datetime) -> tuple[str, ...]:
        a = agreements.c
        query = (
            select(a.supervisee_id)
            .where(_known(agreements, known_at), a.supervisor_id == supervisor_id)
            .distinct()
            .order_by(a.supervisee_id)
        )
        return tuple((await self._conn.scalars(query)).all())


class SqlProjectedFacts:
    """The projected facts in the read-model tables: a snapshot per view, or one per read."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqlFactsReader]:
        """Reads that all see the same committed state: one view's."""
        async with self._db.read(snapshot=True) as conn:
            yield SqlFactsReader(conn)

    async def supervisee_facts(self, supervisee_id: str, known_at: dt.datetime) -> SuperviseeFacts:
        async with self.snapshot() as read:
            return await read.supervisee_facts(supervisee_id, known_at)

    async def decisions(
        self, supervisee_ids: Collection[str], known_at: dt.datetime
    ) -> dict[str, Decisions]:
        async with self.snapshot() as read:
            return await read.decisions(supervisee_ids, known_at)

    async def referrals_at(
        self, site_id: str, raised_by: dt.date, known_at: dt.datetime
    ) -> list[ReferralFact]:
        async with self.snapshot() as read:
            return await read.referrals_at(site_id, raised_by, known_at)

    async def credentials(
        self, holder_ids: Collection[str] | None, known_at: dt.datetime
    ) -> Credentials:
        async with self.snapshot() as read:
            return await read.credentials(holder_ids, known_at)

    async def unapplied(
        self,
        known_at: dt.datetime,
        *,
        concerning: Collection[Concern] = (),
        kinds: Collection[ConcernKind] = (),
    ) -> tuple[UnappliedEvent, ...]:
        async with self.snapshot() as read:
            return await read.unapplied(known_at, concerning=concerning, kinds=kinds)

    async def supervisees_at_site(
        self,
        site_id: str,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        after: str | None = None,
        limit: int = 100,
    ) -> SuperviseePage:
        async with self.snapshot() as read:
            return await read.supervisees_at_site(
                site_id, as_of, known_at, after=after, limit=limit
            )


async def _by_key(conn: AsyncConnection, keys: Sequence[str]) -> defaultdict[str, list[Concern]]:
    named: defaultdict[str, list[Concern]] = defaultdict(list)
    c = unapplied_event_concerns.c
    for start in range(0, len(keys), 500):
        rows = await conn.execute(
            select(c.event_key, c.kind, c.subject_id)
            .where(c.event_key.in_(keys[start : start + 500]))
            .order_by(c.event_key, c.kind, c.subject_id)
        )
        for row in rows:
            named[row.event_key].append((row.kind, row.subject_id))
    return named


async def _rows_of(
    conn: AsyncConnection,
    table: Table,
    key: str,
    ids: Iterable[str],
    known_at: dt.datetime,
) -> list[Row[Any]]:
    """The table's rows known at `known_at` whose `key` is one of `ids`."""
    found: list[Row[Any]] = []
    ids = sorted(set(ids))
    # Bounded IN lists: a supervisee's sessions or a site's referrals can be many.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.extend((await conn.execute(_select(table, known_at, table.c[key].in_(chunk)))).all())
    return found


async def _by(
    conn: AsyncConnection, table: Table, key: str, ids: Iterable[str], known_at: dt.datetime
) -> defaultdict[str, list[Row[Any]]]:
    """The table's rows known at `known_at` whose `key` is one of `ids`, grouped by it."""
    grouped: defaultdict[str, list[Row[Any]]] = defaultdict(list)
    for row in await _rows_of(conn, table, key, ids, known_at):
        grouped[row._mapping[key]].append(row)
    return grouped


async def _of(
    conn: AsyncConnection, table: Table, supervisee_ids: Sequence[str], known_at: dt.datetime
) -> defaultdict[str, list[Row[Any]]]:
    """The table's rows known at `known_at` of these supervisees, grouped by supervisee."""
    return await _by(conn, table, "supervisee_id", supervisee_ids, known_at)


async def _registrations(
    conn: AsyncConnection, supervisee_ids: Sequence[str], known_at: dt.datetime
) -> dict[str, SuperviseeFact]:
    rows = await _of(conn, supervisees, supervisee_ids, known_at)
    transfers = await _of(conn, supervisee_transfers, list(rows), known_at)
    registrations = {}
    for supervisee_id, (row,) in rows.items():
        registrations[supervisee_id] = SuperviseeFact(
            supervisee_id=row.supervisee_id,
            credential_track=row.credential_track,
            license_number=row.license_number,
            home_site_id=row.home_site_id,
            registered_on=row.registered_on,
            recorded_at=row.recorded_at,
            source_event_id=row.source_event_id,
            transfers=tuple(
                TransferFact(
                    from_site_id=t.from_site_id,
                    to_site_id=t.to_site_id,
                    effective_on=t.effective_on,
                    recorded_at=t.recorded_at,
                    source_event_id=t.source_event_id,
                )
                for t in transfers[supervisee_id]
            ),
        )
    return registrations


async def _agreements(
    conn: AsyncConnection, supervisee_ids: Sequence[str], known_at: dt.datetime
) -> dict[str, tuple[AgreementFact, ...]]:
    rows = await _of(conn, agreements, supervisee_ids, known_at)
    changes: defaultdict[str, list[Row[Any]]] = defaultdict(list)
    for of_one in (await _of(conn, agreement_changes, list(rows), known_at)).values():
        for change in of_one:
            changes[change.agreement_id].append(change)
    return {
        supervisee_id: tuple(_agreement(row, changes[row.agreement_id]) for row in of_one)
        for supervisee_id, of_one in rows.items()
    }


def _agreement(row: Row[Any], changes: Sequence[Row[Any]]) -> AgreementFact:
    return AgreementFact(
        agreement_id=row.agreement_id,
        supervisee_id=row.supervisee_id,
        supervisor_id=row.supervisor_id,
        site_id=row.site_id,
        credential_track=row.credential_track,
        start_date=row.start_date,
        terms=AgreementTerms(
            end_date=row.end_date,
            modalities=_tuple(row.modalities),
            sessions_per_period=row.sessions_per_period,
            period=row.period,
        ),
        board_approval_required=row.board_approval_required,
        recorded_at=row.recorded_at,
        source_event_id=row.source_event_id,
        approvals=tuple(
            AgreementApproval(
                approved_on=c.on_date,
                approval_reference=c.approval_reference or "",
                recorded_at=c.recorded_at,
                source_event_id=c.event_id,
            )
            for c in changes
            if c.change == "approved"
        ),
        amendments=tuple(
            AgreementAmendment(
                terms=AgreementTerms(
                    end_date=c.end_date,
                    modalities=_tuple(c.modalities),
                    sessions_per_period=c.sessions_per_period,
                    period=c.period,
                ),
                recorded_at=c.recorded_at,
                reason=c.reason or "",
                amended_by=c.actor or "",
                source_event_id=c.event_id,
            )
            for c in changes
            if c.change == "amended"
        ),
        terminations=tuple(
            AgreementTermination(
                terminated_on=c.on_date,
                reason=c.reason or "",
                terminated_by=c.actor or "",
                recorded_at=c.recorded_at,
                source_event_id=c.event_id,
            )
            for c in changes
            if c.change == "terminated"
        ),
    )


async def _sessions(
    conn: AsyncConnection, supervisee_ids: Sequence[str], known_at: dt.datetime
) -> dict[str, tuple[SupervisionSessionFact, ...]]:
    rows = await _of(conn, supervision_sessions, supervisee_ids, known_at)
    corrections = await _of_sessions(conn, session_corrections, supervisee_ids, known_at)
    marks = await _of_sessions(conn, session_lapse_marks, supervisee_ids, known_at)
    lists = _Lists()
    names = tuple(c.name for c in _columns(supervision_sessions))
    facts: dict[str, tuple[SupervisionSessionFact, ...]] = {}
    for supervisee_id, of_one in rows.items():
        built = []
        for row in of_one:
            r = dict(zip(names, row, strict=True))
            session_id = r["session_id"]
            built.append(
                _session(r, corrections.get(session_id, ()), marks.get(session_id, ()), lists)
            )
        facts[supervisee_id] = tuple(built)
    return facts


async def _of_sessions(
    conn: AsyncConnection, table: Table, supervisee_ids: Sequence[str], known_at: dt.datetime
) -> defaultdict[str, list[Row[Any]]]:
    """The table's rows known at `known_at` of these supervisees' sessions, grouped by session:
    one query per 500 supervisees, not one per 500 of their thousands of sessions."""
    grouped: defaultdict[str, list[Row[Any]]] = defaultdict(list)
    s = supervision_sessions.c
    for start in range(0, len(supervisee_ids), 500):
        theirs = select(s.session_id).where(
            s.supervisee_id.in_(supervisee_ids[start : start + 500]),
            _known(supervision_sessions, known_at),
        )
        query = _select(table, known_at, table.c.session_id.in_(theirs))
        for row in await conn.execute(query):
            grouped[row.session_id].append(row)
    return grouped


def _session(
    r: Mapping[str, Any], corrections: Sequence[Row[Any]], marks: Sequence[Row[Any]], lists: _Lists
) -> SupervisionSessionFact:
    """The session's fact from its row (`r`, by column name: a Row's attribute access and its
    `_fields` cost more than building the fact) and the rows of its corrections and marks.
    Validated: pydantic's validation, in its core, costs less than `model_construct`."""
    return SupervisionSessionFact(
        session_id=r["session_id"],
        supervisee_id=r["supervisee_id"],
        kind=r["kind"],
        format=r["format"],
        modality=r["modality"],
        date=r["date"],
        start_time=r["start_time"],
        minutes=r["minutes"],
        techniques=lists(r["techniques"]),
        focus=lists(r["focus"]),
        supervisor_id=r["supervisor_id"],
        site_id=r["site_id"],
        source_event_id=r["source_event_id"],
        recorded_at=r["recorded_at"],
        corrections=tuple(_correction(c, lists) for c in corrections) if corrections else (),
        lapse_marks=tuple(_lapse_mark(m) for m in marks) if marks else (),
    )


def _correction(c: Row[Any], lists: _Lists) -> SessionCorrection:
    return SessionCorrection(
        change=c.change,
        recorded_at=c.recorded_at,
        by=c.actor,
        reason=c.reason,
        source_event_id=c.event_id,
        amended_to=_figures_of(c, lists) if c.change == "amended" else None,
    )


def _lapse_mark(m: Row[Any]) -> LapseMark:
    return LapseMark(
        license_id=m.license_id,
        lapse=m.lapse,
        lapsed_since=m.lapsed_since,
        recorded_at=m.recorded_at,
        source_event_id=m.source_event_id,
    )


async def _practice_hours(
    conn: AsyncConnection, supervisee_ids: Sequence[str], known_at: dt.datetime
) -> dict[str, tuple[PracticeHoursFact, ...]]:
    return {
        supervisee_id: tuple(
            PracticeHoursFact(
                site_id=row.site_id,
                week_start=row.week_start,
                direct_minutes=row.direct_minutes,
                indirect_minutes=row.indirect_minutes,
                correction=row.correction,
                recorded_at=row.recorded_at,
                source_event_id=row.event_id,
            )
            for row in of_one
        )
        for supervisee_id, of_one in (
            await _of(conn, practice_hours, supervisee_ids, known_at)
        ).items()
    }


async def _months(
    conn: AsyncConnection, supervisee_ids: Sequence[str], known_at: dt.datetime
) -> dict[str, tuple[MonthEvent, ...]]:
    return {
        supervisee_id: tuple(
            MonthEvent(
                month=row.month,
                action=row.action,
                on=row.on_date,
                by=row.actor,
                reason=row.reason,
                recorded_at=row.recorded_at,
                source_event_id=row.event_id,
            )
            for row in of_one
        )
        for supervisee_id, of_one in (
            await _of(conn, month_sign_offs, supervisee_ids, known_at)
        ).items()
    }


async def _evaluations(
    conn: AsyncConnection, supervisee_ids: Sequence[str], known_at: dt.datetime
) -> dict[str, tuple[EvaluationFact, ...]]:
    acknowledged = {
        row.evaluation_id: row
        for of_one in (
            await _of(conn, evaluation_acknowledgements, supervisee_ids, known_at)
        ).values()
        for row in of_one
    }
    facts: dict[str, tuple[EvaluationFact, ...]] = {}
    for supervisee_id, of_one in (await _of(conn, evaluations, supervisee_ids, known_at)).items():
        facts[supervisee_id] = tuple(
            _evaluation(row, acknowledged.get(row.evaluation_id)) for row in of_one
        )
    return facts


def _evaluation(row: Row[Any], ack: Row[Any] | None) -> EvaluationFact:
    return EvaluationFact(
        evaluation_id=row.evaluation_id,
        supervisor_id=row.supervisor_id,
        framework=row.framework,
        framework_version=row.framework_version,
        scale_min=row.scale_min,
        scale_max=row.scale_max,
        expected_min=row.expected_min,
        trigger=row.trigger,
        period_start=row.period_start,
        period_end=row.period_end,
        scores=tuple(DomainScore.model_validate(s) for s in row.scores),
        below_expectations=_tuple(row.below_expectations),
        remediation_required=row.remediation_required,
        evidence_session_ids=_tuple(row.evidence_session_ids),
        signed_on=row.signed_on,
        recorded_at=row.recorded_at,
        source_event_id=row.source_event_id,
        acknowledged_on=ack.acknowledged_on if ack else None,
        acknowledgement_recorded_at=ack.recorded_at if ack else None,
        acknowledgement_event_id=ack.source_event_id if ack else None,
    )


def _decisions(leaves: Sequence[Row[Any]], resolutions: Sequence[Row[Any]]) -> Decisions:
    return Decisions(
        leaves=tuple(
            ApprovedLeave(
                start=r.start,
                end=r.end,
                approved_by=r.approved_by,
                reason=r.reason,
                recorded_at=r.recorded_at,
                source_event_id=r.source_event_id,
            )
            for r in leaves
        ),
        resolutions=tuple(
            Resolution(
                verdict_id=r.verdict_id,
                kind=r.kind,
                reason=r.reason,
                by=r.resolved_by,
                on=r.on,
                recorded_at=r.recorded_at,
                source_event_id=r.source_event_id,
            )
            for r in resolutions
        ),
    )
