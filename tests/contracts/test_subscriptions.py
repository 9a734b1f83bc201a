"""Each service's subscriptions handle exactly the events the catalogue says it consumes."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker

from contracts.catalogue import CONSUMERS
from infra.commands import CommandRunner, SqlUnitStore
from infra.db import Database
from infra.devstack import SERVICES
from infra.eventstore import SqlEventStore
from infra.runtime import Runtime, load_settings
from infra.security.crypto import memory_keyring
from infra.telemetry import TelemetryHandle, setup_telemetry

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def telemetry() -> TelemetryHandle:
    return setup_telemetry("continuum-test", set_global=False)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'wiring.db'}", ())
    yield db
    await db.dispose()


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
async def test_a_service_subscribes_to_what_the_catalogue_declares(
    service: str, database: Database, telemetry: TelemetryHandle
) -> None:
    bootstrap = importlib.import_module(f"{service}.bootstrap")
    keys = memory_keyring()
    runtime = Runtime(
        settings=load_settings(service, bootstrap.DEFAULT_PORT),
        telemetry=telemetry,
        db=database,
        store=SqlEventStore(database),
        broker=KafkaBroker("127.0.0.1:1"),  # never connected
        runner=CommandRunner(SqlUnitStore(database, bootstrap.translate), keys),
        keys=keys,
    )
    parts = bootstrap.compose(runtime)
    handled: dict[str, set[str]] = {}
    for subscription in parts.subscriptions:
        handled.setdefault(subscription.group, set()).update(subscription.event_types)
    declared = {
        group: {event.ce_type() for event in events}
        for group, events in CONSUMERS.items()
        if group == f"continuum.{service}"
    }
    assert handled == {group: types for group, types in declared.items() if types}
