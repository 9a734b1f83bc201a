"""The compliance read model: facts projected from the services' published events, in SQL.

Every row keeps the id of the event it came from, and the time that event was recorded. Nothing
is updated in place: a correction is a row of its own, and the pure domain decides, for a date,
which rows were in force (see compliance.domain.facts). Each projection is idempotent by
construction: a row is keyed by the event's business identity (a session and supervisee, a
referral and a target, a correction of a session at the time it was recorded...) and inserted
with ON CONFLICT DO NOTHING, so an event delivered twice, or a producer's log re-published
under new event ids, changes nothing.

The projection is rebuilt from scratch by emptying these tables and the inbox and re-publishing
the producers' logs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from compliance.domain.agreements import (
    AgreementAmendment,
    AgreementApproval,
    AgreementFact,
    AgreementTermination,
    AgreementTerms,
)
from compliance.domain.facts import (
    LapseMark,
    ReferralChange,
    ReferralFact,
    ReferralStatus,
    ServiceLevelBreach,
    SessionCorrection,
    SessionFigures,
    SupervisionSessionFact,
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
from infra.db import Database, Migration, UtcDateTime

metadata = MetaData()

ID = String(64)
EVENT_ID = String(36)

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
    Column("license_number", ID, nullable=False),
    Column("home_site_id", ID, nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("source_event_id", EVENT_ID, nullable=False),
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
    Column("approval_reference", String(200)),
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
    Column("framework_version", String(40), nullable=False),
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
    Column("number", ID, nullable=False),
    Column("state", String(8), nullable=False),
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
    Column("state", String(8), nullable=False),
    Column("granted_on", Date, nullable=False),
    Column("expires_on", Date),
    Column("training_hours", Integer, nullable=False),
    Column("training_completed_on", Date, nullable=False),
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
_NEW_TABLES = (
    session_corrections,
    session_lapse_marks,
    supervisees,
    supervisee_transfers,
    agreements,
    agreement_changes,
    practice_hours,
    month_sign_offs,
    evaluations,
    evaluation_acknowledgements,
    referral_changes,
    referral_breaches,
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
    metadata.create_all(conn, tables=list(_NEW_TABLES))


MIGRATIONS = (
    Migration("compliance", 1, "supervision sessions and referrals read model", _create_read_model),
    Migration(
        "compliance",
        2,
        "the full record: session corrections and lapse marks, supervisees, agreements, practice "
        "hours, sign-offs, evaluations, referral steps and breaches, licenses and designations",
        _the_full_record,
    ),
)


def _insert(conn: AsyncConnection, table: Table) -> Any:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return insert(table)


async def _insert_once(
    conn: AsyncConnection, table: Table, rows: dict[str, Any] | list[dict[str, Any]]
) -> None:
    """Inserts rows; one whose key (the event id or the business key) is taken adds nothing."""
    if rows:
        await conn.execute(_insert(conn, table).on_conflict_do_nothing(), rows)


# --- projections: one per published event, each in the consumer's transaction -------------


async def project_session_logged(
    conn: AsyncConnection, event: ev.SessionLogged, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    """One row per supervisee: a group session counts for each person in it."""
    figures = _figures(event)  # refuses figures no view could show (a permanent error)
    rows = [
        {
            "session_id": event.session_id,
            "supervisee_id": supervisee_id,
            **_figure_columns(figures),
            "supervisor_id": event.supervisor_id,
            "site_id": event.site_id,
            "source_event_id": str(event_id),
            "recorded_at": recorded_at,
        }
        for supervisee_id in event.supervisee_ids
    ]
    # The inbox already keeps a redelivered event out; a session re-logged under a new event
    # id (a producer's log re-published after it was rebuilt) must not count twice either.
    await _insert_once(conn, supervision_sessions, rows)


async def project_session_amended(
    conn: AsyncConnection, event: ev.SessionAmended, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    await _insert_once(
        conn,
        session_corrections,
        {
            "event_id": str(event_id),
            "session_id": event.session_id,
            "change": "amended",
            "recorded_at": recorded_at,
            "actor": event.amended_by,
            "reason": event.reason,
            **_figure_columns(_figures(event)),
        },
    )


async def project_session_voided(
    conn: AsyncConnection, event: ev.SessionVoided, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    await _insert_once(
        conn,
        session_corrections,
        {
            "event_id": str(event_id),
            "session_id": event.session_id,
            "change": "voided",
            "recorded_at": recorded_at,
            "actor": event.voided_by,
            "reason": event.reason,
        },
    )


async def project_supervisor_lapse_marked(
    conn: AsyncConnection,
    event: ev.SupervisorLapseMarked,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _insert_once(
        conn,
        session_lapse_marks,
        {
            "session_id": event.session_id,
            "license_id": event.license_id,
            "lapse": event.lapse,
            "supervisor_id": event.supervisor_id,
            "date": event.date,
            "lapsed_since": event.lapsed_since,
            "recorded_at": recorded_at,
            "source_event_id": str(event_id),
        },
    )


async def project_supervisee_registered(
    conn: AsyncConnection,
    event: ev.SuperviseeRegistered,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _insert_once(
        conn,
        supervisees,
        {
            "supervisee_id": event.supervisee_id,
            "credential_track": event.credential_track,
            "license_number": event.license_number,
            "home_site_id": event.home_site_id,
            "registered_on": event.registered_on,
            "recorded_at": recorded_at,
            "source_event_id": str(event_id),
        },
    )


async def project_supervisee_transferred(
    conn: AsyncConnection,
    event: ev.SuperviseeTransferred,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _insert_once(
        conn,
        supervisee_transfers,
        {
            "supervisee_id": event.supervisee_id,
            "effective_on": event.effective_on,
            "to_site_id": event.to_site_id,
            "from_site_id": event.from_site_id,
            "recorded_at": recorded_at,
            "source_event_id": str(event_id),
        },
    )


async def project_agreement_signed(
    conn: AsyncConnection, event: ev.AgreementSigned, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    await _insert_once(
        conn,
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
            "source_event_id": str(event_id),
        },
    )


async def project_agreement_approved(
    conn: AsyncConnection,
    event: ev.AgreementApproved,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _agreement_change(
        conn,
        event,
        event_id,
        recorded_at,
        change="approved",
        on_date=event.approved_on,
        approval_reference=event.approval_reference,
    )


async def project_agreement_amended(
    conn: AsyncConnection, event: ev.AgreementAmended, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    await _agreement_change(
        conn,
        event,
        event_id,
        recorded_at,
        change="amended",
        on_date=recorded_at.astimezone(dt.UTC).date(),
        actor=event.amended_by,
        reason=event.reason,
        end_date=event.end_date,
        modalities=list(event.modalities),
        sessions_per_period=event.sessions_per_period,
        period=event.period,
    )


async def project_agreement_terminated(
    conn: AsyncConnection,
    event: ev.AgreementTerminated,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _agreement_change(
        conn,
        event,
        event_id,
        recorded_at,
        change="terminated",
        on_date=event.terminated_on,
        actor=event.terminated_by,
        reason=event.reason,
    )


async def _agreement_change(
    conn: AsyncConnection,
    event: ev.AgreementApproved | ev.AgreementAmended | ev.AgreementTerminated,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
    **columns: Any,
) -> None:
    await _insert_once(
        conn,
        agreement_changes,
        {
            "event_id": str(event_id),
            "agreement_id": event.agreement_id,
            "supervisee_id": event.supervisee_id,
            "recorded_at": recorded_at,
            **columns,
        },
    )


async def project_practice_hours_recorded(
    conn: AsyncConnection,
    event: ev.PracticeHoursRecorded,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    fact = PracticeHoursFact(
        site_id=event.site_id,
        week_start=event.week_start,
        direct_minutes=event.direct_minutes,
        indirect_minutes=event.indirect_minutes,
        correction=event.correction,
        recorded_at=recorded_at,
        source_event_id=str(event_id),
    )
    await _insert_once(
        conn,
        practice_hours,
        {
            "event_id": fact.source_event_id,
            "supervisee_id": event.supervisee_id,
            **fact.model_dump(exclude={"source_event_id"}),
        },
    )


async def project_month_signed_off(
    conn: AsyncConnection, event: ev.MonthSignedOff, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    await _month_event(
        conn,
        event.supervisee_id,
        MonthEvent(
            month=event.month,
            action="signed_off",
            on=event.signed_on,
            by=event.supervisor_id,
            recorded_at=recorded_at,
            source_event_id=str(event_id),
        ),
    )


async def project_month_reopened(
    conn: AsyncConnection, event: ev.MonthReopened, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    await _month_event(
        conn,
        event.supervisee_id,
        MonthEvent(
            month=event.month,
            action="reopened",
            on=event.reopened_on,
            by=event.reopened_by,
            reason=event.reason,
            recorded_at=recorded_at,
            source_event_id=str(event_id),
        ),
    )


async def _month_event(conn: AsyncConnection, supervisee_id: str, fact: MonthEvent) -> None:
    await _insert_once(
        conn,
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


async def project_competency_evaluated(
    conn: AsyncConnection,
    event: ev.CompetencyEvaluated,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _insert_once(
        conn,
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
            "source_event_id": str(event_id),
        },
    )


async def project_evaluation_acknowledged(
    conn: AsyncConnection,
    event: ev.EvaluationAcknowledged,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _insert_once(
        conn,
        evaluation_acknowledgements,
        {
            "evaluation_id": event.evaluation_id,
            "supervisee_id": event.supervisee_id,
            "acknowledged_on": event.acknowledged_on,
            "recorded_at": recorded_at,
            "source_event_id": str(event_id),
        },
    )


async def project_referral_raised(
    conn: AsyncConnection, event: ev.ReferralRaised, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    await _insert_once(
        conn,
        referrals,
        {
            "referral_id": event.referral_id,
            "client_id": event.client_id,
            "site_id": event.site_id,
            "to_service": event.to_service,
            "urgency": event.urgency,
            "raised_on": event.raised_on,
            "source_event_ids": [str(event_id)],
        },
    )


Projector = Callable[[AsyncConnection, Any, uuid.UUID, dt.datetime], Awaitable[None]]


def _fields_of(event: type[ev.EventContract], *fields: str) -> None:
    """Refuses, when the table below is built, a field name the event does not have."""
    missing = [f for f in fields if f not in event.model_fields]
    if missing:
        raise TypeError(f"{event.__name__} has no field {', '.join(missing)}")


def _referral_step(
    event: type[ev.EventContract], status: ReferralStatus, on: str, **columns: str
) -> Projector:
    """The projector of one step of the referral loop: a row in `referral_changes` with the
    status it moved to, the event's date field `on` and extra columns read from event fields."""
    _fields_of(event, on, *columns.values())

    async def project_step(
        conn: AsyncConnection, event: Any, event_id: uuid.UUID, recorded_at: dt.datetime
    ) -> None:
        await _insert_once(
            conn,
            referral_changes,
            {
                "event_id": str(event_id),
                "referral_id": event.referral_id,
                "status": status,
                "on_date": getattr(event, on),
                "recorded_at": recorded_at,
                **{column: getattr(event, field) for column, field in columns.items()},
            },
        )

    return project_step


