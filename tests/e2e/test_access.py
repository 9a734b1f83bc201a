"""Who may call: the running services refuse a call without a valid token, record the token's
subject as the actor whatever a header claims, and refuse what the policy does not allow."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from continuum.coaching.v1 import coaching_service_pb2 as coaching
from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.referral.v1 import referral_service_pb2 as referral
from continuum.supervision.v1 import supervision_service_pb2 as pb
from continuum.supervision.v1 import supervision_service_pb2_grpc as pb_grpc
from infra.devstack import Stack
from infra.grpc.client import bearer_metadata, open_channel
from infra.security.policy import Role
from infra.security.tokens import SigningKey
from tests.e2e.support import Stubs, acting_as, eventually, stubs_for, unique
from tests.e2e.test_coaching_api import SITE, Coach, day
from tests.e2e.test_referral_api import raise_request
from tests.e2e.test_supervision_api import AUSTIN, log, session_request, supervised

pytestmark = pytest.mark.e2e

GET = pb.GetSuperviseeRequest(supervisee_id="see-anyone")


@pytest.fixture(scope="module")
def stubs(backend_stack: Stack) -> Iterator[Stubs]:
    """On each storage backend in turn: the relationship checks read each service's store."""
    with stubs_for(backend_stack.addresses) as service_stubs:
        yield service_stubs


