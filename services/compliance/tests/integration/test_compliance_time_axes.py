"""The two time axes in the read model, on each storage backend: the reader keeps, in every
table, only what had been recorded by `known_at`, exactly as the domain defines it, so a report
issued at a moment is reproduced exactly, and a projection rebuilt from the log in batches
answers as the one built event by event. Also: unknown supervisees, a site's supervisees, and
the events compliance could not apply."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from compliance.adapters.read_model import (
    MIGRATIONS,
    SqlProjectedFacts,
    record_unapplied,
    referral_breaches,
    referrals,
)
from compliance.application.queries import (
    open_referrals,
    service_level_breaches,
    site_supervisees,
    supervisee_hours,
    supervisee_record,
)
from compliance.domain.record import UnknownSupervisee, record_as_of, supervisors_of
from conftest import DatabaseFactory
from contracts import events as ev
from contracts.rulepacks.model import RulePacks
from infra.db import Database
from infra.messaging.cloudevents import IncomingEvent, MalformedMessage
from infra.messaging.consumer import PermanentError
from infra.schema import inbox

pytestmark = pytest.mark.integration

# No board's rules: these tests read the record's own reasons a session does not count (a void,
# administrative supervision, an approval missing) on both time axes; what the boards' rules
# withhold is tested with the rule packs in test_compliance_views.
PACKS = RulePacks(packs={})

D = dt.date.fromisoformat
SEE = "see-axes"
SUPERVISOR = "sup-axes"


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


NOW = at("2030-01-01")


def logged(session_id: str, day: str, minutes: int = 60, **extra: Any) -> ev.SessionLogged:
    fields: dict[str, Any] = {
        "session_id": session_id,
        "kind": "clinical",
        "format": "individual",
        "modality": "in_person",
        "date": D(day),
        "start_time": dt.time(10),
        "minutes": minutes,
        "supervisor_id": SUPERVISOR,
        "supervisee_ids": (SEE,),
        "site_id": "site-a",
        "techniques": (),
        "focus": (),
    }
    return ev.SessionLogged(**(fields | extra))


def history(feed: Any) -> list[IncomingEvent]:
    """A supervisee's months, with facts of every kind, several recorded late."""
    events: list[tuple[ev.EventContract, dt.datetime]] = [
        (
            ev.SuperviseeRegistered(
                supervisee_id=SEE,
                credential_track="FL-RMHCI",
                license_number="RMHCI 1",
                home_site_id="site-a",
                registered_on=D("2026-01-02"),
            ),
            at("2026-01-02"),
        ),
        (
            ev.AgreementSigned(
                supervisee_id=SEE,
                agreement_id="agr-axes",
                supervisor_id=SUPERVISOR,
                site_id="site-a",
                credential_track="FL-RMHCI",
                start_date=D("2026-01-05"),
                end_date=D("2026-12-31"),
                board_approval_required=True,
            ),
            at("2026-01-03"),
        ),
        (logged("s-jan", "2026-01-20"), at("2026-01-20")),
        # Approved on 1 February, recorded mid-March: it counts the February session once known.
        (
            ev.AgreementApproved(
                supervisee_id=SEE,
                agreement_id="agr-axes",
                approved_on=D("2026-02-01"),
                approval_reference="FL-9",
            ),
            at("2026-03-15"),
        ),
        (logged("s-feb", "2026-02-10"), at("2026-02-10")),
        # Logged in April for a March session.
        (logged("s-mar", "2026-03-09", 90), at("2026-04-03")),
        (
            ev.SessionVoided(
                session_id="s-feb",
                supervisee_ids=(SEE,),
                date=D("2026-02-10"),
                reason="logged for the wrong supervisee",
                voided_by=SUPERVISOR,
            ),
            at("2026-04-12"),
        ),
        (
            ev.SupervisorLapseMarked(
                session_id="s-mar",
                supervisor_id=SUPERVISOR,
                date=D("2026-03-09"),
                license_id="lic-axes",
                lapse="expired",
                lapsed_since=D("2026-03-01"),
            ),
            at("2026-05-06"),
        ),
        (
            ev.LicenseRecorded(
                holder_id=SUPERVISOR,
                license_id="lic-axes",
                kind="LMHC",
                number="MH 1",
                state="FL",
                issued_on=D("2020-01-01"),
                expires_on=D("2026-02-28"),
            ),
            at("2020-01-02"),
        ),
        (
            ev.LicenseExpired(
                holder_id=SUPERVISOR, license_id="lic-axes", expired_on=D("2026-03-01")
            ),
            at("2026-03-01", 0),
        ),
        (
            ev.SuperviseeTransferred(
                supervisee_id=SEE,
                from_site_id="site-a",
                to_site_id="site-b",
                effective_on=D("2026-04-01"),
            ),
            at("2026-04-20"),
        ),
        (
            ev.PracticeHoursRecorded(
                supervisee_id=SEE,
                site_id="site-a",
                week_start=D("2026-03-09"),
                direct_minutes=600,
                indirect_minutes=120,
            ),
            at("2026-03-16"),
        ),
        (
            ev.PracticeHoursRecorded(
                supervisee_id=SEE,
                site_id="site-a",
                week_start=D("2026-03-09"),
                direct_minutes=540,
                indirect_minutes=120,
                correction="a no-show",
            ),
            at("2026-04-20"),
        ),
        (
            ev.MonthSignedOff(
                supervisee_id=SEE,
                month="2026-03",
                supervisor_id=SUPERVISOR,
                signed_on=D("2026-04-02"),
            ),
            at("2026-04-09"),
        ),
        (
            ev.AgreementAmended(
                supervisee_id=SEE,
                agreement_id="agr-axes",
                end_date=D("2027-06-30"),
                modalities=("in_person",),
                sessions_per_period=None,
                period=None,
                reason="a second year",
                amended_by=SUPERVISOR,
            ),
            at("2026-05-01"),
        ),
    ]
    return [feed.message(event, when) for event, when in events]


