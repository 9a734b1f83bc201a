"""The referral loop after raising: given events, when a step, then events or the named error.

Every step: its happy path, its retry (records nothing), and every rule it can break.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.ddd import DomainEvent, InvalidInput, RuleViolated
from referral.domain import (
    MIN_CONTACT_ATTEMPTS,
    AcceptReferral,
    CancelReferral,
    CloseReferralUnableToEngage,
    CompleteReferral,
    ContactAttemptRecorded,
    DeclineReferral,
    RecordContactAttempt,
    RedirectReferral,
    ReferralAccepted,
    ReferralCancelled,
    ReferralClosedUnableToEngage,
    ReferralCommand,
    ReferralCompleted,
    ReferralDeclined,
    ReferralRaised,
    ReferralRedirected,
    ReferralScheduled,
    ReferralState,
    ScheduleReferral,
    decide,
    fold,
)
from referral.domain.errors import (
    AppointmentMustNotPrecedeTheReferral,
    ClientMustBeContactedBeforeClosingUnableToEngage,
    ContactAttemptIdMustNotBeReused,
    OtherMustBeExplained,
    RedirectedSubstanceUseRecordMustCarryConsent,
    ReferralMustAwaitAcceptance,
    ReferralMustBeAcceptedToBeScheduled,
    ReferralMustBeOpenToBeCancelled,
    ReferralMustBeScheduledToBeCompleted,
    ReferralMustBeTakenOnToCloseUnableToEngage,
    ReferralMustBeTakenOnToContactTheClient,
    ReferralMustExist,
    ReferralMustGoToAnotherService,
    ResumingCoachingMustAnswerAReferralFromCoaching,
    StepMustNotBeDatedInTheFuture,
    StepsMustBeDatedInOrder,
)

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
ACTOR = "coordinator-1"

RAISED = ReferralRaised(
    referral_id="ref-1",
    client_id="client-7f3a",
    site_id="site-a",
    from_service="coaching",
    to_service="therapy",
    urgency="urgent",
    raised_on=dt.date(2026, 5, 19),
    source="coaching-concern/con-1",
    raised_at=dt.datetime(2026, 5, 19, 14, 30, tzinfo=dt.UTC),
    origin="coaching-engagement/eng-1",
    reason="symptoms_resurfaced",
)
SUBSTANCE_USE = RAISED.model_copy(
    update={"substance_use_record": True, "consent_reference": "consent/c-1"}
)
ACCEPTED = ReferralAccepted(
    referral_id="ref-1",
    client_id="client-7f3a",
    site_id="site-a",
    from_service="coaching",
    to_service="therapy",
    source="coaching-concern/con-1",
    origin="coaching-engagement/eng-1",
    accepted_by="therapist-1",
    accepted_on=dt.date(2026, 5, 20),
)
SCHEDULED = ReferralScheduled(
    referral_id="ref-1",
    appointment_on=dt.date(2026, 5, 27),
    scheduled_by=ACTOR,
    scheduled_on=dt.date(2026, 5, 21),
)
DECLINED = ReferralDeclined(
    referral_id="ref-1",
    declined_by=ACTOR,
    declined_on=dt.date(2026, 5, 20),
    reason="no_capacity",
)
REDIRECTED = ReferralRedirected(
    referral_id="ref-1",
    from_to_service="therapy",
    to_service="psychiatry",
    redirected_by=ACTOR,
    redirected_on=dt.date(2026, 5, 20),
    reason="better_fit_elsewhere",
)
COMPLETED = ReferralCompleted(
    referral_id="ref-1",
    client_id="client-7f3a",
    from_service="coaching",
    to_service="therapy",
    source="coaching-concern/con-1",
    origin="coaching-engagement/eng-1",
    completed_by=ACTOR,
    completed_on=dt.date(2026, 5, 30),
    outcome="care_completed",
    feedback="Stable after six sessions; coaching may resume.",
    recommendation="resume_coaching",
)
CANCELLED = ReferralCancelled(
    referral_id="ref-1",
    cancelled_by=ACTOR,
    cancelled_on=dt.date(2026, 5, 20),
    reason="client_withdrew",
)


def attempt(n: int, on: dt.date) -> ContactAttemptRecorded:
    return ContactAttemptRecorded(
        referral_id="ref-1",
        attempt_id=f"att-{n}",
        attempted_on=on,
        channel="phone",
        recorded_by=ACTOR,
    )


ATTEMPTS = [attempt(1, dt.date(2026, 5, 22)), attempt(2, dt.date(2026, 5, 25))]
THREE_ATTEMPTS = [*ATTEMPTS, attempt(3, dt.date(2026, 5, 28))]
CLOSED_UNABLE = ReferralClosedUnableToEngage(
    referral_id="ref-1",
    attempts=tuple(a.attempted_on for a in THREE_ATTEMPTS),
    closed_by=ACTOR,
    closed_on=dt.date(2026, 5, 29),
)


def given(*events: DomainEvent) -> ReferralState:
    return fold(events)


def when(state: ReferralState, command: ReferralCommand) -> list[DomainEvent]:
    return decide(state, command, NOW)


def accept(**overrides: Any) -> AcceptReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "accepted_by": "therapist-1",
        "accepted_on": "2026-05-20",
        "actor": ACTOR,
    }
    return AcceptReferral(**(fields | overrides))


def decline(**overrides: Any) -> DeclineReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "reason": "no_capacity",
        "declined_on": "2026-05-20",
        "actor": ACTOR,
    }
    return DeclineReferral(**(fields | overrides))


def redirect(**overrides: Any) -> RedirectReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "to_service": "psychiatry",
        "reason": "better_fit_elsewhere",
        "redirected_on": "2026-05-20",
        "actor": ACTOR,
    }
    return RedirectReferral(**(fields | overrides))


def schedule(**overrides: Any) -> ScheduleReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "appointment_on": "2026-05-27",
        "scheduled_on": "2026-05-21",
        "actor": ACTOR,
    }
    return ScheduleReferral(**(fields | overrides))


def contact(**overrides: Any) -> RecordContactAttempt:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "attempt_id": "att-1",
        "attempted_on": "2026-05-22",
        "channel": "phone",
        "actor": ACTOR,
    }
    return RecordContactAttempt(**(fields | overrides))


def complete(**overrides: Any) -> CompleteReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "outcome": "care_completed",
        "feedback": "Stable after six sessions; coaching may resume.",
        "recommendation": "resume_coaching",
        "completed_on": "2026-05-30",
        "actor": ACTOR,
    }
    return CompleteReferral(**(fields | overrides))


def close(**overrides: Any) -> CloseReferralUnableToEngage:
    fields: dict[str, Any] = {"referral_id": "ref-1", "closed_on": "2026-05-29", "actor": ACTOR}
    return CloseReferralUnableToEngage(**(fields | overrides))


def cancel(**overrides: Any) -> CancelReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "reason": "client_withdrew",
        "cancelled_on": "2026-05-20",
        "actor": ACTOR,
    }
    return CancelReferral(**(fields | overrides))


# --- accept -----------------------------------------------------------------------------------


def test_accepting_a_raised_referral_names_who_took_the_client_on() -> None:
    events = when(given(RAISED), accept())

    assert events == [ACCEPTED]
    state = given(RAISED, *events)
    assert (state.status, state.accepted_by) == ("accepted", "therapist-1")


def test_an_acceptance_carries_the_client_site_source_and_origin_for_the_referrer() -> None:
    (event,) = when(given(RAISED), accept())

    assert isinstance(event, ReferralAccepted)
    assert (event.client_id, event.site_id, event.origin) == (
        "client-7f3a",
        "site-a",
        "coaching-engagement/eng-1",
    )


def test_an_undated_acceptance_is_dated_today() -> None:
    (event,) = when(given(RAISED), accept(accepted_on=None))

    assert isinstance(event, ReferralAccepted)
    assert event.accepted_on == TODAY


def test_a_redirected_referral_is_accepted_at_the_service_it_was_sent_to() -> None:
    (event,) = when(given(RAISED, REDIRECTED), accept(accepted_by="psychiatrist-1"))

    assert isinstance(event, ReferralAccepted)
    assert event.to_service == "psychiatry"


def test_accepting_again_records_nothing() -> None:
    assert when(given(RAISED, ACCEPTED), accept()) == []
    assert when(given(RAISED, ACCEPTED, SCHEDULED), accept(accepted_on=None)) == []


def test_an_accepted_referral_cannot_be_accepted_by_someone_else() -> None:
    with pytest.raises(ReferralMustAwaitAcceptance) as refused:
        when(given(RAISED, ACCEPTED), accept(accepted_by="therapist-2"))
    assert "referral ref-1 is accepted" in str(refused.value)


def test_a_declined_referral_cannot_be_accepted() -> None:
    with pytest.raises(ReferralMustAwaitAcceptance) as refused:
        when(given(RAISED, DECLINED), accept())
    assert refused.value.status == "declined"
    assert str(refused.value) == (
        "referral ref-1 is declined; only a referral awaiting acceptance (raised or redirected)"
        " can be accepted"
    )


def test_an_unknown_referral_cannot_be_accepted() -> None:
    with pytest.raises(ReferralMustExist):
        when(given(), accept())


def test_an_acceptance_cannot_be_dated_in_the_future() -> None:
    with pytest.raises(StepMustNotBeDatedInTheFuture) as refused:
        when(given(RAISED), accept(accepted_on=TODAY + dt.timedelta(days=1)))
    assert refused.value.field == "accepted_on"


def test_an_acceptance_cannot_be_dated_before_the_referral() -> None:
    with pytest.raises(StepsMustBeDatedInOrder) as refused:
        when(given(RAISED), accept(accepted_on="2026-05-18"))
    assert refused.value.field == "accepted_on"


def test_the_person_who_accepts_must_be_named_by_an_id() -> None:
    with pytest.raises(InvalidInput) as refused:
        accept(accepted_by="Dr Jane Smith")
    assert refused.value.field == "accepted_by"


# --- decline ----------------------------------------------------------------------------------


def test_declining_a_raised_referral_closes_the_loop_with_the_reason() -> None:
    events = when(given(RAISED), decline())

    assert events == [DECLINED]
    assert given(RAISED, *events).status == "declined"
    assert not given(RAISED, *events).is_open


def test_a_decline_needs_a_reason() -> None:
    with pytest.raises(InvalidInput) as refused:
        decline(reason="")
    assert refused.value.field == "reason"


def test_a_decline_for_another_reason_must_say_what_it_was() -> None:
    with pytest.raises(OtherMustBeExplained) as refused:
        decline(reason="other")
    assert refused.value.field == "note"


def test_declining_again_records_nothing() -> None:
    assert when(given(RAISED, DECLINED), decline()) == []


def test_an_accepted_referral_cannot_be_declined() -> None:
    with pytest.raises(ReferralMustAwaitAcceptance) as refused:
        when(given(RAISED, ACCEPTED), decline())
    assert "is accepted" in str(refused.value)


# --- redirect ---------------------------------------------------------------------------------


def test_redirecting_sends_the_referral_on_to_await_acceptance_there() -> None:
    events = when(given(RAISED), redirect())

    assert events == [REDIRECTED]
    state = given(RAISED, *events)
    assert (state.status, state.to_service) == ("redirected", "psychiatry")


def test_a_redirected_referral_can_be_redirected_again() -> None:
    (event,) = when(given(RAISED, REDIRECTED), redirect(to_service="consultation"))

    assert isinstance(event, ReferralRedirected)
    assert (event.from_to_service, event.to_service) == ("psychiatry", "consultation")


def test_redirecting_again_records_nothing() -> None:
    assert when(given(RAISED, REDIRECTED), redirect()) == []


@pytest.mark.parametrize("to_service", ["therapy", "coaching"])
def test_a_redirect_must_go_to_another_service_than_where_it_is_or_came_from(
    to_service: str,
) -> None:
    with pytest.raises(ReferralMustGoToAnotherService) as refused:
        when(given(RAISED), redirect(to_service=to_service))
    assert refused.value.field == "to_service"


def test_an_accepted_referral_cannot_be_redirected() -> None:
    with pytest.raises(ReferralMustAwaitAcceptance) as refused:
        when(given(RAISED, ACCEPTED), redirect())
    assert refused.value.status == "accepted"


def test_a_substance_use_record_is_redirected_only_with_consent_covering_the_new_service() -> None:
    with pytest.raises(RedirectedSubstanceUseRecordMustCarryConsent) as refused:
        when(given(SUBSTANCE_USE), redirect())
    assert refused.value.field == "consent_reference"

    events = when(given(SUBSTANCE_USE), redirect(consent_reference="consent/c-2"))
    assert given(SUBSTANCE_USE, *events).consent_reference == "consent/c-2"


# --- schedule ---------------------------------------------------------------------------------


def test_scheduling_an_accepted_referral_books_its_first_appointment() -> None:
    events = when(given(RAISED, ACCEPTED), schedule())

    assert events == [SCHEDULED]
    state = given(RAISED, ACCEPTED, *events)
    assert (state.status, state.appointment_on) == ("scheduled", dt.date(2026, 5, 27))


def test_scheduling_again_records_nothing() -> None:
    assert when(given(RAISED, ACCEPTED, SCHEDULED), schedule()) == []


def test_a_referral_not_yet_accepted_cannot_be_scheduled() -> None:
    with pytest.raises(ReferralMustBeAcceptedToBeScheduled) as refused:
        when(given(RAISED), schedule())
    assert str(refused.value) == (
        "referral ref-1 is raised; only an accepted referral can be scheduled"
    )


def test_a_scheduled_referral_cannot_be_scheduled_for_another_day() -> None:
    with pytest.raises(ReferralMustBeAcceptedToBeScheduled) as refused:
        when(given(RAISED, ACCEPTED, SCHEDULED), schedule(appointment_on="2026-06-03"))
    assert refused.value.status == "scheduled"


def test_an_appointment_cannot_precede_the_referral() -> None:
    with pytest.raises(AppointmentMustNotPrecedeTheReferral) as refused:
        when(given(RAISED, ACCEPTED), schedule(appointment_on="2026-05-01"))
    assert refused.value.field == "appointment_on"


def test_a_scheduling_cannot_be_dated_before_the_acceptance() -> None:
    with pytest.raises(StepsMustBeDatedInOrder) as refused:
        when(given(RAISED, ACCEPTED), schedule(scheduled_on="2026-05-19"))
    assert refused.value.field == "scheduled_on"


# --- contact attempts -------------------------------------------------------------------------


@pytest.mark.parametrize("taken_on", [[ACCEPTED], [ACCEPTED, SCHEDULED]])
def test_attempts_to_reach_the_client_are_recorded_once_taken_on(
    taken_on: list[DomainEvent],
) -> None:
    events = when(given(RAISED, *taken_on), contact())

    assert events == [attempt(1, dt.date(2026, 5, 22))]
    assert len(given(RAISED, *taken_on, *events).attempts) == 1


def test_recording_an_attempt_again_records_nothing() -> None:
    assert when(given(RAISED, ACCEPTED, *ATTEMPTS), contact()) == []


def test_an_attempt_id_cannot_be_reused_for_another_attempt() -> None:
    with pytest.raises(ContactAttemptIdMustNotBeReused) as refused:
        when(given(RAISED, ACCEPTED, *ATTEMPTS), contact(channel="email"))
    assert refused.value.attempt_id == "att-1"


def test_the_client_is_not_contacted_before_the_referral_is_accepted() -> None:
    with pytest.raises(ReferralMustBeTakenOnToContactTheClient) as refused:
        when(given(RAISED), contact())
    assert "referral ref-1 is raised" in str(refused.value)


def test_an_attempt_cannot_be_dated_in_the_future_or_before_the_acceptance() -> None:
    with pytest.raises(StepMustNotBeDatedInTheFuture) as future:
        when(given(RAISED, ACCEPTED), contact(attempted_on=TODAY + dt.timedelta(days=1)))
    assert future.value.field == "attempted_on"
    with pytest.raises(StepsMustBeDatedInOrder) as early:
        when(given(RAISED, ACCEPTED), contact(attempted_on="2026-05-19"))
    assert early.value.field == "attempted_on"


def test_a_contact_attempt_needs_a_channel() -> None:
    with pytest.raises(InvalidInput) as refused:
        contact(channel="carrier pigeon")
    assert refused.value.field == "channel"


# --- complete ---------------------------------------------------------------------------------


def test_completing_a_scheduled_referral_sends_outcome_and_recommendation_to_the_referrer() -> None:
    events = when(given(RAISED, ACCEPTED, SCHEDULED), complete())

    assert events == [COMPLETED]
    state = given(RAISED, ACCEPTED, SCHEDULED, *events)
    assert state.status == "completed"
    assert state.completion is not None
    assert state.completion.recommendation == "resume_coaching"


def test_completing_again_records_nothing() -> None:
    assert when(given(RAISED, ACCEPTED, SCHEDULED, COMPLETED), complete()) == []


def test_a_completed_referral_cannot_be_completed_otherwise() -> None:
    with pytest.raises(ReferralMustBeScheduledToBeCompleted) as refused:
        when(
            given(RAISED, ACCEPTED, SCHEDULED, COMPLETED),
            complete(recommendation="continue_in_therapy"),
        )
    assert refused.value.status == "completed"


def test_a_referral_without_an_appointment_cannot_be_completed() -> None:
    with pytest.raises(ReferralMustBeScheduledToBeCompleted) as refused:
        when(given(RAISED, ACCEPTED), complete())
    assert str(refused.value) == (
        "referral ref-1 is accepted; only a scheduled referral can be completed"
    )


def test_only_a_referral_from_coaching_can_be_answered_with_resuming_coaching() -> None:
    from_therapy = RAISED.model_copy(update={"from_service": "therapy", "to_service": "psychiatry"})
    accepted = ACCEPTED.model_copy(update={"from_service": "therapy", "to_service": "psychiatry"})
    with pytest.raises(ResumingCoachingMustAnswerAReferralFromCoaching) as refused:
        when(given(from_therapy, accepted, SCHEDULED), complete())
    assert refused.value.field == "recommendation"


@pytest.mark.parametrize(
    ("field", "value"),
    [("feedback", ""), ("feedback", "x" * 2001), ("outcome", "fine"), ("recommendation", "")],
)
def test_a_completion_needs_an_outcome_feedback_and_a_recommendation(
    field: str, value: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        complete(**{field: value})
    assert refused.value.field == field


# --- close unable to engage -------------------------------------------------------------------


def test_three_attempts_are_needed_before_closing_unable_to_engage() -> None:
    assert MIN_CONTACT_ATTEMPTS == 3


def test_closing_unable_to_engage_after_enough_attempts_records_their_dates() -> None:
    events = when(given(RAISED, ACCEPTED, *THREE_ATTEMPTS), close())

    assert events == [CLOSED_UNABLE]
    assert given(RAISED, ACCEPTED, *THREE_ATTEMPTS, *events).status == "closed_unable_to_engage"


def test_a_scheduled_client_who_never_came_can_be_closed_unable_to_engage() -> None:
    assert when(given(RAISED, ACCEPTED, SCHEDULED, *THREE_ATTEMPTS), close())


def test_closing_again_records_nothing() -> None:
    assert when(given(RAISED, ACCEPTED, *THREE_ATTEMPTS, CLOSED_UNABLE), close()) == []


def test_a_referral_cannot_be_closed_unable_to_engage_before_enough_attempts() -> None:
    with pytest.raises(ClientMustBeContactedBeforeClosingUnableToEngage) as refused:
        when(given(RAISED, ACCEPTED, *ATTEMPTS), close())
    assert (refused.value.attempts, refused.value.needed) == (2, 3)
    assert "referral ref-1 is accepted, with 2 recorded contact attempt(s)" in str(refused.value)


def test_a_referral_not_taken_on_cannot_be_closed_unable_to_engage() -> None:
    with pytest.raises(ReferralMustBeTakenOnToCloseUnableToEngage) as refused:
        when(given(RAISED), close())
    assert refused.value.status == "raised"


def test_a_closing_cannot_be_dated_before_the_last_attempt() -> None:
    with pytest.raises(StepsMustBeDatedInOrder) as refused:
        when(given(RAISED, ACCEPTED, *THREE_ATTEMPTS), close(closed_on="2026-05-27"))
    assert refused.value.field == "closed_on"


# --- cancel -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "open_", [[RAISED], [RAISED, REDIRECTED], [RAISED, ACCEPTED], [RAISED, ACCEPTED, SCHEDULED]]
)
def test_the_referrer_can_cancel_an_open_referral(open_: list[DomainEvent]) -> None:
    events = when(given(*open_), cancel(cancelled_on=None))

    assert [type(e) for e in events] == [ReferralCancelled]
    assert given(*open_, *events).status == "cancelled"


def test_cancelling_again_records_nothing() -> None:
    assert when(given(RAISED, CANCELLED), cancel()) == []


def test_a_closed_referral_cannot_be_cancelled() -> None:
    with pytest.raises(ReferralMustBeOpenToBeCancelled) as refused:
        when(given(RAISED, ACCEPTED, SCHEDULED, COMPLETED), cancel(cancelled_on=None))
    assert str(refused.value) == (
        "referral ref-1 is completed; only an open referral can be cancelled"
    )


def test_a_cancellation_for_another_reason_must_say_what_it_was() -> None:
    with pytest.raises(OtherMustBeExplained):
        cancel(reason="other")
    assert cancel(reason="other", note="family moved the client to a private clinic").note


# --- a closed loop accepts nothing more -------------------------------------------------------

CLOSED_LOOPS = {
    "completed": [RAISED, ACCEPTED, SCHEDULED, COMPLETED],
    "declined": [RAISED, DECLINED],
    "closed_unable_to_engage": [RAISED, ACCEPTED, *THREE_ATTEMPTS, CLOSED_UNABLE],
    "cancelled": [RAISED, CANCELLED],
}
STEPS: dict[str, ReferralCommand] = {
    "accept": accept(accepted_by="someone-else"),
    "decline": decline(reason="outside_scope"),
    "redirect": redirect(to_service="consultation"),
    "schedule": schedule(appointment_on="2026-06-02"),
    "contact": contact(attempt_id="att-9"),
    "complete": complete(outcome="engaged_in_care"),
    "close": close(closed_on="2026-05-31"),
    "cancel": cancel(reason="need_resolved"),
}


@pytest.mark.parametrize("status", sorted(CLOSED_LOOPS))
@pytest.mark.parametrize("step", sorted(STEPS))
def test_a_closed_referral_refuses_every_other_step_naming_its_state(
    status: str, step: str
) -> None:
    with pytest.raises(RuleViolated) as refused:
        when(given(*CLOSED_LOOPS[status]), STEPS[step])
    assert f"referral ref-1 is {status.replace('_', ' ')}" in str(refused.value)


def test_every_step_survives_a_round_trip_through_storage() -> None:
    from referral.domain import EVENT_TYPES

    for event in [ACCEPTED, SCHEDULED, DECLINED, REDIRECTED, COMPLETED, CANCELLED, CLOSED_UNABLE]:
        assert EVENT_TYPES.load(event.type, event.to_data()) == event
    assert EVENT_TYPES.load(ATTEMPTS[0].type, ATTEMPTS[0].to_data()) == ATTEMPTS[0]


def test_the_history_keeps_every_step_in_order() -> None:
    state = given(RAISED, REDIRECTED, ACCEPTED.model_copy(update={"to_service": "psychiatry"}))

    assert [s.status for s in state.history] == ["redirected", "accepted"]
    assert state.history[0].to_service == "psychiatry"
