"""The consumer runtime: CloudEvents from Kafka into idempotent handlers, poison messages aside.

Per message, in order:
1. decode the CloudEvent; a malformed message goes to the dead-letter topic at once;
2. an event type without a handler is acknowledged and skipped (topics carry many types);
3. in ONE database transaction: record the event id in the inbox (a duplicate stops here) and
   run the handler, so the read-model change and "applied" commit together;
4. only then commit the Kafka offset. A crash before that redelivers the message, and the inbox
   makes the second delivery a no-op.

A handler that fails is retried a bounded number of times with backoff; a permanent failure
(`PermanentError`, an unknown event type, invalid event data), or one that outlives its retries,
sends the original message to `<group>.dlt` with the reason in its headers, and the consumer
carries on. When the database or the dead-letter topic cannot be reached the message is not
dead-lettered: it is delivered again after a pause, since the fault is not the message's.

Handling runs in a CONSUMER span whose parent is the producer's trace context from the message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, Protocol, cast

import pydantic
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.schemas import Topic as KafkaTopic
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import UnknownEventType, current_type
from contracts.topics import Topic, dead_letter_topic
from infra.db import Database
from infra.inbox import first_delivery
from infra.messaging.cloudevents import IncomingEvent, MalformedMessage, decode
from infra.telemetry import context_from

log = logging.getLogger(__name__)

Handler = Callable[[AsyncConnection, IncomingEvent], Awaitable[None]]
"""Applies one event inside the consumer's transaction; `conn` is that transaction."""


class KafkaRecord(Protocol):
    """What the runtime reads of a received record (aiokafka's ConsumerRecord)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]


class PermanentError(Exception):
    """Raised by a handler for a message that can never succeed: dead-letter it, no retries."""


PERMANENT_ERRORS: Final[tuple[type[Exception], ...]] = (
    PermanentError,
    MalformedMessage,
    UnknownEventType,
    pydantic.ValidationError,
)

# Headers added to a dead-lettered message, next to all of its original headers.
DLT_REASON: Final = "dlt.reason"
DLT_ERROR_TYPE: Final = "dlt.error.type"
DLT_ATTEMPTS: Final = "dlt.attempts"
DLT_ORIGINAL_TOPIC: Final = "dlt.original.topic"
DLT_ORIGINAL_PARTITION: Final = "dlt.original.partition"
DLT_ORIGINAL_OFFSET: Final = "dlt.original.offset"
DLT_CONSUMER_GROUP: Final = "dlt.consumer.group"
DLT_FAILED_AT: Final = "dlt.failed.at"
_MAX_REASON = 2000


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing handler is tried (attempts in all) and how long to wait in between."""

    attempts: int = 3
    first_backoff: float = 0.2
    max_backoff: float = 5.0

    def backoff(self, failed_attempts: int) -> float:
        return float(min(self.max_backoff, self.first_backoff * 2 ** (failed_attempts - 1)))