async def project_referral_service_level_breached(
    conn: AsyncConnection,
    event: ev.ReferralServiceLevelBreached,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _insert_once(
        conn,
        referral_breaches,
        {
            "referral_id": event.referral_id,
            "target": event.target,
            "site_id": event.site_id,
            "to_service": event.to_service,
            "urgency": event.urgency,
            "due_at": event.due_at,
            "detected_at": event.detected_at,
            "source_event_id": str(event_id),
        },
    )


async def project_license_recorded(
    conn: AsyncConnection, event: ev.LicenseRecorded, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    await _insert_once(
        conn,
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
            "source_event_id": str(event_id),
        },
    )


def _license_change(
    event: type[ev.EventContract], change: str, effective_on: str, expires_on: str | None = None
) -> Projector:
    """The projector of a change to a license: a row in `projected_license_changes` dated by the
    event's field `effective_on` (and the new expiry read from `expires_on`, for a renewal)."""
    _fields_of(event, effective_on, *([expires_on] if expires_on else []))

    async def project_change(
        conn: AsyncConnection, event: Any, event_id: uuid.UUID, recorded_at: dt.datetime
    ) -> None:
        await _insert_once(
            conn,
            projected_license_changes,
            {
                "event_id": str(event_id),
                "license_id": event.license_id,
                "holder_id": event.holder_id,
                "change": change,
                "effective_on": getattr(event, effective_on),
                "expires_on": getattr(event, expires_on) if expires_on else None,
                "recorded_at": recorded_at,
            },
        )

    return project_change


async def project_supervisor_designation_recorded(
    conn: AsyncConnection,
    event: ev.SupervisorDesignationRecorded,
    event_id: uuid.UUID,
    recorded_at: dt.datetime,
) -> None:
    await _insert_once(
        conn,
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
            "source_event_id": str(event_id),
        },
    )


