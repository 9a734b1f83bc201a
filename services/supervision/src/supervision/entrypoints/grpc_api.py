"""The supervision gRPC API: wire messages in, commands to the handlers, replies out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc

from continuum.supervision.v1 import supervision_service_pb2 as pb
from continuum.supervision.v1 import supervision_service_pb2_grpc as pb_grpc
from infra.eventstore import EventStore, Translator
from infra.grpc.fields import date_field, enum_field
from infra.grpc.metadata import call_context
from infra.runtime import command_context
from supervision.application import handlers
from supervision.domain import LogSession, SignAgreement

FORMATS = {pb.SESSION_FORMAT_INDIVIDUAL: "individual", pb.SESSION_FORMAT_GROUP: "group"}
MODALITIES = {pb.SESSION_MODALITY_IN_PERSON: "in_person", pb.SESSION_MODALITY_VIDEO: "video"}


class SupervisionApi(pb_grpc.SupervisionServiceServicer):
    def __init__(
        self, store: EventStore, publish: Translator, clock: Callable[[], dt.datetime]
    ) -> None:
        self._store = store
        self._publish = publish
        self._clock = clock

    async def SignAgreement(
        self, request: pb.SignAgreementRequest, context: grpc.aio.ServicerContext
    ) -> pb.SignAgreementResponse:
        command = SignAgreement(
            agreement_id=request.agreement_id,
            supervisor_id=request.supervisor_id,
            supervisee_id=request.supervisee_id,
            site_id=request.site_id,
            credential_track=request.credential_track,
            start_date=date_field(request.start_date, "start_date"),
            end_date=date_field(request.end_date, "end_date"),
        )
        ctx = command_context(call_context(context), self._clock())
        outcome = await handlers.sign_agreement(command, ctx, self._store, self._publish)
        return pb.SignAgreementResponse(
            agreement_id=command.agreement_id, already_recorded=not outcome.recorded
        )

    async def LogSession(
        self, request: pb.LogSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.LogSessionResponse:
        command = LogSession(
            session_id=request.session_id,
            format=enum_field(request.format, "format", FORMATS),
            modality=enum_field(request.modality, "modality", MODALITIES),
            date=date_field(request.date, "date"),
            minutes=request.minutes,
            supervisor_id=request.supervisor_id,
            supervisee_ids=tuple(request.supervisee_ids),
            site_id=request.site_id,
        )
        ctx = command_context(call_context(context), self._clock())
        outcome = await handlers.log_session(command, ctx, self._store, self._publish)
        return pb.LogSessionResponse(
            session_id=command.session_id, already_recorded=not outcome.recorded
        )
