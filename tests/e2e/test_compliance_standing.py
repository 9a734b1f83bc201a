"""End to end: the boards' rules applied, over a real socket, fed by contract events on Kafka.

One supervisee, one site, one supervisor per test (the stack is shared): each view of the rules
is asked once, as a compliance officer would.
"""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from continuum.compliance.v1 import compliance_service_pb2 as pb
from contracts import events as ev
from infra.devstack import Stack
from infra.eventstore import OutboxMessage
from tests.e2e.support import Stubs, eventually, invalid_field, unique
from tests.e2e.test_compliance_views import at, publish, recorded

pytestmark = pytest.mark.e2e

D = dt.date.fromisoformat
TRACK = "TX-LPC-ASSOCIATE"
MONTHLY_MINIMUM = "tx-lpc-associate.monthly-minimum"


def qualified_supervisor(supervisor: str) -> list[OutboxMessage]:
    """An LPC licensed for over five years, with the LPC-S designation: TX3 and TX4 met."""
    return [
        recorded(
            ev.LicenseRecorded(
                holder_id=supervisor,
                license_id=unique("lic"),
                kind="LPC",
                number=unique("LPC"),
                state="TX",
                issued_on=D("2015-01-01"),
                expires_on=D("2030-12-31"),
            ),
            at("2015-01-02"),
        ),
        recorded(
            ev.SupervisorDesignationRecorded(
                holder_id=supervisor,
                designation_id=unique("des"),
                designation="LPC-S",
                state="TX",
                granted_on=D("2016-01-01"),
                expires_on=None,
                training_hours=40,
                training_completed_on=D("2015-12-01"),
            ),
            at("2016-01-02"),
        ),
    ]


def associate_in_march(
    supervisee: str, supervisor: str, site: str, minutes: int
) -> list[OutboxMessage]:
    """A Texas LPC Associate who counselled in March and had `minutes` of supervision in it."""
    return [
        recorded(
            ev.SuperviseeRegistered(
                supervisee_id=supervisee,
                credential_track=TRACK,
                license_number=unique("LPC-A"),
                home_site_id=site,
                registered_on=D("2026-03-02"),
            ),
            at("2026-03-02", 8),
        ),
        recorded(
            ev.AgreementSigned(
                supervisee_id=supervisee,
                agreement_id=unique("agr"),
                supervisor_id=supervisor,
                site_id=site,
                credential_track=TRACK,
                start_date=D("2026-03-02"),
                end_date=D("2027-12-31"),
                modalities=("in_person",),
                sessions_per_period=1,
                period="week",
                board_approval_required=False,
            ),
            at("2026-03-02", 9),
        ),
        recorded(
            ev.PracticeHoursRecorded(
                supervisee_id=supervisee,
                site_id=site,
                week_start=D("2026-03-02"),
                direct_minutes=900,
                indirect_minutes=120,
            ),
            at("2026-03-09"),
        ),
        recorded(
            ev.SessionLogged(
                session_id=unique("ses"),
                kind="clinical",
                format="individual",
                modality="in_person",
                date=D("2026-03-10"),
                start_time=dt.time(9),
                minutes=minutes,
                supervisor_id=supervisor,
                supervisee_ids=(supervisee,),
                site_id=site,
                techniques=("case_review",),
                focus=("intervention",),
            ),
            at("2026-03-10"),
        ),
    ]


def standing(
    stubs: Stubs, supervisee: str, as_of: str = "", known_at: str = ""
) -> pb.GetSuperviseeStandingResponse:
    return stubs.compliance.GetSuperviseeStanding(  # type: ignore[no-any-return]
        pb.GetSuperviseeStandingRequest(supervisee_id=supervisee, as_of=as_of, known_at=known_at),
        timeout=10,
    )


def test_a_texas_associate_short_of_the_monthly_minimum_is_out_of_compliance(
    stack: Stack, stubs: Stubs
) -> None:
    see, supervisor, site = unique("see"), unique("sup"), unique("site")
    publish(
        stack, *qualified_supervisor(supervisor), *associate_in_march(see, supervisor, site, 210)
    )

    view = eventually(
        lambda: standing(stubs, see, "2026-03-31"),
        lambda v: v.progress.supervision.counted_minutes == "210",
    )

    assert (view.track, view.site_id, view.status.level) == (TRACK, site, "out_of_compliance")
    (short,) = [v for v in view.verdicts if v.rule_id == MONTHLY_MINIMUM]
    assert (short.severity, list(short.src), short.supervisee_id) == ("finding", ["TX1"], see)
    assert (short.window.kind, short.window.start, short.window.end) == (
        "calendar_month",
        "2026-03-01",
        "2026-03-31",
    )
    assert short.verdict_id in {r.verdict_id for r in view.status.reasons}
    march = [
        o for o in view.outcomes if o.rule_id == MONTHLY_MINIMUM and o.window.start == "2026-03-01"
    ]
    assert [(o.status, o.measured, o.required, o.measure) for o in march] == [
        ("violated", "210", "240", "weighted_minutes")
    ]
    assert view.progress.total.required_minutes == str(3000 * 60)
    assert not view.incomplete
    # As known before the session was logged, March had no supervision at all.
    before = standing(stubs, see, "2026-03-31", known_at="2026-03-09T23:00:00Z")
    assert before.progress.supervision.counted_minutes == "0"


