"""Events the compliance service publishes on `continuum.compliance.events`: the licensure
credential registry. Keyed by the license holder, so one person's credential history stays in
order (supervision reads it to know a supervisor's standing on a session's date)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from contracts.events.base import EventContract, register
from contracts.topics import COMPLIANCE_EVENTS

__all__ = [
    "LicenseExpired",
    "LicenseExpiryReminderDue",
    "LicenseRecorded",
    "LicenseReinstated",
    "LicenseRenewed",
    "LicenseRevoked",
    "LicenseSuspended",
    "SupervisorDesignationRecorded",
]

# The days before expiry a reminder is due; 0 is the day itself.
ReminderDays = Literal[90, 60, 30, 0]


class _CredentialEvent(EventContract):
    topic = COMPLIANCE_EVENTS.name
    holder_id: str

    def key(self) -> str:
        return self.holder_id


class _LicenseEvent(_CredentialEvent):
    license_id: str


@register
class LicenseRecorded(_LicenseEvent):
    """A license (or a provisional license, registration or permit) was entered in the registry."""

    name = "continuum.compliance.LicenseRecorded"
    version = 1

    # The credential, for example "LPC", "LPC-ASSOCIATE", "LMFT", "AMFT".
    kind: str
    number: str
    # The issuing state, as its two-letter code.
    state: str
    issued_on: dt.date
    expires_on: dt.date


@register
class LicenseRenewed(_LicenseEvent):
    """The license was renewed to a later expiry; an expired license is active again."""

    name = "continuum.compliance.LicenseRenewed"
    version = 1

    renewed_on: dt.date
    expires_on: dt.date


@register
class LicenseSuspended(_LicenseEvent):
    """The board suspended the license: the holder may not practice or supervise from then."""

    name = "continuum.compliance.LicenseSuspended"
    version = 1

    effective_on: dt.date
    reason: str


@register
class LicenseReinstated(_LicenseEvent):
    """A suspension ended: the holder may practice and supervise again from `effective_on`."""

    name = "continuum.compliance.LicenseReinstated"
    version = 1

    effective_on: dt.date


@register
class LicenseRevoked(_LicenseEvent):
    """The license was revoked: final."""

    name = "continuum.compliance.LicenseRevoked"
    version = 1

    effective_on: dt.date
    reason: str


@register
class LicenseExpired(_LicenseEvent):
    """The license passed its expiry date without renewal; `expired_on` is its first invalid day."""

    name = "continuum.compliance.LicenseExpired"
    version = 1

    expired_on: dt.date


@register
class LicenseExpiryReminderDue(_LicenseEvent):
    """A license expires in `days_before` days (0: today), found by the service's clock."""

    name = "continuum.compliance.LicenseExpiryReminderDue"
    version = 1

    expires_on: dt.date
    days_before: ReminderDays
    due_on: dt.date


@register
class SupervisorDesignationRecorded(_CredentialEvent):
    """A board designated the holder an approved supervisor (for example LPC-S)."""

    name = "continuum.compliance.SupervisorDesignationRecorded"
    version = 1

    designation_id: str
    designation: str
    state: str
    granted_on: dt.date
    expires_on: dt.date | None
    training_hours: int
    training_completed_on: dt.date
