"""The supervision gRPC API: wire messages in, commands to the handlers, replies out.

Enums arrive with an UNSPECIFIED zero and are refused unless set; optional strings are empty when
unset. The actor of a correction is the caller named in the call's metadata.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import grpc

from continuum.supervision.v1 import supervision_service_pb2 as pb
from continuum.supervision.v1 import supervision_service_pb2_grpc as pb_grpc
from infra.application import CommandContext
from infra.commands import CommandRunner, Ran
from infra.grpc.fields import (
    date_field,
    enum_field,
    enum_list,
    id_field,
    optional_date,
    optional_text,
    time_field,
)
from infra.grpc.metadata import call_context
from infra.runtime import command_context
from supervision.application import handlers
from supervision.application.handlers import SuperviseeRecorded, Supervision
from supervision.domain import (
    AmendAgreement,
    AmendSession,
    ApproveAgreement,
    LogSession,
    RecordPracticeHours,
    RegisterSupervisee,
    ReopenMonth,
    SignAgreement,
    SignOffMonth,
    SuperviseeCommand,
    SuperviseeState,
    TerminateAgreement,
    TransferSupervisee,
    VoidSession,
)
from supervision.domain.supervisee import Agreement

V = TypeVar("V")

FORMATS = {
    pb.SESSION_FORMAT_INDIVIDUAL: "individual",
    pb.SESSION_FORMAT_TRIADIC: "triadic",
    pb.SESSION_FORMAT_GROUP: "group",
}
MODALITIES = {
    pb.SESSION_MODALITY_IN_PERSON: "in_person",
    pb.SESSION_MODALITY_VIDEO: "video",
    pb.SESSION_MODALITY_PHONE: "phone",
}
KINDS = {pb.SESSION_KIND_CLINICAL: "clinical", pb.SESSION_KIND_ADMINISTRATIVE: "administrative"}
TECHNIQUES = {
    pb.SUPERVISION_TECHNIQUE_CORRECTIVE_FEEDBACK: "corrective_feedback",
    pb.SUPERVISION_TECHNIQUE_DISCUSSION_OF_INTERVENTIONS: "discussion_of_interventions",
    pb.SUPERVISION_TECHNIQUE_ROLE_PLAY: "role_play",
    pb.SUPERVISION_TECHNIQUE_DIRECT_OBSERVATION: "direct_observation",
    pb.SUPERVISION_TECHNIQUE_CASE_REVIEW: "case_review",
    pb.SUPERVISION_TECHNIQUE_RECORDING_REVIEW: "recording_review",
}
FOCI = {
    pb.SUPERVISION_FOCUS_INTERVENTION: "intervention",
    pb.SUPERVISION_FOCUS_CONCEPTUALIZATION: "conceptualization",
    pb.SUPERVISION_FOCUS_PERSONALIZATION: "personalization",
}
PERIODS = {
    pb.AGREEMENT_PERIOD_WEEK: "week",
    pb.AGREEMENT_PERIOD_TWO_WEEKS: "two_weeks",
    pb.AGREEMENT_PERIOD_MONTH: "month",
}
_MODALITY_NUMBERS = {name: number for number, name in MODALITIES.items()}
_PERIOD_NUMBERS = {name: number for number, name in PERIODS.items()}


class SupervisionApi(pb_grpc.SupervisionServiceServicer):
    def __init__(
        self,
        runner: CommandRunner,
        supervision: Supervision,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._runner = runner
        self._supervision = supervision
        self._clock = clock

    def _context(self, context: grpc.aio.ServicerContext) -> CommandContext:
        return command_context(call_context(context), self._clock())

    async def _for_supervisee(
        self, command: SuperviseeCommand, ctx: CommandContext
    ) -> Ran[SuperviseeRecorded]:
        return await self._runner.run(self._supervision.for_supervisee, command, ctx)

    async def RegisterSupervisee(
        self, request: pb.RegisterSuperviseeRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterSuperviseeResponse:
        command = RegisterSupervisee(
            supervisee_id=request.supervisee_id,
            credential_track=request.credential_track,
            license_number=request.license_number,
            home_site_id=request.home_site_id,
            registered_on=date_field(request.registered_on, "registered_on"),
        )
        outcome = await self._for_supervisee(command, self._context(context))
        return pb.RegisterSuperviseeResponse(
            supervisee_id=command.supervisee_id, already_recorded=outcome.already_recorded
        )

    async def TransferSupervisee(
        self, request: pb.TransferSuperviseeRequest, context: grpc.aio.ServicerContext
    ) -> pb.TransferSuperviseeResponse:
        command = TransferSupervisee(
            supervisee_id=request.supervisee_id,
            to_site_id=request.to_site_id,
            effective_on=date_field(request.effective_on, "effective_on"),
            command_id=optional_text(request.command_id),
        )
        outcome = await self._for_supervisee(command, self._context(context))
        return pb.TransferSuperviseeResponse(
            supervisee_id=command.supervisee_id, already_recorded=outcome.already_recorded
        )

    async def SignAgreement(
        self, request: pb.SignAgreementRequest, context: grpc.aio.ServicerContext
    ) -> pb.SignAgreementResponse:
        command = SignAgreement(
            agreement_id=request.agreement_id,
            supervisor_id=request.supervisor_id,
            supervisee_id=request.supervisee_id,
            site_id=request.site_id,
            credential_track=optional_text(request.credential_track),
            start_date=date_field(request.start_date, "start_date"),
            end_date=date_field(request.end_date, "end_date"),
            modalities=enum_list(request.modalities, "modalities", MODALITIES),
            sessions_per_period=request.sessions_per_period,
            period=enum_field(request.period, "period", PERIODS),
        )
        outcome = await self._for_supervisee(command, self._context(context))
        return pb.SignAgreementResponse(
            agreement_id=command.agreement_id,
            already_recorded=outcome.already_recorded,
            board_approval_required=outcome.outcome.board_approval_required,
        )

    async def ApproveAgreement(
        self, request: pb.ApproveAgreementRequest, context: grpc.aio.ServicerContext
    ) -> pb.ApproveAgreementResponse:
        command = ApproveAgreement(
            supervisee_id=request.supervisee_id,
            agreement_id=request.agreement_id,
            approved_on=date_field(request.approved_on, "approved_on"),
            approval_reference=request.approval_reference,
        )
        outcome = await self._for_supervisee(command, self._context(context))
        return pb.ApproveAgreementResponse(
            agreement_id=command.agreement_id, already_recorded=outcome.already_recorded
        )

    async def AmendAgreement(
        self, request: pb.AmendAgreementRequest, context: grpc.aio.ServicerContext
    ) -> pb.AmendAgreementResponse:
        ctx = self._context(context)
        command = AmendAgreement(
            supervisee_id=request.supervisee_id,
            agreement_id=request.agreement_id,
            end_date=date_field(request.end_date, "end_date"),
            modalities=enum_list(request.modalities, "modalities", MODALITIES),
            sessions_per_period=request.sessions_per_period,
            period=enum_field(request.period, "period", PERIODS),
            reason=request.reason,
            actor=ctx.metadata.actor,
            command_id=optional_text(request.command_id),
        )
        outcome = await self._for_supervisee(command, ctx)
        return pb.AmendAgreementResponse(
            agreement_id=command.agreement_id, already_recorded=outcome.already_recorded
        )

    async def TerminateAgreement(
        self, request: pb.TerminateAgreementRequest, context: grpc.aio.ServicerContext
    ) -> pb.TerminateAgreementResponse:
        ctx = self._context(context)
        command = TerminateAgreement(
            supervisee_id=request.supervisee_id,
            agreement_id=request.agreement_id,
            terminated_on=date_field(request.terminated_on, "terminated_on"),
            reason=request.reason,
            actor=ctx.metadata.actor,
        )
        outcome = await self._for_supervisee(command, ctx)
        return pb.TerminateAgreementResponse(
            agreement_id=command.agreement_id, already_recorded=outcome.already_recorded
        )

    async def LogSession(
        self, request: pb.LogSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.LogSessionResponse:
        command = LogSession(
            session_id=request.session_id,
            kind=enum_field(request.kind, "kind", KINDS),
            format=enum_field(request.format, "format", FORMATS),
            modality=enum_field(request.modality, "modality", MODALITIES),
            date=date_field(request.date, "date"),
            start_time=time_field(request.start_time, "start_time"),
            minutes=request.minutes,
            supervisor_id=request.supervisor_id,
            supervisee_ids=tuple(request.supervisee_ids),
            site_id=request.site_id,
            techniques=enum_list(request.techniques, "techniques", TECHNIQUES),
            focus=enum_list(request.focus, "focus", FOCI),
            wellbeing=tuple(
                {
                    "supervisee_id": check.supervisee_id,
                    "burnout": check.burnout,
                    "vicarious_trauma": check.vicarious_trauma,
                }
                for check in request.wellbeing
            ),
        )
        outcome = await self._runner.run(
            self._supervision.log_session, command, self._context(context)
        )
        return pb.LogSessionResponse(
            session_id=command.session_id,
            already_recorded=outcome.already_recorded,
            lapse_marked=outcome.outcome.lapse_marked,
        )

    async def AmendSession(
        self, request: pb.AmendSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.AmendSessionResponse:
        ctx = self._context(context)
        command = AmendSession(
            session_id=request.session_id,
            kind=enum_field(request.kind, "kind", KINDS),
            format=enum_field(request.format, "format", FORMATS),
            modality=enum_field(request.modality, "modality", MODALITIES),
            date=date_field(request.date, "date"),
            start_time=time_field(request.start_time, "start_time"),
            minutes=request.minutes,
            techniques=enum_list(request.techniques, "techniques", TECHNIQUES),
            focus=enum_list(request.focus, "focus", FOCI),
            reason=request.reason,
            actor=ctx.metadata.actor,
            command_id=optional_text(request.command_id),
        )
        outcome = await self._runner.run(self._supervision.amend_session, command, ctx)
        return pb.AmendSessionResponse(
            session_id=command.session_id,
            already_recorded=outcome.already_recorded,
            lapse_marked=outcome.outcome.lapse_marked,
        )

    async def VoidSession(
        self, request: pb.VoidSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.VoidSessionResponse:
        ctx = self._context(context)
        command = VoidSession(
            session_id=request.session_id, reason=request.reason, actor=ctx.metadata.actor
        )
        outcome = await self._runner.run(self._supervision.void_session, command, ctx)
        return pb.VoidSessionResponse(
            session_id=command.session_id, already_recorded=outcome.already_recorded
        )

    async def RecordPracticeHours(
        self, request: pb.RecordPracticeHoursRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordPracticeHoursResponse:
        command = RecordPracticeHours(
            supervisee_id=request.supervisee_id,
            site_id=request.site_id,
            week_start=date_field(request.week_start, "week_start"),
            direct_minutes=request.direct_minutes,
            indirect_minutes=request.indirect_minutes,
            correction=optional_text(request.correction),
            command_id=optional_text(request.command_id),
        )
        outcome = await self._for_supervisee(command, self._context(context))
        return pb.RecordPracticeHoursResponse(
            supervisee_id=command.supervisee_id, already_recorded=outcome.already_recorded
        )

    async def SignOffMonth(
        self, request: pb.SignOffMonthRequest, context: grpc.aio.ServicerContext
    ) -> pb.SignOffMonthResponse:
        command = SignOffMonth(
            supervisee_id=request.supervisee_id,
            month=request.month,
            supervisor_id=request.supervisor_id,
            signed_on=date_field(request.signed_on, "signed_on"),
            command_id=optional_text(request.command_id),
        )
        outcome = await self._for_supervisee(command, self._context(context))
        return pb.SignOffMonthResponse(
            supervisee_id=command.supervisee_id,
            month=command.month,
            already_recorded=outcome.already_recorded,
        )

    async def ReopenMonth(
        self, request: pb.ReopenMonthRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReopenMonthResponse:
        ctx = self._context(context)
        command = ReopenMonth(
            supervisee_id=request.supervisee_id,
            month=request.month,
            reason=request.reason,
            actor=ctx.metadata.actor,
            reopened_on=optional_date(request.reopened_on, "reopened_on"),
            command_id=optional_text(request.command_id),
        )
        outcome = await self._for_supervisee(command, ctx)
        return pb.ReopenMonthResponse(
            supervisee_id=command.supervisee_id,
            month=command.month,
            already_recorded=outcome.already_recorded,
        )

    async def GetSupervisee(
        self, request: pb.GetSuperviseeRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSuperviseeResponse:
        # Checked before anything reads it, and only the checked id is echoed back.
        supervisee_id = id_field(request.supervisee_id, "supervisee_id")
        state = await handlers.get_supervisee(supervisee_id, self._runner)
        return supervisee_reply(supervisee_id, state)


def supervisee_reply(supervisee_id: str, state: SuperviseeState) -> pb.GetSuperviseeResponse:
    registration, home = state.registration, state.home
    return pb.GetSuperviseeResponse(
        supervisee_id=supervisee_id,
        credential_track=registration.credential_track if registration else "",
        license_number=registration.license_number if registration else "",
        home_site_id=home.site_id if home else "",
        registered_on=registration.registered_on.isoformat() if registration else "",
        home_since=home.since.isoformat() if home else "",
        agreements=[_agreement_reply(a) for a in state.agreements],
        signed_months=[
            pb.SignedMonth(
                month=month,
                supervisor_id=signed.supervisor_id,
                signed_on=signed.signed_on.isoformat(),
            )
            for month, signed in sorted(state.signed_months.items())
        ],
    )


def _agreement_reply(agreement: Agreement) -> pb.Agreement:
    terms, approval, termination = agreement.terms, agreement.approval, agreement.termination
    return pb.Agreement(
        agreement_id=agreement.agreement_id,
        supervisor_id=agreement.supervisor_id,
        site_id=agreement.site_id,
        credential_track=agreement.credential_track,
        start_date=agreement.start_date.isoformat(),
        end_date=terms.end_date.isoformat(),
        modalities=[_MODALITY_NUMBERS[m] for m in terms.modalities],
        sessions_per_period=terms.sessions_per_period or 0,
        period=_PERIOD_NUMBERS[terms.period] if terms.period else pb.AGREEMENT_PERIOD_UNSPECIFIED,
        board_approval_required=agreement.board_approval_required,
        approved_on=approval.approved_on.isoformat() if approval else "",
        approval_reference=approval.approval_reference if approval else "",
        terminated_on=termination.terminated_on.isoformat() if termination else "",
        amendments=agreement.amendments,
        last_day=agreement.last_day.isoformat(),
    )
