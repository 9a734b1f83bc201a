"""The coaching gRPC API: wire messages in, commands to the handler, replies out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc

from coaching.application.handlers import handle
from coaching.domain import OpenEngagement, RaiseConcern
from continuum.coaching.v1 import coaching_service_pb2 as pb
from continuum.coaching.v1 import coaching_service_pb2_grpc as pb_grpc
from infra.eventstore import EventStore, Translator
from infra.grpc.fields import date_field, enum_field
from infra.grpc.metadata import call_context
from infra.runtime import command_context

URGENCIES = {pb.CONCERN_URGENCY_ROUTINE: "routine", pb.CONCERN_URGENCY_URGENT: "urgent"}


class CoachingApi(pb_grpc.CoachingServiceServicer):
    def __init__(
        self, store: EventStore, publish: Translator, clock: Callable[[], dt.datetime]
    ) -> None:
        self._store = store
        self._publish = publish
        self._clock = clock

    async def OpenEngagement(
        self, request: pb.OpenEngagementRequest, context: grpc.aio.ServicerContext
    ) -> pb.OpenEngagementResponse:
        command = OpenEngagement(
            engagement_id=request.engagement_id,
            client_id=request.client_id,
            coach_id=request.coach_id,
            site_id=request.site_id,
            opened_on=date_field(request.opened_on, "opened_on"),
        )
        ctx = command_context(call_context(context), self._clock())
        recorded = await handle(command, ctx, self._store, self._publish)
        return pb.OpenEngagementResponse(
            engagement_id=command.engagement_id, already_recorded=not recorded
        )

    async def RaiseConcern(
        self, request: pb.RaiseConcernRequest, context: grpc.aio.ServicerContext
    ) -> pb.RaiseConcernResponse:
        command = RaiseConcern(
            engagement_id=request.engagement_id,
            concern_id=request.concern_id,
            urgency=enum_field(request.urgency, "urgency", URGENCIES),
            raised_on=date_field(request.raised_on, "raised_on"),
        )
        ctx = command_context(call_context(context), self._clock())
        recorded = await handle(command, ctx, self._store, self._publish)
        return pb.RaiseConcernResponse(concern_id=command.concern_id, already_recorded=not recorded)
