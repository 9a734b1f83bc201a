"""End to end: the table of track scenarios (tests/scenarios/tracks.py) played through the
services' gRPC APIs, on each storage backend, and judged by the compliance service.

Per scenario: the supervisor's licenses and designation in the credential registry
(CredentialService), the supervisee registered, the agreement signed (and approved by the board
where the track asks it), the sessions logged, the weeks of practice recorded and the months
signed off (SupervisionService); then, once compliance has applied all of it, the supervisee's
standing as of the scenario's date (ComplianceService.GetSuperviseeStanding), compared with
what the board's rules say, computed by hand in the table.

Every scenario is recorded first, with ids of its own, and then each is read: the services work
through the whole table at once, and one stack per backend serves the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from continuum.compliance.v1 import compliance_service_pb2 as views
from continuum.compliance.v1 import credential_service_pb2 as cred
from continuum.supervision.v1 import supervision_service_pb2 as pb
from infra.devstack import Stack
from tests.e2e.support import Stubs, acting_as, eventually, stubs_for, unique
from tests.scenarios.tracks import SCENARIOS, Seen, TrackScenario, differences, rule_statuses

pytestmark = pytest.mark.e2e

ACTOR = acting_as("coordinator-e2e-tracks")
MODALITIES = [pb.SESSION_MODALITY_IN_PERSON, pb.SESSION_MODALITY_VIDEO, pb.SESSION_MODALITY_PHONE]


@dataclass(frozen=True, slots=True)
class Played:
    """A scenario as recorded: the supervisee's id, and what compliance is to have applied."""

    supervisee_id: str
    credentials_per_session: int


def _format(name: str) -> pb.SessionFormat.ValueType:
    return pb.SessionFormat.Value(f"SESSION_FORMAT_{name.upper()}")


def _modality(name: str) -> pb.SessionModality.ValueType:
    return pb.SessionModality.Value(f"SESSION_MODALITY_{name.upper()}")


def _technique(name: str) -> pb.SupervisionTechnique.ValueType:
    return pb.SupervisionTechnique.Value(f"SUPERVISION_TECHNIQUE_{name.upper()}")


def _credentials(stubs: Stubs, scenario: TrackScenario, supervisor: str) -> int:
    """The supervisor's licenses and designation in the registry; how many there are."""
    held = scenario.supervisor
    licenses = [(held.license_kind, held.licensed_since)]
    if held.other_license is not None:
        licenses.append(held.other_license)
    for kind, issued_on in licenses:
        stubs.credentials.RecordLicense(
            cred.RecordLicenseRequest(
                license_id=unique("lic"),
                holder_id=supervisor,
                kind=kind,
                number=unique(kind),
                state=scenario.state,
                issued_on=issued_on,
                expires_on=held.license_expires,
            ),
            metadata=ACTOR,
            timeout=10,
        )
    if held.designation is None:
        return len(licenses)
    stubs.credentials.RecordSupervisorDesignation(
        cred.RecordSupervisorDesignationRequest(
            designation_id=unique("des"),
            holder_id=supervisor,
            designation=held.designation,
            state=scenario.state,
            granted_on=held.designation_granted,
            training_hours=held.training_hours,
            training_completed_on=held.designation_granted,
        ),
        metadata=ACTOR,
        timeout=10,
    )
    return len(licenses) + 1


def _enrol(
    stubs: Stubs, scenario: TrackScenario, supervisee: str, supervisor: str, site: str
) -> None:
    """Registered on the track, under an agreement with the supervisor at the site, approved by
    the board where the scenario says."""
    stubs.supervision.RegisterSupervisee(
        pb.RegisterSuperviseeRequest(
            supervisee_id=supervisee,
            credential_track=scenario.track,
            license_number=f"{scenario.state}-A-{supervisee[-6:]}",
            home_site_id=site,
            registered_on=scenario.registered_on,
        ),
        metadata=ACTOR,
        timeout=10,
    )
    agreement = unique("agr")
    stubs.supervision.SignAgreement(
        pb.SignAgreementRequest(
            agreement_id=agreement,
            supervisor_id=supervisor,
            supervisee_id=supervisee,
            site_id=site,
            credential_track=scenario.track,
            start_date=scenario.agreement_start,
            end_date=scenario.agreement_end,
            modalities=MODALITIES,
            sessions_per_period=1,
            period=pb.AGREEMENT_PERIOD_WEEK,
        ),
        metadata=ACTOR,
        timeout=10,
    )
    if scenario.approved_on is not None:
        stubs.supervision.ApproveAgreement(
            pb.ApproveAgreementRequest(
                supervisee_id=supervisee,
                agreement_id=agreement,
                approved_on=scenario.approved_on,
                approval_reference=unique("BOARD"),
            ),
            metadata=ACTOR,
            timeout=10,
        )