MOMENTS = [
    at(day, hour)
    for day, hour in [
        ("2026-01-01", 0),
        ("2026-01-20", 12),
        ("2026-02-11", 0),
        ("2026-03-15", 11),
        ("2026-03-15", 12),
        ("2026-04-05", 0),
        ("2026-04-15", 0),
        ("2026-05-06", 12),
        ("2030-01-01", 0),
    ]
]
DATES = [D(day) for day in ("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-12-31")]


async def test_the_reader_keeps_what_had_been_recorded_by_the_moment_exactly_as_the_domain_does(
    make_database: DatabaseFactory, feed: Any
) -> None:
    db = await make_database(MIGRATIONS)
    await feed.one_by_one(db, history(feed))
    reader = SqlProjectedFacts(db)
    everything = await reader.supervisee_facts(SEE, NOW)
    credentials = await reader.credentials(supervisors_of(everything), NOW)

    for moment in MOMENTS:
        known = await reader.supervisee_facts(SEE, moment)
        known_credentials = await reader.credentials(supervisors_of(everything), moment)
        for as_of in DATES:
            assert record_as_of(known, known_credentials, as_of) == record_as_of(
                everything.known_at(moment), credentials.known_at(moment), as_of
            ), (moment, as_of)


async def test_a_past_report_is_reproduced_and_late_facts_show_in_the_current_view(
    make_database: DatabaseFactory, feed: Any
) -> None:
    db = await make_database(MIGRATIONS)
    await feed.one_by_one(db, history(feed))
    facts = SqlProjectedFacts(db)

    def counted(view: Any) -> dict[str, bool]:
        return {s.session_id: s.flagged_for_review for s in view.shown.sessions}

    # The March report issued on 5 April, and March as known now.
    issued = await supervisee_hours(facts, PACKS, SEE, D("2026-03-31"), at("2026-04-05"))
    now = await supervisee_hours(facts, PACKS, SEE, D("2026-03-31"), NOW)

    assert counted(issued) == {"s-feb": False, "s-mar": False}
    # s-feb was voided later; the lapse of s-mar's supervisor, marked in May, flags it in March.
    assert counted(now) == {"s-mar": True}
    assert [s.session_id for s in now.shown.excluded] == ["s-jan", "s-feb"]
    # Before the approval was recorded, the February session did not count yet.
    february = await supervisee_hours(facts, PACKS, SEE, D("2026-02-28"), at("2026-03-15", 11))
    assert [s.session_id for s in february.shown.excluded] == ["s-jan", "s-feb"]
    record = (await supervisee_record(facts, SEE, D("2026-03-31"), NOW)).shown
    (mar,) = [r for r in record.sessions if r.session.session_id == "s-mar"]
    assert [lic.status for lic in mar.supervisor.licenses] == ["expired"]


