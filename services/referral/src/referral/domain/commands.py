"""What the referral service is asked to record. Each command checks its own fields; what a
referral's state allows is decided in `referral.decide`.

Steps in the loop are dated: an empty date is today, on the service's clock. `actor` is whoever
recorded the step (the caller), which the published events name as `declined_by`,
`scheduled_by`, ...; `accepted_by` is named in the request, because the clinician or coach who
takes the client on is not always the coordinator who records it.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Self

from pydantic import model_validator

from contracts.fields import Instant
from infra.ddd import Command, Id
from referral.domain.errors import (
    OtherMustBeExplained,
    ReferralFromSupervisionMustComeFromTherapy,
    ReferralMustGoToAnotherService,
    SubstanceUseRecordMustCarryConsent,
)
from referral.domain.values import (
    SUPERVISION_SOURCE_PREFIX,
    Actor,
    CancelReason,
    CareService,
    ContactChannel,
    DeclineReason,
    Feedback,
    Note,
    Recommendation,
    RedirectReason,
    Reference,
    ReferralOutcome,
    ReferralReason,
    Urgency,
)


def _explained(reason: str, note: str | None, reason_field: str = "reason") -> None:
    if reason == "other" and note is None:
        raise OtherMustBeExplained(reason_field)


class RaiseReferral(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("referral_id",)
    referral_id: Id
    # Pseudonymous client id.
    client_id: Id
    site_id: Id
    from_service: CareService
    to_service: CareService
    urgency: Urgency
    # The record the referral came from, "<kind>/<id>".
    source: Reference
    reason: ReferralReason | None = None
    note: Note | None = None
    # The record at the referrer that waits on the outcome, "<kind>/<id>".
    origin: Reference | None = None
    raised_by: Actor | None = None
    # When the referral was made; None: now. The service-level clock runs from here.
    raised_at: Instant | None = None
    # The calendar day it was made; None: the day of raised_at as the caller wrote it (in the
    # caller's own UTC offset), or today.
    raised_on: dt.date | None = None
    substance_use_record: bool = False
    consent_reference: Reference | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.from_service == self.to_service:
            raise ReferralMustGoToAnotherService(self.from_service)
        if self.source.startswith(SUPERVISION_SOURCE_PREFIX) and self.from_service != "therapy":
            raise ReferralFromSupervisionMustComeFromTherapy(self.from_service, self.source)
        if self.substance_use_record and self.consent_reference is None:
            raise SubstanceUseRecordMustCarryConsent()
        if self.reason is not None:
            _explained(self.reason, self.note)
        return self


class AcceptReferral(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("referral_id",)
    referral_id: Id
    # The clinician, coach or prescriber who takes the client on (coaching opens an engagement
    # with this coach when the referral is to coaching).
    accepted_by: Id
    accepted_on: dt.date | None = None
    actor: Actor


class DeclineReferral(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("referral_id",)
    referral_id: Id
    reason: DeclineReason
    note: Note | None = None
    declined_on: dt.date | None = None
    actor: Actor

    @model_validator(mode="after")
    def _check(self) -> Self:
        _explained(self.reason, self.note)
        return self


class RedirectReferral(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("referral_id", "command_id")
    referral_id: Id
    to_service: CareService
    reason: RedirectReason
    note: Note | None = None
    redirected_on: dt.date | None = None
    # For a substance-use record: the consent covering the new receiving service.
    consent_reference: Reference | None = None
    actor: Actor
    # A referral may be redirected more than once: each redirect is known by an id of its own
    # (a client that sends none is known by what it asks).
    command_id: Id | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _explained(self.reason, self.note)
        return self


class ScheduleReferral(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("referral_id",)
    referral_id: Id
    appointment_on: dt.date
    scheduled_on: dt.date | None = None
    actor: Actor


class RecordContactAttempt(Command):
    """An attempt to reach the client; the loop is closed unable to engage only after enough."""

    key_fields: ClassVar[tuple[str, ...]] = ("referral_id", "attempt_id")

    referral_id: Id
    attempt_id: Id
    attempted_on: dt.date
    channel: ContactChannel
    actor: Actor


class CompleteReferral(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("referral_id",)
    referral_id: Id
    outcome: ReferralOutcome
    # For the referrer, in words; kept inside the referral service (see values.feedback_reference).
    feedback: Feedback
    recommendation: Recommendation
    completed_on: dt.date | None = None
    actor: Actor


class CloseReferralUnableToEngage(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("referral_id",)
    referral_id: Id
    closed_on: dt.date | None = None
    actor: Actor


class CancelReferral(Command):
    """The referrer withdraws the referral."""

    key_fields: ClassVar[tuple[str, ...]] = ("referral_id",)

    referral_id: Id
    reason: CancelReason
    note: Note | None = None
    cancelled_on: dt.date | None = None
    actor: Actor

    @model_validator(mode="after")
    def _check(self) -> Self:
        _explained(self.reason, self.note)
        return self


ReferralCommand = (
    RaiseReferral
    | AcceptReferral
    | DeclineReferral
    | RedirectReferral
    | ScheduleReferral
    | RecordContactAttempt
    | CompleteReferral
    | CloseReferralUnableToEngage
    | CancelReferral
)
