"""What staff ask the supervision service to record. Each command checks its own fields; the
rules that depend on the record as it stands, or on the rule packs (whether a credential track
is known), are checked by the aggregates' decisions.

Commands that correct the record (amend, terminate, void, reopen) carry the `actor` who asked:
the servicer takes it from the call's metadata, never from the request body.

Each command is known by its client-chosen ids (`key_fields`): a retry is answered with its first
outcome. The commands that may be repeated with the same content (a transfer back, the same
correction twice, a month signed again) carry a `command_id` of their own; without one (a client
written before it) the content is the identity, so that such a client's retries still hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from contracts.fields import Label, Text, check_label
from infra.ddd import Command, Id
from supervision.domain.errors import (
    AgreementFrequencyMustBeWithinBounds,
    AgreementMustEndAfterItStarts,
    AgreementMustNameItsModalities,
    ApprovalReferenceMustBeGiven,
    ChoicesMustBeListedOnce,
    LicenseNumberMustBeWellFormed,
    PracticeMinutesMustFitInAWeek,
    PracticeWeekMustStartOnAMonday,
    ReasonMustBeGiven,
    SessionLengthMustBeWithinBounds,
    SessionMustHaveASupervisee,
    SignOffMustNotPrecedeTheMonthsEnd,
    SuperviseesMustBeListedOnce,
    SupervisorMustNotBeAmongSupervisees,
    SupervisorMustNotSuperviseThemself,
    WellbeingCheckMustBeOfASuperviseeInTheSession,
    WellbeingCheckMustBeOnePerSupervisee,
    WellbeingMustBeOnTheScale,
)
from supervision.domain.values import (
    WELLBEING_HIGHEST,
    WELLBEING_LOWEST,
    AgreementPeriod,
    Focus,
    SessionFormat,
    SessionKind,
    SessionModality,
    Technique,
    WellbeingCheck,
    month_bounds,
    parse_month,
)

# Sanity bounds on one session's length, not a board rule: shorter is a data-entry slip rather
# than supervision, longer than a working day is not one session.
MIN_SESSION_MINUTES = 15
MAX_SESSION_MINUTES = 480
# An agreement meets at least once per period, and not more than daily in a month.
MIN_SESSIONS_PER_PERIOD = 1
MAX_SESSIONS_PER_PERIOD = 31
# Reasons and references are short: they say why, not what happened with a client.
MAX_REASON_LENGTH = 500
MAX_REFERENCE_LENGTH = 100
# A week holds 7 x 24 hours: more is a data-entry slip.
MINUTES_IN_A_WEEK = 7 * 24 * 60

_LICENSE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{0,39}")

Month = Annotated[str, AfterValidator(parse_month)]


def _duplicates(values: Iterable[str]) -> list[str]:
    return [value for value, n in Counter(values).items() if n > 1]


def _check_listed_once(field: str, values: Iterable[str]) -> None:
    duplicates = _duplicates(values)
    if duplicates:
        raise ChoicesMustBeListedOnce(field, duplicates)


def _check_reason(field: str, reason: str) -> None:
    if not reason.strip() or len(reason) > MAX_REASON_LENGTH:
        raise ReasonMustBeGiven(field, MAX_REASON_LENGTH)


class RegisterSupervisee(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id",)
    supervisee_id: Id
    credential_track: Label
    # The provisional license, registration or permit number the board issued.
    license_number: str
    home_site_id: Id
    registered_on: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not _LICENSE_NUMBER.fullmatch(self.license_number):
            raise LicenseNumberMustBeWellFormed(self.license_number, 1, 40)
        return self


class TransferSupervisee(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id", "command_id")
    # Client-chosen: this command can be repeated with the same content as an earlier one.
    command_id: Id | None = None
    supervisee_id: Id
    to_site_id: Id
    effective_on: dt.date


class _AgreementTerms(Command):
    """The terms an agreement is signed with and amended to."""

    # Listed in any order: the same terms.
    unordered_fields: ClassVar[frozenset[str]] = frozenset({"modalities"})

    # The last day the agreement is in force (inclusive).
    end_date: dt.date
    modalities: tuple[SessionModality, ...]
    sessions_per_period: int
    period: AgreementPeriod

    @model_validator(mode="after")
    def _check_terms(self) -> Self:
        if not self.modalities:
            raise AgreementMustNameItsModalities()
        _check_listed_once("modalities", self.modalities)
        if not MIN_SESSIONS_PER_PERIOD <= self.sessions_per_period <= MAX_SESSIONS_PER_PERIOD:
            raise AgreementFrequencyMustBeWithinBounds(
                self.sessions_per_period, MIN_SESSIONS_PER_PERIOD, MAX_SESSIONS_PER_PERIOD
            )
        return self


class SignAgreement(_AgreementTerms):
    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id", "agreement_id")
    agreement_id: Id
    supervisor_id: Id
    supervisee_id: Id
    site_id: Id
    # The agreement is on the supervisee's registered track; a request may name it, and then it
    # must be that one.
    credential_track: Label | None = None
    start_date: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.supervisor_id == self.supervisee_id:
            raise SupervisorMustNotSuperviseThemself(self.supervisor_id)
        if self.end_date <= self.start_date:
            raise AgreementMustEndAfterItStarts(self.start_date, self.end_date)
        return self


class ApproveAgreement(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id", "agreement_id")
    supervisee_id: Id
    agreement_id: Id
    approved_on: dt.date
    approval_reference: Annotated[str, AfterValidator(check_label)]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.approval_reference.strip() or len(self.approval_reference) > (
            MAX_REFERENCE_LENGTH
        ):
            raise ApprovalReferenceMustBeGiven(MAX_REFERENCE_LENGTH)
        return self


class AmendAgreement(_AgreementTerms):
    """New terms from now on: the end date, modalities and frequency."""

    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id", "agreement_id", "command_id")
    # Client-chosen: this command can be repeated with the same content as an earlier one.
    command_id: Id | None = None

    supervisee_id: Id
    agreement_id: Id
    reason: Text
    actor: Id

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_reason("reason", self.reason)
        return self


class TerminateAgreement(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id", "agreement_id")
    supervisee_id: Id
    agreement_id: Id
    # The last day the agreement is in force.
    terminated_on: dt.date
    reason: Text
    actor: Id

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_reason("reason", self.reason)
        return self


class SuperviseeWellbeing(BaseModel):
    """One supervisee's wellbeing check at a session: scores only, never text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    supervisee_id: Id
    burnout: int
    vicarious_trauma: int

    def check(self) -> WellbeingCheck:
        return WellbeingCheck(burnout=self.burnout, vicarious_trauma=self.vicarious_trauma)


