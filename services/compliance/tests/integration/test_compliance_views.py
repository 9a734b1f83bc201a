"""The rules' views over the real read model, on each storage backend: given the events
compliance projected, when an officer asks for a site's list, the organization's overview, the
verdicts or a supervisor's standing, then the figures the boards' rules give, computed live from
the facts on both time axes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.adapters.read_model import MIGRATIONS, SqlProjectedFacts, record_unapplied
from compliance.application.lists import (
    organization_overview,
    site_list,
    supervisor_standing,
    verdict_list,
)
from compliance.application.live_standing import LiveStanding
from compliance.application.queries import supervisee_evaluation, supervisee_hours
from compliance.domain.record import UnknownSite, UnknownSupervisee, UnknownSupervisor
from conftest import DatabaseFactory
from contracts import events as ev
from contracts.rulepacks.loader import rule_packs
from contracts.rulepacks.model import RulePacks
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import PermanentError

pytestmark = pytest.mark.integration

D = dt.date.fromisoformat
TX = "TX-LPC-ASSOCIATE"
OH = "OH-LPC-TO-LPCC"
AUSTIN, DAYTON = "site-austin", "site-dayton"
TX_SUPERVISOR, OH_SUPERVISOR = "sup-tx", "sup-oh"
MARCH = D("2026-03-31")
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


def qualified(supervisor: str, license_kind: str, designation: str, state: str) -> list[Any]:
    """A supervisor licensed since 2015, with the board's supervisor designation."""
    return [
        (
            ev.LicenseRecorded(
                holder_id=supervisor,
                license_id=f"lic-{supervisor}",
                kind=license_kind,
                number=f"N-{supervisor}",
                state=state,
                issued_on=D("2015-01-01"),
                expires_on=D("2030-12-31"),
            ),
            at("2015-01-02"),
        ),
        (
            ev.SupervisorDesignationRecorded(
                holder_id=supervisor,
                designation_id=f"des-{supervisor}",
                designation=designation,
                state=state,
                granted_on=D("2016-01-01"),
                expires_on=None,
                training_hours=40,
                training_completed_on=D("2015-12-01"),
            ),
            at("2016-01-02"),
        ),
    ]


def supervisee(
    supervisee_id: str, track: str, site: str, supervisor: str, *sessions: tuple[str, int, str]
) -> list[Any]:
    """Registered on 2 March 2026 under an agreement, counselling every week of March, with
    sessions of (date, minutes, modality) logged the day they were held."""
    events: list[Any] = [
        (
            ev.SuperviseeRegistered(
                supervisee_id=supervisee_id,
                credential_track=track,
                license_number=f"L-{supervisee_id}",
                home_site_id=site,
                registered_on=D("2026-03-02"),
            ),
            at("2026-03-02", 8),
        ),
        (
            ev.AgreementSigned(
                supervisee_id=supervisee_id,
                agreement_id=f"agr-{supervisee_id}",
                supervisor_id=supervisor,
                site_id=site,
                credential_track=track,
                start_date=D("2026-03-02"),
                end_date=D("2027-12-31"),
                board_approval_required=False,
            ),
            at("2026-03-02", 9),
        ),
        *(
            (
                ev.PracticeHoursRecorded(
                    supervisee_id=supervisee_id,
                    site_id=site,
                    week_start=D(week),
                    direct_minutes=900,
                    indirect_minutes=120,
                ),
                at(week) + dt.timedelta(days=7),
            )
            for week in ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23")
        ),
    ]
    for n, (day, minutes, modality) in enumerate(sessions):
        events.append(
            (
                ev.SessionLogged(
                    session_id=f"s-{supervisee_id}-{n}",
                    kind="clinical",
                    format="individual",
                    modality=modality,
                    date=D(day),
                    start_time=dt.time(10),
                    minutes=minutes,
                    supervisor_id=supervisor,
                    supervisee_ids=(supervisee_id,),
                    site_id=site,
                    techniques=(),
                    focus=(),
                ),
                at(day, 15),
            )
        )
    return events


