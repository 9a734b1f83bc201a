"""Referrals as they stood at the end of a date: the pending loop the field complains of, and the
ones that missed their service-level targets. A step takes effect on its own date, a missed
target from the moment it was due (however late the referral service's clock recorded it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from compliance.domain.facts import (
    CLOSED_STATUSES,
    CareService,
    Fact,
    ReferralFact,
    ReferralStatus,
    ServiceLevelBreach,
    Urgency,
)


class ReferralAsOf(Fact):
    """A referral at the end of `as_of`: its status, and the targets it had missed by then."""

    as_of: dt.date
    referral_id: str
    client_id: str
    site_id: str
    # Where it is referred to now (a redirect changes it).
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    status: ReferralStatus
    # The date of the step that set the status.
    status_on: dt.date
    appointment_on: dt.date | None
    breaches: tuple[ServiceLevelBreach, ...]
    # Every event that shaped what is shown, oldest first.
    source_event_ids: tuple[str, ...]

    @property
    def open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def closed_on(self) -> dt.date | None:
        return None if self.open else self.status_on


def referral_as_of(fact: ReferralFact, as_of: dt.date) -> ReferralAsOf | None:
    """None while the referral was not yet raised at the end of `as_of`."""
    if fact.raised_on > as_of:
        return None
    status: ReferralStatus = "raised"
    status_on, to_service, appointment_on = fact.raised_on, fact.to_service, None
    applied: list[str] = []
    steps = sorted(
        (c for c in fact.changes if c.on <= as_of),
        key=lambda c: (c.on, c.recorded_at, c.source_event_id),
    )
    for step in steps:
        if status in CLOSED_STATUSES:
            break  # the loop is closed: nothing after its end changes it
        status, status_on = step.status, step.on
        to_service = step.to_service or to_service
        appointment_on = step.appointment_on or appointment_on
        applied.append(step.source_event_id)
    breaches = tuple(
        sorted(
            (b for b in fact.breaches if b.due_at.astimezone(dt.UTC).date() <= as_of),
            key=lambda b: (b.due_at, b.target),
        )
    )
    return ReferralAsOf(
        as_of=as_of,
        referral_id=fact.referral_id,
        client_id=fact.client_id,
        site_id=fact.site_id,
        to_service=to_service,
        urgency=fact.urgency,
        raised_on=fact.raised_on,
        status=status,
        status_on=status_on,
        appointment_on=appointment_on,
        breaches=breaches,
        source_event_ids=(
            *fact.source_event_ids,
            *applied,
            *(b.source_event_id for b in breaches),
        ),
    )


def _as_of(facts: Iterable[ReferralFact], as_of: dt.date) -> list[ReferralAsOf]:
    shown = (referral_as_of(fact, as_of) for fact in facts)
    return sorted((r for r in shown if r is not None), key=lambda r: (r.raised_on, r.referral_id))


def open_as_of(facts: Iterable[ReferralFact], as_of: dt.date) -> tuple[ReferralAsOf, ...]:
    """Referrals raised on or before `as_of` and not closed by its end, oldest first."""
    return tuple(r for r in _as_of(facts, as_of) if r.open)


def breached_as_of(facts: Iterable[ReferralFact], as_of: dt.date) -> tuple[ReferralAsOf, ...]:
    """Referrals that had missed a service-level target by the end of `as_of`, open or since
    closed, oldest first."""
    return tuple(r for r in _as_of(facts, as_of) if r.breaches)
