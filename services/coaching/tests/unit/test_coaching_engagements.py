"""Engagements, concerns and therapy's answer: given events, when a command, then events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from coaching.domain import (
    EVENT_TYPES,
    CoachingConcernRaised,
    ConcernSettled,
    EngagementOpened,
    EngagementPaused,
    EngagementResumed,
    LogCoachingSession,
    OpenEngagement,
    OpenEngagementForReferral,
    RaiseConcern,
    SettleConcern,
    decide,
    engagement,
    fold,
    policy,
)
from coaching.domain.engagement import EngagementCommand, EngagementState
from coaching.domain.errors import (
    CoachingWaitsWhileTheEngagementIsPaused,
    ConcernIdMustNotBeReused,
    ConcernMustNotPrecedeTheLastResumption,
    DateMustNotBeInTheFuture,
    DateMustNotPrecedeTheEngagement,
    EngagementIdMustNotBeReused,
    EngagementMustExist,
    EngagementMustNotOpenInTheFuture,
    OnlyOneConcernMayBeOpenAtATime,
    TherapyOutcomeNeedsAnOpenConcern,
)
from infra.ddd import AlreadyRecorded, DomainEvent, InvalidInput, NotFound, RuleViolated

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
TODAY = D("2026-05-20")


def open_(**overrides: Any) -> OpenEngagement:
    fields: dict[str, Any] = {
        "engagement_id": "eng-1",
        "client_id": "client-7f3a",
        "coach_id": "coach-1",
        "site_id": "site-a",
        "opened_on": "2026-04-01",
    }
    return OpenEngagement(**(fields | overrides))


def concern(**overrides: Any) -> RaiseConcern:
    fields: dict[str, Any] = {
        "engagement_id": "eng-1",
        "concern_id": "con-1",
        "urgency": "urgent",
        "raised_on": "2026-05-10",
    }
    return RaiseConcern(**(fields | overrides))


def settle(**overrides: Any) -> SettleConcern:
    fields: dict[str, Any] = {
        "engagement_id": "eng-1",
        "referral_id": "ref-1",
        "completed_on": "2026-05-15",
        "recommendation": "resume_coaching",
    }
    return SettleConcern(**(fields | overrides))


def accepted(**overrides: Any) -> OpenEngagementForReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-9",
        "client_id": "client-7f3a",
        "coach_id": "coach-2",
        "site_id": "site-b",
        "accepted_on": "2026-05-18",
    }
    return OpenEngagementForReferral(**(fields | overrides))


def session(**overrides: Any) -> LogCoachingSession:
    fields: dict[str, Any] = {
        "engagement_id": "eng-1",
        "session_id": "s-1",
        "date": "2026-05-12",
        "minutes": 50,
    }
    return LogCoachingSession(**(fields | overrides))


OPENED = EngagementOpened(
    engagement_id="eng-1",
    client_id="client-7f3a",
    coach_id="coach-1",
    site_id="site-a",
    opened_on=D("2026-04-01"),
)


def given(*commands: EngagementCommand, today: dt.date = TODAY) -> EngagementState:
    """The state after each command was decided and recorded in turn."""
    state = fold([OPENED])
    for command in commands:
        state = fold(decide(state, command, today), state)
    return state


# Opening


def test_opening_an_engagement_records_it_and_makes_it_active() -> None:
    events = decide(fold([]), open_(), TODAY)

    assert events == [OPENED]
    state = fold(events)
    assert state.status == "active"
    assert state.engagement is not None
    assert state.engagement.client_id == "client-7f3a"
    assert state.engagement.referral_id is None


def test_opening_the_same_engagement_again_records_nothing() -> None:
    assert decide(given(), open_(), TODAY) == []


def test_reusing_an_engagement_id_for_another_client_is_refused() -> None:
    with pytest.raises(EngagementIdMustNotBeReused) as refused:
        decide(given(), open_(client_id="client-other"), TODAY)
    assert isinstance(refused.value, AlreadyRecorded)
    assert refused.value.engagement_id == "eng-1"


def test_an_engagement_cannot_open_after_today() -> None:
    with pytest.raises(EngagementMustNotOpenInTheFuture) as refused:
        decide(fold([]), open_(opened_on="2026-05-21"), TODAY)
    assert refused.value.field == "opened_on"


# Therapy recommends coaching: an accepted referral opens an engagement on its own


def test_an_accepted_referral_to_coaching_opens_an_engagement_named_after_the_referral() -> None:
    command = accepted()

    events = decide(fold([]), command, TODAY)

    engagement_id = str(uuid.uuid5(policy.ENGAGEMENT_ID_NAMESPACE, "ref-9"))
    assert command.engagement_id == engagement_id
    assert events == [
        EngagementOpened(
            engagement_id=engagement_id,
            client_id="client-7f3a",
            coach_id="coach-2",
            site_id="site-b",
            opened_on=D("2026-05-18"),
            referral_id="ref-9",
        )
    ]
    assert fold(events).status == "active"


def test_the_same_acceptance_delivered_again_opens_nothing_more() -> None:
    state = fold(decide(fold([]), accepted(), TODAY))

    assert decide(state, accepted(), TODAY) == []


def test_an_acceptance_conflicting_with_the_engagement_it_opened_is_refused() -> None:
    state = fold(decide(fold([]), accepted(), TODAY))

    with pytest.raises(EngagementIdMustNotBeReused):
        decide(state, accepted(coach_id="coach-other"), TODAY)


def test_an_acceptance_dated_after_this_services_today_is_still_recorded() -> None:
    # The referral service recorded the fact; a clock behind its own does not refuse it.
    events = decide(fold([]), accepted(accepted_on="2026-05-21"), TODAY)

    assert len(events) == 1


def test_an_engagement_id_is_derived_from_the_referral_id_only() -> None:
    assert policy.engagement_id_for_referral("ref-9") == policy.engagement_id_for_referral("ref-9")
    assert policy.engagement_id_for_referral("ref-9") != policy.engagement_id_for_referral("ref-8")


@pytest.mark.parametrize(
    ("origin", "engagement_id"),
    [
        ("coaching-engagement/eng-1", "eng-1"),
        ("coaching-engagement/", None),
        ("therapy-case/eng-1", None),
        (None, None),
    ],
)
def test_a_referrals_origin_names_the_engagement_that_waits_on_it(
    origin: str | None, engagement_id: str | None
) -> None:
    assert policy.engagement_of_origin(origin) == engagement_id


def test_the_origin_of_an_engagement_reads_back_as_that_engagement() -> None:
    assert policy.engagement_of_origin(policy.engagement_origin("eng-1")) == "eng-1"


# Concerns


def test_raising_a_concern_records_it_and_pauses_the_engagement() -> None:
    events = decide(given(), concern(), TODAY)

    assert events == [
        CoachingConcernRaised(
            engagement_id="eng-1",
            concern_id="con-1",
            client_id="client-7f3a",
            site_id="site-a",
            urgency="urgent",
            raised_on=D("2026-05-10"),
        ),
        EngagementPaused(engagement_id="eng-1", concern_id="con-1", paused_on=D("2026-05-10")),
    ]
    state = fold(events, given())
    assert state.status == "paused"
    assert state.open_concern is not None
    assert state.open_concern.concern_id == "con-1"


def test_a_concern_on_an_engagement_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(EngagementMustExist) as refused:
        decide(fold([]), concern(), TODAY)
    assert isinstance(refused.value, NotFound)
    assert refused.value.engagement_id == "eng-1"


def test_raising_the_same_concern_again_records_nothing() -> None:
    assert decide(given(concern()), concern(), TODAY) == []


def test_reusing_a_concern_id_with_other_content_is_refused() -> None:
    with pytest.raises(ConcernIdMustNotBeReused) as refused:
        decide(given(concern()), concern(urgency="routine"), TODAY)
    assert refused.value.concern_id == "con-1"


def test_a_second_concern_while_one_is_open_is_refused() -> None:
    with pytest.raises(OnlyOneConcernMayBeOpenAtATime) as refused:
        decide(given(concern()), concern(concern_id="con-2"), TODAY)
    assert refused.value.open_concern_id == "con-1"
    assert "a concern is already open" in str(refused.value)


def test_a_concern_cannot_predate_the_engagement() -> None:
    with pytest.raises(DateMustNotPrecedeTheEngagement) as refused:
        decide(given(), concern(raised_on="2026-03-31"), TODAY)
    assert refused.value.field == "raised_on"


def test_a_concern_on_the_day_the_engagement_opened_is_accepted() -> None:
    assert len(decide(given(), concern(raised_on="2026-04-01"), TODAY)) == 2


def test_a_concern_cannot_be_raised_after_today() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(given(), concern(raised_on="2026-05-21"), TODAY)
    assert refused.value.field == "raised_on"


# Therapy's answer: the referral a concern raised completes


def test_a_completed_referral_recommending_coaching_settles_the_concern_and_resumes() -> None:
    events = decide(given(concern()), settle(), TODAY)

    assert events == [
        ConcernSettled(
            engagement_id="eng-1",
            concern_id="con-1",
            referral_id="ref-1",
            completed_on=D("2026-05-15"),
            recommendation="resume_coaching",
        ),
        EngagementResumed(
            engagement_id="eng-1",
            concern_id="con-1",
            referral_id="ref-1",
            resumed_on=D("2026-05-15"),
        ),
    ]
    state = fold(events, given(concern()))
    assert state.status == "active"
    assert state.open_concern is None
    assert state.concerns[0].status == "settled"
    assert state.pauses[0].resumed_on == D("2026-05-15")


@pytest.mark.parametrize("recommendation", ["continue_in_therapy", "no_recommendation"])
def test_a_completed_referral_without_a_resume_recommendation_leaves_the_engagement_paused(
    recommendation: str,
) -> None:
    events = decide(given(concern()), settle(recommendation=recommendation), TODAY)

    assert [type(e) for e in events] == [ConcernSettled]
    state = fold(events, given(concern()))
    assert state.status == "paused"
    assert state.concerns[0].recommendation == recommendation


@pytest.mark.parametrize("recommendation", ["resume_coaching", "continue_in_therapy"])
def test_the_same_completion_delivered_again_records_nothing(recommendation: str) -> None:
    state = given(concern(), settle(recommendation=recommendation))

    assert decide(state, settle(recommendation=recommendation), TODAY) == []


def test_a_completion_for_an_engagement_with_no_open_concern_is_refused_naming_its_state() -> None:
    with pytest.raises(TherapyOutcomeNeedsAnOpenConcern) as refused:
        decide(given(), settle(), TODAY)
    assert isinstance(refused.value, RuleViolated)
    assert "engagement eng-1 is active with no open concern" in str(refused.value)


def test_a_completion_for_an_unknown_engagement_is_not_found() -> None:
    with pytest.raises(EngagementMustExist):
        decide(fold([]), settle(), TODAY)


def test_a_completion_dated_before_the_concern_resumes_no_earlier_than_the_pause() -> None:
    events = decide(given(concern()), settle(completed_on="2026-05-01"), TODAY)

    assert isinstance(events[-1], EngagementResumed)
    assert events[-1].resumed_on == D("2026-05-10")


def test_after_resuming_a_new_concern_pauses_the_engagement_again() -> None:
    state = given(concern(), settle())

    events = decide(state, concern(concern_id="con-2", raised_on="2026-05-18"), TODAY)

    assert [type(e) for e in events] == [CoachingConcernRaised, EngagementPaused]
    assert fold(events, state).status == "paused"


def test_a_new_concern_cannot_predate_the_last_resumption() -> None:
    state = given(concern(), settle())

    with pytest.raises(ConcernMustNotPrecedeTheLastResumption) as refused:
        decide(state, concern(concern_id="con-2", raised_on="2026-05-05"), TODAY)
    assert refused.value.field == "raised_on"


def test_a_new_concern_while_therapy_kept_the_client_is_refused_naming_the_pause() -> None:
    state = given(concern(), settle(recommendation="continue_in_therapy"))

    with pytest.raises(CoachingWaitsWhileTheEngagementIsPaused) as refused:
        decide(state, concern(concern_id="con-2", raised_on="2026-05-10"), TODAY)
    assert "is paused since 2026-05-10" in str(refused.value)


# Pauses: no coaching work is dated inside one


def test_a_session_after_the_concern_is_refused_while_paused_naming_the_state() -> None:
    with pytest.raises(CoachingWaitsWhileTheEngagementIsPaused) as refused:
        decide(given(concern()), session(date="2026-05-11"), TODAY)
    assert isinstance(refused.value, RuleViolated)
    assert str(refused.value) == (
        "engagement eng-1 is paused since 2026-05-10 (concern con-1); no coaching session dated"
        " 2026-05-11 until therapy recommends resuming coaching"
    )


@pytest.mark.parametrize("day", ["2026-05-10", "2026-05-09"])
def test_the_session_that_raised_the_concern_can_still_be_logged_while_paused(day: str) -> None:
    assert len(decide(given(concern()), session(date=day), TODAY)) == 1


def test_after_resuming_a_session_inside_the_pause_is_refused() -> None:
    state = given(concern(), settle())

    with pytest.raises(CoachingWaitsWhileTheEngagementIsPaused) as refused:
        decide(state, session(date="2026-05-12"), TODAY)
    assert "was paused from 2026-05-10 to 2026-05-15" in str(refused.value)


def test_after_resuming_sessions_from_the_day_coaching_resumed_are_logged() -> None:
    state = given(concern(), settle())

    assert len(decide(state, session(date="2026-05-15"), TODAY)) == 1


def test_the_engagement_stream_is_named_after_the_engagement() -> None:
    assert engagement.stream_id("eng-1") == "engagement-eng-1"


def test_engagement_and_concern_events_survive_a_round_trip_through_storage() -> None:
    events: list[DomainEvent] = [
        OPENED,
        *decide(given(), concern(), TODAY),
        *decide(given(concern()), settle(), TODAY),
        *decide(fold([]), accepted(), TODAY),
    ]

    for event in events:
        assert EVENT_TYPES.load(event.type, event.to_data()) == event


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (open_, "engagement_id", ""),
        (open_, "client_id", "Jane Doe"),
        (open_, "opened_on", "yesterday"),
        (concern, "concern_id", "x" * 65),
        (concern, "urgency", "emergency"),
        (concern, "raised_on", ""),
        (settle, "recommendation", "maybe"),
        (accepted, "referral_id", "has spaces"),
    ],
)
def test_malformed_fields_are_refused_by_name(make: Any, field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make(**{field: value})
    assert refused.value.field == field