# Every event the read model is built from, and how. ConsultationLogged is not among them: a
# consultation is not supervision and stays out of every figure.
PROJECTORS: Mapping[type[ev.EventContract], Projector] = {
    ev.SuperviseeRegistered: project_supervisee_registered,
    ev.SuperviseeTransferred: project_supervisee_transferred,
    ev.AgreementSigned: project_agreement_signed,
    ev.AgreementApproved: project_agreement_approved,
    ev.AgreementAmended: project_agreement_amended,
    ev.AgreementTerminated: project_agreement_terminated,
    ev.SessionLogged: project_session_logged,
    ev.SessionAmended: project_session_amended,
    ev.SessionVoided: project_session_voided,
    ev.SupervisorLapseMarked: project_supervisor_lapse_marked,
    ev.PracticeHoursRecorded: project_practice_hours_recorded,
    ev.MonthSignedOff: project_month_signed_off,
    ev.MonthReopened: project_month_reopened,
    ev.CompetencyEvaluated: project_competency_evaluated,
    ev.EvaluationAcknowledged: project_evaluation_acknowledged,
    ev.ReferralRaised: project_referral_raised,
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
    ev.ReferralServiceLevelBreached: project_referral_service_level_breached,
    ev.LicenseRecorded: project_license_recorded,
    ev.LicenseRenewed: _license_change(
        ev.LicenseRenewed, "renewed", "renewed_on", expires_on="expires_on"
    ),
    ev.LicenseSuspended: _license_change(ev.LicenseSuspended, "suspended", "effective_on"),
    ev.LicenseReinstated: _license_change(ev.LicenseReinstated, "reinstated", "effective_on"),
    ev.LicenseRevoked: _license_change(ev.LicenseRevoked, "revoked", "effective_on"),
    ev.LicenseExpired: _license_change(ev.LicenseExpired, "expired", "expired_on"),
    ev.SupervisorDesignationRecorded: project_supervisor_designation_recorded,
}


