"""Service-level targets: the clock's pure decision, at chosen instants (no waiting)."""

from __future__ import annotations

import datetime as dt

import pydantic
import pytest

from infra.ddd import DomainEvent
from referral.domain import (
    DEFAULT_SERVICE_LEVELS,
    ReferralAccepted,
    ReferralCancelled,
    ReferralDeclined,
    ReferralRaised,
    ReferralRedirected,
    ReferralScheduled,
    ServiceLevelBreached,
    ServiceLevelPolicy,
    Targets,
    breaches_due,
    fold,
    next_due_at,
)

pytestmark = pytest.mark.unit

RAISED_AT = dt.datetime(2026, 5, 19, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
SECOND = dt.timedelta(seconds=1)


def raised(urgency: str = "urgent") -> ReferralRaised:
    due = DEFAULT_SERVICE_LEVELS.due_by_target(urgency, RAISED_AT)  # type: ignore[arg-type]
    return ReferralRaised(
        referral_id="ref-1",
        client_id="client-1",
        site_id="site-a",
        from_service="coaching",
        to_service="therapy",
        urgency=urgency,
        raised_on=RAISED_AT.date(),
        source="coaching-concern/con-1",
        raised_at=RAISED_AT,
        acknowledgement_due_at=due["acknowledgement"],
        scheduling_due_at=due["scheduling"],
    )


ACCEPTED = ReferralAccepted(
    referral_id="ref-1",
    client_id="client-1",
    site_id="site-a",
    from_service="coaching",
    to_service="therapy",
    source="coaching-concern/con-1",
    origin=None,
    accepted_by="therapist-1",
    accepted_on=RAISED_AT.date(),
)
SCHEDULED = ReferralScheduled(
    referral_id="ref-1",
    appointment_on=dt.date(2026, 5, 21),
    scheduled_by="coordinator-1",
    scheduled_on=RAISED_AT.date(),
)
REDIRECTED = ReferralRedirected(
    referral_id="ref-1",
    from_to_service="therapy",
    to_service="psychiatry",
    redirected_by="coordinator-1",
    redirected_on=RAISED_AT.date(),
    reason="better_fit_elsewhere",
)


def breach(
    target: str, due_at: dt.datetime, now: dt.datetime, **extra: str
) -> ServiceLevelBreached:
    fields = {
        "referral_id": "ref-1",
        "site_id": "site-a",
        "to_service": "therapy",
        "urgency": "urgent",
        "target": target,
        "due_at": due_at,
        "detected_at": now,
    } | extra
    return ServiceLevelBreached(**fields)


def breaches(*events: DomainEvent, now: dt.datetime) -> list[DomainEvent]:
    return breaches_due(fold(events), now)


def test_the_default_targets_are_the_organizations_figures() -> None:
    urgent, routine = DEFAULT_SERVICE_LEVELS.urgent, DEFAULT_SERVICE_LEVELS.routine
    assert (urgent.acknowledgement_hours, urgent.scheduling_hours) == (4, 24)
    assert (routine.acknowledgement_hours, routine.scheduling_hours) == (48, 168)


def test_nothing_is_breached_until_the_deadline_has_passed() -> None:
    assert breaches(raised(), now=RAISED_AT + 4 * HOUR) == []


def test_an_urgent_referral_unacknowledged_after_four_hours_breaches_acknowledgement() -> None:
    now = RAISED_AT + 4 * HOUR + SECOND

    assert breaches(raised(), now=now) == [breach("acknowledgement", RAISED_AT + 4 * HOUR, now)]


def test_an_urgent_referral_waiting_a_day_breaches_both_targets() -> None:
    now = RAISED_AT + 25 * HOUR

    assert breaches(raised(), now=now) == [
        breach("acknowledgement", RAISED_AT + 4 * HOUR, now),
        breach("scheduling", RAISED_AT + 24 * HOUR, now),
    ]


def test_a_routine_referral_has_two_days_to_be_acknowledged_and_seven_to_be_scheduled() -> None:
    assert breaches(raised("routine"), now=RAISED_AT + 48 * HOUR) == []
    late = breaches(raised("routine"), now=RAISED_AT + 48 * HOUR + SECOND)
    assert [b.target for b in late if isinstance(b, ServiceLevelBreached)] == ["acknowledgement"]
    late = breaches(raised("routine"), now=RAISED_AT + 7 * 24 * HOUR + SECOND)
    assert [b.target for b in late if isinstance(b, ServiceLevelBreached)] == [
        "acknowledgement",
        "scheduling",
    ]


def test_an_accepted_referral_not_scheduled_in_time_breaches_scheduling_only() -> None:
    now = RAISED_AT + 30 * HOUR

    assert breaches(raised(), ACCEPTED, now=now) == [
        breach("scheduling", RAISED_AT + 24 * HOUR, now)
    ]


def test_a_redirect_acknowledges_and_the_breach_names_where_the_referral_is_now() -> None:
    now = RAISED_AT + 30 * HOUR

    assert breaches(raised(), REDIRECTED, now=now) == [
        breach("scheduling", RAISED_AT + 24 * HOUR, now, to_service="psychiatry")
    ]


def test_a_scheduled_referral_breaches_nothing() -> None:
    assert breaches(raised(), ACCEPTED, SCHEDULED, now=RAISED_AT + 300 * HOUR) == []


def test_a_closed_referral_breaches_nothing() -> None:
    declined = ReferralDeclined(
        referral_id="ref-1",
        declined_by="c",
        declined_on=RAISED_AT.date(),
        reason="no_capacity",
    )
    cancelled = ReferralCancelled(
        referral_id="ref-1",
        cancelled_by="c",
        cancelled_on=RAISED_AT.date(),
        reason="raised_in_error",
    )
    assert breaches(raised(), declined, now=RAISED_AT + 300 * HOUR) == []
    assert breaches(raised(), cancelled, now=RAISED_AT + 300 * HOUR) == []


def test_each_target_is_breached_once() -> None:
    first = RAISED_AT + 5 * HOUR
    recorded = breaches(raised(), now=first)
    later = RAISED_AT + 25 * HOUR

    assert breaches(raised(), *recorded, now=first + HOUR) == []
    assert breaches(raised(), *recorded, now=later) == [
        breach("scheduling", RAISED_AT + 24 * HOUR, later)
    ]
    everything = [*recorded, *breaches(raised(), *recorded, now=later)]
    assert breaches(raised(), *everything, now=later + 100 * HOUR) == []


def test_the_decision_is_the_same_for_the_same_instant() -> None:
    now = RAISED_AT + 25 * HOUR
    assert breaches(raised(), now=now) == breaches(raised(), now=now)


def test_the_clock_next_looks_at_the_earliest_pending_deadline() -> None:
    assert next_due_at(fold([raised()])) == RAISED_AT + 4 * HOUR
    assert next_due_at(fold([raised(), ACCEPTED])) == RAISED_AT + 24 * HOUR
    acknowledgement_breached = breaches(raised(), now=RAISED_AT + 5 * HOUR)
    assert next_due_at(fold([raised(), *acknowledgement_breached])) == RAISED_AT + 24 * HOUR
    assert next_due_at(fold([raised(), ACCEPTED, SCHEDULED])) is None
    both = breaches(raised(), now=RAISED_AT + 25 * HOUR)
    assert next_due_at(fold([raised(), *both])) is None


def test_an_organization_can_set_its_own_targets() -> None:
    policy = ServiceLevelPolicy.model_validate_json(
        '{"urgent": {"acknowledgement_hours": 1, "scheduling_hours": 8},'
        ' "routine": {"acknowledgement_hours": 24, "scheduling_hours": 72}}'
    )

    assert policy.due_at("urgent", "acknowledgement", RAISED_AT) == RAISED_AT + HOUR
    assert policy.due_at("routine", "scheduling", RAISED_AT) == RAISED_AT + 72 * HOUR


@pytest.mark.parametrize(
    ("acknowledgement", "scheduling"),
    [(0, 24), (4, -1), (24, 4)],
    ids=["zero", "negative", "order"],
)
def test_targets_must_be_positive_and_acknowledgement_must_come_first(
    acknowledgement: float, scheduling: float
) -> None:
    with pytest.raises(pydantic.ValidationError):
        Targets(acknowledgement_hours=acknowledgement, scheduling_hours=scheduling)