def play(stubs: Stubs, scenario: TrackScenario) -> Played:
    supervisee, supervisor, site = unique("see"), unique("sup"), unique("site")
    per_session = _credentials(stubs, scenario, supervisor)
    _enrol(stubs, scenario, supervisee, supervisor, site)
    others = [unique("peer") for _ in range(scenario.others_needed)]
    for other in others:
        _enrol(stubs, scenario, other, supervisor, site)
    for session in scenario.sessions:
        stubs.supervision.LogSession(
            pb.LogSessionRequest(
                session_id=unique("ses"),
                kind=pb.SESSION_KIND_CLINICAL,
                format=_format(session.format),
                modality=_modality(session.modality),
                date=session.date,
                minutes=session.minutes,
                supervisor_id=supervisor,
                supervisee_ids=[supervisee, *others[: scenario.others_in(session)]],
                site_id=site,
                techniques=[_technique(t) for t in session.techniques],
                focus=[pb.SUPERVISION_FOCUS_INTERVENTION],
            ),
            metadata=ACTOR,
            timeout=10,
        )
    for week in scenario.practice:
        stubs.supervision.RecordPracticeHours(
            pb.RecordPracticeHoursRequest(
                supervisee_id=supervisee,
                site_id=site,
                week_start=week.week_start,
                direct_minutes=int(week.direct_hours * 60),
                indirect_minutes=int(week.indirect_hours * 60),
            ),
            metadata=ACTOR,
            timeout=10,
        )
    for month, signed_on in scenario.sign_offs:
        stubs.supervision.SignOffMonth(
            pb.SignOffMonthRequest(
                supervisee_id=supervisee,
                month=month,
                supervisor_id=supervisor,
                signed_on=signed_on,
            ),
            metadata=ACTOR,
            timeout=10,
        )
    return Played(supervisee, per_session)


@pytest.fixture(scope="module")
def backend_stubs(backend_stack: Stack) -> Iterator[Stubs]:
    with stubs_for(backend_stack.addresses) as service_stubs:
        yield service_stubs


@pytest.fixture(scope="module")
def played(backend_stubs: Stubs) -> dict[str, Played]:
    """The whole table, recorded once per backend."""
    return {scenario.name: play(backend_stubs, scenario) for scenario in SCENARIOS}


def applied(stubs: Stubs, scenario: TrackScenario, played: Played) -> None:
    """Waits until compliance has applied everything the scenario recorded: the registration,
    the agreement (and its approval), every session with the supervisor's credentials on its
    date, every week of practice, every month signed off."""

    def record() -> views.GetSuperviseeRecordResponse:
        return stubs.compliance.GetSuperviseeRecord(  # type: ignore[no-any-return]
            views.GetSuperviseeRecordRequest(
                supervisee_id=played.supervisee_id, as_of=scenario.as_of
            ),
            timeout=10,
        )

    def complete(seen: views.GetSuperviseeRecordResponse) -> bool:
        return (
            seen.HasField("registration")
            and len(seen.agreements) == 1
            and (scenario.approved_on is None or seen.agreements[0].approved_on != "")
            and len(seen.sessions) == len(scenario.sessions)
            and all(
                len(s.supervisor_credentials) == played.credentials_per_session
                for s in seen.sessions
            )
            and len(seen.practice_weeks) == len(scenario.practice)
            and len(seen.months) == len(scenario.sign_offs)
        )

    # The whole table is recorded before the first scenario is read: compliance may still be
    # applying it.
    eventually(record, complete, timeout=180)


def seen_in(standing: views.GetSuperviseeStandingResponse) -> Seen:
    return Seen(
        level=standing.status.level,
        statuses=rule_statuses((o.rule_id, o.status) for o in standing.outcomes),
        verdict_rules=frozenset(v.rule_id for v in standing.verdicts),
        supervision_counted_minutes=int(Decimal(standing.progress.supervision.counted_minutes)),
        detail=[
            f"{o.rule_id} {o.window.start} {o.site_id} {o.status}: {o.reason}"
            for o in standing.outcomes
        ],
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_track_scenario_is_judged_through_the_api_as_its_board_says(
    scenario: TrackScenario, played: dict[str, Played], backend_stubs: Stubs
) -> None:
    recorded = played[scenario.name]
    applied(backend_stubs, scenario, recorded)

    standing = backend_stubs.compliance.GetSuperviseeStanding(
        views.GetSuperviseeStandingRequest(
            supervisee_id=recorded.supervisee_id, as_of=scenario.as_of
        ),
        timeout=30,
    )

    assert (standing.supervisee_id, standing.track) == (recorded.supervisee_id, scenario.track)
    assert not standing.incomplete, standing.unapplied_events
    seen = seen_in(standing)
    assert not differences(scenario, seen), "\n".join([*differences(scenario, seen), *seen.detail])