class NotProjected(LookupError):
    """An event the read model is not built from."""


async def project(
    conn: AsyncConnection, event: ev.EventContract, event_id: uuid.UUID, recorded_at: dt.datetime
) -> None:
    """Applies one published event to the read model, in the caller's transaction."""
    projector = PROJECTORS.get(type(event))
    if projector is None:
        raise NotProjected(f"{event.ce_type()} is not projected into the compliance view")
    if recorded_at.tzinfo is None:
        raise ValueError(f"event {event_id}: recorded_at must be timezone-aware")
    await projector(conn, event, event_id, recorded_at)


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


# --- reading -----------------------------------------------------------------------------


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


def _figures_of(row: Row[Any]) -> SessionFigures:
    return SessionFigures(
        kind=row.kind,
        format=row.format,
        modality=row.modality,
        date=row.date,
        start_time=row.start_time,
        minutes=row.minutes,
        techniques=_tuple(row.techniques),
        focus=_tuple(row.focus),
    )


class SqlProjectedFacts:
    """The projected facts, read from the read-model tables (one read transaction per view)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def supervisee_facts(self, supervisee_id: str) -> SuperviseeFacts:
        async with self._db.read() as conn:
            return SuperviseeFacts(
                supervisee_id=supervisee_id,
                registration=await _registration(conn, supervisee_id),
                agreements=await _agreements(conn, supervisee_id),
                sessions=await _sessions(conn, supervisee_id),
                practice_hours=await _practice_hours(conn, supervisee_id),
                months=await _months(conn, supervisee_id),
                evaluations=await _evaluations(conn, supervisee_id),
            )

    async def referrals_at(self, site_id: str, raised_by: dt.date) -> list[ReferralFact]:
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    select(referrals).where(
                        referrals.c.site_id == site_id, referrals.c.raised_on <= raised_by
                    )
                )
            ).all()
            ids = [row.referral_id for row in rows]
            steps = await _by(conn, referral_changes, referral_changes.c.referral_id, ids)
            breaches = await _by(conn, referral_breaches, referral_breaches.c.referral_id, ids)
        return [
            ReferralFact(
                referral_id=row.referral_id,
                client_id=row.client_id,
                site_id=row.site_id,
                to_service=row.to_service,
                urgency=row.urgency,
                raised_on=row.raised_on,
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
                        source_event_id=breach.source_event_id,
                    )
                    for breach in breaches[row.referral_id]
                ),
            )
            for row in rows
        ]

    async def credentials(self, holder_ids: Collection[str] | None = None) -> Credentials:
        """The licenses and designations of these holders, or of everyone (None)."""
        async with self._db.read() as conn:
            licenses_query = select(projected_licenses)
            designations_query = select(projected_designations)
            if holder_ids is not None:
                holders = sorted(holder_ids)
                licenses_query = licenses_query.where(projected_licenses.c.holder_id.in_(holders))
                designations_query = designations_query.where(
                    projected_designations.c.holder_id.in_(holders)
                )
            license_rows = (await conn.execute(licenses_query)).all()
            changes = await _by(
                conn,
                projected_license_changes,
                projected_license_changes.c.license_id,
                [row.license_id for row in license_rows],
            )
            designation_rows = (await conn.execute(designations_query)).all()
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
                    source_event_id=row.source_event_id,
                )
                for row in designation_rows
            ),
        )


async def _by(
    conn: AsyncConnection, table: Table, key: Column[Any], ids: Iterable[str]
) -> defaultdict[str, list[Row[Any]]]:
    """The table's rows whose `key` is one of `ids`, grouped by it."""
    grouped: defaultdict[str, list[Row[Any]]] = defaultdict(list)
    ids = sorted(set(ids))
    # Bounded IN lists: a supervisee's sessions or a site's referrals can be many.
    for start in range(0, len(ids), 500):
        rows = await conn.execute(select(table).where(key.in_(ids[start : start + 500])))
        for row in rows:
            grouped[row._mapping[key.name]].append(row)
    return grouped


