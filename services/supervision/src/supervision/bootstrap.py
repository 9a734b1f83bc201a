"""The supervision service's composition root: what it is made of, wired once."""

from __future__ import annotations

from functools import partial

from continuum.supervision.v1 import supervision_service_pb2 as pb
from continuum.supervision.v1 import supervision_service_pb2_grpc as pb_grpc
from contracts.rulepacks.loader import rule_packs
from contracts.rulepacks.model import RulePacks
from infra.grpc.server import ServiceBinding
from infra.messaging.consumer import Subscription
from infra.runtime import Runtime, ServiceParts, ServiceSettings, rule_packs_at_start, run_service
from supervision.adapters.publishing import translate
from supervision.adapters.sessions_index import MIGRATIONS, SqlSessionsIndex
from supervision.application.handlers import Supervision
from supervision.application.relations import SupervisionRelations
from supervision.domain import Tracks
from supervision.entrypoints.consumers import CONSUMER_GROUP, TOPICS, LicenseConsumer
from supervision.entrypoints.grpc_api import SupervisionApi
from supervision.entrypoints.grpc_competency import competency_binding
from supervision.entrypoints.grpc_consultation import consultation_binding

NAME = "supervision"
DEFAULT_PORT = 50051
GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["SupervisionService"].full_name


def compose(runtime: Runtime, packs: RulePacks | None = None) -> ServiceParts:
    # The credential tracks and their session limits, from the rule packs compliance judges by.
    tracks = Tracks(packs if packs is not None else rule_packs())
    supervision = Supervision(tracks, SqlSessionsIndex(runtime.db))
    api = SupervisionApi(runtime.runner, supervision, runtime.clock)
    licenses = LicenseConsumer(runtime.runner, supervision, runtime.clock)
    return ServiceParts(
        grpc=[
            ServiceBinding(GRPC_SERVICE, api, pb_grpc.add_SupervisionServiceServicer_to_server),
            # Competency evaluations and consultations: APIs of their own in the same process.
            competency_binding(runtime.runner, runtime.clock),
            consultation_binding(runtime.runner, runtime.clock),
        ],
        subscriptions=[
            # A supervisor's license standing, from the compliance service's credential registry.
            Subscription(
                runtime.broker,
                runtime.db,
                CONSUMER_GROUP,
                TOPICS,
                licenses.handlers(),
                verifier=runtime.event_verifier,
            )
        ],
        # Whose sessions and supervisees these are, for the access policy.
        relations=SupervisionRelations(runtime.runner),
    )


async def run(settings: ServiceSettings) -> None:
    packs = rule_packs_at_start()  # a malformed pack refuses the start, before anything runs
    await run_service(
        settings, migrations=MIGRATIONS, translate=translate, compose=partial(compose, packs=packs)
    )
