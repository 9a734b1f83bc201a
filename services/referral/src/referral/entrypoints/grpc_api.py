"""The referral gRPC API: wire messages in, commands to the handlers, replies out.

Enums arrive with an UNSPECIFIED zero and are refused unless set (a blank reason is
INVALID_ARGUMENT naming `reason`); optional strings are empty when unset; an empty step date is
today. Who recorded a step is the caller named in the call's metadata.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import grpc

from continuum.referral.v1 import referral_service_pb2 as pb
from continuum.referral.v1 import referral_service_pb2_grpc as pb_grpc
from contracts.fields import check_instant
from infra.application import CommandContext
from infra.commands import CommandRunner
from infra.ddd import InvalidInput
from infra.grpc.fields import date_field, enum_field, id_field, optional_date, optional_text
from infra.grpc.metadata import call_context
from infra.runtime import command_context
from referral.application import handlers
from referral.application.handlers import ReferralRecorded, Referrals
from referral.domain import (
    AcceptReferral,
    CancelReferral,
    CloseReferralUnableToEngage,
    CompleteReferral,
    DeclineReferral,
    RaiseReferral,
    RecordContactAttempt,
    RedirectReferral,
    ReferralCommand,
    ReferralState,
    ScheduleReferral,
)
from referral.domain.errors import InstantMustCarryItsTimeZone
from referral.domain.service_levels import TARGETS
from referral.domain.values import ReferralStatus

K = TypeVar("K")
V = TypeVar("V")

SERVICES = {
    pb.SERVICE_THERAPY: "therapy",
    pb.SERVICE_COACHING: "coaching",
    pb.SERVICE_CONSULTATION: "consultation",
    pb.SERVICE_PSYCHIATRY: "psychiatry",
}
URGENCIES = {pb.URGENCY_ROUTINE: "routine", pb.URGENCY_URGENT: "urgent"}
STATUSES: dict[pb.ReferralStatus.ValueType, ReferralStatus] = {
    pb.REFERRAL_STATUS_RAISED: "raised",
    pb.REFERRAL_STATUS_REDIRECTED: "redirected",
    pb.REFERRAL_STATUS_ACCEPTED: "accepted",
    pb.REFERRAL_STATUS_SCHEDULED: "scheduled",
    pb.REFERRAL_STATUS_COMPLETED: "completed",
    pb.REFERRAL_STATUS_DECLINED: "declined",
    pb.REFERRAL_STATUS_CLOSED_UNABLE_TO_ENGAGE: "closed_unable_to_engage",
    pb.REFERRAL_STATUS_CANCELLED: "cancelled",
}
REASONS = {
    pb.REFERRAL_REASON_SYMPTOMS_RESURFACED: "symptoms_resurfaced",
    pb.REFERRAL_REASON_STABLE_FOR_COACHING: "stable_for_coaching",
    pb.REFERRAL_REASON_MEDICATION_EVALUATION: "medication_evaluation",
    pb.REFERRAL_REASON_SPECIALIST_CONSULTATION: "specialist_consultation",
    pb.REFERRAL_REASON_HIGHER_LEVEL_OF_CARE: "higher_level_of_care",
    pb.REFERRAL_REASON_CLIENT_REQUEST: "client_request",
    pb.REFERRAL_REASON_OTHER: "other",
}
DECLINE_REASONS = {
    pb.DECLINE_REASON_NO_CAPACITY: "no_capacity",
    pb.DECLINE_REASON_OUTSIDE_SCOPE: "outside_scope",
    pb.DECLINE_REASON_CRITERIA_NOT_MET: "criteria_not_met",
    pb.DECLINE_REASON_CLIENT_DECLINED: "client_declined",
    pb.DECLINE_REASON_DUPLICATE_REFERRAL: "duplicate_referral",
    pb.DECLINE_REASON_OTHER: "other",
}
REDIRECT_REASONS = {
    pb.REDIRECT_REASON_BETTER_FIT_ELSEWHERE: "better_fit_elsewhere",
    pb.REDIRECT_REASON_OUTSIDE_SCOPE: "outside_scope",
    pb.REDIRECT_REASON_NO_CAPACITY: "no_capacity",
    pb.REDIRECT_REASON_OTHER: "other",
}
CANCEL_REASONS = {
    pb.CANCEL_REASON_CLIENT_WITHDREW: "client_withdrew",
    pb.CANCEL_REASON_NEED_RESOLVED: "need_resolved",
    pb.CANCEL_REASON_RAISED_IN_ERROR: "raised_in_error",
    pb.CANCEL_REASON_CLIENT_MOVED: "client_moved",
    pb.CANCEL_REASON_ENTERED_OTHER_CARE: "entered_other_care",
    pb.CANCEL_REASON_OTHER: "other",
}
OUTCOMES = {
    pb.REFERRAL_OUTCOME_ENGAGED_IN_CARE: "engaged_in_care",
    pb.REFERRAL_OUTCOME_ASSESSED_NO_CARE_NEEDED: "assessed_no_care_needed",
    pb.REFERRAL_OUTCOME_CARE_COMPLETED: "care_completed",
}
RECOMMENDATIONS = {
    pb.RECOMMENDATION_RESUME_COACHING: "resume_coaching",
    pb.RECOMMENDATION_CONTINUE_IN_THERAPY: "continue_in_therapy",
    pb.RECOMMENDATION_NO_RECOMMENDATION: "no_recommendation",
}
CHANNELS = {
    pb.CONTACT_CHANNEL_PHONE: "phone",
    pb.CONTACT_CHANNEL_TEXT_MESSAGE: "text_message",
    pb.CONTACT_CHANNEL_EMAIL: "email",
    pb.CONTACT_CHANNEL_LETTER: "letter",
    pb.CONTACT_CHANNEL_IN_PERSON: "in_person",
}
TARGET_NUMBERS = {
    "acknowledgement": pb.SERVICE_LEVEL_TARGET_ACKNOWLEDGEMENT,
    "scheduling": pb.SERVICE_LEVEL_TARGET_SCHEDULING,
}

DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 500


def _numbers(choices: Mapping[K, V]) -> dict[V, K]:
    return {value: number for number, value in choices.items()}


_SERVICE_NUMBERS = _numbers(SERVICES)
_URGENCY_NUMBERS = _numbers(URGENCIES)
_STATUS_NUMBERS = _numbers(STATUSES)
_REASON_NUMBERS = _numbers(REASONS)
_OUTCOME_NUMBERS = _numbers(OUTCOMES)
_RECOMMENDATION_NUMBERS = _numbers(RECOMMENDATIONS)
_CHANNEL_NUMBERS = _numbers(CHANNELS)


def instant_field(value: str, field: str) -> dt.datetime | None:
    """An optional ISO 8601 instant with its UTC offset; None when empty."""
    if not value:
        return None
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value[:40]!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise InstantMustCarryItsTimeZone(field)
    try:
        return check_instant(instant)
    except ValueError as error:
        raise InvalidInput(field, str(error)) from None


def _iso(value: dt.date | dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


class ReferralApi(pb_grpc.ReferralServiceServicer):
    def __init__(
        self,
        runner: CommandRunner,
        referrals: Referrals,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._runner = runner
        self._referrals = referrals
        self._clock = clock

    def _context(self, context: grpc.aio.ServicerContext) -> CommandContext:
        return command_context(call_context(context), self._clock())

    async def _handle(
        self, command: ReferralCommand, ctx: CommandContext
    ) -> tuple[bool, ReferralRecorded]:
        """Records a step: whether it recorded anything (not a retry), and its outcome."""
        ran = await self._runner.run(self._referrals.step, command, ctx)
        return not ran.already_recorded, ran.outcome

    async def RaiseReferral(
        self, request: pb.RaiseReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.RaiseReferralResponse:
        ctx = self._context(context)
        command = RaiseReferral(
            referral_id=request.referral_id,
            client_id=request.client_id,
            site_id=request.site_id,
            from_service=enum_field(request.from_service, "from_service", SERVICES),
            to_service=enum_field(request.to_service, "to_service", SERVICES),
            urgency=enum_field(request.urgency, "urgency", URGENCIES),
            reason=enum_field(request.reason, "reason", REASONS),
            note=optional_text(request.note),
            source=request.source,
            origin=optional_text(request.origin),
            raised_by=request.raised_by or ctx.metadata.actor,
            raised_at=instant_field(request.raised_at, "raised_at"),
            substance_use_record=request.substance_use_record,
            consent_reference=optional_text(request.consent_reference),
        )
        recorded, outcome = await self._handle(command, ctx)
        return pb.RaiseReferralResponse(
            referral_id=command.referral_id,
            already_recorded=not recorded,
            acknowledgement_due_at=_iso(outcome.acknowledgement_due_at),
            scheduling_due_at=_iso(outcome.scheduling_due_at),
        )

    async def AcceptReferral(
        self, request: pb.AcceptReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.AcceptReferralResponse:
        ctx = self._context(context)
        command = AcceptReferral(
            referral_id=request.referral_id,
            accepted_by=request.accepted_by,
            accepted_on=optional_date(request.accepted_on, "accepted_on"),
            actor=ctx.metadata.actor,
        )
        recorded, _ = await self._handle(command, ctx)
        return pb.AcceptReferralResponse(
            referral_id=command.referral_id, already_recorded=not recorded
        )

    async def DeclineReferral(
        self, request: pb.DeclineReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeclineReferralResponse:
        ctx = self._context(context)
        command = DeclineReferral(
            referral_id=request.referral_id,
            reason=enum_field(request.reason, "reason", DECLINE_REASONS),
            note=optional_text(request.note),
            declined_on=optional_date(request.declined_on, "declined_on"),
            actor=ctx.metadata.actor,
        )
        recorded, _ = await self._handle(command, ctx)
        return pb.DeclineReferralResponse(
            referral_id=command.referral_id, already_recorded=not recorded
        )

    async def RedirectReferral(
        self, request: pb.RedirectReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.RedirectReferralResponse:
        ctx = self._context(context)
        command = RedirectReferral(
            referral_id=request.referral_id,
            to_service=enum_field(request.to_service, "to_service", SERVICES),
            reason=enum_field(request.reason, "reason", REDIRECT_REASONS),
            note=optional_text(request.note),
            redirected_on=optional_date(request.redirected_on, "redirected_on"),
            consent_reference=optional_text(request.consent_reference),
            actor=ctx.metadata.actor,
            command_id=optional_text(request.command_id),
        )
        recorded, _ = await self._handle(command, ctx)
        return pb.RedirectReferralResponse(
            referral_id=command.referral_id, already_recorded=not recorded
        )

    async def ScheduleReferral(
        self, request: pb.ScheduleReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.ScheduleReferralResponse:
        ctx = self._context(context)
        command = ScheduleReferral(
            referral_id=request.referral_id,
            appointment_on=date_field(request.appointment_on, "appointment_on"),
            scheduled_on=optional_date(request.scheduled_on, "scheduled_on"),
            actor=ctx.metadata.actor,
        )
        recorded, _ = await self._handle(command, ctx)
        return pb.ScheduleReferralResponse(
            referral_id=command.referral_id, already_recorded=not recorded
        )

    async def RecordContactAttempt(
        self, request: pb.RecordContactAttemptRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordContactAttemptResponse:
        ctx = self._context(context)
        command = RecordContactAttempt(
            referral_id=request.referral_id,
            attempt_id=request.attempt_id,
            attempted_on=date_field(request.attempted_on, "attempted_on"),
            channel=enum_field(request.channel, "channel", CHANNELS),
            actor=ctx.metadata.actor,
        )
        recorded, outcome = await self._handle(command, ctx)
        return pb.RecordContactAttemptResponse(
            referral_id=command.referral_id,
            attempt_id=command.attempt_id,
            already_recorded=not recorded,
            attempts_recorded=outcome.attempts_recorded,
        )

    async def CompleteReferral(
        self, request: pb.CompleteReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.CompleteReferralResponse:
        ctx = self._context(context)
        command = CompleteReferral(
            referral_id=request.referral_id,
            outcome=enum_field(request.outcome, "outcome", OUTCOMES),
            feedback=request.feedback,
            recommendation=enum_field(request.recommendation, "recommendation", RECOMMENDATIONS),
            completed_on=optional_date(request.completed_on, "completed_on"),
            actor=ctx.metadata.actor,
        )
        recorded, _ = await self._handle(command, ctx)
        return pb.CompleteReferralResponse(
            referral_id=command.referral_id, already_recorded=not recorded
        )

    async def CloseReferralUnableToEngage(
        self, request: pb.CloseReferralUnableToEngageRequest, context: grpc.aio.ServicerContext
    ) -> pb.CloseReferralUnableToEngageResponse:
        ctx = self._context(context)
        command = CloseReferralUnableToEngage(
            referral_id=request.referral_id,
            closed_on=optional_date(request.closed_on, "closed_on"),
            actor=ctx.metadata.actor,
        )
        recorded, _ = await self._handle(command, ctx)
        return pb.CloseReferralUnableToEngageResponse(
            referral_id=command.referral_id, already_recorded=not recorded
        )

    async def CancelReferral(
        self, request: pb.CancelReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelReferralResponse:
        ctx = self._context(context)
        command = CancelReferral(
            referral_id=request.referral_id,
            reason=enum_field(request.reason, "reason", CANCEL_REASONS),
            note=optional_text(request.note),
            cancelled_on=optional_date(request.cancelled_on, "cancelled_on"),
            actor=ctx.metadata.actor,
        )
        recorded, _ = await self._handle(command, ctx)
        return pb.CancelReferralResponse(
            referral_id=command.referral_id, already_recorded=not recorded
        )

    async def GetReferral(
        self, request: pb.GetReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetReferralResponse:
        state = await handlers.get_referral(
            id_field(request.referral_id, "referral_id"), self._runner
        )
        return pb.GetReferralResponse(referral=referral_message(state))

    async def ListReferrals(
        self, request: pb.ListReferralsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListReferralsResponse:
        site_id = id_field(request.site_id, "site_id")
        status = (
            enum_field(request.status, "status", STATUSES)
            if request.status != pb.REFERRAL_STATUS_UNSPECIFIED
            else None
        )
        limit = request.limit or DEFAULT_LIST_LIMIT
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidInput("limit", f"{limit} is outside 1..{MAX_LIST_LIMIT}")
        states = await handlers.list_referrals(
            site_id, status, limit, self._runner, self._referrals.index
        )
        return pb.ListReferralsResponse(referrals=[referral_message(s) for s in states])


def referral_message(state: ReferralState) -> pb.Referral:
    """The referral as the API shows it: everything on record, notes and feedback included
    (this is the referral service's own, access-controlled view)."""
    r = state.referral
    assert r is not None  # get_referral and list_referrals answer for raised referrals only
    assert state.to_service is not None
    completion = state.completion
    fields: dict[str, Any] = {
        "referral_id": r.referral_id,
        "client_id": r.client_id,
        "site_id": r.site_id,
        "from_service": _SERVICE_NUMBERS[r.from_service],
        "to_service": _SERVICE_NUMBERS[state.to_service],
        "urgency": _URGENCY_NUMBERS[r.urgency],
        "status": _STATUS_NUMBERS[state.status],
        "raised_on": r.raised_on.isoformat(),
        "source": r.source,
        "raised_at": r.clock_starts_at.isoformat(),
        "origin": r.origin or "",
        "reason": _REASON_NUMBERS[r.reason] if r.reason else pb.REFERRAL_REASON_UNSPECIFIED,
        "note": r.note or "",
        "raised_by": r.raised_by or "",
        "substance_use_record": r.substance_use_record,
        "consent_reference": state.consent_reference or "",
        "status_on": _iso(state.status_on),
        "accepted_by": state.accepted_by or "",
        "appointment_on": _iso(state.appointment_on),
        "history": [
            pb.ReferralStep(
                status=_STATUS_NUMBERS[step.status],
                on=step.on.isoformat(),
                by=step.by,
                reason=step.reason or "",
                note=step.note or "",
                to_service=_SERVICE_NUMBERS[step.to_service]
                if step.to_service
                else pb.SERVICE_UNSPECIFIED,
            )
            for step in state.history
        ],
        "contact_attempts": [
            pb.ContactAttempt(
                attempt_id=a.attempt_id,
                attempted_on=a.attempted_on.isoformat(),
                channel=_CHANNEL_NUMBERS[a.channel],
                recorded_by=a.recorded_by,
            )
            for a in state.attempts
        ],
        "deadlines": [
            pb.ServiceLevelDeadline(
                target=TARGET_NUMBERS[target],
                due_at=r.due_at(target).isoformat(),
                met=state.met(target),
                breached=state.breached(target),
            )
            for target in TARGETS
        ],
        "breaches": [
            pb.ServiceLevelBreach(
                target=TARGET_NUMBERS[b.target],
                due_at=b.due_at.isoformat(),
                detected_at=b.detected_at.isoformat(),
            )
            for b in state.breaches
        ],
    }
    if completion is not None:
        fields |= {
            "outcome": _OUTCOME_NUMBERS[completion.outcome],
            "feedback": completion.feedback,
            "recommendation": _RECOMMENDATION_NUMBERS[completion.recommendation],
        }
    return pb.Referral(**fields)