async def _rows(conn: AsyncConnection, table: Table, supervisee_id: str) -> list[Row[Any]]:
    return list(
        (await conn.execute(select(table).where(table.c.supervisee_id == supervisee_id))).all()
    )


async def _registration(conn: AsyncConnection, supervisee_id: str) -> SuperviseeFact | None:
    row = (
        await conn.execute(select(supervisees).where(supervisees.c.supervisee_id == supervisee_id))
    ).first()
    if row is None:
        return None
    transfers = await _rows(conn, supervisee_transfers, supervisee_id)
    return SuperviseeFact(
        supervisee_id=row.supervisee_id,
        credential_track=row.credential_track,
        license_number=row.license_number,
        home_site_id=row.home_site_id,
        registered_on=row.registered_on,
        source_event_id=row.source_event_id,
        transfers=tuple(
            TransferFact(
                from_site_id=t.from_site_id,
                to_site_id=t.to_site_id,
                effective_on=t.effective_on,
                source_event_id=t.source_event_id,
            )
            for t in transfers
        ),
    )


async def _agreements(conn: AsyncConnection, supervisee_id: str) -> tuple[AgreementFact, ...]:
    rows = await _rows(conn, agreements, supervisee_id)
    changes: defaultdict[str, list[Row[Any]]] = defaultdict(list)
    for change in await _rows(conn, agreement_changes, supervisee_id):
        changes[change.agreement_id].append(change)
    return tuple(
        AgreementFact(
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
                    source_event_id=c.event_id,
                )
                for c in changes[row.agreement_id]
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
                for c in changes[row.agreement_id]
                if c.change == "amended"
            ),
            terminations=tuple(
                AgreementTermination(
                    terminated_on=c.on_date,
                    reason=c.reason or "",
                    terminated_by=c.actor or "",
                    source_event_id=c.event_id,
                )
                for c in changes[row.agreement_id]
                if c.change == "terminated"
            ),
        )
        for row in rows
    )


