"""The referral gRPC API."""

from __future__ import annotations

import grpc

from continuum.referral.v1 import referral_service_pb2 as pb
from continuum.referral.v1 import referral_service_pb2_grpc as pb_grpc
from infra.eventstore import EventStore
from referral.application.handlers import get_referral
from referral.domain.errors import ReferralMustExist

SERVICES = {
    "therapy": pb.SERVICE_THERAPY,
    "coaching": pb.SERVICE_COACHING,
    "consultation": pb.SERVICE_CONSULTATION,
    "psychiatry": pb.SERVICE_PSYCHIATRY,
}
URGENCIES = {"routine": pb.URGENCY_ROUTINE, "urgent": pb.URGENCY_URGENT}
STATUSES = {"raised": pb.REFERRAL_STATUS_RAISED}


class ReferralApi(pb_grpc.ReferralServiceServicer):
    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def GetReferral(
        self, request: pb.GetReferralRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetReferralResponse:
        state = await get_referral(request.referral_id, self._store)
        if state.referral is None:
            raise ReferralMustExist(request.referral_id)
        r = state.referral
        return pb.GetReferralResponse(
            referral=pb.Referral(
                referral_id=r.referral_id,
                client_id=r.client_id,
                site_id=r.site_id,
                from_service=SERVICES[r.from_service],
                to_service=SERVICES[r.to_service],
                urgency=URGENCIES[r.urgency],
                status=STATUSES[state.status],
                raised_on=r.raised_on.isoformat(),
                source=r.source,
            )
        )
