"""The referral rules, each named as a sentence and raised with what was wrong.

An illegal step in the loop is a RuleViolated whose message names the referral's current state,
so a coordinator sees at once why it was refused ("referral r-1 is declined; only a referral
awaiting acceptance (raised or redirected) can be accepted").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from infra.ddd import AlreadyRecorded, InvalidInput, NotFound, RuleViolated

# Commands: malformed requests (gRPC INVALID_ARGUMENT).


class ReferralMustGoToAnotherService(InvalidInput):
    def __init__(self, service: str) -> None:
        super().__init__("to_service", f"a referral from {service} cannot go to {service}")
        self.service = service


class ReferralFromSupervisionMustComeFromTherapy(InvalidInput):
    """A supervisor refers a supervisee's client out of the supervisee's therapy."""

    def __init__(self, from_service: str, source: str) -> None:
        super().__init__(
            "from_service",
            f"a referral with the supervision source {source} comes from therapy (the"
            f" supervisee's practice), not {from_service}",
        )
        self.from_service = from_service


class SubstanceUseRecordMustCarryConsent(InvalidInput):
    """42 CFR Part 2: a substance-use record travels only with the consent that allows it."""

    def __init__(self) -> None:
        super().__init__(
            "consent_reference",
            "a substance-use record (42 CFR Part 2) is referred only with the client's consent"
            " reference",
        )


class ReferralMustNotBeRaisedInTheFuture(InvalidInput):
    def __init__(self, raised_at: dt.datetime, now: dt.datetime) -> None:
        super().__init__("raised_at", f"{raised_at.isoformat()} is after now ({now.isoformat()})")
        self.raised_at = raised_at


class InstantMustCarryItsTimeZone(InvalidInput):
    def __init__(self, field: str) -> None:
        super().__init__(field, "an instant needs its UTC offset, for example 2026-05-19T14:30Z")


class OtherMustBeExplained(InvalidInput):
    """A reason of `other` says what it was, in a note kept inside the referral service."""

    def __init__(self, reason_field: str) -> None:
        super().__init__("note", f"a {reason_field} of 'other' needs a note saying what it was")
        self.reason_field = reason_field


class StepMustNotBeDatedInTheFuture(InvalidInput):
    def __init__(self, field: str, date: dt.date, today: dt.date) -> None:
        super().__init__(field, f"{date} is after today ({today})")
        self.date = date


class StepsMustBeDatedInOrder(InvalidInput):
    """A step in the loop cannot be dated before the step it follows."""

    def __init__(self, field: str, date: dt.date, previous: str, previous_on: dt.date) -> None:
        super().__init__(field, f"{date} is before the referral was {previous} ({previous_on})")
        self.date = date
        self.previous_on = previous_on


class AppointmentMustNotPrecedeTheReferral(InvalidInput):
    def __init__(self, appointment_on: dt.date, raised_on: dt.date) -> None:
        super().__init__(
            "appointment_on", f"{appointment_on} is before the referral was raised ({raised_on})"
        )
        self.appointment_on = appointment_on


class ResumingCoachingMustAnswerAReferralFromCoaching(InvalidInput):
    def __init__(self, referral_id: str, from_service: str) -> None:
        super().__init__(
            "recommendation",
            f"referral {referral_id} came from {from_service}: there is no coaching to resume",
        )
        self.referral_id = referral_id


class RedirectedSubstanceUseRecordMustCarryConsent(InvalidInput):
    """42 CFR Part 2: the consent names who may receive the record, so sending it on to another
    service needs the consent that covers that service."""

    def __init__(self, referral_id: str, to_service: str) -> None:
        super().__init__(
            "consent_reference",
            f"referral {referral_id} is a substance-use record (42 CFR Part 2): redirecting it to"
            f" {to_service} needs the client's consent reference covering {to_service}",
        )
        self.referral_id = referral_id


# Retries: a client-chosen id taken by other content (gRPC ALREADY_EXISTS).


class ReferralIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, referral_id: str) -> None:
        super().__init__(f"referral {referral_id} is already recorded with other content")
        self.referral_id = referral_id


class ContactAttemptIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, referral_id: str, attempt_id: str) -> None:
        super().__init__(
            f"contact attempt {attempt_id} of referral {referral_id} is already recorded with"
            " other content"
        )
        self.referral_id = referral_id
        self.attempt_id = attempt_id


# The record: a referral that does not exist (gRPC NOT_FOUND).


class ReferralMustExist(NotFound):
    """The referral named does not exist."""

    def __init__(self, referral_id: str) -> None:
        super().__init__(f"no referral {referral_id}")
        self.referral_id = referral_id


# The loop: steps its current state does not allow (gRPC FAILED_PRECONDITION).


class ReferralStepMustFollowTheLoop(RuleViolated):
    """The referral's current state does not allow this step. Subclasses name the rule."""

    allowed: str = ""

    def __init__(self, referral_id: str, status: str, step: str) -> None:
        super().__init__(
            f"referral {referral_id} is {status.replace('_', ' ')}; only {self.allowed} can be"
            f" {step}"
        )
        self.referral_id = referral_id
        self.status = status
        self.step = step


class ReferralMustAwaitAcceptance(ReferralStepMustFollowTheLoop):
    """Accepting, declining and redirecting answer a referral that waits for acceptance."""

    allowed = "a referral awaiting acceptance (raised or redirected)"


class ReferralMustBeAcceptedToBeScheduled(ReferralStepMustFollowTheLoop):
    allowed = "an accepted referral"


class ReferralMustBeTakenOnToContactTheClient(ReferralStepMustFollowTheLoop):
    """Attempts to engage the client are the receiving service's, once it took the referral on."""

    allowed = "an accepted or scheduled referral"


class ReferralMustBeScheduledToBeCompleted(ReferralStepMustFollowTheLoop):
    """A referral is completed when the client was seen, so a first appointment came first."""

    allowed = "a scheduled referral"


class ReferralMustBeTakenOnToCloseUnableToEngage(ReferralStepMustFollowTheLoop):
    allowed = "an accepted or scheduled referral"


class ReferralMustBeOpenToBeCancelled(ReferralStepMustFollowTheLoop):
    allowed = "an open referral"


class ClientMustBeContactedBeforeClosingUnableToEngage(RuleViolated):
    def __init__(
        self, referral_id: str, status: str, attempts: Iterable[dt.date], needed: int
    ) -> None:
        dates = sorted(attempts)
        made = ", ".join(d.isoformat() for d in dates) or "none"
        super().__init__(
            f"referral {referral_id} is {status}, with {len(dates)} recorded contact attempt(s)"
            f" ({made}); closing it unable to engage needs at least {needed}"
        )
        self.referral_id = referral_id
        self.attempts = len(dates)
        self.needed = needed
