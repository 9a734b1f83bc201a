"""Engagements and concerns: given events, when a command, then events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from coaching.domain import (
    EVENT_TYPES,
    CoachingConcernRaised,
    EngagementOpened,
    EngagementPaused,
    OpenEngagement,
    RaiseConcern,
    decide,
    engagement,
    fold,
)
from coaching.domain.errors import (
    ConcernIdMustNotBeReused,
    ConcernMustNotBeRaisedInTheFuture,
    ConcernMustNotPrecedeTheEngagement,
    EngagementIdMustNotBeReused,
    EngagementMustExist,
    EngagementMustNotOpenInTheFuture,
    OnlyOneConcernMayBeOpenAtATime,
)
from infra.ddd import DomainEvent, InvalidInput, NotFound

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
        "raised_on": "2026-05-19",
    }
    return RaiseConcern(**(fields | overrides))


OPENED = EngagementOpened(
    engagement_id="eng-1",
    client_id="client-7f3a",
    coach_id="coach-1",
    site_id="site-a",
    opened_on=D("2026-04-01"),
)


def given(*events: DomainEvent) -> engagement.EngagementState:
    return fold(events)


def test_opening_an_engagement_records_it_and_makes_it_active() -> None:
    events = decide(given(), open_(), TODAY)

    assert events == [OPENED]
    state = fold(events)
    assert state.status == "active"
    assert state.engagement is not None
    assert state.engagement.client_id == "client-7f3a"


def test_opening_the_same_engagement_again_records_nothing() -> None:
    assert decide(given(OPENED), open_(), TODAY) == []


def test_reusing_an_engagement_id_for_another_client_is_refused() -> None:
    with pytest.raises(EngagementIdMustNotBeReused) as refused:
        decide(given(OPENED), open_(client_id="client-other"), TODAY)
    assert refused.value.engagement_id == "eng-1"


def test_an_engagement_cannot_open_after_today() -> None:
    with pytest.raises(EngagementMustNotOpenInTheFuture) as refused:
        decide(given(), open_(opened_on="2026-05-21"), TODAY)
    assert refused.value.field == "opened_on"


def test_raising_a_concern_records_it_and_pauses_the_engagement() -> None:
    events = decide(given(OPENED), concern(), TODAY)

    assert events == [
        CoachingConcernRaised(
            engagement_id="eng-1",
            concern_id="con-1",
            client_id="client-7f3a",
            site_id="site-a",
            urgency="urgent",
            raised_on=D("2026-05-19"),
        ),
        EngagementPaused(engagement_id="eng-1", concern_id="con-1", paused_on=D("2026-05-19")),
    ]
    state = fold(events, given(OPENED))
    assert state.status == "paused"
    assert state.open_concern is not None
    assert state.open_concern.concern_id == "con-1"


def test_a_concern_on_an_engagement_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(EngagementMustExist) as refused:
        decide(given(), concern(), TODAY)
    assert isinstance(refused.value, NotFound)
    assert refused.value.engagement_id == "eng-1"


def test_raising_the_same_concern_again_records_nothing() -> None:
    state = fold(decide(given(OPENED), concern(), TODAY), given(OPENED))

    assert decide(state, concern(), TODAY) == []


def test_reusing_a_concern_id_with_other_content_is_refused() -> None:
    state = fold(decide(given(OPENED), concern(), TODAY), given(OPENED))

    with pytest.raises(ConcernIdMustNotBeReused) as refused:
        decide(state, concern(urgency="routine"), TODAY)
    assert refused.value.concern_id == "con-1"


def test_a_second_concern_while_one_is_open_is_refused() -> None:
    state = fold(decide(given(OPENED), concern(), TODAY), given(OPENED))

    with pytest.raises(OnlyOneConcernMayBeOpenAtATime) as refused:
        decide(state, concern(concern_id="con-2"), TODAY)
    assert refused.value.open_concern_id == "con-1"
    assert "a concern is already open" in str(refused.value)


def test_a_concern_cannot_predate_the_engagement() -> None:
    with pytest.raises(ConcernMustNotPrecedeTheEngagement) as refused:
        decide(given(OPENED), concern(raised_on="2026-03-31"), TODAY)
    assert refused.value.field == "raised_on"


def test_a_concern_on_the_day_the_engagement_opened_is_accepted() -> None:
    assert len(decide(given(OPENED), concern(raised_on="2026-04-01"), TODAY)) == 2


def test_a_concern_cannot_be_raised_after_today() -> None:
    with pytest.raises(ConcernMustNotBeRaisedInTheFuture) as refused:
        decide(given(OPENED), concern(raised_on="2026-05-21"), TODAY)
    assert refused.value.field == "raised_on"


@pytest.mark.parametrize("field", ["diagnosis", "treatment", "notes"])
def test_coaching_commands_refuse_clinical_fields(field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        concern(**{field: "anything"})
    assert refused.value.field == field


def test_no_coaching_event_has_a_diagnosis_or_treatment_field() -> None:
    for event_class in (EngagementOpened, CoachingConcernRaised, EngagementPaused):
        names = " ".join(event_class.model_fields)
        assert "diagnos" not in names
        assert "treat" not in names


@pytest.mark.parametrize(
    ("make", "field", "value"),
    [
        (open_, "engagement_id", ""),
        (open_, "client_id", "Jane Doe"),
        (open_, "opened_on", "yesterday"),
        (concern, "concern_id", "x" * 65),
        (concern, "urgency", "emergency"),
        (concern, "raised_on", ""),
    ],
)
def test_malformed_fields_are_refused_by_name(make: Any, field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make(**{field: value})
    assert refused.value.field == field


def test_coaching_events_survive_a_round_trip_through_storage() -> None:
    events = [OPENED, *decide(given(OPENED), concern(), TODAY)]

    for event in events:
        assert EVENT_TYPES.load(event.type, event.to_data()) == event


def test_the_engagement_stream_is_named_after_the_engagement() -> None:
    assert engagement.stream_id("eng-1") == "engagement-eng-1"
