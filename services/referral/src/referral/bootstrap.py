"""The referral service's composition root: what it is made of, wired once."""

from __future__ import annotations

import datetime as dt

from pydantic import Json
from pydantic_settings import BaseSettings, SettingsConfigDict

from continuum.referral.v1 import referral_service_pb2 as pb
from continuum.referral.v1 import referral_service_pb2_grpc as pb_grpc
from contracts.events import CoachingConcernRaised
from contracts.topics import COACHING_EVENTS
from infra.grpc.server import ServiceBinding
from infra.messaging.consumer import Subscription
from infra.runtime import Runtime, ServiceParts, ServiceSettings, run_service
from infra.timers import Timer
from referral.adapters.publishing import translate
from referral.adapters.records import MIGRATIONS, SqlReferralIndex
from referral.application.handlers import Referrals, check_service_levels
from referral.application.relations import ReferralRelations
from referral.domain import DEFAULT_SERVICE_LEVELS, ServiceLevelPolicy
from referral.entrypoints.consumers import ConcernConsumer
from referral.entrypoints.grpc_api import ReferralApi

NAME = "referral"
DEFAULT_PORT = 50053
GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["ReferralService"].full_name
CONSUMER_GROUP = "continuum.referral"
SERVICE_LEVEL_TIMER = "referral-service-levels"


class ReferralSettings(BaseSettings):
    """The organization's own service-level targets, when they differ from the defaults:
    REFERRAL_SERVICE_LEVELS='{"urgent": {"acknowledgement_hours": 2, "scheduling_hours": 24},
    "routine": {"acknowledgement_hours": 24, "scheduling_hours": 120}}'. They hold for referrals
    raised from then on (each referral records its deadlines when raised)."""

    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    service_levels: Json[ServiceLevelPolicy] | None = None

    @property
    def policy(self) -> ServiceLevelPolicy:
        return self.service_levels or DEFAULT_SERVICE_LEVELS


def compose(runtime: Runtime, policy: ServiceLevelPolicy | None = None) -> ServiceParts:
    policy = policy or ReferralSettings().policy
    referrals = Referrals(SqlReferralIndex(runtime.db), policy)
    concerns = ConcernConsumer(runtime.runner, referrals, runtime.clock)

    async def service_levels(now: dt.datetime) -> int:
        return await check_service_levels(now, runtime.runner, referrals)

    return ServiceParts(
        grpc=[
            ServiceBinding(
                GRPC_SERVICE,
                ReferralApi(runtime.runner, referrals, runtime.clock),
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
                verifier=runtime.event_verifier,
            )
        ],
        timers=[Timer(SERVICE_LEVEL_TIMER, service_levels)],
        # Where each referral was raised and who is party to it, for the access policy.
        relations=ReferralRelations(runtime.runner),
    )


async def run(settings: ServiceSettings) -> None:
    await run_service(settings, migrations=MIGRATIONS, translate=translate, compose=compose)
