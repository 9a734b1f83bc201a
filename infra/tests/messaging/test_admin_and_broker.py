"""Topics are created as declared, once; the embedded broker starts, answers and stops."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from contracts.topics import Topic
from infra.messaging.admin import ensure_topics, wait_for_broker
from infra.messaging.broker import BrokerStartError, EmbeddedBroker

pytestmark = pytest.mark.integration


def describe(bootstrap: str, names: list[str]) -> dict[str, tuple[int, str]]:
    """Partition count and retention.ms of each topic."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        partitions = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names], config_filter="all"
        )["topic"]
        return {name: (partitions[name], configs[name]["retention.ms"]["value"]) for name in names}
    finally:
        admin.close()


def test_missing_topics_are_created_with_their_partitions_and_retention(
    bootstrap: str, unique: Callable[[str], str]
) -> None:
    events = Topic(unique("events"), 3, 86_400_000, "facts")
    dead_letters = Topic(unique("dlt"), 1, 172_800_000, "poison")

    created = ensure_topics(bootstrap, [events, dead_letters])

    assert sorted(created) == sorted([events.name, dead_letters.name])
    assert describe(bootstrap, [events.name, dead_letters.name]) == {
        events.name: (3, "86400000"),
        dead_letters.name: (1, "172800000"),
    }


def test_ensuring_topics_again_changes_nothing(
    bootstrap: str, unique: Callable[[str], str]
) -> None:
    events = Topic(unique("events"), 2, 86_400_000, "facts")
    ensure_topics(bootstrap, [events])
    # A later declaration with more partitions does not repartition a live topic.
    redeclared = Topic(events.name, 4, 1000, "facts")
    fresh = Topic(unique("fresh"), 1, 1000, "new")

    created = ensure_topics(bootstrap, [redeclared, fresh])

    assert created == [fresh.name]
    assert describe(bootstrap, [events.name])[events.name] == (2, "86400000")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_waiting_for_an_absent_broker_gives_up_after_the_timeout() -> None:
    started = time.monotonic()

    with pytest.raises(TimeoutError):
        wait_for_broker(f"127.0.0.1:{_closed_port()}", timeout=1.0)

    assert time.monotonic() - started < 5


def test_the_embedded_broker_answers_on_its_port_and_is_gone_after_stop(tmp_path: Path) -> None:
    log_file = tmp_path / "tansu.log"

    with EmbeddedBroker(log_file=log_file) as broker:
        bootstrap = broker.bootstrap_servers
        wait_for_broker(bootstrap, timeout=5)
        assert broker.running
    assert not broker.running

    with pytest.raises(TimeoutError):
        wait_for_broker(bootstrap, timeout=1.0)
    assert "listening on" in log_file.read_text()


def test_the_embedded_broker_refuses_a_port_in_use(kafka: EmbeddedBroker) -> None:
    taken = int(kafka.bootstrap_servers.rsplit(":", 1)[1])

    with pytest.raises(BrokerStartError, match="in use"):
        EmbeddedBroker(taken).start()
