"""A coaching concern becomes a referral back to therapy, the same one on every redelivery."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from referral.domain import (
    CoachingConcern,
    ReferralRaised,
    already_raised,
    decide,
    fold,
    referral,
    referral_for_concern,
)

pytestmark = pytest.mark.unit

RECORDED_AT = dt.datetime(2026, 5, 19, 16, 5, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 5, 19, 16, 6, tzinfo=dt.UTC)


def concern(**overrides: Any) -> CoachingConcern:
    fields: dict[str, Any] = {
        "engagement_id": "eng-1",
        "concern_id": "con-1",
        "client_id": "client-7f3a",
        "site_id": "site-a",
        "urgency": "urgent",
        "raised_on": dt.date(2026, 5, 19),
        "recorded_at": RECORDED_AT,
    }
    return CoachingConcern(**(fields | overrides))


def test_a_concern_refers_the_client_from_coaching_back_to_therapy() -> None:
    command = referral_for_concern(concern())

    assert command.from_service == "coaching"
    assert command.to_service == "therapy"
    assert command.client_id == "client-7f3a"
    assert command.site_id == "site-a"
    assert command.raised_on == dt.date(2026, 5, 19)
    assert command.source == "coaching-concern/con-1"
    assert command.reason == "symptoms_resurfaced"


def test_the_engagement_waiting_on_the_referral_is_its_origin() -> None:
    assert referral_for_concern(concern()).origin == "coaching-engagement/eng-1"


def test_the_referral_was_made_when_coaching_recorded_the_concern() -> None:
    (event,) = decide(referral.INITIAL, referral_for_concern(concern()), NOW)

    assert isinstance(event, ReferralRaised)
    assert event.raised_at == RECORDED_AT
    assert event.acknowledgement_due_at == RECORDED_AT + dt.timedelta(hours=4)


@pytest.mark.parametrize("urgency", ["routine", "urgent"])
def test_the_concerns_urgency_carries_over(urgency: str) -> None:
    assert referral_for_concern(concern(urgency=urgency)).urgency == urgency


def test_the_same_concern_always_yields_the_same_referral() -> None:
    assert referral_for_concern(concern()) == referral_for_concern(concern())


def test_the_referral_id_is_a_uuid5_of_the_concern_source() -> None:
    referral_id = uuid.UUID(referral_for_concern(concern()).referral_id)

    assert referral_id.version == 5
    # Pinned: a changed namespace would re-raise every past concern under a new id.
    assert str(referral_id) == str(
        uuid.uuid5(uuid.UUID("4f2e2952-e08d-4ca5-a107-65381c35d753"), "coaching-concern/con-1")
    )


def test_different_concerns_yield_different_referrals() -> None:
    first = referral_for_concern(concern(concern_id="con-1"))
    second = referral_for_concern(concern(concern_id="con-2"))

    assert first.referral_id != second.referral_id


def test_a_redelivered_concern_raises_its_referral_only_once() -> None:
    command = referral_for_concern(concern())
    state = fold(decide(referral.INITIAL, command, NOW))

    assert decide(state, referral_for_concern(concern()), NOW + dt.timedelta(hours=1)) == []
    assert already_raised(state, command)


def test_a_concern_whose_referral_was_recorded_by_an_earlier_version_is_already_raised() -> None:
    # Recorded before referrals carried an origin and a time: the same source is the same referral.
    earlier = ReferralRaised(
        referral_id=referral_for_concern(concern()).referral_id,
        client_id="client-7f3a",
        site_id="site-a",
        from_service="coaching",
        to_service="therapy",
        urgency="urgent",
        raised_on=dt.date(2026, 5, 19),
        source="coaching-concern/con-1",
    )

    assert already_raised(fold([earlier]), referral_for_concern(concern()))
    assert not already_raised(referral.INITIAL, referral_for_concern(concern()))
