"""A coaching concern becomes a referral back to therapy, the same one on every redelivery."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from referral.domain import CoachingConcern, decide, fold, referral, referral_for_concern

pytestmark = pytest.mark.unit


def concern(**overrides: Any) -> CoachingConcern:
    fields: dict[str, Any] = {
        "engagement_id": "eng-1",
        "concern_id": "con-1",
        "client_id": "client-7f3a",
        "site_id": "site-a",
        "urgency": "urgent",
        "raised_on": dt.date(2026, 5, 19),
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
    state = fold(decide(referral.INITIAL, command))

    assert decide(state, referral_for_concern(concern())) == []