async def test_a_projection_rebuilt_in_batches_answers_as_the_one_built_event_by_event(
    make_database: DatabaseFactory, feed: Any
) -> None:
    events = history(feed)
    by_event, rebuilt = await make_database(MIGRATIONS), await make_database(MIGRATIONS)
    await feed.one_by_one(by_event, events)
    await feed.as_one_batch(rebuilt, events[:7])
    await feed.as_one_batch(rebuilt, [*events[5:], *events[:2]])  # redelivered, overlapping

    async def record(db: Database, as_of: dt.date, moment: dt.datetime) -> object:
        try:
            return (await supervisee_record(SqlProjectedFacts(db), SEE, as_of, moment)).shown
        except UnknownSupervisee:
            return "unknown"

    for moment in MOMENTS:
        for as_of in DATES:
            by_event_record = await record(by_event, as_of, moment)
            assert by_event_record == await record(rebuilt, as_of, moment), (moment, as_of)
    assert await record(rebuilt, DATES[0], MOMENTS[0]) == "unknown"


async def test_a_batch_says_which_supervisees_holders_and_referrals_it_touched(
    make_database: DatabaseFactory, feed: Any
) -> None:
    db = await make_database(MIGRATIONS)
    events = history(feed)
    await feed.as_one_batch(db, events[:6])

    touched = await feed.as_one_batch(
        db,
        [
            *events[7:9],  # a lapse mark (naming the session only), a license
            feed.message(
                ev.ReferralServiceLevelBreached(
                    referral_id="r-axes",
                    site_id="site-c",
                    to_service="therapy",
                    urgency="urgent",
                    target="acknowledgement",
                    due_at=at("2026-02-02", 9),
                    detected_at=at("2026-02-02", 10),
                ),
                at("2026-02-02", 10),
            ),
        ],
    )

    assert touched.supervisees == {SEE}
    assert touched.holders == {SUPERVISOR}
    assert touched.referrals == {"r-axes"}
    assert touched.sites == {"site-c"}


async def test_a_supervisee_compliance_never_heard_of_is_unknown(
    make_database: DatabaseFactory, feed: Any
) -> None:
    db = await make_database(MIGRATIONS)
    # Only a session names this one: no registration, still heard of.
    await feed.one_by_one(db, [feed.message(logged("s-only", "2026-03-02"), at("2026-03-02"))])
    facts = SqlProjectedFacts(db)

    with pytest.raises(UnknownSupervisee, match="no record of supervisee see-nobody"):
        await supervisee_hours(facts, PACKS, "see-nobody", D("2026-12-31"), NOW)
    with pytest.raises(UnknownSupervisee):
        await supervisee_record(facts, "see-nobody", D("2026-12-31"), NOW)
    with pytest.raises(UnknownSupervisee):  # not yet heard of at that moment
        await supervisee_hours(facts, PACKS, SEE, D("2026-12-31"), at("2026-03-01"))
    assert (
        await supervisee_hours(facts, PACKS, SEE, D("2026-12-31"), NOW)
    ).shown.total_minutes == 60


def registered(supervisee_id: str, site: str, day: str = "2026-01-05") -> ev.SuperviseeRegistered:
    return ev.SuperviseeRegistered(
        supervisee_id=supervisee_id,
        credential_track="TX-LPC-ASSOCIATE",
        license_number=f"LPC-A {supervisee_id}",
        home_site_id=site,
        registered_on=D(day),
    )


def transferred(supervisee_id: str, to: str, on: str) -> ev.SuperviseeTransferred:
    return ev.SuperviseeTransferred(
        supervisee_id=supervisee_id, from_site_id="site-a", to_site_id=to, effective_on=D(on)
    )


