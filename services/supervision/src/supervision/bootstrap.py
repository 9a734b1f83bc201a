"""The supervision service's composition root: what it is made of, wired once."""

from __future__ import annotations

from continuum.supervision.v1 import supervision_service_pb2 as pb
from continuum.supervision.v1 import supervision_service_pb2_grpc as pb_grpc
from infra.grpc.server import ServiceBinding
from infra.runtime import Runtime, ServiceParts, ServiceSettings, run_service
from supervision.adapters.publishing import translate
from supervision.entrypoints.grpc_api import SupervisionApi

NAME = "supervision"
DEFAULT_PORT = 50051
GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["SupervisionService"].full_name


def compose(runtime: Runtime) -> ServiceParts:
    api = SupervisionApi(runtime.store, translate, runtime.clock)
    return ServiceParts(
        grpc=[ServiceBinding(GRPC_SERVICE, api, pb_grpc.add_SupervisionServiceServicer_to_server)]
    )


async def run(settings: ServiceSettings) -> None:
    await run_service(settings, migrations=(), translate=translate, compose=compose)
