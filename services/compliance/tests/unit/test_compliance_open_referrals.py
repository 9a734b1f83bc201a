"""Referrals as of a date: open ones with their status, and the ones past a service-level
target."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.domain import ReferralFact, open_as_of
from compliance.domain.facts import ReferralChange, ReferralStatus, ServiceLevelBreach
from compliance.domain.referrals import breached_as_of, referral_as_of

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


def step(status: ReferralStatus, on: str, **extra: Any) -> ReferralChange:
    return ReferralChange(
        status=status, on=D(on), recorded_at=at(on), source_event_id=f"evt-{status}", **extra
    )


def breach(target: str, detected: str) -> ServiceLevelBreach:
    return ServiceLevelBreach.model_validate(
        {
            "target": target,
            "due_at": at(detected, 8),
            "detected_at": at(detected),
            "recorded_at": at(detected),
            "source_event_id": f"evt-breach-{target}",
        }
    )


def referral(referral_id: str, raised_on: str, **overrides: Any) -> ReferralFact:
    fields: dict[str, Any] = {
        "referral_id": referral_id,
        "client_id": f"client-{referral_id}",
        "site_id": "site-a",
        "to_service": "therapy",
        "urgency": "routine",
        "raised_on": D(raised_on),
        "recorded_at": at(raised_on),
        "source_event_ids": (f"evt-{referral_id}",),
    }
    return ReferralFact(**(fields | overrides))


def ids(facts: tuple[Any, ...]) -> list[str]:
    return [f.referral_id for f in facts]


def test_a_referral_raised_on_or_before_the_date_and_never_closed_is_open() -> None:
    facts = [referral("r1", "2026-05-01"), referral("r2", "2026-05-10")]

    assert ids(open_as_of(facts, D("2026-05-10"))) == ["r1", "r2"]


def test_a_referral_raised_after_the_date_is_not_yet_open() -> None:
    assert open_as_of([referral("r1", "2026-05-11")], D("2026-05-10")) == ()


@pytest.mark.parametrize(
    "closing", ["completed", "declined", "closed_unable_to_engage", "cancelled"]
)
def test_a_referral_closed_on_or_before_the_date_is_not_open(closing: ReferralStatus) -> None:
    facts = [
        referral("r1", "2026-05-01", changes=(step(closing, "2026-05-09"),)),
        referral("r2", "2026-05-01", changes=(step(closing, "2026-05-10"),)),
    ]

    assert open_as_of(facts, D("2026-05-10")) == ()


def test_a_referral_closed_after_the_date_was_open_then() -> None:
    facts = [referral("r1", "2026-05-01", changes=(step("completed", "2026-05-11"),))]

    assert ids(open_as_of(facts, D("2026-05-10"))) == ["r1"]


@pytest.mark.parametrize("status", ["raised", "accepted", "redirected", "scheduled"])
def test_an_open_referral_shows_its_status_as_of_the_date(status: ReferralStatus) -> None:
    changes = () if status == "raised" else (step(status, "2026-05-03"),)
    fact = referral("r1", "2026-05-01", changes=changes)

    (shown,) = open_as_of([fact], D("2026-05-03"))

    assert shown.status == status
    assert ids(open_as_of([fact], D("2026-05-02"))) == ["r1"]
    assert open_as_of([fact], D("2026-05-02"))[0].status == "raised"


def test_the_loop_steps_in_order_and_a_schedule_carries_its_appointment() -> None:
    fact = referral(
        "r1",
        "2026-05-01",
        changes=(
            step("scheduled", "2026-05-04", appointment_on=D("2026-05-12")),
            step("accepted", "2026-05-02"),
        ),
    )

    (shown,) = open_as_of([fact], D("2026-05-05"))

    assert (shown.status, shown.status_on, shown.appointment_on) == (
        "scheduled",
        D("2026-05-04"),
        D("2026-05-12"),
    )
    assert shown.source_event_ids == ("evt-r1", "evt-accepted", "evt-scheduled")


def test_a_redirected_referral_is_open_and_referred_to_the_new_service() -> None:
    fact = referral(
        "r1", "2026-05-01", changes=(step("redirected", "2026-05-02", to_service="psychiatry"),)
    )

    (shown,) = open_as_of([fact], D("2026-05-02"))

    assert (shown.status, shown.to_service) == ("redirected", "psychiatry")


def test_nothing_after_the_loop_closed_changes_it() -> None:
    fact = referral(
        "r1",
        "2026-05-01",
        changes=(step("declined", "2026-05-02"), step("accepted", "2026-05-03")),
    )

    shown = referral_as_of(fact, D("2026-05-31"))

    assert shown is not None
    assert (shown.status, shown.open, shown.closed_on) == ("declined", False, D("2026-05-02"))


def test_open_referrals_are_listed_oldest_first() -> None:
    facts = [
        referral("r3", "2026-05-03"),
        referral("r2", "2026-05-01"),
        referral("r1", "2026-05-01"),
    ]

    assert ids(open_as_of(facts, D("2026-05-31"))) == ["r1", "r2", "r3"]


def test_open_referrals_keep_their_source_events() -> None:
    (open_referral,) = open_as_of([referral("r1", "2026-05-01")], D("2026-05-01"))

    assert open_referral.source_event_ids == ("evt-r1",)


def test_a_breach_shows_on_the_referral_from_the_moment_it_was_due() -> None:
    late = ServiceLevelBreach(
        target="acknowledgement",
        due_at=at("2026-05-02", 8),
        detected_at=at("2026-05-04"),
        recorded_at=at("2026-05-04"),
        source_event_id="evt-breach-acknowledgement",
    )
    fact = referral("r1", "2026-05-01", breaches=(late,))

    (before,) = open_as_of([fact], D("2026-05-01"))
    (after,) = open_as_of([fact], D("2026-05-02"))

    assert before.breaches == ()
    assert [b.target for b in after.breaches] == ["acknowledgement"]
    assert after.source_event_ids == ("evt-r1", "evt-breach-acknowledgement")


def test_referrals_past_their_targets_are_listed_open_or_since_closed() -> None:
    facts = [
        referral("late-open", "2026-05-01", breaches=(breach("acknowledgement", "2026-05-02"),)),
        referral(
            "late-closed",
            "2026-05-01",
            changes=(step("completed", "2026-05-20"),),
            breaches=(breach("scheduling", "2026-05-08"),),
        ),
        referral("on-time", "2026-05-01", changes=(step("accepted", "2026-05-01"),)),
    ]

    shown = breached_as_of(facts, D("2026-05-31"))

    assert ids(shown) == ["late-closed", "late-open"]
    assert [r.open for r in shown] == [False, True]
    assert breached_as_of(facts, D("2026-05-01")) == ()
