"""Raising referrals: given events, when RaiseReferral, then events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.ddd import DomainEvent, InvalidInput
from referral.domain import EVENT_TYPES, RaiseReferral, ReferralRaised, decide, fold, referral
from referral.domain.errors import ReferralIdMustNotBeReused, ReferralMustGoToAnotherService

pytestmark = pytest.mark.unit


def raise_(**overrides: Any) -> RaiseReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "client_id": "client-7f3a",
        "site_id": "site-a",
        "from_service": "coaching",
        "to_service": "therapy",
        "urgency": "urgent",
        "raised_on": "2026-05-19",
        "source": "coaching-concern/con-1",
    }
    return RaiseReferral(**(fields | overrides))


RAISED = ReferralRaised(
    referral_id="ref-1",
    client_id="client-7f3a",
    site_id="site-a",
    from_service="coaching",
    to_service="therapy",
    urgency="urgent",
    raised_on=dt.date(2026, 5, 19),
    source="coaching-concern/con-1",
)


def test_raising_a_referral_records_it_with_status_raised() -> None:
    events = decide(referral.INITIAL, raise_())

    assert events == [RAISED]
    state = fold(events)
    assert state.status == "raised"
    assert state.referral is not None
    assert state.referral.to_service == "therapy"


def test_raising_the_same_referral_again_records_nothing() -> None:
    assert decide(fold([RAISED]), raise_()) == []


def test_reusing_a_referral_id_for_another_referral_is_refused() -> None:
    with pytest.raises(ReferralIdMustNotBeReused) as refused:
        decide(fold([RAISED]), raise_(urgency="routine"))
    assert refused.value.referral_id == "ref-1"


def test_a_referral_must_go_to_another_service() -> None:
    with pytest.raises(ReferralMustGoToAnotherService) as refused:
        raise_(from_service="therapy", to_service="therapy")
    assert refused.value.field == "to_service"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("referral_id", ""),
        ("client_id", "Jane Doe"),
        ("to_service", "surgery"),
        ("from_service", ""),
        ("urgency", "whenever"),
        ("raised_on", "19 May"),
        ("source", ""),
        ("source", "has space/1"),
        ("source", "x" * 201),
    ],
)
def test_malformed_fields_are_refused_by_name(field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        raise_(**{field: value})
    assert refused.value.field == field


def test_every_care_service_can_be_a_referral_target() -> None:
    for service in ("therapy", "coaching", "consultation", "psychiatry"):
        origin = "therapy" if service != "therapy" else "coaching"
        assert raise_(from_service=origin, to_service=service).to_service == service


def test_referral_raised_survives_a_round_trip_through_storage() -> None:
    assert EVENT_TYPES.load(RAISED.type, RAISED.to_data()) == RAISED


def test_a_referral_stream_refuses_events_it_does_not_hold() -> None:
    class Stranger(DomainEvent):
        type = "Stranger"

    with pytest.raises(TypeError):
        referral.evolve(referral.INITIAL, Stranger())
