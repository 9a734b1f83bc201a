"""The compliance read model on each storage backend: contract events projected once, as the
consumer runtime delivers them (CloudEvents decoded, older versions upcast, inbox and change in
one transaction), and the views as of a date and as known at a moment."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from compliance.adapters.read_model import MIGRATIONS, SqlProjectedFacts
from compliance.application.queries import (
    licenses_expiring,
    open_referrals,
    service_level_breaches,
    supervisee_hours,
    supervisee_record,
)
from compliance.entrypoints.consumers import CONSUMER_GROUP, handlers
from conftest import DatabaseFactory
from contracts import events as ev
from contracts.events import current_type
from contracts.rulepacks.model import RulePacks
from infra.db import Database
from infra.eventstore import EventMetadata, OutboxMessage
from infra.inbox import first_delivery
from infra.messaging.cloudevents import IncomingEvent, decode, encode

pytestmark = pytest.mark.integration

# No board's rules: these tests read the record's own reasons a session does not count (a void,
# administrative supervision, an approval missing) on both time axes; what the boards' rules
# withhold is tested with the rule packs in test_compliance_views.
PACKS = RulePacks(packs={})

D = dt.date.fromisoformat


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


# Known at a moment after everything these tests record: the current view.
NOW = at("2030-01-01")


def message(
    event: ev.EventContract,
    recorded_at: dt.datetime,
    event_id: uuid.UUID | None = None,
    *,
    ce_type: str | None = None,
) -> IncomingEvent:
    """The event as a consumer receives it from Kafka: encoded and decoded as a CloudEvent."""
    outgoing = OutboxMessage(
        event_id=event_id or uuid.uuid4(),
        topic=event.topic,
        key=event.key(),
        ce_type=ce_type or event.ce_type(),
        source="/continuum/test",
        subject=event.key(),
        occurred_at=recorded_at,
        data=event.model_dump(mode="json"),
        metadata=EventMetadata(correlation_id="test"),
    )
    return decode(*encode(outgoing))


async def deliver(db: Database, *incoming: IncomingEvent) -> None:
    """What the consumer runtime does per message: dispatch by type (an older version to the
    newest's handler), then the inbox row and the projection in one transaction."""
    table = handlers()
    for event in incoming:
        handler = table.get(event.ce_type) or table[current_type(event.ce_type)]
        async with db.transaction() as conn:
            if await first_delivery(conn, CONSUMER_GROUP, event.event_id):
                await handler(conn, event)


def logged(
    session_id: str, day: str, minutes: int, *supervisees: str, **extra: Any
) -> ev.SessionLogged:
    fields: dict[str, Any] = {
        "session_id": session_id,
        "kind": "clinical",
        "format": "group" if len(supervisees) > 2 else "individual",
        "modality": "in_person",
        "date": D(day),
        "start_time": dt.time(10, 0),
        "minutes": minutes,
        "supervisor_id": "sup-1",
        "supervisee_ids": supervisees,
        "site_id": "site-a",
        "techniques": ("case_review",),
        "focus": ("conceptualization",),
    }
    return ev.SessionLogged(**(fields | extra))


async def test_a_group_session_counts_for_each_supervisee_once_with_its_source_event(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(MIGRATIONS)
    group = message(logged("g-1", "2026-10-01", 120, "a", "b", "c"), at("2026-10-01"))
    await deliver(db, group, message(logged("i-1", "2026-10-08", 60, "a"), at("2026-10-08")))
    # The same message again (a redelivery), and the same session under another event id (a
    # re-published log), add nothing.
    await deliver(db, group)
    await deliver(db, message(logged("g-1", "2026-10-01", 120, "a", "b", "c"), at("2026-10-01")))
    facts = SqlProjectedFacts(db)

    a = (await supervisee_hours(facts, PACKS, "a", D("2026-12-31"), NOW)).shown
    b = (await supervisee_hours(facts, PACKS, "b", D("2026-12-31"), NOW)).shown
    before_second = (await supervisee_hours(facts, PACKS, "a", D("2026-10-07"), NOW)).shown

    assert (a.total_minutes, b.total_minutes, before_second.total_minutes) == (180, 120, 120)
    assert a.by_format_and_modality[("group", "in_person")] == 120
    assert b.sessions[0].source_event_id == str(group.event_id)
    assert (b.sessions[0].start_time, b.sessions[0].techniques) == (
        dt.time(10, 0),
        ("case_review",),
    )


async def test_a_v1_session_logged_reaches_the_v2_projection_as_clinical(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(MIGRATIONS)
    v1 = ev.SessionLoggedV1(
        session_id="old-1",
        format="individual",
        modality="video",
        date=D("2026-02-03"),
        minutes=50,
        supervisor_id="sup-1",
        supervisee_ids=("see-v1",),
        site_id="site-a",
    )
    incoming = message(v1, at("2026-02-03"), ce_type=ev.SessionLoggedV1.ce_type())
    assert incoming.ce_type.endswith(".v1")

    await deliver(db, incoming, incoming)

    summary = (
        await supervisee_hours(SqlProjectedFacts(db), PACKS, "see-v1", D("2026-02-28"), NOW)
    ).shown
    (session,) = summary.sessions
    assert (session.kind, session.modality, session.minutes) == ("clinical", "video", 50)
    assert summary.total_minutes == 50


async def test_amendments_and_voids_keep_history_and_apply_to_the_session_once_known(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(MIGRATIONS)
    first = logged("s-1", "2026-03-02", 60, "see-1")
    second = logged("s-2", "2026-03-09", 60, "see-1")
    amendment = ev.SessionAmended(
        **first.model_dump(exclude={"supervisor_id", "site_id", "minutes", "modality"}),
        minutes=90,
        modality="video",
        reason="minutes mistyped",
        amended_by="sup-1",
    )
    void = ev.SessionVoided(
        session_id="s-2",
        supervisee_ids=("see-1",),
        date=D("2026-03-09"),
        reason="logged twice",
        voided_by="sup-1",
    )
    first_msg, amended_msg = message(first, at("2026-03-02")), message(amendment, at("2026-04-10"))
    await deliver(
        db,
        first_msg,
        message(second, at("2026-03-09")),
        amended_msg,
        message(void, at("2026-04-12")),
        amended_msg,
    )
    # The same amendment re-published under a new event id adds nothing either.
    await deliver(db, message(amendment, at("2026-04-10")))
    facts = SqlProjectedFacts(db)

    # March as reported before the corrections were recorded, after the amendment, and now.
    march_before = (
        await supervisee_hours(facts, PACKS, "see-1", D("2026-03-31"), at("2026-04-09"))
    ).shown
    after_amendment = (
        await supervisee_hours(facts, PACKS, "see-1", D("2026-03-31"), at("2026-04-10"))
    ).shown
    after_void = (await supervisee_hours(facts, PACKS, "see-1", D("2026-03-31"), NOW)).shown

    assert march_before.total_minutes == 120
    assert after_amendment.total_minutes == 150
    assert after_amendment.by_format_and_modality[("individual", "video")] == 90
    assert after_void.total_minutes == 90
    (voided,) = after_void.excluded
    assert voided.exclusion is not None and voided.exclusion.code == "voided"
    (amended,) = after_void.sessions
    assert amended.logged.minutes == 60
    assert [c.change for c in amended.corrections] == ["amended"]
    assert amended.source_event_ids == (str(first_msg.event_id), str(amended_msg.event_id))
    assert amended.source_event_id == str(amended_msg.event_id)


async def test_administrative_sessions_unapproved_agreements_and_lapses(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(MIGRATIONS)
    signed = ev.AgreementSigned(
        supervisee_id="see-fl",
        agreement_id="agr-fl",
        supervisor_id="sup-1",
        site_id="site-a",
        credential_track="FL-RMHCI",
        start_date=D("2026-01-01"),
        end_date=D("2027-12-31"),
        board_approval_required=True,
    )
    approved = ev.AgreementApproved(
        supervisee_id="see-fl",
        agreement_id="agr-fl",
        approved_on=D("2026-02-01"),
        approval_reference="FL-2026-7",
    )
    lapse = ev.SupervisorLapseMarked(
        session_id="s-late",
        supervisor_id="sup-1",
        date=D("2026-03-02"),
        license_id="lic-sup-1",
        lapse="suspended",
        lapsed_since=D("2026-03-01"),
    )
    await deliver(
        db,
        message(signed, at("2026-01-01")),
        message(logged("s-early", "2026-01-15", 60, "see-fl"), at("2026-01-15")),
        message(approved, at("2026-02-01")),
        message(
            logged("s-adm", "2026-02-10", 30, "see-fl", kind="administrative"), at("2026-02-10")
        ),
        message(logged("s-late", "2026-03-02", 45, "see-fl"), at("2026-03-02")),
        message(lapse, at("2026-03-05")),
    )

    summary = (
        await supervisee_hours(SqlProjectedFacts(db), PACKS, "see-fl", D("2026-03-31"), NOW)
    ).shown

    assert summary.total_minutes == 45
    assert summary.flagged_minutes == 45
    assert summary.sessions[0].flagged_for_review
    assert {s.session_id: s.exclusion.code for s in summary.excluded if s.exclusion} == {
        "s-early": "board_approval_missing",
        "s-adm": "administrative",
    }


async def test_the_supervisee_record_as_an_auditor_reads_it(make_database: DatabaseFactory) -> None:
    db = await make_database(MIGRATIONS)
    see = "see-rec"
    events: list[tuple[ev.EventContract, str]] = [
        (
            ev.SuperviseeRegistered(
                supervisee_id=see,
                credential_track="TX-LPC-ASSOCIATE",
                license_number="LPC-A 1",
                home_site_id="site-a",
                registered_on=D("2026-01-02"),
            ),
            "2026-01-02",
        ),
        (
            ev.SuperviseeTransferred(
                supervisee_id=see,
                from_site_id="site-a",
                to_site_id="site-b",
                effective_on=D("2026-06-01"),
            ),
            "2026-05-20",
        ),
        (
            ev.AgreementSigned(
                supervisee_id=see,
                agreement_id="agr-rec",
                supervisor_id="sup-rec",
                site_id="site-a",
                credential_track="TX-LPC-ASSOCIATE",
                start_date=D("2026-01-05"),
                end_date=D("2026-12-31"),
                modalities=("in_person",),
                sessions_per_period=1,
                period="week",
            ),
            "2026-01-05",
        ),
        (
            ev.AgreementAmended(
                supervisee_id=see,
                agreement_id="agr-rec",
                end_date=D("2027-06-30"),
                modalities=("in_person", "video"),
                sessions_per_period=1,
                period="week",
                reason="video allowed",
                amended_by="sup-rec",
            ),
            "2026-03-01",
        ),
        (logged("s-rec", "2026-02-03", 60, see, supervisor_id="sup-rec"), "2026-02-03"),
        (
            ev.PracticeHoursRecorded(
                supervisee_id=see,
                site_id="site-a",
                week_start=D("2026-02-02"),
                direct_minutes=900,
                indirect_minutes=300,
            ),
            "2026-02-09",
        ),
        (
            ev.PracticeHoursRecorded(
                supervisee_id=see,
                site_id="site-a",
                week_start=D("2026-02-02"),
                direct_minutes=840,
                indirect_minutes=300,
                correction="one client hour was a no-show",
            ),
            "2026-02-20",
        ),
        (
            ev.MonthSignedOff(
                supervisee_id=see,
                month="2026-02",
                supervisor_id="sup-rec",
                signed_on=D("2026-03-02"),
            ),
            "2026-03-02",
        ),
        (
            ev.MonthReopened(
                supervisee_id=see,
                month="2026-02",
                reopened_by="sup-rec",
                reason="practice hours corrected",
                reopened_on=D("2026-03-04"),
            ),
            "2026-03-04",
        ),
        (
            ev.CompetencyEvaluated(
                supervisee_id=see,
                evaluation_id="ev-rec",
                supervisor_id="sup-rec",
                framework="APA-BENCHMARKS",
                framework_version="2011",
                scale_min=1,
                scale_max=5,
                expected_min=3,
                trigger="quarterly",
                period_start=D("2026-01-01"),
                period_end=D("2026-03-31"),
                scores=(ev.DomainScore(domain="professionalism", score=2),),
                below_expectations=("professionalism",),
                remediation_required=True,
                evidence_session_ids=("s-rec",),
                signed_on=D("2026-04-01"),
            ),
            "2026-04-01",
        ),
        (
            ev.EvaluationAcknowledged(
                supervisee_id=see, evaluation_id="ev-rec", acknowledged_on=D("2026-04-03")
            ),
            "2026-04-03",
        ),
        (
            ev.LicenseRecorded(
                holder_id="sup-rec",
                license_id="lic-rec",
                kind="LPC",
                number="LPC 777",
                state="TX",
                issued_on=D("2019-01-01"),
                expires_on=D("2027-01-31"),
            ),
            "2026-01-01",
        ),
        (
            ev.SupervisorDesignationRecorded(
                holder_id="sup-rec",
                designation_id="des-rec",
                designation="LPC-S",
                state="TX",
                granted_on=D("2021-01-01"),
                expires_on=None,
                training_hours=40,
                training_completed_on=D("2020-11-01"),
            ),
            "2026-01-01",
        ),
    ]
    incoming = [message(event, at(day)) for event, day in events]
    await deliver(db, *incoming)
    await deliver(db, *incoming)  # every one delivered twice
    facts = SqlProjectedFacts(db)

    record = (await supervisee_record(facts, see, D("2026-12-31"), NOW)).shown
    early = (await supervisee_record(facts, see, D("2026-02-15"), NOW)).shown
    reported_early = (await supervisee_record(facts, see, D("2026-02-15"), at("2026-02-15"))).shown

    assert record.registration is not None and record.registration.home_site_id == "site-b"
    (agreement,) = record.agreements
    assert (agreement.status, agreement.terms.end_date) == ("active", D("2027-06-30"))
    assert agreement.amendments[0].reason == "video allowed"
    (session,) = record.sessions
    assert session.session.agreement_id == "agr-rec"
    assert [lic.number for lic in session.supervisor.licenses] == ["LPC 777"]
    assert [d.designation for d in session.supervisor.designations] == ["LPC-S"]
    # The week's hours recorded again correct that week; a report issued before shows the first.
    assert (record.practice_hours.direct_minutes, early.practice_hours.direct_minutes) == (840, 840)
    assert reported_early.practice_hours.direct_minutes == 900
    (month,) = record.months
    assert (month.status, len(month.history)) == ("reopened", 2)
    (evaluation,) = record.evaluations
    assert evaluation.remediation_required
    assert evaluation.acknowledged_on == D("2026-04-03")
    assert early.evaluations == () and early.months == ()
    assert early.registration is not None and early.registration.home_site_id == "site-a"
    assert early.agreements[0].terms.end_date == D("2026-12-31")


async def test_the_referral_loop_and_its_service_level_breaches(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(MIGRATIONS)
    raised = ev.ReferralRaised(
        referral_id="r-1",
        client_id="client-1",
        site_id="site-a",
        from_service="coaching",
        to_service="therapy",
        urgency="urgent",
        raised_on=D("2026-11-02"),
        source="coaching-concern/c-1",
    )
    breached = ev.ReferralServiceLevelBreached(
        referral_id="r-1",
        site_id="site-a",
        to_service="therapy",
        urgency="urgent",
        target="acknowledgement",
        due_at=at("2026-11-02", 16),
        detected_at=at("2026-11-02", 17),
    )
    accepted = ev.ReferralAccepted(
        referral_id="r-1",
        client_id="client-1",
        site_id="site-a",
        from_service="coaching",
        to_service="therapy",
        accepted_by="clin-1",
        accepted_on=D("2026-11-03"),
        source="coaching-concern/c-1",
        origin=None,
    )
    scheduled = ev.ReferralScheduled(
        referral_id="r-1",
        appointment_on=D("2026-11-10"),
        scheduled_by="clin-1",
        scheduled_on=D("2026-11-04"),
    )
    completed = ev.ReferralCompleted(
        referral_id="r-1",
        client_id="client-1",
        from_service="coaching",
        to_service="therapy",
        source="coaching-concern/c-1",
        origin=None,
        completed_by="clin-1",
        completed_on=D("2026-11-20"),
        outcome="stabilised",
        feedback="resume coaching",
        recommendation="resume_coaching",
    )
    incoming = [
        message(raised, at("2026-11-02", 9)),
        message(breached, at("2026-11-02", 17)),
        message(accepted, at("2026-11-03")),
        message(scheduled, at("2026-11-04")),
        message(completed, at("2026-11-20")),
    ]
    await deliver(db, *incoming, *incoming)
    await deliver(db, message(breached, at("2026-11-02", 17)))  # re-published: still once
    facts = SqlProjectedFacts(db)

    (on_raise,) = (await open_referrals(facts, "site-a", D("2026-11-02"), NOW)).shown
    (on_schedule,) = (await open_referrals(facts, "site-a", D("2026-11-05"), NOW)).shown
    closed = (await open_referrals(facts, "site-a", D("2026-11-20"), NOW)).shown
    (late,) = (await service_level_breaches(facts, "site-a", D("2026-11-30"), NOW)).shown

    assert (on_raise.status, [b.target for b in on_raise.breaches]) == (
        "raised",
        ["acknowledgement"],
    )
    assert (on_schedule.status, on_schedule.appointment_on) == ("scheduled", D("2026-11-10"))
    assert closed == ()
    assert (late.referral_id, late.status, late.open) == ("r-1", "completed", False)
    assert late.source_event_ids[0] == str(incoming[0].event_id)
    assert len(late.source_event_ids) == 5
    assert (await service_level_breaches(facts, "site-b", D("2026-11-30"), NOW)).shown == ()


async def test_licenses_expiring_from_the_registrys_own_published_facts(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(MIGRATIONS)

    def recorded(license_id: str, expires: str) -> ev.LicenseRecorded:
        return ev.LicenseRecorded(
            holder_id=f"holder-{license_id}",
            license_id=license_id,
            kind="LPC",
            number=f"N-{license_id}",
            state="TX",
            issued_on=D("2024-01-01"),
            expires_on=D(expires),
        )

    await deliver(
        db,
        message(recorded("soon", "2026-12-15"), at("2024-01-01")),
        message(recorded("renewed", "2026-12-20"), at("2024-01-01")),
        message(recorded("later", "2027-06-01"), at("2024-01-01")),
        message(
            ev.LicenseRenewed(
                holder_id="holder-renewed",
                license_id="renewed",
                renewed_on=D("2026-11-25"),
                expires_on=D("2028-12-20"),
            ),
            at("2026-11-25"),
        ),
        message(
            ev.LicenseSuspended(
                holder_id="holder-soon",
                license_id="soon",
                effective_on=D("2026-11-01"),
                reason="board order",
            ),
            at("2026-11-01"),
        ),
    )
    facts = SqlProjectedFacts(db)

    before_renewal = (await licenses_expiring(facts, D("2026-11-22"), 30, NOW)).shown
    after_renewal = (await licenses_expiring(facts, D("2026-11-25"), 30, NOW)).shown

    assert [(e.license.license_id, e.license.status) for e in before_renewal.licenses] == [
        ("soon", "suspended"),
        ("renewed", "active"),
    ]
    assert [e.license.license_id for e in after_renewal.licenses] == ["soon"]


async def test_a_database_of_the_first_read_model_is_migrated_with_its_rows(
    make_database: DatabaseFactory,
) -> None:
    old = await make_database(MIGRATIONS[:1])
    async with old.transaction() as conn:
        await conn.execute(
            text(
                "INSERT INTO supervision_sessions (session_id, supervisee_id, date, format, "
                "modality, minutes, supervisor_id, site_id, source_event_id) VALUES "
                "('s-old', 'see-old', '2026-01-05', 'individual', 'in_person', 60, 'sup-1', "
                "'site-a', :event_id)"
            ),
            {"event_id": str(uuid.uuid4())},
        )
    upgraded = Database.from_url(
        old.engine.url.render_as_string(hide_password=False), MIGRATIONS, schema=old.schema
    )
    try:
        await upgraded.migrate()
        # Its recorded time is lost: the migration gives it the earliest one it can vouch for.
        view = await supervisee_hours(
            SqlProjectedFacts(upgraded), PACKS, "see-old", D("2026-01-31"), dt.datetime.now(dt.UTC)
        )
        summary = view.shown
    finally:
        await upgraded.dispose()

    assert summary.total_minutes == 60
    assert summary.sessions[0].kind == "clinical"


async def test_a_database_with_columns_narrower_than_their_kinds_is_widened_with_its_rows(
    make_database: DatabaseFactory,
) -> None:
    # given a read model of version 4, its columns as that version made them on PostgreSQL
    old = await make_database(MIGRATIONS[:4])
    narrow = (
        ("evaluations", "framework_version", 40),
        ("projected_licenses", "state", 8),
        ("projected_designations", "state", 8),
        ("verdict_resolutions", "verdict_id", 36),
    )
    async with old.transaction() as conn:
        if not old.is_sqlite:
            for table, column, length in narrow:
                await conn.execute(
                    text(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR({length})")
                )
        await conn.execute(
            text(
                "INSERT INTO projected_licenses (license_id, holder_id, kind, number, state, "
                "issued_on, expires_on, recorded_at, source_event_id) VALUES ('lic-old', 'h-1', "
                "'LPC', 'N-1', 'TX', '2020-01-01', '2030-01-01', '2026-01-01 00:00:00', :id)"
            ),
            {"id": str(uuid.uuid4())},
        )
    upgraded = Database.from_url(
        old.engine.url.render_as_string(hide_password=False), MIGRATIONS, schema=old.schema
    )
    try:
        # when it is migrated
        await upgraded.migrate()

        # then each holds the longest value of its kind, and the rows are kept
        async with upgraded.transaction() as conn:
            for table, column, _ in narrow:
                await conn.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": "x" * 64})
            states = (await conn.execute(text("SELECT state FROM projected_licenses"))).all()
    finally:
        await upgraded.dispose()

    assert states == [("x" * 64,)]