def code_of(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as refused:
        call()  # type: ignore[operator]
    return refused.value.code(), str(refused.value.details())


def test_a_call_without_a_token_is_unauthenticated(backend_stack: Stack) -> None:
    with open_channel(backend_stack.addresses["supervision"]) as channel:
        anonymous = pb_grpc.SupervisionServiceStub(channel)

        code, details = code_of(lambda: anonymous.GetSupervisee(GET, timeout=10))

    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "bearer token is required" in details


def test_a_token_signed_by_another_key_is_unauthenticated(stubs: Stubs) -> None:
    forged = SigningKey.generate(kid="e2e-1").mint("sup-forger", (Role.ADMINISTRATOR,))

    code, details = code_of(
        lambda: stubs.supervision.GetSupervisee(GET, metadata=bearer_metadata(forged), timeout=10)
    )

    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "signature" in details.lower()


def test_health_checks_need_no_token(backend_stack: Stack) -> None:
    # wait_until_serving asks the health service on a channel without a token.
    backend_stack.wait_until_serving("supervision", timeout=10)


def test_the_actor_is_the_tokens_subject_whatever_a_header_claims(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    session = log(stubs, supervisor, [supervisee]).session_id
    real = unique("sup-real")
    amend = pb.AmendSessionRequest(
        session_id=session,
        kind=pb.SESSION_KIND_CLINICAL,
        format=pb.SESSION_FORMAT_INDIVIDUAL,
        modality=pb.SESSION_MODALITY_VIDEO,
        date="2026-03-03",
        minutes=75,
        techniques=[pb.SUPERVISION_TECHNIQUE_CASE_REVIEW],
        reason="logged on the wrong day",
    )

    stubs.supervision.AmendSession(
        amend, metadata=(*acting_as(real), ("x-actor", "sup-forged")), timeout=10
    )

    hours = eventually(
        lambda: stubs.compliance.GetSuperviseeHours(
            compliance.GetSuperviseeHoursRequest(supervisee_id=supervisee), timeout=10
        ),
        lambda view: any(s.corrections for s in (*view.sessions, *view.excluded)),
    )
    (corrected,) = [s for s in (*hours.sessions, *hours.excluded) if s.session_id == session]
    assert [c.by for c in corrected.corrections] == [real]


def test_a_supervisor_of_another_site_cannot_log_a_session_there(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    elsewhere = acting_as(supervisor, (Role.SUPERVISOR,), ("site-elsewhere",))

    code, details = code_of(
        lambda: stubs.supervision.LogSession(
            session_request(supervisor, [supervisee]), metadata=elsewhere, timeout=10
        )
    )

    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert f"'{AUSTIN}' (site_id) is not among the caller's sites" in details


def test_a_supervisor_logs_only_as_themselves(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    impostor = acting_as(unique("sup-other"), (Role.SUPERVISOR,), (AUSTIN,))

    code, details = code_of(
        lambda: stubs.supervision.LogSession(
            session_request(supervisor, [supervisee]), metadata=impostor, timeout=10
        )
    )

    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "supervisor_id must be the caller's own id" in details


def test_a_supervisor_at_their_site_logs_their_session(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    themselves = acting_as(supervisor, (Role.SUPERVISOR,), (AUSTIN,))

    reply = stubs.supervision.LogSession(
        session_request(supervisor, [supervisee]), metadata=themselves, timeout=10
    )

    assert reply.session_id


def test_an_auditor_cannot_change_anything(stubs: Stubs) -> None:
    auditor = acting_as(unique("aud"), (Role.AUDITOR,), (AUSTIN,))

    code, details = code_of(
        lambda: stubs.supervision.VoidSession(
            pb.VoidSessionRequest(session_id=unique("ses"), reason="duplicate"),
            metadata=auditor,
            timeout=10,
        )
    )

    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "VoidSession needs one of the roles" in details


def void_of(session: str) -> pb.VoidSessionRequest:
    return pb.VoidSessionRequest(session_id=session, reason="the session did not take place")


def test_a_void_by_a_supervisor_of_another_site_is_denied_naming_the_site(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    session = log(stubs, supervisor, [supervisee]).session_id
    elsewhere = acting_as(unique("sup-elsewhere"), (Role.SUPERVISOR,), ("site-elsewhere",))

    code, details = code_of(
        lambda: stubs.supervision.VoidSession(void_of(session), metadata=elsewhere, timeout=10)
    )

    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert f"the site '{AUSTIN}' of session '{session}' is not among the caller's sites" in details


def test_a_void_by_a_supervisor_who_did_not_hold_the_session_is_denied(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    session = log(stubs, supervisor, [supervisee]).session_id
    colleague = acting_as(unique("sup-colleague"), (Role.SUPERVISOR,), (AUSTIN,))

    code, details = code_of(
        lambda: stubs.supervision.VoidSession(void_of(session), metadata=colleague, timeout=10)
    )

    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert f"the caller is not a party to session '{session}'" in details


def test_the_supervisor_who_held_the_session_voids_it(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    session = log(stubs, supervisor, [supervisee]).session_id
    themselves = acting_as(supervisor, (Role.SUPERVISOR,), (AUSTIN,))

    voided = stubs.supervision.VoidSession(void_of(session), metadata=themselves, timeout=10)

    assert not voided.already_recorded


def test_a_supervisee_reads_only_their_own_record(stubs: Stubs) -> None:
    supervisee, _, _ = supervised(stubs)
    other, _, _ = supervised(stubs)
    as_supervisee = acting_as(supervisee, (Role.SUPERVISEE,), (AUSTIN,))

    own = stubs.supervision.GetSupervisee(
        pb.GetSuperviseeRequest(supervisee_id=supervisee), metadata=as_supervisee, timeout=10
    )
    code, details = code_of(
        lambda: stubs.supervision.GetSupervisee(
            pb.GetSuperviseeRequest(supervisee_id=other), metadata=as_supervisee, timeout=10
        )
    )

    assert own.home_site_id == AUSTIN
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "supervisee_id must be the caller's own id" in details


def test_a_coach_works_only_their_own_engagements(stubs: Stubs) -> None:
    engagement = Coach(stubs).open()  # held by coach-e2e at the coaching tests' site
    session = coaching.LogCoachingSessionRequest(
        engagement_id=engagement, session_id=unique("cs"), date=day(-1), minutes=50
    )
    another_coach = acting_as(unique("coach-other"), (Role.COACH,), (SITE,))
    holder_elsewhere = acting_as("coach-e2e", (Role.COACH,), ("site-elsewhere",))

    not_theirs = code_of(
        lambda: stubs.coaching.LogCoachingSession(session, metadata=another_coach, timeout=10)
    )
    other_site = code_of(
        lambda: stubs.coaching.LogCoachingSession(session, metadata=holder_elsewhere, timeout=10)
    )
    held = stubs.coaching.LogCoachingSession(
        session, metadata=acting_as("coach-e2e", (Role.COACH,), (SITE,)), timeout=10
    )

    assert not_theirs[0] == grpc.StatusCode.PERMISSION_DENIED
    assert f"the caller is not a party to engagement '{engagement}'" in not_theirs[1]
    assert other_site[0] == grpc.StatusCode.PERMISSION_DENIED
    assert f"the site '{SITE}' of engagement '{engagement}'" in other_site[1]
    assert not held.already_recorded


def test_a_coach_reads_only_the_referrals_they_raised(stubs: Stubs) -> None:
    coach = unique("coach")
    mine = acting_as(coach, (Role.COACH,), (AUSTIN,))
    own = raise_request(site_id=AUSTIN, from_service=referral.SERVICE_COACHING)
    stubs.referral.RaiseReferral(own, metadata=mine, timeout=10)
    theirs = raise_request(site_id=AUSTIN)
    stubs.referral.RaiseReferral(theirs, metadata=acting_as(unique("coord")), timeout=10)

    read = stubs.referral.GetReferral(
        referral.GetReferralRequest(referral_id=own.referral_id), metadata=mine, timeout=10
    )
    code, details = code_of(
        lambda: stubs.referral.GetReferral(
            referral.GetReferralRequest(referral_id=theirs.referral_id), metadata=mine, timeout=10
        )
    )

    assert read.referral.referral_id == own.referral_id
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert f"the caller is not a party to referral '{theirs.referral_id}'" in details


def test_a_coordinator_of_another_site_cannot_move_a_referral_along(stubs: Stubs) -> None:
    request = raise_request(site_id=AUSTIN)
    stubs.referral.RaiseReferral(request, metadata=acting_as(unique("coord")), timeout=10)
    elsewhere = acting_as(unique("coord"), (Role.REFERRAL_COORDINATOR,), ("site-elsewhere",))

    code, details = code_of(
        lambda: stubs.referral.AcceptReferral(
            referral.AcceptReferralRequest(
                referral_id=request.referral_id, accepted_by="psychiatrist-e2e"
            ),
            metadata=elsewhere,
            timeout=10,
        )
    )

    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert f"the site '{AUSTIN}' of referral '{request.referral_id}'" in details


def test_in_compliance_a_supervisor_reads_only_their_own_supervisees_hours(stubs: Stubs) -> None:
    supervisee, supervisor, _ = supervised(stubs)
    hours = compliance.GetSuperviseeHoursRequest(supervisee_id=supervisee)
    theirs = acting_as(supervisor, (Role.SUPERVISOR,), (AUSTIN,))
    colleague = acting_as(unique("sup-colleague"), (Role.SUPERVISOR,), (AUSTIN,))

    # Once compliance has projected the agreement, its supervisor is party to the supervisee.
    def as_their_supervisor() -> compliance.GetSuperviseeHoursResponse | None:
        try:
            reply: compliance.GetSuperviseeHoursResponse = stubs.compliance.GetSuperviseeHours(
                hours, metadata=theirs, timeout=10
            )
        except grpc.RpcError as refused:
            if refused.code() != grpc.StatusCode.PERMISSION_DENIED:
                raise
            return None
        return reply

    read = eventually(as_their_supervisor, lambda view: view is not None)
    assert read is not None
    code, details = code_of(
        lambda: stubs.compliance.GetSuperviseeHours(hours, metadata=colleague, timeout=10)
    )

    assert read.supervisee_id == supervisee
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert f"the caller is not a party to supervisee '{supervisee}'" in details
