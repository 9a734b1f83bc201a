"""Publishes outbox messages to Kafka as CloudEvents, keyed by aggregate id.

The outbox relay calls `publish` and marks its rows only when it returns: every message has then
been acknowledged by all in-sync replicas (acks=all). Any failure raises, and the relay retries
the whole batch later; consumers are idempotent, so a message published twice is harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker

from infra.eventstore.model import OutboxMessage
from infra.messaging.authenticity import EventSigner
from infra.messaging.cloudevents import encode


class PublishError(Exception):
    """The broker did not acknowledge every message of a batch; publish the batch again."""


class KafkaPublisher:
    """A producer for one process, created by the composition root and started once."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str = "continuum-publisher",
        timeout: float = 30.0,
        signer: EventSigner | None = None,
        **broker_options: Any,
    ) -> None:
        """timeout bounds one `publish` call; `signer` signs every message (consumers accept
        only what their producer signed: `infra.messaging.authenticity`); broker_options go to
        faststream's KafkaBroker (security, compression_type, linger_ms, ...)."""
        self._timeout = timeout
        self._signer = signer
        self._broker = KafkaBroker(
            bootstrap_servers,
            client_id=client_id,
            acks="all",
            request_timeout_ms=int(timeout * 1000),
            **broker_options,
        )
        self._started = False

    @property
    def broker(self) -> KafkaBroker:
        return self._broker

    async def start(self) -> None:
        if not self._started:
            await self._broker.connect()
            self._started = True

    async def stop(self) -> None:
        if self._started:
            self._started = False
            await self._broker.stop()

    async def __aenter__(self) -> KafkaPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        """Sends every message and returns once the broker acknowledged all of them; raises
        PublishError otherwise. Messages with the same key keep their order."""
        if not self._started:
            raise PublishError("publisher not started")
        try:
            async with asyncio.timeout(self._timeout):
                # Enqueue everything first, then wait: the producer batches per partition, and
                # aiokafka keeps one request in flight per partition, so per-key order holds.
                pending = [await self._send(message) for message in messages]
                results = await asyncio.gather(*pending, return_exceptions=True)
        except Exception as exc:  # TimeoutError included
            raise PublishError(f"publishing {len(messages)} message(s) failed: {exc!r}") from exc
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            raise PublishError(
                f"{len(failures)} of {len(messages)} message(s) not acknowledged: {failures[0]!r}"
            ) from failures[0]

    async def _send(self, message: OutboxMessage) -> asyncio.Future[Any]:
        key, value, headers = encode(message, self._signer)
        future: asyncio.Future[Any] = await self._broker.publish(
            value,
            message.topic,
            key=key,
            # Our headers are CloudEvents attributes and W3C trace context: always UTF-8 text.
            headers={name: header_value.decode("utf-8") for name, header_value in headers},
            correlation_id=message.metadata.correlation_id or None,
            no_confirm=True,
        )
        return future
