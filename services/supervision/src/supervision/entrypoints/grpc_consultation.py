"""The ConsultationService gRPC API: wire messages in, commands to the handlers, replies out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc

from continuum.supervision.v1 import consultation_service_pb2 as pb
from continuum.supervision.v1 import consultation_service_pb2_grpc as pb_grpc
from infra.commands import CommandRunner
from infra.grpc.fields import date_field, enum_field, id_field
from infra.grpc.metadata import call_context
from infra.grpc.server import ServiceBinding
from infra.runtime import command_context
from supervision.application import consultations
from supervision.domain.consultation import LogConsultation

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["ConsultationService"].full_name

CONSULTANT_KINDS = {pb.CONSULTANT_KIND_PEER: "peer", pb.CONSULTANT_KIND_EXPERT: "expert"}
CONSULTANT_KIND_NUMBERS = {name: number for number, name in CONSULTANT_KINDS.items()}


class ConsultationApi(pb_grpc.ConsultationServiceServicer):
    def __init__(self, runner: CommandRunner, clock: Callable[[], dt.datetime]) -> None:
        self._runner = runner
        self._clock = clock

    async def LogConsultation(
        self, request: pb.LogConsultationRequest, context: grpc.aio.ServicerContext
    ) -> pb.LogConsultationResponse:
        command = LogConsultation(
            consultation_id=request.consultation_id,
            clinician_id=request.clinician_id,
            consultant_id=request.consultant_id,
            consultant_kind=enum_field(
                request.consultant_kind, "consultant_kind", CONSULTANT_KINDS
            ),
            site_id=request.site_id,
            date=date_field(request.date, "date"),
            minutes=request.minutes,
        )
        ctx = command_context(call_context(context), self._clock())
        ran = await self._runner.run(consultations.LOG_CONSULTATION, command, ctx)
        return pb.LogConsultationResponse(
            consultation_id=command.consultation_id, already_recorded=ran.already_recorded
        )

    async def GetConsultation(
        self, request: pb.GetConsultationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConsultationResponse:
        logged = await consultations.get_consultation(
            self._runner, id_field(request.consultation_id, "consultation_id")
        )
        return pb.GetConsultationResponse(
            consultation=pb.Consultation(
                consultation_id=logged.consultation_id,
                clinician_id=logged.clinician_id,
                consultant_id=logged.consultant_id,
                consultant_kind=CONSULTANT_KIND_NUMBERS[logged.consultant_kind],
                site_id=logged.site_id,
                date=logged.date.isoformat(),
                minutes=logged.minutes,
            )
        )


def consultation_binding(
    runner: CommandRunner, clock: Callable[[], dt.datetime]
) -> ServiceBinding[ConsultationApi]:
    """The ConsultationService as the supervision process serves it."""
    return ServiceBinding(
        SERVICE_NAME,
        ConsultationApi(runner, clock),
        pb_grpc.add_ConsultationServiceServicer_to_server,
    )