def organization() -> list[Any]:
    """Austin: two associates with their four hours of March, one with three and a half; Dayton:
    one counsellor whose March hour by telephone does not count in Ohio."""
    return [
        *qualified(TX_SUPERVISOR, "LPC", "LPC-S", "TX"),
        *qualified(OH_SUPERVISOR, "LPCC", "LPCC-S", "OH"),
        *supervisee("see-a1", TX, AUSTIN, TX_SUPERVISOR, ("2026-03-10", 240, "in_person")),
        *supervisee("see-a2", TX, AUSTIN, TX_SUPERVISOR, ("2026-03-10", 210, "in_person")),
        *supervisee(
            "see-a3",
            TX,
            AUSTIN,
            TX_SUPERVISOR,
            ("2026-03-10", 120, "in_person"),
            ("2026-03-24", 120, "in_person"),
        ),
        *supervisee(
            "see-d1",
            OH,
            DAYTON,
            OH_SUPERVISOR,
            ("2026-03-03", 60, "in_person"),
            ("2026-03-17", 60, "phone"),
        ),
    ]


def messages(feed: Any, events: list[Any]) -> list[IncomingEvent]:
    return [feed.message(event, when) for event, when in events]


@pytest.fixture
async def facts(make_database: DatabaseFactory, feed: Any) -> SqlProjectedFacts:
    db = await make_database(MIGRATIONS)
    await feed.as_one_batch(db, messages(feed, organization()))
    return SqlProjectedFacts(db)


@pytest.fixture(scope="module")
def packs() -> RulePacks:
    return rule_packs()


async def test_a_texas_associate_short_of_the_monthly_minimum_has_a_finding_with_its_source(
    facts: SqlProjectedFacts, packs: RulePacks
) -> None:
    view = await site_list(LiveStanding(facts, packs), facts, AUSTIN, MARCH, NOW)

    levels = {s.supervisee_id: s.level for s in view.shown.supervisees}
    assert levels == {
        "see-a1": "compliant",
        "see-a2": "out_of_compliance",
        "see-a3": "compliant",
    }
    (short,) = next(s for s in view.shown.supervisees if s.supervisee_id == "see-a2").verdicts
    assert (short.rule_id, short.severity, short.src) == (
        "tx-lpc-associate.monthly-minimum",
        "finding",
        ("TX1",),
    )
    assert short.window is not None
    assert (short.window.start, short.window.end) == (D("2026-03-01"), MARCH)
    assert short.reason.startswith("3.5 h of supervision in the calendar month of March 2026")
    assert view.complete


async def test_an_ohio_session_by_telephone_is_void_and_not_counted_in_the_hours(
    facts: SqlProjectedFacts, packs: RulePacks
) -> None:
    standing = (await supervisee_evaluation(facts, packs, "see-d1", MARCH, NOW)).shown
    hours = (await supervisee_hours(facts, packs, "see-d1", MARCH, NOW)).shown

    (phone,) = [v for v in standing.verdicts if v.rule_id == "oh-lpc-to-lpcc.no-telephone"]
    assert (phone.severity, phone.src, phone.session_id) == ("void", ("OH3",), "s-see-d1-1")
    assert phone.not_counted.supervision_minutes == 60
    assert standing.progress.supervision.counted_minutes == 60
    assert hours.total_minutes == 60
    (excluded,) = hours.excluded
    assert excluded.session_id == "s-see-d1-1"
    assert excluded.withheld is not None
    assert "oh-lpc-to-lpcc.no-telephone" in excluded.withheld.detail
    assert hours.excluded_by_reason["board_rule"] == 60


async def test_a_sites_list_filtered_by_status_and_track_page_by_page_counts_the_whole_site(
    facts: SqlProjectedFacts, packs: RulePacks
) -> None:
    source = LiveStanding(facts, packs)

    first = await site_list(
        source, facts, AUSTIN, MARCH, NOW, statuses=("compliant",), tracks=(TX,), page_size=1
    )
    second = await site_list(
        source,
        facts,
        AUSTIN,
        MARCH,
        NOW,
        statuses=("compliant",),
        page_size=1,
        after=first.shown.next_after,
    )
    other_track = await site_list(source, facts, AUSTIN, MARCH, NOW, tracks=(OH,))

    assert [s.supervisee_id for s in first.shown.supervisees] == ["see-a1"]
    assert first.shown.next_after == "see-a1"
    assert [s.supervisee_id for s in second.shown.supervisees] == ["see-a3"]
    assert second.shown.next_after is None
    assert other_track.shown.supervisees == ()
    for view in (first, second, other_track):
        assert view.shown.by_status == {
            "compliant": 2,
            "at_risk": 0,
            "out_of_compliance": 1,
            "not_evaluated": 0,
        }


