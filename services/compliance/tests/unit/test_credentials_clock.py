"""The clock's decision, pure: which expiry reminders and expiries are due on a chosen day.

The license expires on 2027-01-31 (its last valid day): the thresholds fall on 2026-11-02 (90
days before), 2026-12-02 (60), 2027-01-01 (30) and 2027-01-31 (the day itself); 2027-02-01 is
its first invalid day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.domain.credentials import holder as credentials
from compliance.domain.credentials.commands import RenewLicense
from compliance.domain.credentials.events import (
    LicenseExpired,
    LicenseExpiryReminderDue,
    LicenseRecorded,
    LicenseRevoked,
    LicenseSuspended,
)
from compliance.domain.credentials.holder import HolderState, due_facts
from infra.ddd import DomainEvent

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
HOLDER = "sup-1"
EXPIRES = D("2027-01-31")


def recorded(license_id: str = "lic-1", **overrides: Any) -> LicenseRecorded:
    fields: dict[str, Any] = {
        "holder_id": HOLDER,
        "license_id": license_id,
        "kind": "LPC",
        "number": f"N-{license_id}",
        "state": "TX",
        "issued_on": D("2025-01-31"),
        "expires_on": EXPIRES,
    }
    return LicenseRecorded(**(fields | overrides))


def reminder(days: int, expires_on: dt.date = EXPIRES, license_id: str = "lic-1") -> DomainEvent:
    return LicenseExpiryReminderDue(
        holder_id=HOLDER,
        license_id=license_id,
        expires_on=expires_on,
        days_before=days,
        due_on=expires_on - dt.timedelta(days=days),
    )


def run(state: HolderState, day: str) -> tuple[list[DomainEvent], HolderState]:
    """One clock run on `day`: what it records, and the holder after it."""
    facts = due_facts(state, D(day))
    return facts, credentials.fold(facts, state)


def test_each_threshold_is_reminded_once_on_its_day_then_the_license_expires() -> None:
    state = credentials.fold([recorded()])
    seen: dict[str, list[DomainEvent]] = {}
    for day in [
        "2026-11-01",
        "2026-11-02",
        "2026-11-02",
        "2026-11-03",
        "2026-12-01",
        "2026-12-02",
        "2027-01-01",
        "2027-01-31",
        "2027-01-31",
        "2027-02-01",
        "2027-02-02",
    ]:
        facts, state = run(state, day)
        seen.setdefault(day, []).extend(facts)

    assert seen == {
        "2026-11-01": [],
        "2026-11-02": [reminder(90)],
        "2026-11-03": [],
        "2026-12-01": [],
        "2026-12-02": [reminder(60)],
        "2027-01-01": [reminder(30)],
        "2027-01-31": [reminder(0)],
        "2027-02-01": [
            LicenseExpired(holder_id=HOLDER, license_id="lic-1", expired_on=D("2027-02-01"))
        ],
        "2027-02-02": [],
    }
    lic = state.license("lic-1")
    assert lic is not None
    assert (lic.status, lic.status_since) == ("expired", D("2027-02-01"))


def test_after_a_gap_only_the_most_recent_due_threshold_is_recorded() -> None:
    state = credentials.fold([recorded()])

    # Down from before the 90-day threshold until after the 60-day one.
    facts, state = run(state, "2026-12-10")
    assert facts == [reminder(60)]
    # The skipped 90-day reminder is never sent late; the next one comes on its day.
    assert run(state, "2026-12-31")[0] == []
    assert run(state, "2027-01-01")[0] == [reminder(30)]


def test_a_license_entered_ten_days_before_its_expiry_gets_the_30_day_reminder_at_once() -> None:
    facts, _ = run(credentials.fold([recorded()]), "2027-01-21")
    assert facts == [reminder(30)]


def test_down_across_the_expiry_the_license_expires_without_a_stale_reminder() -> None:
    facts, _ = run(credentials.fold([recorded()]), "2027-03-15")
    assert facts == [
        LicenseExpired(holder_id=HOLDER, license_id="lic-1", expired_on=D("2027-02-01"))
    ]


def test_a_license_expiring_today_gets_the_day_reminder_and_is_still_valid() -> None:
    facts, state = run(credentials.fold([recorded()]), "2027-01-31")
    assert facts == [reminder(0)]
    assert state.licenses[0].status == "active"


def test_a_renewal_starts_the_reminders_again_for_the_new_expiry() -> None:
    state = credentials.fold([recorded(), reminder(90), reminder(60), reminder(30)])
    renewal = RenewLicense(license_id="lic-1", renewed_on="2027-01-10", expires_on="2029-01-31")
    state = credentials.fold(credentials.decide(state, renewal, D("2027-01-10")), state)

    assert run(state, "2027-01-31")[0] == []  # the old expiry's day: nothing
    assert run(state, "2028-11-01")[0] == []
    assert run(state, "2028-11-02")[0] == [reminder(90, D("2029-01-31"))]


@pytest.mark.parametrize(
    "later",
    [
        LicenseSuspended(
            holder_id=HOLDER, license_id="lic-1", effective_on=D("2026-10-01"), reason="order 1"
        ),
        LicenseRevoked(
            holder_id=HOLDER, license_id="lic-1", effective_on=D("2026-10-01"), reason="order 2"
        ),
        LicenseExpired(holder_id=HOLDER, license_id="lic-1", expired_on=D("2026-10-01")),
    ],
    ids=["suspended", "revoked", "expired"],
)
def test_a_license_that_is_not_active_gets_neither_reminders_nor_an_expiry(
    later: DomainEvent,
) -> None:
    state = credentials.fold([recorded(), later])
    assert state.licenses[0].next_due_on() is None
    for day in ["2026-11-02", "2027-01-31", "2027-02-01", "2028-01-01"]:
        assert run(state, day)[0] == []


def test_each_license_of_a_holder_has_its_own_reminders() -> None:
    state = credentials.fold(
        [recorded("lic-1"), recorded("lic-2", kind="LPC-S", expires_on=D("2026-12-02"))]
    )
    facts, _ = run(state, "2026-11-02")
    assert facts == [reminder(90), reminder(30, D("2026-12-02"), "lic-2")]


def test_an_empty_holder_has_nothing_due() -> None:
    assert due_facts(credentials.INITIAL, D("2026-11-02")) == []


def test_next_due_on_is_the_first_day_the_clock_records_something() -> None:
    """The license table's `next_due_on` promises exactly the days `due_facts` acts on."""
    state = credentials.fold([recorded(issued_on=D("2026-09-01"), expires_on=D("2026-12-15"))])
    day = D("2026-09-01")
    while day <= D("2027-01-10"):
        lic = state.licenses[0]
        due = lic.next_due_on()
        facts, state = run(state, day.isoformat())
        assert bool(facts) == (due is not None and due <= day), day
        day += dt.timedelta(days=1)
    assert state.licenses[0].status == "expired"
    assert [r.days_before for r in state.licenses[0].reminders] == [90, 60, 30, 0]
