"""What a schema admits, its consumers store: for every published event type and every service
that consumes it (`contracts.catalogue.CONSUMERS`), events generated from the schema's field
kinds (`tests.contracts.kinds`: the longest ids and texts, every unicode category, the first
and last days, instants at +-14:00 on them, the 32-bit bounds) are delivered to the service
composed as it runs, on each storage backend, through its real subscription.

The read model (compliance) stores every one of them. A service that reacts with a command of its
own applies each, or refuses it by a rule of its domain (named in the dead letter); never does
its storage fail (a value too long for a column, a NUL, a day out of the calendar). The columns'
widths are checked without a database in `test_columns_hold_their_kinds`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import STORAGE_BACKENDS, database_factory
from contracts.catalogue import CONSUMERS
from contracts.events import EventContract
from contracts.fields import ID_MAX_LENGTH
from infra.messaging.consumer import PermanentError
from infra.redaction import error_kind
from infra.telemetry import TelemetryHandle, setup_telemetry
from tests.composed import Composed, composed
from tests.contracts.kinds import kind_of, models

pytestmark = pytest.mark.integration

# The one consumer that keeps every fact as it came: what it does not store is a defect.
READ_MODEL = "compliance"
# Rows every delivery adds whether or not it was applied, or that do not say what was stored.
BOOKKEEPING = frozenset({"inbox", "schema_migrations", "unapplied_events"})
REFUSED_BY_A_RULE = error_kind(PermanentError("a rule"))
E = TypeVar("E", bound=EventContract)

CASES = [
    (group.removeprefix("continuum."), schema)
    for group, handled in CONSUMERS.items()
    for schema in handled
]


@pytest.fixture(scope="module")
def telemetry() -> TelemetryHandle:
    return setup_telemetry("continuum-test", set_global=False)


@pytest.fixture(params=STORAGE_BACKENDS)
async def consumer(
    service: str, request: pytest.FixtureRequest, tmp_path: Path, telemetry: TelemetryHandle
) -> AsyncIterator[Composed]:
    """The service composed on a fresh database of each backend, for all of a test's examples."""
    async with (
        database_factory(request.param, request, tmp_path) as factory,
        composed(service, factory, telemetry) as service_composed,
    ):
        yield service_composed


@settings(
    max_examples=20,
    deadline=None,
    # One database for all the examples: a failure is read from the example itself.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@pytest.mark.parametrize(("service", "schema"), CASES, ids=[f"{s}-{e.__name__}" for s, e in CASES])
async def test_a_consumer_stores_every_value_its_events_admit(
    service: str, schema: type[EventContract], consumer: Composed, data: st.DataObject
) -> None:
    event = data.draw(models(schema), label="event")
    await _delivered_and_stored(consumer, with_ids_of_its_own(event, len(consumer.delivered)))


def with_ids_of_its_own(event: E, n: int) -> E:
    """The event with every id made unique to the example: its last characters say `n` (ids of
    the longest length keep it). A record's first fact wins in the read model, so an example
    reusing an earlier one's id would store nothing new."""
    suffix = f"{n:04x}"

    def unique(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(unique(item) for item in value)
        if isinstance(value, str):
            return (value[: max(0, len(value) - len(suffix))] + suffix)[:ID_MAX_LENGTH]
        return value

    changes = {
        name: unique(getattr(event, name))
        for name, info in type(event).model_fields.items()
        if kind_of(info.annotation, info.metadata) == "Id"
    }
    return event.model_copy(update=changes)


async def _delivered_and_stored(consumer: Composed, event: EventContract) -> None:
    # given what the consumer's tables hold
    before = sum((await consumer.rows(without=BOOKKEEPING)).values())

    # when the event is delivered
    event_id = await consumer.deliver(event)

    # then it is applied, and stored
    dead = consumer.dead_letter_of(event_id)
    if consumer.name == READ_MODEL:
        assert dead is None, f"{event!r} was not stored: {dead}"
        assert await consumer.applied(event_id)
        after = sum((await consumer.rows(without=BOOKKEEPING)).values())
        assert after > before, f"{event!r} left no row"
    elif dead is not None:
        # or refused by a rule of the consumer's domain, never by its storage
        assert dead.error_type == REFUSED_BY_A_RULE, f"{event!r}: {dead}"
    else:
        assert await consumer.applied(event_id)
