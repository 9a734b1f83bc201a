"""What the tests of the services' APIs share: a service composed as it runs, on a fresh
database of each storage backend, served over a local socket and called by an administrator
(so that the access policy hides no answer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from conftest import STORAGE_BACKENDS, database_factory
from infra.grpc.client import open_aio_channel
from infra.security.policy import Role
from infra.security.tokens import SigningKey, verifier_for
from infra.telemetry import TelemetryHandle, setup_telemetry
from tests.composed import Composed, composed, serving

KEY = SigningKey.generate(kid="services-under-test")
ADMINISTRATOR = KEY.mint("admin-1", (Role.ADMINISTRATOR,), ())


@dataclass
class Served:
    service: Composed
    channel: grpc.aio.Channel


@pytest.fixture(scope="module")
def telemetry() -> TelemetryHandle:
    return setup_telemetry("continuum-test", set_global=False)


@pytest.fixture(params=STORAGE_BACKENDS)
async def served(
    service: str, request: pytest.FixtureRequest, tmp_path: Path, telemetry: TelemetryHandle
) -> AsyncIterator[Served]:
    """The service named by the test's `service` parameter, served on each backend in turn."""
    async with (
        database_factory(request.param, request, tmp_path) as factory,
        composed(service, factory, telemetry) as service_composed,
        serving(service_composed, verifier_for(KEY)) as address,
        open_aio_channel(address, token=ADMINISTRATOR) as channel,
    ):
        yield Served(service_composed, channel)
