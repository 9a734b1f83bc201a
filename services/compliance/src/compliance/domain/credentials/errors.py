"""The credential registry's rules, each named as a sentence and raised with what was wrong."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from infra.ddd import AlreadyRecorded, InvalidInput, NotFound, RuleViolated

# Commands: malformed requests (gRPC INVALID_ARGUMENT).


class IssuingStateMustBeATwoLetterCode(InvalidInput):
    def __init__(self, state: str, field: str = "state") -> None:
        super().__init__(field, f"{state!r} is not the two-letter code of a US state or territory")
        self.state = state


class CredentialCodeMustBeWellFormed(InvalidInput):
    """A license kind or a designation is a short code such as LPC, LPC-ASSOCIATE or LPC-S."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(
            field, f"{value!r} is not a credential code (a letter, then letters, digits or '-')"
        )
        self.value = value


class LicenseNumberMustBeWellFormed(InvalidInput):
    def __init__(self, number: str) -> None:
        super().__init__(
            "number", f"{number!r} is not a license number (1 to 32 letters, digits, '.' or '-')"
        )
        self.number = number


class LicenseMustExpireAfterItIsIssued(InvalidInput):
    def __init__(self, issued_on: dt.date, expires_on: dt.date) -> None:
        super().__init__("expires_on", f"{expires_on} is not after issued_on {issued_on}")
        self.issued_on = issued_on
        self.expires_on = expires_on


class RenewalMustExpireAfterItIsRenewed(InvalidInput):
    def __init__(self, renewed_on: dt.date, expires_on: dt.date) -> None:
        super().__init__("expires_on", f"{expires_on} is not after renewed_on {renewed_on}")
        self.renewed_on = renewed_on
        self.expires_on = expires_on


class ReasonMustBeGivenBriefly(InvalidInput):
    """A board action is recorded with its reason: a short statement about the license, never
    notes about clients."""

    def __init__(self, length: int, longest: int) -> None:
        super().__init__(
            "reason",
            "is required" if length == 0 else f"{length} characters; at most {longest}",
        )
        self.length = length


class DateMustNotBeInTheFuture(InvalidInput):
    """The registry records what a board did, on or after the day it takes effect."""

    def __init__(self, field: str, date: dt.date, today: dt.date) -> None:
        super().__init__(field, f"{date} is after today ({today})")
        self.date = date
        self.today = today


class TrainingHoursMustBeWithinBounds(InvalidInput):
    def __init__(self, hours: int, lowest: int, highest: int) -> None:
        super().__init__("training_hours", f"{hours} is outside {lowest}..{highest}")
        self.hours = hours


class SupervisorTrainingMustPrecedeTheDesignation(InvalidInput):
    def __init__(self, completed_on: dt.date, granted_on: dt.date) -> None:
        super().__init__(
            "training_completed_on", f"{completed_on} is after granted_on {granted_on}"
        )
        self.completed_on = completed_on
        self.granted_on = granted_on


class DesignationMustExpireAfterItIsGranted(InvalidInput):
    def __init__(self, granted_on: dt.date, expires_on: dt.date) -> None:
        super().__init__("expires_on", f"{expires_on} is not after granted_on {granted_on}")
        self.granted_on = granted_on
        self.expires_on = expires_on


class SupervisorTrainingMustMeetTheBoardMinimum(InvalidInput):
    def __init__(
        self, designation: str, state: str, required: int, given: int, source: str
    ) -> None:
        super().__init__(
            "training_hours",
            f"{state} {designation} requires {required} hours of supervisor training"
            f" ({source}); {given} given",
        )
        self.designation = designation
        self.state = state
        self.required = required
        self.given = given


# The command names something the registry does not hold (gRPC NOT_FOUND).


class LicenseMustBeRecorded(NotFound):
    def __init__(self, license_id: str) -> None:
        super().__init__(f"license {license_id} is not recorded")
        self.license_id = license_id


# Rules about the record as it stands (gRPC FAILED_PRECONDITION). Each names the license's state.