class _HandlerFailed(Exception):
    """The handler itself raised (as opposed to the database or the broker around it)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Subscription:
    """One consumer group on some topics, dispatching each event to the handler of its type.

    Create it before `broker.start()` (which then starts it), or call `start()` on a running
    broker. The broker must be able to publish (not consumer_only): dead letters go through it.
    """

    def __init__(
        self,
        broker: KafkaBroker,
        db: Database,
        group: str,
        topics: Sequence[Topic | str],
        handlers: Mapping[str, Handler],
        *,
        retry: RetryPolicy | None = None,
        tracer: Tracer | None = None,
        **consumer_options: Any,
    ) -> None:
        """consumer_options go to `broker.subscriber` (session_timeout_ms, max_poll_records...)."""
        if not topics:
            raise ValueError("a subscription needs at least one topic")
        self.group = group
        self.dead_letter_topic = dead_letter_topic(group)
        self._broker = broker
        self._db = db
        self._handlers = dict(handlers)
        self._retry = retry or RetryPolicy()
        self._tracer = tracer or trace.get_tracer(__name__)
        names = [topic if isinstance(topic, str) else topic.name for topic in topics]
        self._subscriber = broker.subscriber(
            # Topics are created with their partitions and retention by ensure_topics.
            *(KafkaTopic(name, declare=False) for name in names),
            group_id=group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            parser=_tolerant_parse,
            decoder=_whole_message,
            persistent=False,
            **consumer_options,
        )
        self._subscriber(self._on_message)

    @property
    def event_types(self) -> frozenset[str]:
        """The CloudEvents types this subscription handles (older versions are upcast)."""
        return frozenset(self._handlers)

    @property
    def running(self) -> bool:
        return bool(self._subscriber.running)

    async def start(self) -> None:
        """Starts consuming on a running broker; returns once partitions are assigned."""
        if not self._broker.running:
            raise RuntimeError("start the broker: it starts its subscriptions")
        if not self.running:
            await self._subscriber.start()

    async def stop(self) -> None:
        """Stops consuming; a message being handled gets the broker's graceful_timeout."""
        await self._subscriber.stop()

    async def _on_message(self, message: Any) -> None:
        msg = cast(KafkaMessage, message)
        record = cast(KafkaRecord, msg.raw_message)
        try:
            await self._process(record)
        except Exception:
            # Neither handled nor dead-lettered: rewind, or the next ack would commit past it.
            log.exception(
                "%s: %s[%d]@%d not processed; delivering it again",
                self.group,
                record.topic,
                record.partition,
                record.offset,
            )
            await asyncio.sleep(self._retry.max_backoff)
            await msg.nack()
            return
        await msg.ack()

    async def _process(self, record: KafkaRecord) -> None:
        try:
            event = decode(record.key, record.value, record.headers)
        except MalformedMessage as exc:
            await self._dead_letter(record, exc, attempts=0)
            return
        # A handler written for the newest version also takes older ones (upcast on parse).
        handler = self._handlers.get(event.ce_type) or self._handlers.get(
            current_type(event.ce_type)
        )
        if handler is None:
            return
        with self._tracer.start_as_current_span(
            f"process {record.topic}",
            context=context_from(event.traceparent, event.tracestate),
            kind=SpanKind.CONSUMER,
            attributes=_span_attributes(record, event, self.group),
        ) as span:
            failure, attempts = await self._handle(handler, event)
            if failure is not None:
                span.record_exception(failure)
                span.set_status(Status(StatusCode.ERROR, f"dead-lettered: {failure!r}"))
                await self._dead_letter(record, failure, attempts)

    async def _handle(self, handler: Handler, event: IncomingEvent) -> tuple[Exception | None, int]:
        """Runs the handler in the inbox transaction until it succeeds or gives up; returns the
        error that makes the message a dead letter (None if handled) and the attempts made."""
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._db.transaction() as conn:
                    if not await first_delivery(conn, self.group, event.event_id):
                        return None, attempt  # applied before: a redelivery
                    try:
                        await handler(conn, event)
                    except Exception as exc:
                        raise _HandlerFailed(exc) from exc
                return None, attempt
            except _HandlerFailed as failed:
                error = failed.cause
            if isinstance(error, PERMANENT_ERRORS) or attempt >= self._retry.attempts:
                return error, attempt
            delay = self._retry.backoff(attempt)
            log.warning(
                "%s: handling %s %s failed (attempt %d of %d), retrying in %.1fs: %r",
                self.group,
                event.ce_type,
                event.event_id,
                attempt,
                self._retry.attempts,
                delay,
                error,
            )
            await asyncio.sleep(delay)

    async def _dead_letter(self, record: KafkaRecord, error: Exception, attempts: int) -> None:
        reason = error.reason if isinstance(error, MalformedMessage) else str(error) or repr(error)
        log.error(
            "%s: %s[%d]@%d dead-lettered to %s after %d attempt(s): %s",
            self.group,
            record.topic,
            record.partition,
            record.offset,
            self.dead_letter_topic.name,
            attempts,
            reason,
        )
        # faststream sends str headers; an original header that is not UTF-8 is kept readable.
        headers = {
            name: (value or b"").decode("utf-8", "replace") for name, value in record.headers
        }
        headers |= {
            DLT_REASON: reason[:_MAX_REASON],
            DLT_ERROR_TYPE: f"{type(error).__module__}.{type(error).__qualname__}",
            DLT_ATTEMPTS: str(attempts),
            DLT_ORIGINAL_TOPIC: record.topic,
            DLT_ORIGINAL_PARTITION: str(record.partition),
            DLT_ORIGINAL_OFFSET: str(record.offset),
            DLT_CONSUMER_GROUP: self.group,
            DLT_FAILED_AT: dt.datetime.now(dt.UTC).isoformat(),
        }
        await self._broker.publish(
            record.value,
            self.dead_letter_topic.name,
            key=record.key,
            headers=headers,
            correlation_id=headers.get("correlation_id"),
        )


def _span_attributes(record: KafkaRecord, event: IncomingEvent, group: str) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.consumer.group.name": group,
        "messaging.kafka.offset": record.offset,
        "messaging.message.id": str(event.event_id),
        "cloudevents.event_id": str(event.event_id),
        "cloudevents.event_type": event.ce_type,
        "cloudevents.event_source": event.source,
    }
    if event.key is not None:
        attributes["messaging.kafka.message.key"] = event.key
    if event.subject is not None:
        attributes["cloudevents.event_subject"] = event.subject
    return attributes


async def _tolerant_parse(
    record: Any,
    original: Callable[[Any], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """faststream's parser, except that a header which is not UTF-8 (or null) does not stop
    the message before our handler: it must still be dead-lettered, not silently lost."""
    try:
        return await original(record)
    except (UnicodeDecodeError, AttributeError):
        readable = dataclasses.replace(
            record,
            headers=tuple(
                (name, (value or b"").decode("utf-8", "replace").encode("utf-8"))
                for name, value in record.headers
            ),
        )
        message = await original(readable)
        message.raw_message = record  # the handler reads the original bytes
        return message


async def _whole_message(message: StreamMessage[Any]) -> StreamMessage[Any]:
    """Hands the handler the message itself rather than a body faststream decoded: a body that
    is not JSON must reach the handler (and the dead-letter topic), not fail in faststream."""
    return message
