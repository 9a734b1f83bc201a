"""License standing on a date, projected from the credential registry's published facts:
which licenses expire soon, and what a supervisor held on the day of a session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from compliance.domain.facts import Fact, known

LicenseChangeKind = Literal["renewed", "suspended", "reinstated", "revoked", "expired"]
LicenseStatus = Literal["active", "suspended", "revoked", "expired"]


class LicenseChange(Fact):
    """A change to a license, in force from `effective_on`."""

    change: LicenseChangeKind
    effective_on: dt.date
    # A renewal's new expiry date.
    expires_on: dt.date | None = None
    recorded_at: dt.datetime
    source_event_id: str


class LicenseFact(Fact):
    license_id: str
    holder_id: str
    kind: str
    number: str
    state: str
    issued_on: dt.date
    expires_on: dt.date
    recorded_at: dt.datetime
    source_event_id: str
    changes: tuple[LicenseChange, ...] = ()

    def known_at(self, moment: dt.datetime) -> LicenseFact | None:
        """The license as known at `moment`: None if not yet recorded, and only the changes
        recorded by then."""
        if not known(self.recorded_at, moment):
            return None
        return self.model_copy(
            update={"changes": tuple(c for c in self.changes if known(c.recorded_at, moment))}
        )


class LicenseAsOf(Fact):
    """A license on a day: its expiry as last renewed by then, and its status."""

    on: dt.date
    license_id: str
    holder_id: str
    kind: str
    number: str
    state: str
    issued_on: dt.date
    expires_on: dt.date
    status: LicenseStatus
    source_event_ids: tuple[str, ...]

    @property
    def in_good_standing(self) -> bool:
        return self.status == "active"


class DesignationFact(Fact):
    """A board's designation of the holder as an approved supervisor (for example LPC-S)."""

    designation_id: str
    holder_id: str
    designation: str
    state: str
    granted_on: dt.date
    expires_on: dt.date | None = None
    training_hours: int
    training_completed_on: dt.date
    recorded_at: dt.datetime
    source_event_id: str

    def held_on(self, day: dt.date) -> bool:
        return self.granted_on <= day and (self.expires_on is None or day <= self.expires_on)


def license_as_of(fact: LicenseFact, day: dt.date) -> LicenseAsOf | None:
    """None before the license was issued. A license past its expiry is expired on the day
    after, whether or not the registry's clock has recorded it yet; a revocation is final."""
    if fact.issued_on > day:
        return None
    status: LicenseStatus = "active"
    expires_on = fact.expires_on
    applied: list[str] = []
    steps = sorted(
        (c for c in fact.changes if c.effective_on <= day),
        key=lambda c: (c.effective_on, c.recorded_at, c.source_event_id),
    )
    for step in steps:
        if status == "revoked":
            break
        match step.change:
            case "renewed":
                expires_on = step.expires_on or expires_on
                if status == "expired":
                    status = "active"
            case "suspended":
                status = "suspended"
            case "reinstated":
                if status == "suspended":
                    status = "active"
            case "revoked":
                status = "revoked"
            case "expired":
                status = "expired"
        applied.append(step.source_event_id)
    if status in ("active", "suspended") and day > expires_on:
        status = "expired"
    return LicenseAsOf(
        on=day,
        license_id=fact.license_id,
        holder_id=fact.holder_id,
        kind=fact.kind,
        number=fact.number,
        state=fact.state,
        issued_on=fact.issued_on,
        expires_on=expires_on,
        status=status,
        source_event_ids=(fact.source_event_id, *applied),
    )


class ExpiringLicense(Fact):
    license: LicenseAsOf
    days_left: int


class ExpiringDesignation(Fact):
    designation: DesignationFact
    days_left: int


class Expiring(Fact):
    as_of: dt.date
    within_days: int = Field(ge=0)
    licenses: tuple[ExpiringLicense, ...]
    designations: tuple[ExpiringDesignation, ...]


def expiring_within(
    licenses: Iterable[LicenseFact],
    designations: Iterable[DesignationFact],
    as_of: dt.date,
    within_days: int,
) -> Expiring:
    """Licenses (not revoked, not yet expired) and supervisor designations whose expiry falls
    between `as_of` and `within_days` days after it, soonest first."""
    if within_days < 0:
        raise ValueError(f"within_days is {within_days}; it cannot be negative")
    last = as_of + dt.timedelta(days=within_days)
    standing = (license_as_of(fact, as_of) for fact in licenses)
    expiring = [
        ExpiringLicense(license=lic, days_left=(lic.expires_on - as_of).days)
        for lic in standing
        if lic is not None
        and lic.status in ("active", "suspended")
        and as_of <= lic.expires_on <= last
    ]
    held = [
        ExpiringDesignation(designation=d, days_left=(d.expires_on - as_of).days)
        for d in designations
        if d.expires_on is not None and d.held_on(as_of) and d.expires_on <= last
    ]
    return Expiring(
        as_of=as_of,
        within_days=within_days,
        licenses=tuple(
            sorted(
                expiring,
                key=lambda e: (e.license.expires_on, e.license.holder_id, e.license.license_id),
            )
        ),
        designations=tuple(
            sorted(
                held,
                key=lambda e: (
                    e.days_left,
                    e.designation.holder_id,
                    e.designation.designation_id,
                ),
            )
        ),
    )


class SupervisorStanding(Fact):
    """What a supervisor held on one day: every license issued by then with its status, and the
    supervisor designations in force."""

    supervisor_id: str
    on: dt.date
    licenses: tuple[LicenseAsOf, ...]
    designations: tuple[DesignationFact, ...]

    @property
    def in_good_standing(self) -> bool:
        return any(lic.in_good_standing for lic in self.licenses)


def standing_on(
    supervisor_id: str,
    licenses: Iterable[LicenseFact],
    designations: Iterable[DesignationFact],
    day: dt.date,
) -> SupervisorStanding:
    held = (license_as_of(f, day) for f in licenses if f.holder_id == supervisor_id)
    return SupervisorStanding(
        supervisor_id=supervisor_id,
        on=day,
        licenses=tuple(
            sorted((lic for lic in held if lic is not None), key=lambda lic: lic.license_id)
        ),
        designations=tuple(
            sorted(
                (d for d in designations if d.holder_id == supervisor_id and d.held_on(day)),
                key=lambda d: d.designation_id,
            )
        ),
    )
