"""A real GrpcServer on a free local port, serving a SupervisionService whose behaviour the
request chooses, and an aio channel to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pydantic
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from continuum.supervision.v1 import supervision_service_pb2 as pb
from continuum.supervision.v1 import supervision_service_pb2_grpc as pb_grpc
from infra.ddd import AlreadyRecorded, InvalidInput, NotFound, RuleViolated
from infra.eventstore.model import ConcurrencyError
from infra.grpc.client import open_aio_channel
from infra.grpc.metadata import call_context
from infra.grpc.server import GrpcServer, ServiceBinding
from infra.security.guard import Guard
from infra.security.policy import Role
from infra.security.tokens import SigningKey, verifier_for
from infra.telemetry import TelemetryHandle, current_trace_headers

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SupervisionService"].full_name
LEAKED_SECRET = "db password is hunter2"
SIGNING_KEY = SigningKey.generate(kid="grpc-tests")
CALLER = "sup-1"


@pytest.fixture
def signing_key() -> SigningKey:
    """Signs the tests' tokens; the server's guard verifies with its JWKS."""
    return SIGNING_KEY


@pytest.fixture
def caller_token() -> str:
    """A token naming CALLER, an administrator: the platform's policy admits every call."""
    return SIGNING_KEY.mint(CALLER, (Role.ADMINISTRATOR,))


@pytest.fixture
def access_guard() -> Guard:
    """Callers verified against the tests' signing key, the platform's policy applied."""
    return Guard(verifier_for(SIGNING_KEY))


class _Session(pydantic.BaseModel):
    minutes: int = pydantic.Field(gt=0)
    supervisee_ids: list[pydantic.constr(min_length=3)]  # type: ignore[valid-type]


@dataclass
class SlowCall:
    """Lets a test hold a call in flight: the servicer waits for `release` once it `entered`."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


class ScriptedSupervision(pb_grpc.SupervisionServiceServicer):
    """SignAgreement raises what its agreement_id names; LogSession echoes the call context and
    the trace the handler runs in."""

    def __init__(self) -> None:
        self.slow = SlowCall()

    async def SignAgreement(
        self, request: pb.SignAgreementRequest, context: Any
    ) -> pb.SignAgreementResponse:
        match request.agreement_id:
            case "invalid-input":
                raise InvalidInput("start_date", "is not an ISO date")
            case "invalid-model":
                _Session(minutes=0, supervisee_ids=["ok-1", "x"])
            case "not-found":
                raise NotFound("supervisor sup-9 is not registered")
            case "already-recorded":
                raise AlreadyRecorded("agreement a-1 was signed with other terms")
            case "rule-violated":
                raise RuleViolated("the agreement ends before it starts")
            case "concurrency":
                raise ConcurrencyError("agreement-a-1", expected_version=3, actual_version=4)
            case "unexpected":
                raise RuntimeError(LEAKED_SECRET)
            case "self-aborted":
                await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not your site")
            case "slow":
                self.slow.entered.set()
                await self.slow.release.wait()
        return pb.SignAgreementResponse(agreement_id=request.agreement_id)

    async def LogSession(
        self, request: pb.LogSessionRequest, context: Any
    ) -> pb.LogSessionResponse:
        caller = call_context(context)
        traceparent, _ = current_trace_headers()
        echo = "|".join(
            [caller.actor, caller.correlation_id, caller.site_id or "", traceparent or ""]
        )
        return pb.LogSessionResponse(session_id=echo)


@pytest.fixture
def servicer() -> ScriptedSupervision:
    return ScriptedSupervision()


@pytest.fixture
def grpc_server(
    servicer: ScriptedSupervision, telemetry: TelemetryHandle, access_guard: Guard
) -> GrpcServer:
    """Not started: a test starts it, or uses `started_server`."""
    return GrpcServer(
        "127.0.0.1:0",
        [
            ServiceBinding(
                name=SERVICE_NAME,
                servicer=servicer,
                add_to_server=pb_grpc.add_SupervisionServiceServicer_to_server,
            )
        ],
        telemetry=telemetry,
        guard=access_guard,
    )


@pytest.fixture
async def started_server(grpc_server: GrpcServer) -> AsyncIterator[GrpcServer]:
    await grpc_server.start()
    yield grpc_server
    await grpc_server.stop(grace=0)


@pytest.fixture
async def channel(started_server: GrpcServer, caller_token: str) -> AsyncIterator[grpc.aio.Channel]:
    async with open_aio_channel(f"127.0.0.1:{started_server.port}", token=caller_token) as chan:
        yield chan


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> Any:
    return pb_grpc.SupervisionServiceStub(channel)


async def _health_status(channel: grpc.aio.Channel, service: str) -> int:
    response = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=5
    )
    status: int = response.status
    return status


@pytest.fixture
def health_status() -> Any:
    """`await health_status(channel, service)`: the health Check answer for `service`."""
    return _health_status
