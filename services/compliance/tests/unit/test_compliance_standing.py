"""License standing on a date and licenses expiring soon, from the registry's published facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.domain.standing import (
    DesignationFact,
    LicenseChange,
    LicenseChangeKind,
    LicenseFact,
    expiring_within,
    license_as_of,
    standing_on,
)

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


def change(kind: LicenseChangeKind, on: str, expires_on: str | None = None) -> LicenseChange:
    return LicenseChange(
        change=kind,
        effective_on=D(on),
        expires_on=D(expires_on) if expires_on else None,
        recorded_at=dt.datetime.combine(D(on), dt.time(9), tzinfo=dt.UTC),
        source_event_id=f"evt-{kind}-{on}",
    )


def license_(
    license_id: str = "lic-1", expires_on: str = "2026-12-31", **overrides: Any
) -> LicenseFact:
    fields: dict[str, Any] = {
        "license_id": license_id,
        "holder_id": "sup-1",
        "kind": "LPC",
        "number": f"LPC-{license_id}",
        "state": "TX",
        "issued_on": D("2024-01-01"),
        "expires_on": D(expires_on),
        "recorded_at": dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
        "source_event_id": f"evt-{license_id}",
    }
    return LicenseFact(**(fields | overrides))


def designation(expires_on: str | None, **overrides: Any) -> DesignationFact:
    fields: dict[str, Any] = {
        "designation_id": "des-1",
        "holder_id": "sup-1",
        "designation": "LPC-S",
        "state": "TX",
        "granted_on": D("2025-01-01"),
        "expires_on": D(expires_on) if expires_on else None,
        "training_hours": 40,
        "training_completed_on": D("2024-11-01"),
        "recorded_at": dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC),
        "source_event_id": "evt-des",
    }
    return DesignationFact(**(fields | overrides))


def status(fact: LicenseFact, day: str) -> str | None:
    shown = license_as_of(fact, D(day))
    return shown.status if shown else None


def test_a_license_is_active_from_issue_to_its_last_valid_day_then_expired() -> None:
    fact = license_(expires_on="2026-12-31")

    assert status(fact, "2023-12-31") is None
    assert status(fact, "2026-12-31") == "active"
    assert status(fact, "2027-01-01") == "expired"


def test_a_suspension_holds_from_its_date_until_reinstated() -> None:
    fact = license_(changes=(change("suspended", "2026-03-01"), change("reinstated", "2026-04-01")))

    assert [status(fact, d) for d in ("2026-02-28", "2026-03-01", "2026-04-01")] == [
        "active",
        "suspended",
        "active",
    ]


def test_a_renewal_moves_the_expiry_and_revives_an_expired_license() -> None:
    fact = license_(
        expires_on="2026-01-31",
        changes=(
            change("expired", "2026-02-01"),
            change("renewed", "2026-02-10", expires_on="2028-01-31"),
        ),
    )

    assert status(fact, "2026-02-05") == "expired"
    renewed = license_as_of(fact, D("2026-02-10"))
    assert renewed is not None
    assert (renewed.status, renewed.expires_on) == ("active", D("2028-01-31"))
    assert renewed.source_event_ids == (
        "evt-lic-1",
        "evt-expired-2026-02-01",
        "evt-renewed-2026-02-10",
    )


def test_a_revocation_is_final() -> None:
    fact = license_(
        changes=(change("revoked", "2026-03-01"), change("renewed", "2026-03-05", "2030-01-01"))
    )

    assert status(fact, "2026-06-01") == "revoked"


def test_licenses_expiring_within_the_window_soonest_first_revoked_and_expired_left_out() -> None:
    facts = [
        license_("later", expires_on="2026-05-30"),
        license_("soon", expires_on="2026-04-15"),
        license_("today", expires_on="2026-04-01"),
        license_("beyond", expires_on="2026-07-01"),
        license_("gone", expires_on="2026-03-31"),
        license_("revoked", expires_on="2026-04-20", changes=(change("revoked", "2026-03-15"),)),
        license_(
            "suspended", expires_on="2026-04-25", changes=(change("suspended", "2026-03-15"),)
        ),
    ]

    expiring = expiring_within(facts, [], D("2026-04-01"), 60)

    assert [(e.license.license_id, e.days_left) for e in expiring.licenses] == [
        ("today", 0),
        ("soon", 14),
        ("suspended", 24),
        ("later", 59),
    ]
    assert expiring.licenses[2].license.status == "suspended"


def test_a_renewal_by_the_date_takes_a_license_off_the_expiring_list() -> None:
    fact = license_(
        expires_on="2026-04-15", changes=(change("renewed", "2026-04-05", "2028-04-15"),)
    )

    assert [
        e.license.license_id for e in expiring_within([fact], [], D("2026-04-01"), 30).licenses
    ] == ["lic-1"]
    assert expiring_within([fact], [], D("2026-04-05"), 30).licenses == ()


def test_supervisor_designations_expiring_are_listed_too() -> None:
    expiring = expiring_within(
        [],
        [designation("2026-04-20"), designation(None, designation_id="des-2")],
        D("2026-04-01"),
        30,
    )

    assert [(e.designation.designation_id, e.days_left) for e in expiring.designations] == [
        ("des-1", 19)
    ]


def test_the_window_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        expiring_within([], [], D("2026-04-01"), -1)


def test_a_supervisors_standing_on_a_day_names_licenses_and_designations_held_then() -> None:
    facts = [license_("lic-1"), license_("other", holder_id="sup-2")]

    standing = standing_on("sup-1", facts, [designation("2025-12-31")], D("2026-03-02"))

    assert [lic.license_id for lic in standing.licenses] == ["lic-1"]
    assert standing.designations == ()  # expired before the day
    assert standing.in_good_standing