async def test_the_organization_overview_counts_each_site_and_names_what_is_due(
    facts: SqlProjectedFacts, packs: RulePacks
) -> None:
    view = await organization_overview(LiveStanding(facts, packs), facts, packs, MARCH, NOW)

    by_site = {s.site_id: s for s in view.shown.sites}
    assert sorted(by_site) == [AUSTIN, DAYTON]
    assert (by_site[AUSTIN].supervisees, by_site[AUSTIN].open_findings) == (3, 1)
    assert by_site[AUSTIN].by_status["out_of_compliance"] == 1
    assert by_site[DAYTON].open_voids >= 1
    assert by_site[DAYTON].by_status["out_of_compliance"] == 1
    # Licenses run to 2030: none within the organization's 30 days in March 2026.
    assert view.shown.expiring.licenses == ()
    # As of December 2030, both supervisors' licenses expire within 30 days.
    later = await organization_overview(
        LiveStanding(facts, packs), facts, packs, D("2030-12-15"), NOW
    )
    assert sorted(e.license.holder_id for e in later.shown.expiring.licenses) == [
        OH_SUPERVISOR,
        TX_SUPERVISOR,
    ]


async def test_verdicts_across_sites_filtered_by_severity_rule_and_resolution_paged(
    facts: SqlProjectedFacts, packs: RulePacks
) -> None:
    source = LiveStanding(facts, packs)

    everything = await verdict_list(source, facts, MARCH, NOW)
    voids = await verdict_list(source, facts, MARCH, NOW, severity="void")
    first = await verdict_list(source, facts, MARCH, NOW, page_size=1)
    rest = await verdict_list(source, facts, MARCH, NOW, after=first.shown.next_after)
    monthly = await verdict_list(
        source, facts, MARCH, NOW, rule_ids=("tx-lpc-associate.monthly-minimum",), site_id=AUSTIN
    )
    resolved = await verdict_list(source, facts, MARCH, NOW, resolved=True)

    listed = [(v.supervisee_id, v.verdict.rule_id) for v in everything.shown.verdicts]
    assert ("see-a2", "tx-lpc-associate.monthly-minimum") in listed
    assert ("see-d1", "oh-lpc-to-lpcc.no-telephone") in listed
    assert listed == sorted(listed, key=lambda x: x[0])
    assert {v.verdict.severity for v in voids.shown.verdicts} == {"void"}
    assert [*first.shown.verdicts, *rest.shown.verdicts] == list(everything.shown.verdicts)
    assert [v.supervisee_id for v in monthly.shown.verdicts] == ["see-a2"]
    assert resolved.shown.verdicts == ()


async def test_a_supervisor_over_the_organizations_cap_is_shown_over_it(
    facts: SqlProjectedFacts, packs: RulePacks
) -> None:
    capped = packs.model_copy(
        update={
            "policy": packs.policy.model_copy(update={"max_active_supervisees_per_supervisor": 2})
        }
    )

    view = await supervisor_standing(facts, capped, TX_SUPERVISOR, MARCH, NOW)
    before = await supervisor_standing(facts, capped, TX_SUPERVISOR, D("2026-03-01"), NOW)

    shown = view.shown
    assert [(s.supervisee_id, s.level) for s in shown.supervised] == [
        ("see-a1", "compliant"),
        ("see-a2", "out_of_compliance"),
        ("see-a3", "compliant"),
    ]
    assert (shown.max_active_supervisees, shown.active_supervisees, shown.over_cap) == (2, 3, True)
    assert [lic.status for lic in shown.credentials.licenses] == ["active"]
    assert [d.designation for d in shown.credentials.designations] == ["LPC-S"]
    assert shown.expiring == ()
    # Before the agreements started, nobody was under them.
    assert (before.shown.supervised, before.shown.over_cap) == ((), False)
    expiring = await supervisor_standing(facts, capped, TX_SUPERVISOR, D("2030-12-15"), NOW)
    assert [r.on for r in expiring.shown.expiring] == [D("2030-12-31")]


