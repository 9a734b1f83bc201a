"""Events the compliance service publishes on `continuum.compliance.events`: the licensure
credential registry, keyed by the license holder, so one person's credential history stays in
order (supervision reads it to know a supervisor's standing on a session's date); and what
compliance officers record beside the facts (resolutions of verdicts, approved leave), keyed by
the supervisee they concern."""

from __future__ import annotations

from typing import Literal

from contracts.events.base import EventContract, register
from contracts.fields import Date, Id, Int32, Label, LicenseNumber, SealedText
from contracts.topics import COMPLIANCE_EVENTS

__all__ = [
    "LeaveApproved",
    "LicenseExpired",
    "LicenseExpiryReminderDue",
    "LicenseRecorded",
    "LicenseReinstated",
    "LicenseRenewed",
    "LicenseRevoked",
    "LicenseSuspended",
    "SupervisorDesignationRecorded",
    "VerdictResolved",
]

# How a compliance officer resolves a verdict: a waiver (the rule set aside for it) or a documented
# exception (the rule's own exception applies and is on file).
ResolutionKind = Literal["waiver", "documented_exception"]

# The days before expiry a reminder is due; 0 is the day itself.
ReminderDays = Literal[90, 60, 30, 0]


class _CredentialEvent(EventContract):
    topic = COMPLIANCE_EVENTS.name
    holder_id: Id

    def key(self) -> str:
        return self.holder_id


class _LicenseEvent(_CredentialEvent):
    license_id: Id


@register
class LicenseRecorded(_LicenseEvent):
    """A license (or a provisional license, registration or permit) was entered in the registry."""

    name = "continuum.compliance.LicenseRecorded"
    version = 1

    # The credential, for example "LPC", "LPC-ASSOCIATE", "LMFT", "AMFT".
    kind: Label
    number: LicenseNumber
    # The issuing state, as its two-letter code.
    state: Label
    issued_on: Date
    expires_on: Date


@register
class LicenseRenewed(_LicenseEvent):
    """The license was renewed to a later expiry; an expired license is active again."""

    name = "continuum.compliance.LicenseRenewed"
    version = 1

    renewed_on: Date
    expires_on: Date


@register
class LicenseSuspended(_LicenseEvent):
    """The board suspended the license: the holder may not practice or supervise from then."""

    name = "continuum.compliance.LicenseSuspended"
    version = 1

    effective_on: Date
    reason: SealedText


@register
class LicenseReinstated(_LicenseEvent):
    """A suspension ended: the holder may practice and supervise again from `effective_on`."""

    name = "continuum.compliance.LicenseReinstated"
    version = 1

    effective_on: Date


@register
class LicenseRevoked(_LicenseEvent):
    """The license was revoked: final."""

    name = "continuum.compliance.LicenseRevoked"
    version = 1

    effective_on: Date
    reason: SealedText


@register
class LicenseExpired(_LicenseEvent):
    """The license passed its expiry date without renewal; `expired_on` is its first invalid day."""

    name = "continuum.compliance.LicenseExpired"
    version = 1

    expired_on: Date


@register
class LicenseExpiryReminderDue(_LicenseEvent):
    """A license expires in `days_before` days (0: today), found by the service's clock."""

    name = "continuum.compliance.LicenseExpiryReminderDue"
    version = 1

    expires_on: Date
    days_before: ReminderDays
    due_on: Date


@register
class SupervisorDesignationRecorded(_CredentialEvent):
    """A board designated the holder an approved supervisor (for example LPC-S)."""

    name = "continuum.compliance.SupervisorDesignationRecorded"
    version = 1

    designation_id: Id
    designation: Label
    state: Label
    granted_on: Date
    expires_on: Date | None
    training_hours: Int32
    training_completed_on: Date


class _OversightEvent(EventContract):
    topic = COMPLIANCE_EVENTS.name
    supervisee_id: Id

    def key(self) -> str:
        return self.supervisee_id


@register
class VerdictResolved(_OversightEvent):
    """A compliance officer resolved one of the supervisee's verdicts (a void or a finding) from
    `on`: it stays listed with this resolution and no longer makes them out of compliance."""

    name = "continuum.compliance.VerdictResolved"
    version = 1

    resolution_id: Id
    verdict_id: Id
    kind: ResolutionKind
    reason: SealedText
    # The officer's staff id.
    resolved_by: Id
    on: Date


@register
class LeaveApproved(_OversightEvent):
    """A supervisee's leave from `start` to `end` (inclusive), approved in writing by
    `approved_by`, recorded by a compliance officer: the cadence rules are suspended for the
    windows it covers."""

    name = "continuum.compliance.LeaveApproved"
    version = 1

    leave_id: Id
    start: Date
    end: Date
    approved_by: Id
    reason: SealedText
    recorded_by: Id
