"""Raising referrals: given events, when RaiseReferral, then events or the named error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.ddd import DomainEvent, InvalidInput
from referral.domain import (
    EVENT_TYPES,
    RaiseReferral,
    ReferralRaised,
    ServiceLevelPolicy,
    Targets,
    decide,
    fold,
    referral,
)
from referral.domain.errors import (
    OtherMustBeExplained,
    ReferralFromSupervisionMustComeFromTherapy,
    ReferralIdMustNotBeReused,
    ReferralMustGoToAnotherService,
    ReferralMustNotBeRaisedInTheFuture,
    SubstanceUseRecordMustCarryConsent,
)

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 5, 19, 15, 0, tzinfo=dt.UTC)
RAISED_AT = dt.datetime(2026, 5, 19, 14, 30, tzinfo=dt.UTC)


def raise_(**overrides: Any) -> RaiseReferral:
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "client_id": "client-7f3a",
        "site_id": "site-a",
        "from_service": "coaching",
        "to_service": "therapy",
        "urgency": "urgent",
        "reason": "symptoms_resurfaced",
        "raised_at": RAISED_AT,
        "source": "coaching-concern/con-1",
        "origin": "coaching-engagement/eng-1",
        "raised_by": "coach-1",
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
    raised_at=RAISED_AT,
    origin="coaching-engagement/eng-1",
    reason="symptoms_resurfaced",
    raised_by="coach-1",
    acknowledgement_due_at=RAISED_AT + dt.timedelta(hours=4),
    scheduling_due_at=RAISED_AT + dt.timedelta(hours=24),
)


def test_raising_a_referral_records_it_with_status_raised_and_its_deadlines() -> None:
    events = decide(referral.INITIAL, raise_(), NOW)

    assert events == [RAISED]
    state = fold(events)
    assert state.status == "raised"
    assert state.referral is not None
    assert state.to_service == "therapy"
    assert state.referral.due_at("acknowledgement") == dt.datetime(
        2026, 5, 19, 18, 30, tzinfo=dt.UTC
    )


def test_raised_at_defaults_to_now_and_raised_on_to_its_day() -> None:
    (event,) = decide(referral.INITIAL, raise_(raised_at=None), NOW)

    assert isinstance(event, ReferralRaised)
    assert event.raised_at == NOW
    assert event.raised_on == NOW.date()


def test_raised_on_is_the_day_as_the_caller_wrote_it() -> None:
    # 21:00 in Austin (UTC-5) on the 18th is already the 19th in UTC.
    austin = dt.timezone(dt.timedelta(hours=-5))
    (event,) = decide(
        referral.INITIAL, raise_(raised_at=dt.datetime(2026, 5, 18, 21, 0, tzinfo=austin)), NOW
    )

    assert isinstance(event, ReferralRaised)
    assert event.raised_on == dt.date(2026, 5, 18)
    assert event.raised_at == dt.datetime(2026, 5, 19, 2, 0, tzinfo=dt.UTC)


def test_a_referral_cannot_be_raised_in_the_future() -> None:
    with pytest.raises(ReferralMustNotBeRaisedInTheFuture) as refused:
        decide(referral.INITIAL, raise_(raised_at=NOW + dt.timedelta(hours=1)), NOW)
    assert refused.value.field == "raised_at"


def test_a_few_minutes_of_clock_drift_are_not_the_future() -> None:
    assert decide(referral.INITIAL, raise_(raised_at=NOW + dt.timedelta(minutes=2)), NOW)


def test_a_raised_at_without_its_time_zone_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as refused:
        raise_(raised_at=dt.datetime(2026, 5, 19, 14, 30))  # noqa: DTZ001 - naive on purpose
    assert refused.value.field == "raised_at"


def test_the_organizations_own_targets_set_the_deadlines() -> None:
    policy = ServiceLevelPolicy(
        urgent=Targets(acknowledgement_hours=1, scheduling_hours=8),
        routine=Targets(acknowledgement_hours=24, scheduling_hours=72),
    )
    (event,) = decide(referral.INITIAL, raise_(), NOW, policy)

    assert isinstance(event, ReferralRaised)
    assert event.acknowledgement_due_at == RAISED_AT + dt.timedelta(hours=1)
    assert event.scheduling_due_at == RAISED_AT + dt.timedelta(hours=8)


def test_raising_the_same_referral_again_records_nothing() -> None:
    assert decide(fold([RAISED]), raise_(), NOW) == []


def test_a_retry_that_left_the_time_to_the_clock_records_nothing_the_next_day() -> None:
    state = fold(decide(referral.INITIAL, raise_(raised_at=None), NOW))

    assert decide(state, raise_(raised_at=None), NOW + dt.timedelta(days=1)) == []


def test_reusing_a_referral_id_for_another_referral_is_refused() -> None:
    with pytest.raises(ReferralIdMustNotBeReused) as refused:
        decide(fold([RAISED]), raise_(urgency="routine"), NOW)
    assert refused.value.referral_id == "ref-1"


def test_a_referral_must_go_to_another_service() -> None:
    with pytest.raises(ReferralMustGoToAnotherService) as refused:
        raise_(from_service="therapy", to_service="therapy")
    assert refused.value.field == "to_service"


def test_a_substance_use_record_needs_the_clients_consent_reference() -> None:
    with pytest.raises(SubstanceUseRecordMustCarryConsent) as refused:
        raise_(substance_use_record=True)
    assert refused.value.field == "consent_reference"


def test_a_substance_use_record_with_consent_is_raised_with_it() -> None:
    (event,) = decide(
        referral.INITIAL,
        raise_(substance_use_record=True, consent_reference="consent/c-9"),
        NOW,
    )

    assert isinstance(event, ReferralRaised)
    assert (event.substance_use_record, event.consent_reference) == (True, "consent/c-9")


def test_a_supervisor_refers_a_supervisees_client_out_of_therapy() -> None:
    command = raise_(
        from_service="therapy",
        to_service="psychiatry",
        reason="medication_evaluation",
        source="supervision-session/ses-4",
        origin=None,
        raised_by="sup-1",
    )
    (event,) = decide(referral.INITIAL, command, NOW)

    assert isinstance(event, ReferralRaised)
    assert (event.from_service, event.raised_by) == ("therapy", "sup-1")


def test_a_referral_from_supervision_must_come_from_therapy() -> None:
    with pytest.raises(ReferralFromSupervisionMustComeFromTherapy) as refused:
        raise_(from_service="coaching", source="supervision-session/ses-4")
    assert refused.value.field == "from_service"


def test_a_reason_of_other_must_be_explained_in_a_note() -> None:
    with pytest.raises(OtherMustBeExplained) as refused:
        raise_(reason="other")
    assert refused.value.field == "note"
    assert raise_(reason="other", note="asked by the family physician").note


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("referral_id", ""),
        ("client_id", "Jane Doe"),
        ("to_service", "surgery"),
        ("from_service", ""),
        ("urgency", "whenever"),
        ("reason", "because"),
        ("raised_at", "19 May"),
        ("raised_on", "19 May"),
        ("source", ""),
        ("source", "has space/1"),
        ("source", "x" * 201),
        ("origin", "not an origin"),
        ("consent_reference", "consent form 9"),
        ("note", "   "),
        ("note", "x" * 501),
        ("raised_by", ""),
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


def test_a_referral_stored_before_it_carried_its_time_and_deadlines_still_loads() -> None:
    old = {
        "referral_id": "ref-0",
        "client_id": "client-1",
        "site_id": "site-a",
        "from_service": "coaching",
        "to_service": "therapy",
        "urgency": "routine",
        "raised_on": "2026-05-01",
        "source": "coaching-concern/con-0",
    }
    state = fold([EVENT_TYPES.load("ReferralRaised", old)])

    assert state.referral is not None
    # Its clock starts at the start of its day, held to the default targets.
    assert state.referral.due_at("acknowledgement") == dt.datetime(2026, 5, 3, tzinfo=dt.UTC)


def test_a_referral_stream_refuses_events_it_does_not_hold() -> None:
    class Stranger(DomainEvent):
        type = "Stranger"

    with pytest.raises(TypeError):
        referral.evolve(referral.INITIAL, Stranger())