async def test_a_sites_supervisees_follow_transfers_by_date_page_by_page(
    make_database: DatabaseFactory, feed: Any
) -> None:
    db = await make_database(MIGRATIONS)
    await feed.as_one_batch(
        db,
        [
            *(feed.message(registered(f"see-{n}", "site-a"), at("2026-01-05")) for n in range(5)),
            feed.message(registered("see-b", "site-b"), at("2026-01-05")),
            feed.message(registered("see-late", "site-a", "2026-06-01"), at("2026-06-01")),
            feed.message(transferred("see-1", "site-b", "2026-04-01"), at("2026-03-20")),
            feed.message(transferred("see-3", "site-b", "2026-04-01"), at("2026-05-10")),
            feed.message(transferred("see-3", "site-a", "2026-07-01"), at("2026-06-20")),
        ],
    )
    facts = SqlProjectedFacts(db)

    async def ids(site: str, as_of: str, known_at: dt.datetime = NOW) -> list[str]:
        found: list[str] = []
        after = None
        while True:
            page = await site_supervisees(facts, site, D(as_of), known_at, after=after, limit=2)
            found += page.supervisee_ids
            if page.next_after is None:
                return found
            after = page.next_after

    assert await ids("site-a", "2026-03-31") == ["see-0", "see-1", "see-2", "see-3", "see-4"]
    assert await ids("site-a", "2026-04-30") == ["see-0", "see-2", "see-4"]
    assert await ids("site-b", "2026-04-30") == ["see-1", "see-3", "see-b"]
    assert await ids("site-a", "2026-07-01") == ["see-0", "see-2", "see-3", "see-4", "see-late"]
    # As known before see-3's transfer was recorded, see-3 was still at site-a in April.
    assert await ids("site-a", "2026-04-30", at("2026-05-01")) == [
        "see-0",
        "see-2",
        "see-3",
        "see-4",
    ]
    assert await ids("site-c", "2026-04-30") == []


async def test_an_event_that_could_not_be_applied_makes_its_views_incomplete_until_applied(
    make_database: DatabaseFactory, feed: Any
) -> None:
    db = await make_database(MIGRATIONS)
    events = history(feed)
    void = events[6]
    await feed.one_by_one(db, [e for e in events if e is not void])
    record = _record_of(void)
    async with db.transaction() as conn:
        await record_unapplied(conn, void, record, PermanentError("no such session"))
    facts = SqlProjectedFacts(db)

    lacking = await supervisee_hours(facts, PACKS, SEE, D("2026-03-31"), NOW)
    before_it = await supervisee_hours(facts, PACKS, SEE, D("2026-03-31"), at("2026-04-12", 11))
    (unapplied,) = lacking.unapplied

    assert not lacking.complete
    assert (unapplied.event_id, unapplied.event_type, unapplied.reason) == (
        str(void.event_id),
        ev.SessionVoided.ce_type(),
        "no such session",
    )
    assert ("supervisee", SEE) in unapplied.concerns and ("session", "s-feb") in unapplied.concerns
    assert before_it.complete  # a view known before it was recorded does not need it
    assert (await supervisee_record(facts, SEE, D("2026-03-31"), NOW)).unapplied == (unapplied,)
    # The same event applied after all (a replay after a fix): the view is whole again.
    await feed.one_by_one(db, [void])
    whole = await supervisee_hours(facts, PACKS, SEE, D("2026-03-31"), NOW)
    assert whole.complete
    assert [s.session_id for s in whole.shown.excluded] == ["s-jan", "s-feb"]


