"""The Referral aggregate: one stream per referral (`referral-<id>`).

The loop, with an explicit end:

    raised ──accept──▶ accepted ──schedule──▶ scheduled ──complete──▶ completed
      │ ▲                 │                      │
      │ └──redirect──┐    └── contact attempts ──┴──close (after enough)──▶ closed_unable_to_engage
      ├──decline──▶ declined   (a redirected referral awaits acceptance again, at the new service)
      └──cancel (from any open state)──▶ cancelled

Every step moves the status on and never back; a closed referral accepts nothing more. A step
retried with the same content records nothing (the API answers `already_recorded`); a step its
state does not allow is refused with a rule that names the state. The service's own clock
records a breach of a service-level target (`breaches_due`), once per referral and target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, assert_never

from pydantic import BaseModel, ConfigDict

from infra.ddd import DomainEvent
from referral.domain.commands import (
    AcceptReferral,
    CancelReferral,
    CloseReferralUnableToEngage,
    CompleteReferral,
    DeclineReferral,
    RaiseReferral,
    RecordContactAttempt,
    RedirectReferral,
    ReferralCommand,
    ScheduleReferral,
)
from referral.domain.errors import (
    AppointmentMustNotPrecedeTheReferral,
    ClientMustBeContactedBeforeClosingUnableToEngage,
    ContactAttemptIdMustNotBeReused,
    RedirectedSubstanceUseRecordMustCarryConsent,
    ReferralIdMustNotBeReused,
    ReferralMustAwaitAcceptance,
    ReferralMustBeAcceptedToBeScheduled,
    ReferralMustBeOpenToBeCancelled,
    ReferralMustBeScheduledToBeCompleted,
    ReferralMustBeTakenOnToCloseUnableToEngage,
    ReferralMustBeTakenOnToContactTheClient,
    ReferralMustExist,
    ReferralMustGoToAnotherService,
    ReferralMustNotBeRaisedInTheFuture,
    ResumingCoachingMustAnswerAReferralFromCoaching,
    StepMustNotBeDatedInTheFuture,
    StepsMustBeDatedInOrder,
)
from referral.domain.events import (
    ContactAttemptRecorded,
    ReferralAccepted,
    ReferralCancelled,
    ReferralClosedUnableToEngage,
    ReferralCompleted,
    ReferralDeclined,
    ReferralRaised,
    ReferralRedirected,
    ReferralScheduled,
    ServiceLevelBreached,
)
from referral.domain.service_levels import DEFAULT_SERVICE_LEVELS, TARGETS, ServiceLevelPolicy
from referral.domain.values import (
    AWAITING_ACCEPTANCE,
    CLOSED,
    TAKEN_ON,
    CareService,
    ContactChannel,
    Recommendation,
    ReferralOutcome,
    ReferralReason,
    ReferralStatus,
    ServiceLevelTarget,
    Urgency,
)

# Closing a referral unable to engage needs at least this many recorded attempts to reach the
# client. Three documented attempts before closing for no contact is common care-coordination
# practice; no board rule or regulation sets the number, so it is a policy figure, kept here in
# one place. The attempts themselves stay inside this service; their dates go with the closing.
MIN_CONTACT_ATTEMPTS = 3

# How far ahead of this service's clock a raised_at may be: the clocks of staff devices and of
# the other services' hosts drift a little, and refusing a referral for seconds of drift would
# lose it (a concern's referral would be dead-lettered). Beyond this it is a mistake.
CLOCK_SKEW = dt.timedelta(minutes=5)


def stream_id(referral_id: str) -> str:
    return f"referral-{referral_id}"


class Referral(BaseModel):
    """The referral as it was raised."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    client_id: str
    site_id: str
    from_service: CareService
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    source: str
    raised_at: dt.datetime | None = None
    origin: str | None = None
    reason: ReferralReason | None = None
    note: str | None = None
    raised_by: str | None = None
    substance_use_record: bool = False
    consent_reference: str | None = None
    acknowledgement_due_at: dt.datetime | None = None
    scheduling_due_at: dt.datetime | None = None

    @property
    def clock_starts_at(self) -> dt.datetime:
        """When the service-level clock started: raised_at; for a referral recorded before
        raised_at was, the start of its day (UTC)."""
        if self.raised_at is not None:
            return self.raised_at
        return dt.datetime.combine(self.raised_on, dt.time(), tzinfo=dt.UTC)

    def due_at(self, target: ServiceLevelTarget) -> dt.datetime:
        recorded = (
            self.acknowledgement_due_at if target == "acknowledgement" else self.scheduling_due_at
        )
        if recorded is not None:
            return recorded
        # Recorded before referrals carried their deadlines: the default targets.
        return DEFAULT_SERVICE_LEVELS.due_at(self.urgency, target, self.clock_starts_at)


