"""The referral service's composition root: what it is made of, wired once."""

from __future__ import annotations

from continuum.referral.v1 import referral_service_pb2 as pb
from continuum.referral.v1 import referral_service_pb2_grpc as pb_grpc
from contracts.events import CoachingConcernRaised
from contracts.topics import COACHING_EVENTS
from infra.grpc.server import ServiceBinding
from infra.messaging.consumer import Subscription
from infra.runtime import Runtime, ServiceParts, ServiceSettings, run_service
from referral.adapters.publishing import translate
from referral.entrypoints.consumers import ConcernConsumer
from referral.entrypoints.grpc_api import ReferralApi

NAME = "referral"
DEFAULT_PORT = 50053
GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["ReferralService"].full_name
CONSUMER_GROUP = "continuum.referral"


def compose(runtime: Runtime) -> ServiceParts:
    concerns = ConcernConsumer(runtime.store, translate, runtime.clock)
    return ServiceParts(
        grpc=[
            ServiceBinding(
                GRPC_SERVICE,
                ReferralApi(runtime.store),
                pb_grpc.add_ReferralServiceServicer_to_server,
            )
        ],
        subscriptions=[
            Subscription(
                runtime.broker,
                runtime.db,
                CONSUMER_GROUP,
                [COACHING_EVENTS],
                {CoachingConcernRaised.ce_type(): concerns.on_concern_raised},
            )
        ],
    )


async def run(settings: ServiceSettings) -> None:
    await run_service(settings, migrations=(), translate=translate, compose=compose)