class _SessionFields(Command):
    """What a session is: logged with these, and amended to a new set of them."""

    # Listed in any order: the same session.
    unordered_fields: ClassVar[frozenset[str]] = frozenset({"techniques", "focus"})

    kind: SessionKind
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    start_time: dt.time | None = None
    minutes: int
    techniques: tuple[Technique, ...] = ()
    focus: tuple[Focus, ...] = ()

    @model_validator(mode="after")
    def _check_session(self) -> Self:
        if not MIN_SESSION_MINUTES <= self.minutes <= MAX_SESSION_MINUTES:
            raise SessionLengthMustBeWithinBounds(
                self.minutes, MIN_SESSION_MINUTES, MAX_SESSION_MINUTES
            )
        _check_listed_once("techniques", self.techniques)
        _check_listed_once("focus", self.focus)
        return self


class LogSession(_SessionFields):
    key_fields: ClassVar[tuple[str, ...]] = ("session_id",)
    unordered_fields: ClassVar[frozenset[str]] = frozenset(
        {"techniques", "focus", "supervisee_ids", "wellbeing"}
    )
    session_id: Id
    supervisor_id: Id
    supervisee_ids: tuple[Id, ...]
    site_id: Id
    # At most one check per supervisee of the session; a supervisee may have none.
    wellbeing: tuple[SuperviseeWellbeing, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.supervisee_ids:
            raise SessionMustHaveASupervisee()
        duplicates = _duplicates(self.supervisee_ids)
        if duplicates:
            raise SuperviseesMustBeListedOnce(duplicates)
        if self.supervisor_id in self.supervisee_ids:
            raise SupervisorMustNotBeAmongSupervisees(self.supervisor_id)
        for check in self.wellbeing:
            if check.supervisee_id not in self.supervisee_ids:
                raise WellbeingCheckMustBeOfASuperviseeInTheSession(check.supervisee_id)
            for measure, score in (
                ("burnout", check.burnout),
                ("vicarious_trauma", check.vicarious_trauma),
            ):
                if not WELLBEING_LOWEST <= score <= WELLBEING_HIGHEST:
                    raise WellbeingMustBeOnTheScale(
                        measure, score, WELLBEING_LOWEST, WELLBEING_HIGHEST
                    )
        checked_twice = _duplicates(c.supervisee_id for c in self.wellbeing)
        if checked_twice:
            raise WellbeingCheckMustBeOnePerSupervisee(checked_twice)
        return self

    def wellbeing_of(self, supervisee_id: str) -> WellbeingCheck | None:
        return next((c.check() for c in self.wellbeing if c.supervisee_id == supervisee_id), None)


class AmendSession(_SessionFields):
    """The session as it now stands; its supervisor, supervisees and site do not change (a
    session with the wrong people is voided and logged again)."""

    key_fields: ClassVar[tuple[str, ...]] = ("session_id", "command_id")
    # Client-chosen: this command can be repeated with the same content as an earlier one.
    command_id: Id | None = None

    session_id: Id
    reason: Text
    actor: Id

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_reason("reason", self.reason)
        return self


class VoidSession(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("session_id",)
    # A session is voided once, for one reason: whoever asks it again asks the same.
    unfingerprinted_fields: ClassVar[frozenset[str]] = frozenset({"actor"})
    session_id: Id
    reason: Text
    actor: Id

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_reason("reason", self.reason)
        return self


class RecordPracticeHours(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id", "command_id")
    # Client-chosen: this command can be repeated with the same content as an earlier one.
    command_id: Id | None = None
    supervisee_id: Id
    site_id: Id
    # The Monday the week starts on.
    week_start: dt.date
    direct_minutes: int
    indirect_minutes: int
    # Why a week already recorded is recorded again with other figures.
    correction: Text | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.week_start.weekday() != 0:
            raise PracticeWeekMustStartOnAMonday(self.week_start)
        for field, minutes in (
            ("direct_minutes", self.direct_minutes),
            ("indirect_minutes", self.indirect_minutes),
            ("indirect_minutes", self.direct_minutes + self.indirect_minutes),
        ):
            if not 0 <= minutes <= MINUTES_IN_A_WEEK:
                raise PracticeMinutesMustFitInAWeek(field, minutes, MINUTES_IN_A_WEEK)
        if self.correction is not None:
            _check_reason("correction", self.correction)
        return self


class SignOffMonth(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id", "command_id")
    # Client-chosen: this command can be repeated with the same content as an earlier one.
    command_id: Id | None = None
    supervisee_id: Id
    # "YYYY-MM".
    month: Month
    supervisor_id: Id
    signed_on: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        last_day = month_bounds(self.month)[1]
        if self.signed_on < last_day:
            raise SignOffMustNotPrecedeTheMonthsEnd(self.month, self.signed_on, last_day)
        return self


class ReopenMonth(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("supervisee_id", "command_id")
    # Client-chosen: this command can be repeated with the same content as an earlier one.
    command_id: Id | None = None
    supervisee_id: Id
    month: Month
    reason: Text
    actor: Id
    # None: the day it is decided.
    reopened_on: dt.date | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_reason("reason", self.reason)
        return self
