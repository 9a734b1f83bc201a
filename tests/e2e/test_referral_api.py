"""End to end: every ReferralService RPC over a real socket against the running stack, the
service's clock recording a breach, and the loop's answers reaching coaching through Kafka."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest

from coaching.domain.policy import engagement_id_for_referral
from continuum.coaching.v1 import coaching_service_pb2 as coaching
from continuum.referral.v1 import referral_service_pb2 as pb
from referral.domain import referral_id_for
from tests.e2e.support import Stubs, acting_as, eventually, invalid_field, unique

pytestmark = pytest.mark.e2e

METADATA = acting_as("coordinator-e2e")
TIMEOUT = 10


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def raise_request(**overrides: Any) -> pb.RaiseReferralRequest:
    fields: dict[str, Any] = {
        "referral_id": unique("ref"),
        "client_id": unique("client"),
        "site_id": unique("site"),
        "from_service": pb.SERVICE_THERAPY,
        "to_service": pb.SERVICE_PSYCHIATRY,
        "urgency": pb.URGENCY_ROUTINE,
        "reason": pb.REFERRAL_REASON_MEDICATION_EVALUATION,
        "source": f"therapy-episode/{unique('ep')}",
    }
    return pb.RaiseReferralRequest(**(fields | overrides))


def raised(stubs: Stubs, **overrides: Any) -> pb.RaiseReferralRequest:
    request = raise_request(**overrides)
    reply = stubs.referral.RaiseReferral(request, metadata=METADATA, timeout=TIMEOUT)
    assert not reply.already_recorded
    return request


def get(stubs: Stubs, referral_id: str) -> pb.Referral:
    reply = stubs.referral.GetReferral(
        pb.GetReferralRequest(referral_id=referral_id), metadata=METADATA, timeout=TIMEOUT
    )
    return reply.referral  # type: ignore[no-any-return]


def accept(stubs: Stubs, referral_id: str, by: str = "psychiatrist-e2e") -> bool:
    reply = stubs.referral.AcceptReferral(
        pb.AcceptReferralRequest(referral_id=referral_id, accepted_by=by),
        metadata=METADATA,
        timeout=TIMEOUT,
    )
    return not reply.already_recorded


def schedule(stubs: Stubs, referral_id: str) -> bool:
    reply = stubs.referral.ScheduleReferral(
        pb.ScheduleReferralRequest(
            referral_id=referral_id,
            appointment_on=(today() + dt.timedelta(days=7)).isoformat(),
        ),
        metadata=METADATA,
        timeout=TIMEOUT,
    )
    return not reply.already_recorded


def complete_request(referral_id: str, **overrides: Any) -> pb.CompleteReferralRequest:
    fields: dict[str, Any] = {
        "referral_id": referral_id,
        "outcome": pb.REFERRAL_OUTCOME_CARE_COMPLETED,
        "feedback": "Seen twice; medication reviewed; back to the therapist.",
        "recommendation": pb.RECOMMENDATION_CONTINUE_IN_THERAPY,
    }
    return pb.CompleteReferralRequest(**(fields | overrides))


def refused(call: Any, request: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call(request, metadata=METADATA, timeout=TIMEOUT)
    return error.value


# --- RaiseReferral, GetReferral ------------------------------------------------------------------


def test_a_raised_referral_is_read_back_with_its_deadlines(stubs: Stubs) -> None:
    request = raise_request(origin="therapy-episode/ep-origin", raised_by="therapist-e2e")
    reply = stubs.referral.RaiseReferral(request, metadata=METADATA, timeout=TIMEOUT)

    assert not reply.already_recorded
    referral = get(stubs, request.referral_id)
    assert referral.status == pb.REFERRAL_STATUS_RAISED
    assert (referral.from_service, referral.to_service) == (
        pb.SERVICE_THERAPY,
        pb.SERVICE_PSYCHIATRY,
    )
    assert (referral.origin, referral.raised_by) == ("therapy-episode/ep-origin", "therapist-e2e")
    assert referral.raised_on == today().isoformat()
    raised_at = dt.datetime.fromisoformat(referral.raised_at)
    # Routine: acknowledged within two days, scheduled within seven.
    due = {d.target: dt.datetime.fromisoformat(d.due_at) for d in referral.deadlines}
    assert due[pb.SERVICE_LEVEL_TARGET_ACKNOWLEDGEMENT] - raised_at == dt.timedelta(days=2)
    assert due[pb.SERVICE_LEVEL_TARGET_SCHEDULING] - raised_at == dt.timedelta(days=7)
    assert reply.acknowledgement_due_at == due[pb.SERVICE_LEVEL_TARGET_ACKNOWLEDGEMENT].isoformat()


def test_raising_the_same_referral_again_is_already_recorded(stubs: Stubs) -> None:
    request = raised(stubs)

    again = stubs.referral.RaiseReferral(request, metadata=METADATA, timeout=TIMEOUT)

    assert again.already_recorded


def test_a_referral_id_reused_for_another_referral_is_already_exists(stubs: Stubs) -> None:
    request = raised(stubs)
    other = pb.RaiseReferralRequest()
    other.CopyFrom(request)
    other.urgency = pb.URGENCY_URGENT

    error = refused(stubs.referral.RaiseReferral, other)

    assert error.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"substance_use_record": True}, "consent_reference"),
        ({"reason": pb.REFERRAL_REASON_UNSPECIFIED}, "reason"),
        ({"reason": pb.REFERRAL_REASON_OTHER}, "note"),
        ({"to_service": pb.SERVICE_THERAPY}, "to_service"),
        ({"client_id": "Jane Doe"}, "client_id"),
        ({"raised_at": "2999-01-01T00:00:00Z"}, "raised_at"),
        ({"raised_at": "2026-05-19T10:00:00"}, "raised_at"),
        (
            {"source": "supervision-session/s-1", "from_service": pb.SERVICE_COACHING},
            "from_service",
        ),
    ],
)
def test_an_invalid_referral_is_invalid_argument_naming_the_field(
    stubs: Stubs, change: dict[str, Any], field: str
) -> None:
    error = refused(stubs.referral.RaiseReferral, raise_request(**change))

    assert invalid_field(error) == field


def test_a_substance_use_record_is_raised_with_its_consent(stubs: Stubs) -> None:
    request = raised(stubs, substance_use_record=True, consent_reference="consent/c-e2e")

    referral = get(stubs, request.referral_id)

    assert (referral.substance_use_record, referral.consent_reference) == (True, "consent/c-e2e")


def test_a_supervisor_refers_a_supervisees_client_from_therapy(stubs: Stubs) -> None:
    request = raised(stubs, source="supervision-session/ses-e2e", raised_by="sup-e2e")

    referral = get(stubs, request.referral_id)

    assert (referral.from_service, referral.raised_by) == (pb.SERVICE_THERAPY, "sup-e2e")


def test_an_unknown_referral_is_not_found(stubs: Stubs) -> None:
    error = refused(stubs.referral.GetReferral, pb.GetReferralRequest(referral_id=unique("ref")))

    assert error.code() == grpc.StatusCode.NOT_FOUND


# --- AcceptReferral, DeclineReferral, RedirectReferral -------------------------------------------


def test_accepting_a_referral_names_who_took_the_client_on(stubs: Stubs) -> None:
    request = raised(stubs)

    assert accept(stubs, request.referral_id) is True
    assert accept(stubs, request.referral_id) is False

    referral = get(stubs, request.referral_id)
    assert (referral.status, referral.accepted_by) == (
        pb.REFERRAL_STATUS_ACCEPTED,
        "psychiatrist-e2e",
    )
    assert referral.status_on == today().isoformat()


def test_declining_needs_a_reason_and_closes_the_loop(stubs: Stubs) -> None:
    request = raised(stubs)
    decline = stubs.referral.DeclineReferral

    blank = refused(decline, pb.DeclineReferralRequest(referral_id=request.referral_id))
    assert invalid_field(blank) == "reason"

    reply = decline(
        pb.DeclineReferralRequest(
            referral_id=request.referral_id, reason=pb.DECLINE_REASON_NO_CAPACITY
        ),
        metadata=METADATA,
        timeout=TIMEOUT,
    )
    assert not reply.already_recorded
    referral = get(stubs, request.referral_id)
    assert referral.status == pb.REFERRAL_STATUS_DECLINED
    assert referral.history[-1].reason == "no_capacity"
    assert referral.history[-1].by == "coordinator-e2e"

    late = refused(
        stubs.referral.AcceptReferral,
        pb.AcceptReferralRequest(referral_id=request.referral_id, accepted_by="psych-e2e"),
    )
    assert late.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is declined" in str(late.details())


def test_a_redirected_referral_awaits_acceptance_at_the_new_service(stubs: Stubs) -> None:
    request = raised(stubs)
    redirect = pb.RedirectReferralRequest(
        referral_id=request.referral_id,
        to_service=pb.SERVICE_CONSULTATION,
        reason=pb.REDIRECT_REASON_BETTER_FIT_ELSEWHERE,
    )

    first = stubs.referral.RedirectReferral(redirect, metadata=METADATA, timeout=TIMEOUT)
    again = stubs.referral.RedirectReferral(redirect, metadata=METADATA, timeout=TIMEOUT)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    referral = get(stubs, request.referral_id)
    assert (referral.status, referral.to_service) == (
        pb.REFERRAL_STATUS_REDIRECTED,
        pb.SERVICE_CONSULTATION,
    )
    assert accept(stubs, request.referral_id, by="consultant-e2e")
    assert get(stubs, request.referral_id).status == pb.REFERRAL_STATUS_ACCEPTED


def test_a_redirect_back_to_the_referrer_is_invalid_argument(stubs: Stubs) -> None:
    request = raised(stubs)

    error = refused(
        stubs.referral.RedirectReferral,
        pb.RedirectReferralRequest(
            referral_id=request.referral_id,
            to_service=pb.SERVICE_THERAPY,
            reason=pb.REDIRECT_REASON_OUTSIDE_SCOPE,
        ),
    )

    assert invalid_field(error) == "to_service"


def test_an_accepted_referral_cannot_be_redirected(stubs: Stubs) -> None:
    request = raised(stubs)
    accept(stubs, request.referral_id)

    error = refused(
        stubs.referral.RedirectReferral,
        pb.RedirectReferralRequest(
            referral_id=request.referral_id,
            to_service=pb.SERVICE_CONSULTATION,
            reason=pb.REDIRECT_REASON_NO_CAPACITY,
        ),
    )

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is accepted" in str(error.details())


# --- ScheduleReferral, RecordContactAttempt, CloseReferralUnableToEngage -------------------------


def test_scheduling_books_the_first_appointment_of_an_accepted_referral(stubs: Stubs) -> None:
    request = raised(stubs)

    early = refused(
        stubs.referral.ScheduleReferral,
        pb.ScheduleReferralRequest(referral_id=request.referral_id, appointment_on="2026-12-01"),
    )
    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is raised" in str(early.details())

    accept(stubs, request.referral_id)
    assert schedule(stubs, request.referral_id) is True
    assert schedule(stubs, request.referral_id) is False
    referral = get(stubs, request.referral_id)
    assert referral.status == pb.REFERRAL_STATUS_SCHEDULED
    assert referral.appointment_on == (today() + dt.timedelta(days=7)).isoformat()


def test_a_client_who_cannot_be_reached_is_closed_after_three_attempts(stubs: Stubs) -> None:
    request = raised(stubs)
    accept(stubs, request.referral_id)
    close = pb.CloseReferralUnableToEngageRequest(referral_id=request.referral_id)

    def attempt(n: int) -> pb.RecordContactAttemptResponse:
        return stubs.referral.RecordContactAttempt(  # type: ignore[no-any-return]
            pb.RecordContactAttemptRequest(
                referral_id=request.referral_id,
                attempt_id=f"att-{n}",
                attempted_on=today().isoformat(),
                channel=pb.CONTACT_CHANNEL_PHONE,
            ),
            metadata=METADATA,
            timeout=TIMEOUT,
        )

    assert [attempt(n).attempts_recorded for n in (1, 2)] == [1, 2]
    assert attempt(2).already_recorded
    too_soon = refused(stubs.referral.CloseReferralUnableToEngage, close)
    assert too_soon.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "2 recorded contact attempt(s)" in str(too_soon.details())

    assert attempt(3).attempts_recorded == 3
    reply = stubs.referral.CloseReferralUnableToEngage(close, metadata=METADATA, timeout=TIMEOUT)
    assert not reply.already_recorded
    referral = get(stubs, request.referral_id)
    assert referral.status == pb.REFERRAL_STATUS_CLOSED_UNABLE_TO_ENGAGE
    assert len(referral.contact_attempts) == 3
    again = stubs.referral.CloseReferralUnableToEngage(close, metadata=METADATA, timeout=TIMEOUT)
    assert again.already_recorded


def test_a_contact_attempt_needs_a_channel(stubs: Stubs) -> None:
    request = raised(stubs)
    accept(stubs, request.referral_id)

    error = refused(
        stubs.referral.RecordContactAttempt,
        pb.RecordContactAttemptRequest(
            referral_id=request.referral_id, attempt_id="a-1", attempted_on=today().isoformat()
        ),
    )

    assert invalid_field(error) == "channel"


# --- CompleteReferral, CancelReferral ------------------------------------------------------------


def test_completing_a_scheduled_referral_records_outcome_feedback_and_recommendation(
    stubs: Stubs,
) -> None:
    request = raised(stubs)
    accept(stubs, request.referral_id)

    unscheduled = refused(stubs.referral.CompleteReferral, complete_request(request.referral_id))
    assert unscheduled.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is accepted" in str(unscheduled.details())

    schedule(stubs, request.referral_id)
    first = stubs.referral.CompleteReferral(
        complete_request(request.referral_id), metadata=METADATA, timeout=TIMEOUT
    )
    again = stubs.referral.CompleteReferral(
        complete_request(request.referral_id), metadata=METADATA, timeout=TIMEOUT
    )
    assert (first.already_recorded, again.already_recorded) == (False, True)
    referral = get(stubs, request.referral_id)
    assert referral.status == pb.REFERRAL_STATUS_COMPLETED
    assert referral.outcome == pb.REFERRAL_OUTCOME_CARE_COMPLETED
    assert referral.recommendation == pb.RECOMMENDATION_CONTINUE_IN_THERAPY
    assert referral.feedback.startswith("Seen twice")


def test_a_completion_without_feedback_is_invalid_argument(stubs: Stubs) -> None:
    request = raised(stubs)

    error = refused(
        stubs.referral.CompleteReferral, complete_request(request.referral_id, feedback="")
    )

    assert invalid_field(error) == "feedback"


def test_the_referrer_cancels_an_open_referral_but_not_a_closed_one(stubs: Stubs) -> None:
    request = raised(stubs)
    cancel = pb.CancelReferralRequest(
        referral_id=request.referral_id, reason=pb.CANCEL_REASON_NEED_RESOLVED
    )

    first = stubs.referral.CancelReferral(cancel, metadata=METADATA, timeout=TIMEOUT)
    again = stubs.referral.CancelReferral(cancel, metadata=METADATA, timeout=TIMEOUT)

    assert (first.already_recorded, again.already_recorded) == (False, True)
    assert get(stubs, request.referral_id).status == pb.REFERRAL_STATUS_CANCELLED
    otherwise = pb.CancelReferralRequest(
        referral_id=request.referral_id, reason=pb.CANCEL_REASON_CLIENT_MOVED
    )
    error = refused(stubs.referral.CancelReferral, otherwise)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is cancelled" in str(error.details())


def test_a_cancellation_needs_a_reason(stubs: Stubs) -> None:
    request = raised(stubs)

    error = refused(
        stubs.referral.CancelReferral, pb.CancelReferralRequest(referral_id=request.referral_id)
    )

    assert invalid_field(error) == "reason"


# --- ListReferrals -------------------------------------------------------------------------------


def test_a_site_lists_its_referrals_by_status(stubs: Stubs) -> None:
    site = unique("site")
    first, second = raised(stubs, site_id=site), raised(stubs, site_id=site)
    raised(stubs)  # another site's
    accept(stubs, second.referral_id)

    def listed(status: int = pb.REFERRAL_STATUS_UNSPECIFIED) -> list[str]:
        reply = stubs.referral.ListReferrals(
            pb.ListReferralsRequest(site_id=site, status=status),  # type: ignore[arg-type]
            metadata=METADATA,
            timeout=TIMEOUT,
        )
        return [r.referral_id for r in reply.referrals]

    assert listed() == [first.referral_id, second.referral_id]
    assert listed(pb.REFERRAL_STATUS_ACCEPTED) == [second.referral_id]
    assert listed(pb.REFERRAL_STATUS_RAISED) == [first.referral_id]
    error = refused(stubs.referral.ListReferrals, pb.ListReferralsRequest())
    assert invalid_field(error) == "site_id"


# --- the service's clock -------------------------------------------------------------------------


def test_an_urgent_referral_left_waiting_for_a_day_is_breached_by_the_clock(stubs: Stubs) -> None:
    a_day_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    request = raised(stubs, urgency=pb.URGENCY_URGENT, raised_at=a_day_ago.isoformat())

    referral = eventually(
        lambda: get(stubs, request.referral_id), lambda r: len(r.breaches) == 2, timeout=30
    )

    assert [b.target for b in referral.breaches] == [
        pb.SERVICE_LEVEL_TARGET_ACKNOWLEDGEMENT,
        pb.SERVICE_LEVEL_TARGET_SCHEDULING,
    ]
    acknowledgement = referral.breaches[0]
    assert dt.datetime.fromisoformat(acknowledgement.due_at) == a_day_ago + dt.timedelta(hours=4)
    assert all(d.breached and not d.met for d in referral.deadlines)


def test_a_referral_acknowledged_in_time_is_not_breached(stubs: Stubs) -> None:
    request = raised(stubs, urgency=pb.URGENCY_URGENT)
    accept(stubs, request.referral_id)
    schedule(stubs, request.referral_id)

    referral = get(stubs, request.referral_id)

    assert list(referral.breaches) == []
    assert all(d.met for d in referral.deadlines)


# --- the loop's answers reach coaching -----------------------------------------------------------


def test_a_concern_goes_to_therapy_and_coaching_resumes_when_therapy_says_so(stubs: Stubs) -> None:
    engagement, concern, site = unique("eng"), unique("concern"), unique("site")
    stubs.coaching.OpenEngagement(
        coaching.OpenEngagementRequest(
            engagement_id=engagement,
            client_id=unique("client"),
            coach_id="coach-e2e",
            site_id=site,
            opened_on=today().isoformat(),
        ),
        metadata=METADATA,
        timeout=TIMEOUT,
    )
    stubs.coaching.RaiseConcern(
        coaching.RaiseConcernRequest(
            engagement_id=engagement,
            concern_id=concern,
            urgency=coaching.CONCERN_URGENCY_URGENT,
            raised_on=today().isoformat(),
        ),
        metadata=METADATA,
        timeout=TIMEOUT,
    )
    referral_id = referral_id_for(f"coaching-concern/{concern}")

    referral = eventually(
        lambda: (
            stubs.referral.ListReferrals(
                pb.ListReferralsRequest(site_id=site), metadata=METADATA, timeout=TIMEOUT
            ).referrals
        ),
        lambda referrals: len(referrals) == 1,
    )[0]
    assert referral.referral_id == referral_id
    assert referral.origin == f"coaching-engagement/{engagement}"
    assert referral.reason == pb.REFERRAL_REASON_SYMPTOMS_RESURFACED
    assert referral.raised_at

    accept(stubs, referral_id, by="therapist-e2e")
    schedule(stubs, referral_id)
    stubs.referral.CompleteReferral(
        complete_request(referral_id, recommendation=pb.RECOMMENDATION_RESUME_COACHING),
        metadata=METADATA,
        timeout=TIMEOUT,
    )

    def engagement_status() -> str:
        return str(
            stubs.coaching.GetEngagement(
                coaching.GetEngagementRequest(engagement_id=engagement),
                metadata=METADATA,
                timeout=TIMEOUT,
            ).status
        )

    eventually(engagement_status, lambda status: status == "active")


def test_therapy_recommends_coaching_and_the_accepted_referral_opens_an_engagement(
    stubs: Stubs,
) -> None:
    request = raised(
        stubs,
        to_service=pb.SERVICE_COACHING,
        reason=pb.REFERRAL_REASON_STABLE_FOR_COACHING,
    )
    accept(stubs, request.referral_id, by="coach-e2e")
    engagement_id = engagement_id_for_referral(request.referral_id)

    def opened() -> coaching.GetEngagementResponse | None:
        try:
            return stubs.coaching.GetEngagement(  # type: ignore[no-any-return]
                coaching.GetEngagementRequest(engagement_id=engagement_id),
                metadata=METADATA,
                timeout=TIMEOUT,
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    engagement = eventually(opened, lambda e: e is not None)
    assert engagement is not None
    assert (engagement.client_id, engagement.coach_id, engagement.site_id) == (
        request.client_id,
        "coach-e2e",
        request.site_id,
    )
    assert engagement.referral_id == request.referral_id
