"""What compliance officers record, over gRPC: wire messages in, commands to the use cases,
replies out. The officer is the caller the call's metadata names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc

from compliance.application.oversight import Oversight
from compliance.domain.oversight.commands import RecordApprovedLeave, ResolveVerdict
from continuum.compliance.v1 import oversight_service_pb2 as pb
from continuum.compliance.v1 import oversight_service_pb2_grpc as pb_grpc
from infra.application import CommandContext
from infra.grpc.fields import date_field, id_field, optional_date
from infra.grpc.metadata import ACTOR_FIELD, call_context
from infra.runtime import command_context


class OversightApi(pb_grpc.OversightServiceServicer):
    def __init__(self, oversight: Oversight, clock: Callable[[], dt.datetime]) -> None:
        self._oversight = oversight
        self._clock = clock

    async def ResolveVerdict(
        self, request: pb.ResolveVerdictRequest, context: grpc.aio.ServicerContext
    ) -> pb.ResolveVerdictResponse:
        officer, ctx = self._officer(context)
        command = ResolveVerdict(
            command_id=request.command_id,
            supervisee_id=request.supervisee_id,
            verdict_id=request.verdict_id,
            kind=request.kind,
            reason=request.reason,
            resolved_by=officer,
            on=optional_date(request.on, "on"),
        )
        outcome = await self._oversight.resolve_verdict(command, ctx)
        return pb.ResolveVerdictResponse(
            resolution_id=outcome.answer.resolution_id,
            verdict_id=outcome.answer.verdict_id,
            already_recorded=not outcome.recorded,
        )

    async def RecordApprovedLeave(
        self, request: pb.RecordApprovedLeaveRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordApprovedLeaveResponse:
        officer, ctx = self._officer(context)
        command = RecordApprovedLeave(
            command_id=request.command_id,
            supervisee_id=request.supervisee_id,
            start=date_field(request.start, "start"),
            end=date_field(request.end, "end"),
            approved_by=request.approved_by,
            reason=request.reason,
            recorded_by=officer,
        )
        outcome = await self._oversight.record_approved_leave(command, ctx)
        return pb.RecordApprovedLeaveResponse(
            leave_id=outcome.answer.leave_id, already_recorded=not outcome.recorded
        )

    def _officer(self, context: grpc.aio.ServicerContext) -> tuple[str, CommandContext]:
        """The caller, an officer's staff id (from the call's metadata), and the command's
        context."""
        call = call_context(context)
        return id_field(call.actor, ACTOR_FIELD), command_context(call, self._clock())
