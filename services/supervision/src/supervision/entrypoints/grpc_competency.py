"""The CompetencyService gRPC API: wire messages in, commands to the handlers, replies out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc

from continuum.supervision.v1 import competency_service_pb2 as pb
from continuum.supervision.v1 import competency_service_pb2_grpc as pb_grpc
from infra.commands import CommandRunner
from infra.grpc.fields import date_field, enum_field, id_field
from infra.grpc.metadata import call_context
from infra.grpc.server import ServiceBinding
from infra.runtime import command_context
from supervision.application import evaluations
from supervision.domain.evaluation import EvaluationState
from supervision.domain.evaluation_commands import AcknowledgeEvaluation, RecordEvaluation

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["CompetencyService"].full_name

TRIGGERS = {
    pb.EVALUATION_TRIGGER_QUARTERLY: "quarterly",
    pb.EVALUATION_TRIGGER_ANNUAL: "annual",
    pb.EVALUATION_TRIGGER_MIDTERM: "midterm",
    pb.EVALUATION_TRIGGER_FINAL: "final",
    pb.EVALUATION_TRIGGER_TERMINATION: "termination",
    pb.EVALUATION_TRIGGER_AD_HOC: "ad_hoc",
}
TRIGGER_NUMBERS = {name: number for number, name in TRIGGERS.items()}
STATUSES = {
    "signed": pb.EVALUATION_STATUS_SIGNED,
    "acknowledged": pb.EVALUATION_STATUS_ACKNOWLEDGED,
}


class CompetencyApi(pb_grpc.CompetencyServiceServicer):
    def __init__(self, runner: CommandRunner, clock: Callable[[], dt.datetime]) -> None:
        self._runner = runner
        self._clock = clock

    async def RecordEvaluation(
        self, request: pb.RecordEvaluationRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordEvaluationResponse:
        command = RecordEvaluation(
            evaluation_id=request.evaluation_id,
            supervisee_id=request.supervisee_id,
            supervisor_id=request.supervisor_id,
            framework=request.framework,
            framework_version=request.framework_version,
            trigger=enum_field(request.trigger, "trigger", TRIGGERS),
            period_start=date_field(request.period_start, "period_start"),
            period_end=date_field(request.period_end, "period_end"),
            scores=tuple({"domain": s.domain, "score": s.score} for s in request.scores),
            evidence_session_ids=tuple(request.evidence_session_ids),
            strengths=request.strengths,
            limitations=request.limitations,
            remediation_plan=request.remediation_plan or None,
            signed_on=date_field(request.signed_on, "signed_on"),
        )
        ctx = command_context(call_context(context), self._clock())
        ran = await self._runner.run(evaluations.RECORD_EVALUATION, command, ctx)
        recorded = not ran.already_recorded
        return pb.RecordEvaluationResponse(
            evaluation_id=command.evaluation_id,
            already_recorded=not recorded,
            below_expectations=command.rated_against.below_expectations(command.scores),
        )

    async def AcknowledgeEvaluation(
        self, request: pb.AcknowledgeEvaluationRequest, context: grpc.aio.ServicerContext
    ) -> pb.AcknowledgeEvaluationResponse:
        command = AcknowledgeEvaluation(
            evaluation_id=request.evaluation_id,
            supervisee_id=request.supervisee_id,
            acknowledged_on=date_field(request.acknowledged_on, "acknowledged_on"),
        )
        ctx = command_context(call_context(context), self._clock())
        ran = await self._runner.run(evaluations.ACKNOWLEDGE_EVALUATION, command, ctx)
        recorded = not ran.already_recorded
        return pb.AcknowledgeEvaluationResponse(
            evaluation_id=command.evaluation_id, already_recorded=not recorded
        )

    async def GetEvaluation(
        self, request: pb.GetEvaluationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetEvaluationResponse:
        state = await evaluations.get_evaluation(
            self._runner, id_field(request.evaluation_id, "evaluation_id")
        )
        return pb.GetEvaluationResponse(evaluation=_evaluation_message(state))


def competency_binding(
    runner: CommandRunner, clock: Callable[[], dt.datetime]
) -> ServiceBinding[CompetencyApi]:
    """The CompetencyService as the supervision process serves it."""
    return ServiceBinding(
        SERVICE_NAME,
        CompetencyApi(runner, clock),
        pb_grpc.add_CompetencyServiceServicer_to_server,
    )


def _evaluation_message(state: EvaluationState) -> pb.Evaluation:
    signed = state.signed
    if signed is None:
        raise ValueError("an evaluation that is not recorded has no message")
    return pb.Evaluation(
        evaluation_id=signed.evaluation_id,
        supervisee_id=signed.supervisee_id,
        supervisor_id=signed.supervisor_id,
        framework=signed.framework,
        framework_version=signed.framework_version,
        scale_min=signed.scale_min,
        scale_max=signed.scale_max,
        expected_min=signed.expected_min,
        trigger=TRIGGER_NUMBERS[signed.trigger],
        period_start=signed.period_start.isoformat(),
        period_end=signed.period_end.isoformat(),
        scores=[pb.EvaluationScore(domain=s.domain, score=s.score) for s in signed.scores],
        below_expectations=signed.below_expectations,
        remediation_required=signed.remediation_required,
        evidence_session_ids=signed.evidence_session_ids,
        strengths=signed.strengths,
        limitations=signed.limitations,
        remediation_plan=signed.remediation_plan or "",
        signed_on=signed.signed_on.isoformat(),
        status=STATUSES[state.status],
        acknowledged_on=state.acknowledged_on.isoformat() if state.acknowledged_on else "",
    )
