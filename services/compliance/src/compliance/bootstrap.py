"""The compliance service's composition root: what it is made of, wired once."""

from __future__ import annotations

from compliance.adapters.read_model import MIGRATIONS, SqlProjectedFacts
from compliance.entrypoints import consumers
from compliance.entrypoints.grpc_api import ComplianceApi
from continuum.compliance.v1 import compliance_service_pb2 as pb
from continuum.compliance.v1 import compliance_service_pb2_grpc as pb_grpc
from contracts.events import ReferralRaised, SessionLogged
from contracts.topics import REFERRAL_EVENTS, SUPERVISION_EVENTS
from infra.eventstore import OutboxMessage, RecordedEvent
from infra.grpc.server import ServiceBinding
from infra.messaging.consumer import Subscription
from infra.runtime import Runtime, ServiceParts, ServiceSettings, run_service

NAME = "compliance"
DEFAULT_PORT = 50054
GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["ComplianceService"].full_name
CONSUMER_GROUP = "continuum.compliance"


def publishes_nothing_yet(recorded: RecordedEvent) -> OutboxMessage | None:
    """The credential registry (which will publish) comes with the licence events."""
    return None


def compose(runtime: Runtime) -> ServiceParts:
    api = ComplianceApi(SqlProjectedFacts(runtime.db), runtime.clock)
    return ServiceParts(
        grpc=[ServiceBinding(GRPC_SERVICE, api, pb_grpc.add_ComplianceServiceServicer_to_server)],
        subscriptions=[
            Subscription(
                runtime.broker,
                runtime.db,
                CONSUMER_GROUP,
                [SUPERVISION_EVENTS, REFERRAL_EVENTS],
                {
                    SessionLogged.ce_type(): consumers.on_session_logged,
                    ReferralRaised.ce_type(): consumers.on_referral_raised,
                },
            )
        ],
    )


async def run(settings: ServiceSettings) -> None:
    await run_service(
        settings, migrations=MIGRATIONS, translate=publishes_nothing_yet, compose=compose
    )
