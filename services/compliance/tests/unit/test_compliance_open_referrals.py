"""The referrals open at the end of a date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from compliance.domain import ReferralFact, open_as_of

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


def referral(referral_id: str, raised_on: str, **overrides: Any) -> ReferralFact:
    fields: dict[str, Any] = {
        "referral_id": referral_id,
        "client_id": f"client-{referral_id}",
        "site_id": "site-a",
        "to_service": "therapy",
        "urgency": "routine",
        "raised_on": D(raised_on),
        "source_event_ids": (f"evt-{referral_id}",),
    }
    return ReferralFact(**(fields | overrides))


def ids(facts: tuple[ReferralFact, ...]) -> list[str]:
    return [f.referral_id for f in facts]


def test_a_referral_raised_on_or_before_the_date_and_never_closed_is_open() -> None:
    facts = [referral("r1", "2026-05-01"), referral("r2", "2026-05-10")]

    assert ids(open_as_of(facts, D("2026-05-10"))) == ["r1", "r2"]


def test_a_referral_raised_after_the_date_is_not_yet_open() -> None:
    assert open_as_of([referral("r1", "2026-05-11")], D("2026-05-10")) == ()


def test_a_referral_closed_on_or_before_the_date_is_not_open() -> None:
    facts = [
        referral("r1", "2026-05-01", closed_on=D("2026-05-09")),
        referral("r2", "2026-05-01", closed_on=D("2026-05-10")),
    ]

    assert open_as_of(facts, D("2026-05-10")) == ()


def test_a_referral_closed_after_the_date_was_open_then() -> None:
    facts = [referral("r1", "2026-05-01", closed_on=D("2026-05-11"))]

    assert ids(open_as_of(facts, D("2026-05-10"))) == ["r1"]


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


def test_a_referral_cannot_close_before_it_was_raised() -> None:
    with pytest.raises(ValidationError, match="before raised_on"):
        referral("r1", "2026-05-10", closed_on=D("2026-05-09"))