async def _sessions(
    conn: AsyncConnection, supervisee_id: str
) -> tuple[SupervisionSessionFact, ...]:
    rows = await _rows(conn, supervision_sessions, supervisee_id)
    ids = [row.session_id for row in rows]
    corrections = await _by(conn, session_corrections, session_corrections.c.session_id, ids)
    marks = await _by(conn, session_lapse_marks, session_lapse_marks.c.session_id, ids)
    return tuple(
        SupervisionSessionFact(
            session_id=row.session_id,
            supervisee_id=row.supervisee_id,
            **_figures_of(row).model_dump(),
            supervisor_id=row.supervisor_id,
            site_id=row.site_id,
            source_event_id=row.source_event_id,
            # Rows projected before migration 2 carry no recording time: the session's own day
            # stands in for it.
            recorded_at=row.recorded_at
            or dt.datetime.combine(row.date, dt.time.min, tzinfo=dt.UTC),
            corrections=tuple(
                SessionCorrection(
                    change=c.change,
                    recorded_at=c.recorded_at,
                    by=c.actor,
                    reason=c.reason,
                    source_event_id=c.event_id,
                    amended_to=_figures_of(c) if c.change == "amended" else None,
                )
                for c in corrections[row.session_id]
            ),
            lapse_marks=tuple(
                LapseMark(
                    license_id=m.license_id,
                    lapse=m.lapse,
                    lapsed_since=m.lapsed_since,
                    recorded_at=m.recorded_at,
                    source_event_id=m.source_event_id,
                )
                for m in marks[row.session_id]
            ),
        )
        for row in rows
    )


async def _practice_hours(
    conn: AsyncConnection, supervisee_id: str
) -> tuple[PracticeHoursFact, ...]:
    return tuple(
        PracticeHoursFact(
            site_id=row.site_id,
            week_start=row.week_start,
            direct_minutes=row.direct_minutes,
            indirect_minutes=row.indirect_minutes,
            correction=row.correction,
            recorded_at=row.recorded_at,
            source_event_id=row.event_id,
        )
        for row in await _rows(conn, practice_hours, supervisee_id)
    )


async def _months(conn: AsyncConnection, supervisee_id: str) -> tuple[MonthEvent, ...]:
    return tuple(
        MonthEvent(
            month=row.month,
            action=row.action,
            on=row.on_date,
            by=row.actor,
            reason=row.reason,
            recorded_at=row.recorded_at,
            source_event_id=row.event_id,
        )
        for row in await _rows(conn, month_sign_offs, supervisee_id)
    )


async def _evaluations(conn: AsyncConnection, supervisee_id: str) -> tuple[EvaluationFact, ...]:
    acknowledged = {
        row.evaluation_id: row
        for row in await _rows(conn, evaluation_acknowledgements, supervisee_id)
    }
    facts = []
    for row in await _rows(conn, evaluations, supervisee_id):
        ack = acknowledged.get(row.evaluation_id)
        facts.append(
            EvaluationFact(
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
                source_event_id=row.source_event_id,
                acknowledged_on=ack.acknowledged_on if ack else None,
                acknowledgement_event_id=ack.source_event_id if ack else None,
            )
        )
    return tuple(facts)
