"""A real Kafka-protocol broker for the messaging tests: one embedded Tansu for the session.

Every test makes its own topics and consumer groups (unique names), so tests share the broker
without seeing each other's messages.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from faststream.kafka import KafkaBroker

from contracts.topics import Topic
from infra.messaging.admin import ensure_topics
from infra.messaging.authenticity import EventKeyring
from infra.messaging.broker import EmbeddedBroker

# The producer of the tests' topics: what their events are published as, and signed by.
TEST_PRODUCER = "tests"


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log_file = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with EmbeddedBroker(log_file=log_file) as broker:
        yield broker


@pytest.fixture
def bootstrap(kafka: EmbeddedBroker) -> str:
    return kafka.bootstrap_servers


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A name no other test uses: for topics and consumer groups."""
    return lambda prefix: f"test.{prefix}.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_topic(bootstrap: str, unique: Callable[[str], str]) -> Callable[..., Awaitable[Topic]]:
    async def make(prefix: str = "events", partitions: int = 1) -> Topic:
        topic = Topic(
            unique(prefix), partitions, 60 * 60 * 1000, "test topic", producer=TEST_PRODUCER
        )
        await asyncio.to_thread(ensure_topics, bootstrap, [topic])
        return topic

    return make


@pytest.fixture
async def kafka_broker(bootstrap: str) -> AsyncIterator[KafkaBroker]:
    """A faststream broker for one test, stopped afterwards (with its subscriptions)."""
    broker = KafkaBroker(bootstrap, graceful_timeout=2.0, client_id="messaging-tests")
    yield broker
    await broker.stop()


@pytest.fixture(scope="session")
def event_keys() -> EventKeyring:
    """The test producer's event signing key, and another producer's (to forge with)."""
    return EventKeyring.generate(
        [Topic("", 1, 1, "", producer=name).source or "" for name in (TEST_PRODUCER, "other")]
    )