async def test_unknown_sites_supervisors_and_supervisees_are_not_found(
    facts: SqlProjectedFacts, packs: RulePacks
) -> None:
    source = LiveStanding(facts, packs)

    with pytest.raises(UnknownSite, match="site-nowhere"):
        await site_list(source, facts, "site-nowhere", MARCH, NOW)
    with pytest.raises(UnknownSite):
        await verdict_list(source, facts, MARCH, NOW, site_id="site-nowhere")
    with pytest.raises(UnknownSupervisor, match="sup-nobody"):
        await supervisor_standing(facts, packs, "sup-nobody", MARCH, NOW)
    with pytest.raises(UnknownSupervisee):
        await supervisee_evaluation(facts, packs, "see-nobody", MARCH, NOW)
    # Known before anyone was registered there: not yet heard of.
    with pytest.raises(UnknownSite):
        await site_list(source, facts, AUSTIN, MARCH, at("2026-03-01"))
    # A site known, with no one there on the date, is an empty list.
    empty = await site_list(source, facts, AUSTIN, D("2026-03-01"), NOW)
    assert empty.shown.supervisees == ()


async def test_a_site_whose_supervisee_lacks_an_event_says_it_is_incomplete(
    make_database: DatabaseFactory, feed: Any, packs: RulePacks
) -> None:
    db = await make_database(MIGRATIONS)
    incoming = messages(feed, organization())
    (phone,) = [
        e
        for e in incoming
        if e.ce_type == ev.SessionLogged.ce_type() and e.data["session_id"] == "s-see-d1-1"
    ]
    await feed.as_one_batch(db, [e for e in incoming if e is not phone])
    async with db.transaction() as conn:
        await record_unapplied(conn, phone, _Record(), PermanentError("no such site"))
    facts = SqlProjectedFacts(db)
    source = LiveStanding(facts, packs)

    dayton = await site_list(source, facts, DAYTON, MARCH, NOW)
    austin = await site_list(source, facts, AUSTIN, MARCH, NOW)
    overview = await organization_overview(source, facts, packs, MARCH, NOW)

    assert [u.event_id for u in dayton.unapplied] == [str(phone.event_id)]
    assert [s.incomplete for s in dayton.shown.supervisees] == [True]
    assert austin.complete
    assert [u.event_id for u in overview.unapplied] == [str(phone.event_id)]


async def test_a_past_known_at_reproduces_the_answer_given_then(
    make_database: DatabaseFactory, feed: Any, packs: RulePacks
) -> None:
    db = await make_database(MIGRATIONS)
    events = organization()
    await feed.as_one_batch(db, messages(feed, events))
    facts = SqlProjectedFacts(db)
    source = LiveStanding(facts, packs)
    issued_at = at("2026-04-01")
    issued = await site_list(source, facts, AUSTIN, MARCH, issued_at)

    # A session of 10 March for see-a2, logged late in April: March is now met.
    await feed.as_one_batch(
        db,
        messages(
            feed,
            [
                (
                    ev.SessionLogged(
                        session_id="s-late",
                        kind="clinical",
                        format="individual",
                        modality="in_person",
                        date=D("2026-03-12"),
                        start_time=dt.time(10),
                        minutes=30,
                        supervisor_id=TX_SUPERVISOR,
                        supervisee_ids=("see-a2",),
                        site_id=AUSTIN,
                        techniques=(),
                        focus=(),
                    ),
                    at("2026-04-20"),
                )
            ],
        ),
    )
    reproduced = await site_list(source, facts, AUSTIN, MARCH, issued_at)
    current = await site_list(source, facts, AUSTIN, MARCH, NOW)

    assert reproduced.shown == issued.shown
    assert issued.shown.by_status["out_of_compliance"] == 1
    a2 = next(s for s in current.shown.supervisees if s.supervisee_id == "see-a2")
    # Met in March, and a record entered more than seven days late: a finding of its own.
    assert [v.rule_id for v in a2.verdicts] == ["org.contemporaneous-record"]


class _Record:
    """Where the unapplied event sat on its topic."""

    topic, partition, offset = "continuum.supervision.events", 0, 7
    value: bytes | None = None
    key: bytes | None = None
    headers: list[tuple[str, bytes | None]] = []