class Step(BaseModel):
    """A step in the loop after the referral was raised."""

    model_config = ConfigDict(frozen=True)

    status: ReferralStatus
    on: dt.date
    # Who: accepted_by for an acceptance, otherwise whoever recorded the step.
    by: str
    # The reason code of a decline, a redirect or a cancellation.
    reason: str | None = None
    note: str | None = None
    # A redirect's new receiving service.
    to_service: CareService | None = None


class ContactAttempt(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempt_id: str
    attempted_on: dt.date
    channel: ContactChannel
    recorded_by: str


class Completion(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: ReferralOutcome
    feedback: str
    recommendation: Recommendation


class Breach(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: ServiceLevelTarget
    due_at: dt.datetime
    detected_at: dt.datetime


class ReferralState(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ReferralStatus = "not_raised"
    referral: Referral | None = None
    # Where the referral is now (a redirect changes it).
    to_service: CareService | None = None
    # The consent in force for a substance-use record (a redirect may bring a new one).
    consent_reference: str | None = None
    history: tuple[Step, ...] = ()
    appointment_on: dt.date | None = None
    attempts: tuple[ContactAttempt, ...] = ()
    completion: Completion | None = None
    breaches: tuple[Breach, ...] = ()

    def step(self, status: ReferralStatus) -> Step | None:
        """The last step that set this status."""
        return next((s for s in reversed(self.history) if s.status == status), None)

    @property
    def status_on(self) -> dt.date | None:
        if self.history:
            return self.history[-1].on
        return self.referral.raised_on if self.referral is not None else None

    @property
    def accepted_by(self) -> str | None:
        accepted = self.step("accepted")
        return accepted.by if accepted is not None else None

    @property
    def is_open(self) -> bool:
        return self.referral is not None and self.status not in CLOSED

    def met(self, target: ServiceLevelTarget) -> bool:
        """Acknowledged: the receiving service answered (accepted, declined or redirected).
        Scheduled: a first appointment was booked."""
        answered = {"accepted", "declined", "redirected"}
        if target == "acknowledgement":
            return any(s.status in answered for s in self.history)
        return any(s.status == "scheduled" for s in self.history)

    def breached(self, target: ServiceLevelTarget) -> bool:
        return any(b.target == target for b in self.breaches)


INITIAL = ReferralState()


def decide(
    state: ReferralState,
    command: ReferralCommand,
    now: dt.datetime,
    policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS,
) -> list[DomainEvent]:
    """The events a command records; [] when it was already recorded (a retry).

    `now` is the service's clock (timezone-aware): steps left undated are dated today, and no
    step may be dated after it. `policy` sets the deadlines of a referral being raised.
    """
    match command:
        case RaiseReferral():
            return _raise(state, command, now, policy)
        case AcceptReferral():
            return _accept(state, command, now.date())
        case DeclineReferral():
            return _decline(state, command, now.date())
        case RedirectReferral():
            return _redirect(state, command, now.date())
        case ScheduleReferral():
            return _schedule(state, command, now.date())
        case RecordContactAttempt():
            return _record_attempt(state, command, now.date())
        case CompleteReferral():
            return _complete(state, command, now.date())
        case CloseReferralUnableToEngage():
            return _close_unable_to_engage(state, command, now.date())
        case CancelReferral():
            return _cancel(state, command, now.date())
        case _:
            assert_never(command)


# --- raising ----------------------------------------------------------------------------------

# Derived from raised_at and the policy in force: never part of what a retry must repeat.
_DERIVED = {"acknowledgement_due_at", "scheduling_due_at"}
_WHEN = {"raised_at", "raised_on"}


def _raise(
    state: ReferralState, command: RaiseReferral, now: dt.datetime, policy: ServiceLevelPolicy
) -> list[DomainEvent]:
    """`raised_on` is not checked against today: referrals are also raised from records other
    services already dated (a coaching concern), possibly in a site's calendar ahead of this
    service's clock, and refusing a redelivered fact would only dead-letter it. `raised_at`, the
    instant the service-level clock starts from, may not be ahead of now (beyond clock drift)."""
    raised_at = command.raised_at if command.raised_at is not None else now
    if raised_at > now + CLOCK_SKEW:
        raise ReferralMustNotBeRaisedInTheFuture(raised_at, now)
    raised_on = command.raised_on or raised_at.date()  # the day as the caller wrote it
    raised_at = raised_at.astimezone(dt.UTC)
    due = policy.due_by_target(command.urgency, raised_at)
    proposed = Referral(
        **command.model_dump(exclude=_WHEN),
        raised_at=raised_at,
        raised_on=raised_on,
        acknowledgement_due_at=due["acknowledgement"],
        scheduling_due_at=due["scheduling"],
    )
    if state.referral is not None:
        # A retry that left the time to the clock is the same referral whenever it arrives.
        ignored = _DERIVED | (_WHEN if command.raised_at is None else set())
        if _without(state.referral, ignored) == _without(proposed, ignored):
            return []
        raise ReferralIdMustNotBeReused(command.referral_id)
    return [ReferralRaised(**proposed.model_dump())]


def _without(referral: Referral, fields: set[str]) -> dict[str, Any]:
    return referral.model_dump(exclude=fields)


# --- answering: accept, decline, redirect ------------------------------------------------------


def _accept(state: ReferralState, command: AcceptReferral, today: dt.date) -> list[DomainEvent]:
    referral = _existing(state, command.referral_id)
    accepted = state.step("accepted")
    if (
        accepted is not None
        and accepted.by == command.accepted_by
        and _same_day(accepted.on, command.accepted_on)
    ):
        return []
    if state.status not in AWAITING_ACCEPTANCE:
        raise ReferralMustAwaitAcceptance(command.referral_id, state.status, "accepted")
    accepted_on = _dated(state, command.accepted_on, "accepted_on", today)
    assert state.to_service is not None
    return [
        ReferralAccepted(
            referral_id=referral.referral_id,
            client_id=referral.client_id,
            site_id=referral.site_id,
            from_service=referral.from_service,
            to_service=state.to_service,
            source=referral.source,
            origin=referral.origin,
            accepted_by=command.accepted_by,
            accepted_on=accepted_on,
        )
    ]


def _decline(state: ReferralState, command: DeclineReferral, today: dt.date) -> list[DomainEvent]:
    _existing(state, command.referral_id)
    declined = state.step("declined")
    if (
        declined is not None
        and (declined.reason, declined.note) == (command.reason, command.note)
        and _same_day(declined.on, command.declined_on)
    ):
        return []
    if state.status not in AWAITING_ACCEPTANCE:
        raise ReferralMustAwaitAcceptance(command.referral_id, state.status, "declined")
    return [
        ReferralDeclined(
            referral_id=command.referral_id,
            declined_by=command.actor,
            declined_on=_dated(state, command.declined_on, "declined_on", today),
            reason=command.reason,
            note=command.note,
        )
    ]


def _redirect(state: ReferralState, command: RedirectReferral, today: dt.date) -> list[DomainEvent]:
    referral = _existing(state, command.referral_id)
    redirected = state.step("redirected")
    if (
        redirected is not None
        and state.to_service == command.to_service == redirected.to_service
        and (redirected.reason, redirected.note) == (command.reason, command.note)
        and _same_day(redirected.on, command.redirected_on)
    ):
        return []
    if state.status not in AWAITING_ACCEPTANCE:
        raise ReferralMustAwaitAcceptance(command.referral_id, state.status, "redirected")
    assert state.to_service is not None
    if command.to_service in (state.to_service, referral.from_service):
        # Back to where it is, or back to the referrer, is no redirect.
        raise ReferralMustGoToAnotherService(command.to_service)
    if referral.substance_use_record and command.consent_reference is None:
        raise RedirectedSubstanceUseRecordMustCarryConsent(command.referral_id, command.to_service)
    return [
        ReferralRedirected(
            referral_id=command.referral_id,
            from_to_service=state.to_service,
            to_service=command.to_service,
            redirected_by=command.actor,
            redirected_on=_dated(state, command.redirected_on, "redirected_on", today),
            reason=command.reason,
            note=command.note,
            consent_reference=command.consent_reference,
        )
    ]


# --- after acceptance: schedule, contact attempts ----------------------------------------------


def _schedule(state: ReferralState, command: ScheduleReferral, today: dt.date) -> list[DomainEvent]:
    referral = _existing(state, command.referral_id)
    scheduled = state.step("scheduled")
    if (
        scheduled is not None
        and state.appointment_on == command.appointment_on
        and _same_day(scheduled.on, command.scheduled_on)
    ):
        return []
    if state.status != "accepted":
        raise ReferralMustBeAcceptedToBeScheduled(command.referral_id, state.status, "scheduled")
    if command.appointment_on < referral.raised_on:
        raise AppointmentMustNotPrecedeTheReferral(command.appointment_on, referral.raised_on)
    return [
        ReferralScheduled(
            referral_id=command.referral_id,
            appointment_on=command.appointment_on,
            scheduled_by=command.actor,
            scheduled_on=_dated(state, command.scheduled_on, "scheduled_on", today),
        )
    ]


def _record_attempt(
    state: ReferralState, command: RecordContactAttempt, today: dt.date
) -> list[DomainEvent]:
    _existing(state, command.referral_id)
    earlier = next((a for a in state.attempts if a.attempt_id == command.attempt_id), None)
    if earlier is not None:
        if (earlier.attempted_on, earlier.channel) == (command.attempted_on, command.channel):
            return []
        raise ContactAttemptIdMustNotBeReused(command.referral_id, command.attempt_id)
    if state.status not in TAKEN_ON:
        raise ReferralMustBeTakenOnToContactTheClient(
            command.referral_id, state.status, "contacted"
        )
    accepted = state.step("accepted")
    assert accepted is not None
    if command.attempted_on > today:
        raise StepMustNotBeDatedInTheFuture("attempted_on", command.attempted_on, today)
    if command.attempted_on < accepted.on:
        raise StepsMustBeDatedInOrder("attempted_on", command.attempted_on, "accepted", accepted.on)
    return [
        ContactAttemptRecorded(
            referral_id=command.referral_id,
            attempt_id=command.attempt_id,
            attempted_on=command.attempted_on,
            channel=command.channel,
            recorded_by=command.actor,
        )
    ]


# --- the ends of the loop ----------------------------------------------------------------------


def _complete(state: ReferralState, command: CompleteReferral, today: dt.date) -> list[DomainEvent]:
    referral = _existing(state, command.referral_id)
    completed = state.step("completed")
    asked = Completion(
        outcome=command.outcome, feedback=command.feedback, recommendation=command.recommendation
    )
    if (
        completed is not None
        and state.completion == asked
        and _same_day(completed.on, command.completed_on)
    ):
        return []
    if state.status != "scheduled":
        raise ReferralMustBeScheduledToBeCompleted(command.referral_id, state.status, "completed")
    if command.recommendation == "resume_coaching" and referral.from_service != "coaching":
        raise ResumingCoachingMustAnswerAReferralFromCoaching(
            command.referral_id, referral.from_service
        )
    assert state.to_service is not None
    return [
        ReferralCompleted(
            referral_id=referral.referral_id,
            client_id=referral.client_id,
            from_service=referral.from_service,
            to_service=state.to_service,
            source=referral.source,
            origin=referral.origin,
            completed_by=command.actor,
            completed_on=_dated(state, command.completed_on, "completed_on", today),
            outcome=command.outcome,
            feedback=command.feedback,
            recommendation=command.recommendation,
        )
    ]


def _close_unable_to_engage(
    state: ReferralState, command: CloseReferralUnableToEngage, today: dt.date
) -> list[DomainEvent]:
    _existing(state, command.referral_id)
    closed = state.step("closed_unable_to_engage")
    if closed is not None and _same_day(closed.on, command.closed_on):
        return []
    if state.status not in TAKEN_ON:
        raise ReferralMustBeTakenOnToCloseUnableToEngage(
            command.referral_id, state.status, "closed unable to engage"
        )
    attempts = tuple(sorted(a.attempted_on for a in state.attempts))
    if len(attempts) < MIN_CONTACT_ATTEMPTS:
        raise ClientMustBeContactedBeforeClosingUnableToEngage(
            command.referral_id, state.status, attempts, MIN_CONTACT_ATTEMPTS
        )
    closed_on = _dated(state, command.closed_on, "closed_on", today)
    if closed_on < attempts[-1]:
        raise StepsMustBeDatedInOrder("closed_on", closed_on, "last contacted", attempts[-1])
    return [
        ReferralClosedUnableToEngage(
            referral_id=command.referral_id,
            attempts=attempts,
            closed_by=command.actor,
            closed_on=closed_on,
        )
    ]


def _cancel(state: ReferralState, command: CancelReferral, today: dt.date) -> list[DomainEvent]:
    _existing(state, command.referral_id)
    cancelled = state.step("cancelled")
    if (
        cancelled is not None
        and (cancelled.reason, cancelled.note) == (command.reason, command.note)
        and _same_day(cancelled.on, command.cancelled_on)
    ):
        return []
    if state.status in CLOSED:
        raise ReferralMustBeOpenToBeCancelled(command.referral_id, state.status, "cancelled")
    return [
        ReferralCancelled(
            referral_id=command.referral_id,
            cancelled_by=command.actor,
            cancelled_on=_dated(state, command.cancelled_on, "cancelled_on", today),
            reason=command.reason,
            note=command.note,
        )
    ]


def _existing(state: ReferralState, referral_id: str) -> Referral:
    if state.referral is None:
        raise ReferralMustExist(referral_id)
    return state.referral


def _same_day(recorded: dt.date, asked: dt.date | None) -> bool:
    """A retry that left the date to the clock matches whatever day it was recorded."""
    return asked is None or asked == recorded


def _dated(state: ReferralState, asked: dt.date | None, field: str, today: dt.date) -> dt.date:
    """The date of a step: as asked, or today; never ahead of today, never before the step it
    follows."""
    on = asked if asked is not None else today
    if on > today:
        raise StepMustNotBeDatedInTheFuture(field, on, today)
    previous_on = state.status_on
    assert previous_on is not None
    if on < previous_on:
        raise StepsMustBeDatedInOrder(field, on, state.status.replace("_", " "), previous_on)
    return on


# --- the service's clock -----------------------------------------------------------------------


def breaches_due(state: ReferralState, now: dt.datetime) -> list[DomainEvent]:
    """The service-level targets the referral has missed by `now` and that are not on record
    yet: each once, while the referral is open and still waiting for what the target asks."""
    referral = state.referral
    if referral is None or not state.is_open:
        return []
    assert state.to_service is not None
    return [
        ServiceLevelBreached(
            referral_id=referral.referral_id,
            site_id=referral.site_id,
            to_service=state.to_service,
            urgency=referral.urgency,
            target=target,
            due_at=referral.due_at(target),
            detected_at=now,
        )
        for target in TARGETS
        if not state.met(target) and not state.breached(target) and now > referral.due_at(target)
    ]


def next_due_at(state: ReferralState) -> dt.datetime | None:
    """When the clock must next look at the referral: the earliest deadline still pending (not
    met, not breached, the referral open); None when nothing is left to watch."""
    referral = state.referral
    if referral is None or not state.is_open:
        return None
    pending = [
        referral.due_at(target)
        for target in TARGETS
        if not state.met(target) and not state.breached(target)
    ]
    return min(pending, default=None)


# --- evolving ----------------------------------------------------------------------------------


def evolve(state: ReferralState, event: DomainEvent) -> ReferralState:
    match event:
        case ReferralRaised():
            referral = Referral(**event.model_dump())
            return ReferralState(
                status="raised",
                referral=referral,
                to_service=referral.to_service,
                consent_reference=referral.consent_reference,
            )
        case ReferralAccepted():
            return _stepped(
                state, Step(status="accepted", on=event.accepted_on, by=event.accepted_by)
            )
        case ReferralDeclined():
            step = Step(
                status="declined",
                on=event.declined_on,
                by=event.declined_by,
                reason=event.reason,
                note=event.note,
            )
            return _stepped(state, step)
        case ReferralRedirected():
            step = Step(
                status="redirected",
                on=event.redirected_on,
                by=event.redirected_by,
                reason=event.reason,
                note=event.note,
                to_service=event.to_service,
            )
            return _stepped(state, step).model_copy(
                update={
                    "to_service": event.to_service,
                    "consent_reference": event.consent_reference or state.consent_reference,
                }
            )
        case ReferralScheduled():
            step = Step(status="scheduled", on=event.scheduled_on, by=event.scheduled_by)
            return _stepped(state, step).model_copy(update={"appointment_on": event.appointment_on})
        case ContactAttemptRecorded():
            attempt = ContactAttempt(
                attempt_id=event.attempt_id,
                attempted_on=event.attempted_on,
                channel=event.channel,
                recorded_by=event.recorded_by,
            )
            return state.model_copy(update={"attempts": (*state.attempts, attempt)})
        case ReferralCompleted():
            step = Step(status="completed", on=event.completed_on, by=event.completed_by)
            completion = Completion(
                outcome=event.outcome, feedback=event.feedback, recommendation=event.recommendation
            )
            return _stepped(state, step).model_copy(update={"completion": completion})
        case ReferralClosedUnableToEngage():
            step = Step(status="closed_unable_to_engage", on=event.closed_on, by=event.closed_by)
            return _stepped(state, step)
        case ReferralCancelled():
            step = Step(
                status="cancelled",
                on=event.cancelled_on,
                by=event.cancelled_by,
                reason=event.reason,
                note=event.note,
            )
            return _stepped(state, step)
        case ServiceLevelBreached():
            breach = Breach(target=event.target, due_at=event.due_at, detected_at=event.detected_at)
            return state.model_copy(update={"breaches": (*state.breaches, breach)})
        case _:
            raise TypeError(f"a referral stream holds no {event.type} events")


def _stepped(state: ReferralState, step: Step) -> ReferralState:
    return state.model_copy(update={"status": step.status, "history": (*state.history, step)})


def fold(events: Iterable[DomainEvent], state: ReferralState = INITIAL) -> ReferralState:
    for event in events:
        state = evolve(state, event)
    return state
