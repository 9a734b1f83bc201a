"""Topic administration with kafka-python: create the declared topics, wait for a broker.

The functions block (kafka-python is synchronous); from async code run them with
`asyncio.to_thread`. Topics are declared once in `contracts.topics`. A secured cluster is
reached with the process's `security` (`infra.messaging.security.kafka_security`), as every
other Kafka client of ours is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import kafka.errors
from faststream.security import BaseSecurity
from kafka.admin import KafkaAdminClient

from contracts.topics import Topic
from infra.messaging.security import client_options

log = logging.getLogger(__name__)

CLIENT_ID = "continuum-admin"
_TOPIC_ALREADY_EXISTS = kafka.errors.TopicAlreadyExistsError.errno


def _admin(bootstrap: str, timeout_ms: int, security: BaseSecurity | None) -> Any:
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id=CLIENT_ID,
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
        **client_options(security),
    )


def ensure_topics(
    bootstrap: str,
    topics: Iterable[Topic],
    *,
    timeout: float = 30.0,
    security: BaseSecurity | None = None,
) -> list[str]:
    """Creates every topic that does not exist yet, with its partitions and retention.ms, and
    returns the names it created. Existing topics are left as they are, so it is safe to run at
    every start-up and by several processes at once."""
    wanted = {topic.name: topic for topic in topics}
    if not wanted:
        return []
    timeout_ms = int(timeout * 1000)
    admin = _admin(bootstrap, timeout_ms, security)
    try:
        existing = _existing_partitions(admin, list(wanted))
        for name, partitions in existing.items():
            if partitions < wanted[name].partitions:
                # Never changed here: adding partitions moves keys and breaks per-key order.
                log.warning(
                    "topic %s has %d partitions, %d declared",
                    name,
                    partitions,
                    wanted[name].partitions,
                )
        missing = [topic for name, topic in wanted.items() if name not in existing]
        if not missing:
            return []
        response = admin.create_topics(
            {
                topic.name: {
                    "num_partitions": topic.partitions,
                    # -1: the cluster's default.replication.factor, so one declaration fits a
                    # single dev broker and a replicated production cluster alike.
                    "replication_factor": -1,
                    "configs": {"retention.ms": str(topic.retention_ms)},
                }
                for topic in missing
            },
            timeout_ms=timeout_ms,
            raise_errors=False,
        )
        created: list[str] = []
        for result in response["topics"]:
            code = result["error_code"]
            if code == 0:
                created.append(result["name"])
            elif code != _TOPIC_ALREADY_EXISTS:  # another process created it meanwhile: fine
                error = kafka.errors.for_code(code)
                raise error(f"creating topic {result['name']}: {result.get('error_message')}")
        admin.wait_for_topics([topic.name for topic in missing], timeout_ms=timeout_ms)
        log.info("created topics %s", ", ".join(created))
        return created
    finally:
        admin.close()


def _existing_partitions(admin: Any, names: list[str]) -> dict[str, int]:
    present = set(admin.list_topics()) & set(names)
    if not present:
        return {}
    return {
        described["name"]: len(described.get("partitions") or [])
        for described in admin.describe_topics(sorted(present))
        if described.get("error_code", 0) == 0
    }


def wait_for_broker(
    bootstrap: str, timeout: float = 30.0, *, security: BaseSecurity | None = None
) -> None:
    """Blocks until a broker at `bootstrap` answers a metadata request; TimeoutError if none
    does within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no Kafka broker answered at {bootstrap} within {timeout}s") from (
                last_error
            )
        attempt_ms = max(100, int(min(remaining, 2.0) * 1000))
        try:
            admin = _admin(bootstrap, attempt_ms, security)
        except kafka.errors.KafkaError as exc:  # NoBrokersAvailable, timeouts
            last_error = exc
        else:
            try:
                admin.list_topics()
                return
            except kafka.errors.KafkaError as exc:
                last_error = exc
            finally:
                admin.close()
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