def test_the_standing_of_a_supervisee_never_heard_of_is_not_found(stubs: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as nobody:
        standing(stubs, unique("see"))
    with pytest.raises(grpc.RpcError) as bad_date:
        standing(stubs, unique("see"), "2026-02-30")

    assert nobody.value.code() == grpc.StatusCode.NOT_FOUND
    assert invalid_field(bad_date.value) == "as_of"


def test_a_sites_list_the_organization_the_verdicts_and_the_supervisor_each_asked_once(
    stack: Stack, stubs: Stubs
) -> None:
    short, met, supervisor, site = unique("see"), unique("see"), unique("sup"), unique("site")
    publish(
        stack,
        *qualified_supervisor(supervisor),
        *associate_in_march(short, supervisor, site, 210),
        *associate_in_march(met, supervisor, site, 240),
    )
    march = "2026-03-31"

    def site_list(**request: object) -> pb.ListSiteSuperviseesResponse:
        return stubs.compliance.ListSiteSupervisees(  # type: ignore[no-any-return]
            pb.ListSiteSuperviseesRequest(site_id=site, as_of=march, **request), timeout=10
        )

    everyone = eventually(site_list, lambda v: len(v.supervisees) == 2)
    first = site_list(page_size=1)
    out = site_list(statuses=["out_of_compliance"], tracks=[TRACK])

    assert {s.supervisee_id: s.status for s in everyone.supervisees} == {
        short: "out_of_compliance",
        met: "compliant",
    }
    assert {c.status: c.supervisees for c in everyone.by_status} == {
        "compliant": 1,
        "at_risk": 0,
        "out_of_compliance": 1,
        "not_evaluated": 0,
    }
    assert len(first.supervisees) == 1 and first.next_page_token
    rest = site_list(page_size=1, page_token=first.next_page_token)
    assert [*first.supervisees, *rest.supervisees] == list(everyone.supervisees)
    assert rest.next_page_token == ""
    assert [(s.supervisee_id, s.open_findings) for s in out.supervisees] == [(short, 1)]
    assert {s.supervisee_id: s.supervision_counted_minutes for s in everyone.supervisees} == {
        short: "210",
        met: "240",
    }

    overview = stubs.compliance.GetOrganizationOverview(
        pb.GetOrganizationOverviewRequest(as_of=march), timeout=10
    )
    (ours,) = [s for s in overview.sites if s.site_id == site]
    assert (ours.supervisees, ours.open_findings, ours.open_voids) == (2, 1, 0)

    verdicts = stubs.compliance.ListVerdicts(
        pb.ListVerdictsRequest(
            site_id=site, as_of=march, rule_ids=[MONTHLY_MINIMUM], resolution="open"
        ),
        timeout=10,
    )
    assert [(v.supervisee_id, v.severity, list(v.src)) for v in verdicts.verdicts] == [
        (short, "finding", ["TX1"])
    ]

    supervising = stubs.compliance.GetSupervisorStanding(
        pb.GetSupervisorStandingRequest(supervisor_id=supervisor, as_of=march), timeout=10
    )
    assert sorted((s.supervisee_id, s.status) for s in supervising.supervisees) == sorted(
        [(short, "out_of_compliance"), (met, "compliant")]
    )
    assert (supervising.max_active_supervisees, supervising.over_cap) == (12, False)
    assert sorted(c.credential for c in supervising.credentials) == ["designation", "license"]


def test_the_lists_refuse_what_they_cannot_read_and_do_not_know_whom_they_are_asked_of(
    stubs: Stubs,
) -> None:
    def refused(call: object) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as error:
            call()  # type: ignore[operator]
        return error.value

    nowhere = refused(
        lambda: stubs.compliance.ListSiteSupervisees(
            pb.ListSiteSuperviseesRequest(site_id=unique("site")), timeout=10
        )
    )
    nobody = refused(
        lambda: stubs.compliance.GetSupervisorStanding(
            pb.GetSupervisorStandingRequest(supervisor_id=unique("sup")), timeout=10
        )
    )
    status = refused(
        lambda: stubs.compliance.ListSiteSupervisees(
            pb.ListSiteSuperviseesRequest(site_id="site-x", statuses=["fine"]), timeout=10
        )
    )
    size = refused(
        lambda: stubs.compliance.ListVerdicts(pb.ListVerdictsRequest(page_size=501), timeout=10)
    )
    severity = refused(
        lambda: stubs.compliance.ListVerdicts(pb.ListVerdictsRequest(severity="grave"), timeout=10)
    )
    token = refused(
        lambda: stubs.compliance.ListVerdicts(
            pb.ListVerdictsRequest(page_token="not a token"), timeout=10
        )
    )

    assert (nowhere.code(), nobody.code()) == (grpc.StatusCode.NOT_FOUND,) * 2
    assert [invalid_field(e) for e in (status, size, severity, token)] == [
        "statuses",
        "page_size",
        "severity",
        "page_token",
    ]