class LicenseTransitionMustBeAllowed(RuleViolated):
    """A lifecycle command the license's current status does not allow."""

    def __init__(self, license_id: str, status: str, allowed: str, action: str) -> None:
        super().__init__(f"license {license_id} is {status}; only {allowed} license can {action}")
        self.license_id = license_id
        self.status = status


class LicenseMustBeActiveOrExpiredToBeRenewed(LicenseTransitionMustBeAllowed):
    def __init__(self, license_id: str, status: str) -> None:
        super().__init__(license_id, status, "an active or an expired", "be renewed")


class LicenseMustBeActiveToBeSuspended(LicenseTransitionMustBeAllowed):
    def __init__(self, license_id: str, status: str) -> None:
        super().__init__(license_id, status, "an active", "be suspended")


class LicenseMustBeSuspendedToBeReinstated(LicenseTransitionMustBeAllowed):
    def __init__(self, license_id: str, status: str) -> None:
        super().__init__(license_id, status, "a suspended", "be reinstated")


class LicenseMustBeActiveToExpire(LicenseTransitionMustBeAllowed):
    def __init__(self, license_id: str, status: str) -> None:
        super().__init__(license_id, status, "an active", "expire")


class RevokedLicenseMustStayRevoked(LicenseTransitionMustBeAllowed):
    """Revocation is final: nothing is recorded against a revoked license afterwards."""

    def __init__(self, license_id: str, action: str) -> None:
        RuleViolated.__init__(
            self, f"license {license_id} is revoked; a revoked license cannot {action}"
        )
        self.license_id = license_id
        self.status = "revoked"
        self.action = action


class RenewalMustExtendTheExpiry(RuleViolated):
    def __init__(self, license_id: str, status: str, current: dt.date, requested: dt.date) -> None:
        super().__init__(
            f"license {license_id} is {status} with expiry {current}; a renewal must move the"
            f" expiry later than that, not to {requested}"
        )
        self.license_id = license_id
        self.current = current
        self.requested = requested


class LicenseChangeMustNotPrecedeItsHistory(RuleViolated):
    """A status change takes effect on or after the day the license's current status began, and
    a renewal on or after the day it was issued: the history of a license reads forward."""

    def __init__(
        self,
        license_id: str,
        status: str,
        since: dt.date,
        field: str,
        date: dt.date,
        *,
        since_what: str = "since",
    ) -> None:
        super().__init__(
            f"license {license_id} is {status} {since_what} {since}; {field} {date} is before that"
        )
        self.license_id = license_id
        self.status = status
        self.since = since
        self.date = date


class SupervisorDesignationRequiresAnActiveLicense(RuleViolated):
    """A board designates a supervisor on top of a full license in its state: the registry
    records a designation only while the holder holds such a license, active, issued by the day
    the designation was granted."""

    def __init__(
        self,
        holder_id: str,
        state: str,
        kinds: Iterable[str],
        granted_on: dt.date,
        held: Iterable[str],
    ) -> None:
        wanted = "/".join(sorted(kinds)) or "any"
        self.held = tuple(held)
        found = f"; held: {', '.join(self.held)}" if self.held else "; none is recorded"
        super().__init__(
            f"holder {holder_id} has no active {wanted} license in {state} issued by"
            f" {granted_on}{found}"
        )
        self.holder_id = holder_id
        self.state = state
        self.granted_on = granted_on


# Client-chosen ids and natural keys (gRPC ALREADY_EXISTS): a retry with the same content is not
# an error.


class LicenseIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, license_id: str) -> None:
        super().__init__(f"license {license_id} is already recorded with other content")
        self.license_id = license_id


class LicenseNumberMustBeRecordedOnce(AlreadyRecorded):
    """A board issues a number once per credential: one credential recorded under two license
    ids would carry two expiry dates, two sets of reminders and two statuses."""

    def __init__(self, state: str, kind: str, number: str, license_id: str) -> None:
        super().__init__(
            f"{state} {kind} number {number} is already recorded as license {license_id}"
        )
        self.license_id = license_id


class SupervisorDesignationIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, designation_id: str) -> None:
        super().__init__(f"designation {designation_id} is already recorded with other content")
        self.designation_id = designation_id
