"""What the credential registry records, in the stream of the credentials' holder. Private to the
service; each is published as the contract of the same name (contracts.events.compliance)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from infra.ddd import DomainEvent, EventTypes, LicenseNumberText, TypedText

# The days before expiry a reminder is due, latest last; 0 is the last valid day itself.
ReminderDays = Literal[90, 60, 30, 0]
REMINDER_DAYS: tuple[ReminderDays, ...] = (90, 60, 30, 0)


class LicenseRecorded(DomainEvent):
    type = "LicenseRecorded"

    holder_id: str
    license_id: str
    kind: str
    number: LicenseNumberText
    state: str
    issued_on: dt.date
    expires_on: dt.date


class LicenseRenewed(DomainEvent):
    type = "LicenseRenewed"

    holder_id: str
    license_id: str
    renewed_on: dt.date
    expires_on: dt.date


class LicenseSuspended(DomainEvent):
    type = "LicenseSuspended"

    holder_id: str
    license_id: str
    effective_on: dt.date
    reason: TypedText


class LicenseReinstated(DomainEvent):
    type = "LicenseReinstated"

    holder_id: str
    license_id: str
    effective_on: dt.date


class LicenseRevoked(DomainEvent):
    type = "LicenseRevoked"

    holder_id: str
    license_id: str
    effective_on: dt.date
    reason: TypedText


class LicenseExpired(DomainEvent):
    """By a board notice or by the service's clock; `expired_on` is the first invalid day."""

    type = "LicenseExpired"

    holder_id: str
    license_id: str
    expired_on: dt.date


class LicenseExpiryReminderDue(DomainEvent):
    """Recorded by the service's clock, once per license, expiry date and threshold."""

    type = "LicenseExpiryReminderDue"

    holder_id: str
    license_id: str
    expires_on: dt.date
    days_before: ReminderDays
    # The threshold's day: expires_on minus days_before.
    due_on: dt.date


class SupervisorDesignationRecorded(DomainEvent):
    type = "SupervisorDesignationRecorded"

    holder_id: str
    designation_id: str
    designation: str
    state: str
    granted_on: dt.date
    expires_on: dt.date | None
    training_hours: int
    training_completed_on: dt.date


LicenseEvent = (
    LicenseRecorded
    | LicenseRenewed
    | LicenseSuspended
    | LicenseReinstated
    | LicenseRevoked
    | LicenseExpired
    | LicenseExpiryReminderDue
)

CREDENTIAL_EVENT_TYPES = EventTypes(
    [
        LicenseRecorded,
        LicenseRenewed,
        LicenseSuspended,
        LicenseReinstated,
        LicenseRevoked,
        LicenseExpired,
        LicenseExpiryReminderDue,
        SupervisorDesignationRecorded,
    ]
)