async def test_an_unreadable_message_naming_a_supervisee_makes_them_heard_of_and_incomplete(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(MIGRATIONS)
    record = _Record(
        topic="continuum.supervision.events",
        partition=2,
        offset=41,
        value=b'{"session_id": "s-x", "supervisee_ids": ["see-ghost"], "minutes": "sixty"}',
    )
    async with db.transaction() as conn:
        await record_unapplied(conn, None, record, MalformedMessage("not a CloudEvent"))
        await record_unapplied(conn, None, record, MalformedMessage("still not a CloudEvent"))

    view = await supervisee_hours(SqlProjectedFacts(db), PACKS, "see-ghost", D("2026-12-31"), NOW)

    (unapplied,) = view.unapplied
    assert unapplied.event_id is None
    assert unapplied.event_key == "continuum.supervision.events/2@41"
    assert unapplied.reason == "still not a CloudEvent"
    assert view.shown.total_minutes == 0


async def test_a_referral_event_not_applied_makes_its_sites_referral_views_incomplete(
    make_database: DatabaseFactory, feed: Any
) -> None:
    db = await make_database(MIGRATIONS)
    raised = ev.ReferralRaised(
        referral_id="r-lost",
        client_id="client-1",
        site_id="site-r",
        from_service="coaching",
        to_service="therapy",
        urgency="urgent",
        raised_on=D("2026-11-02"),
        source="coaching-concern/c-1",
    )
    session_elsewhere = feed.message(
        logged("s-r", "2026-11-02", site_id="site-r"), at("2026-11-02")
    )
    lost = feed.message(raised, at("2026-11-02"))
    async with db.transaction() as conn:
        await record_unapplied(conn, lost, _record_of(lost), PermanentError("bad referral"))
        await record_unapplied(
            conn, session_elsewhere, _record_of(session_elsewhere), PermanentError("bad session")
        )
    facts = SqlProjectedFacts(db)

    open_view = await open_referrals(facts, "site-r", D("2026-11-30"), NOW)
    breaches = await service_level_breaches(facts, "site-r", D("2026-11-30"), NOW)
    elsewhere = await open_referrals(facts, "site-s", D("2026-11-30"), NOW)

    assert [u.event_id for u in open_view.unapplied] == [str(lost.event_id)]
    assert [u.event_id for u in breaches.unapplied] == [str(lost.event_id)]
    assert elsewhere.complete


class _Record:
    def __init__(self, topic: str, partition: int, offset: int, value: bytes | None) -> None:
        self.topic, self.partition, self.offset, self.value = topic, partition, offset, value
        self.key: bytes | None = None
        self.headers: list[tuple[str, bytes | None]] = []


def _record_of(event: IncomingEvent) -> _Record:
    """Where the event sat on its topic (its value is the event's data)."""
    return _Record(f"continuum.{event.source}.events", 0, 7, None)


async def test_a_database_of_the_second_read_model_gets_the_recorded_times_it_lacked(
    make_database: DatabaseFactory,
) -> None:
    old = await make_database(MIGRATIONS[:2])
    raised_id = uuid.uuid4()
    applied_at = at("2026-11-02", 13)
    async with old.transaction() as conn:
        # The columns migration 2 had (recorded_at is left out).
        await conn.execute(
            referrals.insert().values(
                referral_id="r-old",
                client_id="c-1",
                site_id="site-a",
                to_service="therapy",
                urgency="urgent",
                raised_on=D("2026-11-02"),
                source_event_ids=[str(raised_id)],
            )
        )
        await conn.execute(
            referral_breaches.insert().values(
                referral_id="r-old",
                target="acknowledgement",
                site_id="site-a",
                to_service="therapy",
                urgency="urgent",
                due_at=at("2026-11-02", 12),
                detected_at=at("2026-11-02", 14),
                source_event_id=str(uuid.uuid4()),
            )
        )
        await conn.execute(
            inbox.insert().values(
                consumer="continuum.compliance", event_id=raised_id, processed_at=applied_at
            )
        )
    upgraded = Database.from_url(
        old.engine.url.render_as_string(hide_password=False), MIGRATIONS, schema=old.schema
    )
    try:
        await upgraded.migrate()
        facts = SqlProjectedFacts(upgraded)
        (referral,) = await facts.referrals_at("site-a", D("2026-11-30"), NOW)
        before_applied = await facts.referrals_at("site-a", D("2026-11-30"), at("2026-11-02", 12))
    finally:
        await upgraded.dispose()

    assert referral.recorded_at == applied_at
    assert [b.recorded_at for b in referral.breaches] == [at("2026-11-02", 14)]
    assert before_applied == []
