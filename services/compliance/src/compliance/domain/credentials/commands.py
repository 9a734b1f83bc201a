"""What staff ask the credential registry to record. Each command checks its own fields; the
rules that depend on the record as it stands are in `credentials.decide`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BeforeValidator, model_validator

from compliance.domain.credentials.errors import (
    CredentialCodeMustBeWellFormed,
    DesignationMustExpireAfterItIsGranted,
    IssuingStateMustBeATwoLetterCode,
    LicenseMustExpireAfterItIsIssued,
    LicenseNumberMustBeWellFormed,
    ReasonMustBeGivenBriefly,
    RenewalMustExpireAfterItIsRenewed,
    SupervisorTrainingMustPrecedeTheDesignation,
    TrainingHoursMustBeWithinBounds,
)
from contracts.fields import check_text
from infra.ddd import Command, Id

# The fifty states, the District of Columbia and the territories whose boards license clinicians.
_STATES = "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH"
_MORE_STATES = "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP"
US_STATE_CODES = frozenset(f"{_STATES} {_MORE_STATES}".split(" "))

_CODE = re.compile(r"[A-Z][A-Z0-9-]{0,31}")
_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9.-]{0,31}")

REASON_MAX_CHARS = 200
# Sanity bounds on a supervisor training record, not a board rule.
MAX_TRAINING_HOURS = 1000


def _normalized(value: Any) -> Any:
    """Codes and numbers are compared as boards print them: upper case, no surrounding blanks,
    so a retry typed in lower case is the same command."""
    return value.strip().upper() if isinstance(value, str) else value


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Code = Annotated[str, BeforeValidator(_normalized)]
Reason = Annotated[str, BeforeValidator(_trimmed), AfterValidator(check_text)]


def _check_state(state: str, field: str = "state") -> None:
    if state not in US_STATE_CODES:
        raise IssuingStateMustBeATwoLetterCode(state, field)


def _check_code(value: str, field: str) -> None:
    if not _CODE.fullmatch(value):
        raise CredentialCodeMustBeWellFormed(field, value)


def _check_reason(reason: str) -> None:
    if not reason or len(reason) > REASON_MAX_CHARS:
        raise ReasonMustBeGivenBriefly(len(reason), REASON_MAX_CHARS)


class RecordLicense(Command):
    """Enters a license (or a provisional license, registration or permit) in the registry."""

    license_id: Id
    holder_id: Id
    # For example LPC, LPC-ASSOCIATE, LMFT, AMFT, LCSW.
    kind: Code
    number: Code
    # The issuing state's two-letter code.
    state: Code
    issued_on: dt.date
    # The last day the license is valid; the day after is its first invalid day.
    expires_on: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_code(self.kind, "kind")
        if not _NUMBER.fullmatch(self.number):
            raise LicenseNumberMustBeWellFormed(self.number)
        _check_state(self.state)
        if self.expires_on <= self.issued_on:
            raise LicenseMustExpireAfterItIsIssued(self.issued_on, self.expires_on)
        return self


class RenewLicense(Command):
    license_id: Id
    renewed_on: dt.date
    # The new last valid day.
    expires_on: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.expires_on <= self.renewed_on:
            raise RenewalMustExpireAfterItIsRenewed(self.renewed_on, self.expires_on)
        return self


class SuspendLicense(Command):
    license_id: Id
    effective_on: dt.date
    reason: Reason

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_reason(self.reason)
        return self


class ReinstateLicense(Command):
    license_id: Id
    effective_on: dt.date


class RevokeLicense(Command):
    license_id: Id
    effective_on: dt.date
    reason: Reason

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_reason(self.reason)
        return self


class ExpireLicense(Command):
    """A board notice that a license expired. `expired_on` is its first invalid day; None takes
    the day after the recorded expiry."""

    license_id: Id
    expired_on: dt.date | None = None


class RecordSupervisorDesignation(Command):
    """A board designated the holder an approved supervisor (for example TX LPC-S)."""

    designation_id: Id
    holder_id: Id
    designation: Code
    state: Code
    granted_on: dt.date
    expires_on: dt.date | None = None
    training_hours: int
    training_completed_on: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_code(self.designation, "designation")
        _check_state(self.state)
        if not 0 <= self.training_hours <= MAX_TRAINING_HOURS:
            raise TrainingHoursMustBeWithinBounds(self.training_hours, 0, MAX_TRAINING_HOURS)
        if self.training_completed_on > self.granted_on:
            raise SupervisorTrainingMustPrecedeTheDesignation(
                self.training_completed_on, self.granted_on
            )
        if self.expires_on is not None and self.expires_on <= self.granted_on:
            raise DesignationMustExpireAfterItIsGranted(self.granted_on, self.expires_on)
        return self


LicenseCommand = RenewLicense | SuspendLicense | ReinstateLicense | RevokeLicense | ExpireLicense
CredentialCommand = RecordLicense | LicenseCommand | RecordSupervisorDesignation
