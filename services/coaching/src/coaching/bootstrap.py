"""The coaching service's composition root: what it is made of, wired once."""

from __future__ import annotations

from coaching.adapters.publishing import translate
from coaching.application.relations import CoachingRelations
from coaching.entrypoints.consumers import ReferralConsumer
from coaching.entrypoints.grpc_api import CoachingApi
from continuum.coaching.v1 import coaching_service_pb2 as pb
from continuum.coaching.v1 import coaching_service_pb2_grpc as pb_grpc
from contracts.events import ReferralAccepted, ReferralCompleted
from contracts.topics import REFERRAL_EVENTS
from infra.grpc.server import ServiceBinding
from infra.messaging.consumer import Subscription
from infra.runtime import Runtime, ServiceParts, ServiceSettings, run_service

NAME = "coaching"
DEFAULT_PORT = 50052
GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["CoachingService"].full_name
CONSUMER_GROUP = "continuum.coaching"


def compose(runtime: Runtime) -> ServiceParts:
    api = CoachingApi(runtime.runner, runtime.clock)
    referrals = ReferralConsumer(runtime.runner, runtime.clock)
    return ServiceParts(
        grpc=[ServiceBinding(GRPC_SERVICE, api, pb_grpc.add_CoachingServiceServicer_to_server)],
        subscriptions=[
            Subscription(
                runtime.broker,
                runtime.db,
                CONSUMER_GROUP,
                [REFERRAL_EVENTS],
                {
                    ReferralCompleted.ce_type(): referrals.on_referral_completed,
                    ReferralAccepted.ce_type(): referrals.on_referral_accepted,
                },
                verifier=runtime.event_verifier,
            )
        ],
        # Which coach holds which engagement, at which site, for the access policy.
        relations=CoachingRelations(runtime.runner),
    )


async def run(settings: ServiceSettings) -> None:
    await run_service(settings, migrations=(), translate=translate, compose=compose)
