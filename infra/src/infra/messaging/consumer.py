"""The consumer runtime: CloudEvents from Kafka into idempotent handlers, poison messages aside.

Records are taken in batches: whatever the consumer has fetched, up to a bounded number, without
waiting for a batch to fill (so a batch is one message when traffic is light, and hundreds when a
projection is rebuilt from the log). Per batch, in order:
1. decode each CloudEvent; a malformed message goes to the dead-letter topic at once;
2. an event type without a handler is skipped (topics carry many types), but a version the
   consumer cannot read of an event it handles is dead-lettered, never skipped;
3. every other event is checked to be its topic's producer's, as signed
   (`infra.messaging.authenticity`; only the events it applies, a signature check being the
   dearest step of the path): an `InauthenticEvent` is dead-lettered with its reason;
4. in ONE database transaction: record every event id in the inbox (the ones applied before
   stop here) and apply the new ones, in order, so the changes and "applied" commit together;
5. only then commit the Kafka offsets. A crash before that redelivers the batch, and the inbox
   makes the second delivery a no-op.

Events are applied by the subscription's per-type handlers, or by its batch handler where it
has one (a projection that writes a batch in a few statements). When applying the batch fails,
it is rolled back and applied again one event at a time, so that only the event that fails is
dead-lettered: a handler that fails is retried a bounded number of times with backoff; a
permanent failure (`PermanentError`, an unknown event type, invalid event data), or one that
outlives its retries, sends the original message to `<group>.dlt` with the reason in its headers
(after the subscription's dead-letter hook, if any, has recorded it), and the consumer carries
on. A message that is not its producer's (an `InauthenticEvent`, or a malformed message or
unreadable version that is not signed by its topic's producer either) never reaches the
dead-letter hook: what a forger names is never marked as lacking an event. The reason, like
every log line and span of the runtime, names the error's kind, the event's id and type and
the invalid fields, never a value (`infra.redaction`): the dead letter's body is the original
message, kept as it came to be replayed, and the only copy of what it holds. When
the database or the dead-letter topic cannot be reached nothing is dead-lettered: the batch is
delivered again after a pause, since the fault is not the messages'.

Each event is handled in a CONSUMER span whose parent is the producer's trace context from the
message; a batch handler runs in one span for the batch, linked to each producer's context.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, Protocol, cast

import pydantic
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.schemas import Topic as KafkaTopic
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import UnknownEventType, current_type
from contracts.topics import Topic, dead_letter_topic, event_topic
from infra.db import Database
from infra.inbox import first_deliveries, first_delivery
from infra.messaging.authenticity import EventVerifier, InauthenticEvent
from infra.messaging.cloudevents import IncomingEvent, MalformedMessage, decode
from infra.redaction import Disclosable, describe, error_kind, record_failure, redacted_traceback
from infra.telemetry import context_from

log = logging.getLogger(__name__)

Handler = Callable[[AsyncConnection, IncomingEvent], Awaitable[None]]
"""Applies one event inside the consumer's transaction; `conn` is that transaction."""

BatchHandler = Callable[[AsyncConnection, Sequence[IncomingEvent]], Awaitable[None]]
"""Applies several events, in order, inside the consumer's transaction: each one the inbox has
not seen before, each of a type the subscription has a per-type handler for. All of them or none:
when it raises, the runtime applies them again one at a time with the per-type handlers."""


class KafkaRecord(Protocol):
    """What the runtime reads of a received record (aiokafka's ConsumerRecord)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]


DeadLetterHook = Callable[
    [AsyncConnection, IncomingEvent | None, KafkaRecord, Exception], Awaitable[None]
]
"""Called, in a transaction of its own, for every message of its producer set aside, before it
is sent to the dead-letter topic: the decoded event (None when the message is not a readable
CloudEvent), the record as received, and why. A consumer records there what its own view now
lacks. Never called for a message its topic's producer did not sign: a forgery lacks nothing."""


class BatchSettings(BaseSettings):
    """How many records a consumer takes at once, and how long it waits for them
    (CONTINUUM_CONSUMER_BATCH_MAX_RECORDS, CONTINUUM_CONSUMER_BATCH_WAIT_MS,
    CONTINUUM_CONSUMER_FETCH_WAIT_MS)."""

    model_config = SettingsConfigDict(env_prefix="CONTINUUM_CONSUMER_", extra="ignore")

    # The most records applied in one transaction: what bounds the consumer's memory.
    batch_max_records: int = Field(default=2_000, ge=1, le=100_000)
    # How long a poll waits for a first record when none is fetched yet. Records already
    # fetched are taken at once: a batch is never held back to fill, so it costs no latency.
    batch_wait_ms: int = Field(default=100, ge=1, le=60_000)
    # How long the broker may hold a fetch that finds nothing new (Kafka's fetch.max.wait.ms).
    # A broker that does not answer as soon as a record arrives (the embedded one) delays that
    # record by up to this much; a short wait costs only idle fetches.
    fetch_wait_ms: int = Field(default=100, ge=1, le=60_000)


class PermanentError(Disclosable):
    """Raised by a handler for a message that can never succeed: dead-letter it, no retries.
    Its message is the reason the dead letter carries: a sentence naming what is wrong, never
    a value of the event."""

    @classmethod
    def refusal(cls, refused: Exception) -> PermanentError:
        """The command an event caused was refused: named by the rule it broke (the refusal's
        class) and, for invalid input, the field; not by the refusal's sentence, which may
        quote what it was given."""
        field = getattr(refused, "field", None)
        error = cls(type(refused).__name__ + (f" ({field})" if isinstance(field, str) else ""))
        error.__cause__ = refused
        return error


PERMANENT_ERRORS: Final[tuple[type[Exception], ...]] = (
    PermanentError,
    MalformedMessage,
    UnknownEventType,
    pydantic.ValidationError,
    InauthenticEvent,
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
DLT_EVENT_ID: Final = "dlt.event.id"
DLT_EVENT_TYPE: Final = "dlt.event.type"
# Why a message set aside for another reason (malformed, an unreadable version) is not its
# producer's either.
DLT_INAUTHENTIC: Final = "dlt.inauthentic"
_MAX_REASON = 2000
_MAX_LINKS = 128


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
        super().__init__(describe(cause))
        self.cause = cause


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class _Work:
    """A received record this subscription handles, decoded."""

    record: KafkaRecord
    event: IncomingEvent
    handler: Handler


class _BatchFailed(Exception):
    """Applying a batch together failed; `failed` is the event that raised, when known."""

    def __init__(self, failed: _Work | None, cause: Exception) -> None:
        super().__init__(describe(cause))
        self.failed = failed
        self.cause = cause


class Subscription:
    """One consumer group on some topics, dispatching each event to the handler of its type.

    Create it before `broker.start()` (which then starts it), or call `start()` on a running
    broker. The broker must be able to publish (not consumer_only): dead letters go through it.
    Keep it referenced while it runs: the broker holds its subscribers weakly.

    `verifier` checks that each event is its topic's producer's (the topic's declared
    `source`; a topic given by name is looked up among the declared event topics); None
    applies what comes unchecked, which only development without event keys does.
    """

    def __init__(
        self,
        broker: KafkaBroker,
        db: Database,
        group: str,
        topics: Sequence[Topic | str],
        handlers: Mapping[str, Handler],
        *,
        verifier: EventVerifier | None,
        batch_handler: BatchHandler | None = None,
        on_dead_letter: DeadLetterHook | None = None,
        batching: BatchSettings | None = None,
        retry: RetryPolicy | None = None,
        tracer: Tracer | None = None,
        **consumer_options: Any,
    ) -> None:
        """consumer_options go to `broker.subscriber` (session_timeout_ms...). Without
        `batching`, the batch settings are read from the environment."""
        if not topics:
            raise ValueError("a subscription needs at least one topic")
        self.group = group
        self.dead_letter_topic = dead_letter_topic(group)
        self.batching = batching or BatchSettings()
        self._broker = broker
        self._db = db
        self._handlers = dict(handlers)
        self._handled_names = frozenset(_event_name(t) for t in self._handlers)
        self._batch_handler = batch_handler
        self._on_dead_letter = on_dead_letter
        self._verifier = verifier
        self._owners = {
            topic.name: topic.source
            for topic in (event_topic(t) if isinstance(t, str) else t for t in topics)
            if topic is not None
        }
        self._retry = retry or RetryPolicy()
        self._tracer = tracer or trace.get_tracer(__name__)
        names = [topic if isinstance(topic, str) else topic.name for topic in topics]
        self._subscriber = broker.subscriber(
            # Topics are created with their partitions and retention by ensure_topics.
            *(KafkaTopic(name, declare=False) for name in names),
            group_id=group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            batch=True,
            max_records=self.batching.batch_max_records,
            batch_timeout_ms=self.batching.batch_wait_ms,
            parser=_records_as_they_are,
            decoder=_whole_message,
            persistent=False,
            **({"fetch_max_wait_ms": self.batching.fetch_wait_ms} | consumer_options),
        )
        self._subscriber(self._on_batch)

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
        """Stops consuming; a batch being handled gets the broker's graceful_timeout."""
        await self._subscriber.stop()

    async def _on_batch(self, message: Any) -> None:
        msg = cast(KafkaMessage, message)
        records = cast(tuple[KafkaRecord, ...], msg.raw_message)
        if not records:
            return
        try:
            await self._process(records)
        except Exception as error:
            # Not all handled or dead-lettered: rewind every partition of the batch to its first
            # record, or the next commit would move past what was not applied.
            first = records[0]
            log.error(
                "%s: batch of %d from %s[%d]@%d not processed; delivering it again\n%s",
                self.group,
                len(records),
                first.topic,
                first.partition,
                first.offset,
                redacted_traceback(error),
            )
            await asyncio.sleep(self._retry.max_backoff)
            await msg.nack()
            return
        await msg.ack()

    async def _process(self, records: Sequence[KafkaRecord]) -> None:
        work: list[_Work] = []
        for record in records:
            try:
                event = decode(record.key, record.value, record.headers)
            except MalformedMessage as exc:
                await self._dead_letter(
                    record, None, exc, attempts=0, inauthentic=self._inauthentic(record)
                )
                continue
            try:
                handler = self._handler_for(event)
            except UnknownEventType as exc:
                forged = self._inauthentic(record)
                await self._dead_letter(record, event, forged or exc, attempts=0)
                continue
            if handler is None:
                continue  # not this consumer's concern: not even checked
            forged = self._inauthentic(record)
            if forged is not None:
                await self._dead_letter(record, event, forged, attempts=0)
                continue
            work.append(_Work(record, event, handler))
        if not work:
            return
        try:
            await self._apply_together(work)
        except _BatchFailed as failed:
            if len(work) > 1 or failed.failed is None:
                log.warning(
                    "%s: a batch of %d failed (%s); applying it one event at a time",
                    self.group,
                    len(work),
                    describe(failed.cause),
                )
            await self._apply_one_by_one(work, failed)

    def _inauthentic(self, record: KafkaRecord) -> InauthenticEvent | None:
        """Why the record is not its topic's producer's; None when it is (or nothing is
        checked)."""
        if self._verifier is None:
            return None
        try:
            self._verifier.verify(
                record.topic,
                self._owners.get(record.topic),
                record.key,
                record.value,
                record.headers,
            )
        except InauthenticEvent as forged:
            return forged
        return None

    def _handler_for(self, event: IncomingEvent) -> Handler | None:
        # A handler written for the newest version also takes older ones (upcast on parse).
        handler = self._handlers.get(event.ce_type) or self._handlers.get(
            current_type(event.ce_type)
        )
        if handler is None and _event_name(event.ce_type) in self._handled_names:
            raise UnknownEventType(
                f"{event.ce_type}: this consumer handles {_event_name(event.ce_type)} but cannot "
                "read this version"
            )
        return handler

    async def _apply_together(self, work: Sequence[_Work]) -> None:
        """Applies the batch's new events in one transaction; raises _BatchFailed (rolled back)
        when applying them fails, and anything else when the database cannot be reached."""
        async with self._db.transaction() as conn:
            new = await first_deliveries(conn, self.group, (w.event.event_id for w in work))
            todo: list[_Work] = []
            for w in work:
                if w.event.event_id in new:
                    new.discard(w.event.event_id)  # a duplicate within the batch: once
                    todo.append(w)
            if not todo:
                return
            if self._batch_handler is not None:
                with self._batch_span(todo) as span:
                    try:
                        await self._batch_handler(conn, [w.event for w in todo])
                    except Exception as exc:
                        record_failure(span, exc, "batch rolled back")
                        raise _BatchFailed(None, exc) from exc
                return
            for w in todo:
                with self._span(w) as span:
                    try:
                        await w.handler(conn, w.event)
                    except Exception as exc:
                        record_failure(span, exc, "batch rolled back")
                        raise _BatchFailed(w, exc) from exc

    async def _apply_one_by_one(self, work: Sequence[_Work], failed: _BatchFailed) -> None:
        for w in work:
            # The event that made the batch fail has had its first attempt already.
            tried = 1 if w is failed.failed else 0
            with self._span(w) as span:
                if tried and isinstance(failed.cause, PERMANENT_ERRORS):
                    error: Exception | None = failed.cause
                    attempts = tried
                else:
                    if tried:
                        await asyncio.sleep(self._retry.backoff(tried))
                    error, attempts = await self._handle(w.handler, w.event, tried)
                if error is not None:
                    record_failure(span, error, "dead-lettered")
                    await self._dead_letter(w.record, w.event, error, attempts)

    async def _handle(
        self, handler: Handler, event: IncomingEvent, tried: int = 0
    ) -> tuple[Exception | None, int]:
        """Runs the handler in the inbox transaction until it succeeds or gives up; returns the
        error that makes the message a dead letter (None if handled) and the attempts made
        (counting the `tried` ones made before)."""
        attempt = tried
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
                "%s: handling %s %s failed (attempt %d of %d), retrying in %.1fs: %s",
                self.group,
                event.ce_type,
                event.event_id,
                attempt,
                self._retry.attempts,
                delay,
                describe(error),
            )
            await asyncio.sleep(delay)

    @contextmanager
    def _span(self, w: _Work) -> Iterator[Span]:
        with self._tracer.start_as_current_span(
            f"process {w.record.topic}",
            context=context_from(w.event.traceparent, w.event.tracestate),
            kind=SpanKind.CONSUMER,
            attributes=_span_attributes(w.record, w.event, self.group),
            # A failure is recorded by record_failure, in words that hold no value.
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield span

    @contextmanager
    def _batch_span(self, todo: Sequence[_Work]) -> Iterator[Span]:
        links = []
        # A span keeps 128 links by default: more would be read only to be dropped.
        for w in todo[:_MAX_LINKS]:
            if w.event.traceparent:
                producer = trace.get_current_span(
                    context_from(w.event.traceparent, w.event.tracestate)
                ).get_span_context()
                if producer.is_valid:
                    links.append(Link(producer))
        with self._tracer.start_as_current_span(
            f"process batch {self.group}",
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.consumer.group.name": self.group,
                "messaging.batch.message_count": len(todo),
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield span

    async def _dead_letter(
        self,
        record: KafkaRecord,
        event: IncomingEvent | None,
        error: Exception,
        attempts: int,
        *,
        inauthentic: InauthenticEvent | None = None,
    ) -> None:
        """Sends the record to the dead-letter topic with why; the hook first records what
        the consumer now lacks, unless the record is not its producer's (`error` or
        `inauthentic` says so)."""
        reason = dead_letter_reason(error)
        genuine = inauthentic is None and not isinstance(error, InauthenticEvent)
        if self._on_dead_letter is not None and genuine:
            async with self._db.transaction() as conn:
                await self._on_dead_letter(conn, event, record, error)
        log.error(
            "%s: %s[%d]@%d%s dead-lettered to %s after %d attempt(s): %s",
            self.group,
            record.topic,
            record.partition,
            record.offset,
            "" if event is None else f" ({event.ce_type} {event.event_id})",
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
            DLT_ERROR_TYPE: error_kind(error),
            DLT_ATTEMPTS: str(attempts),
            DLT_ORIGINAL_TOPIC: record.topic,
            DLT_ORIGINAL_PARTITION: str(record.partition),
            DLT_ORIGINAL_OFFSET: str(record.offset),
            DLT_CONSUMER_GROUP: self.group,
            DLT_FAILED_AT: dt.datetime.now(dt.UTC).isoformat(),
        }
        if event is not None:
            headers |= {DLT_EVENT_ID: str(event.event_id), DLT_EVENT_TYPE: event.ce_type}
        if inauthentic is not None:
            headers[DLT_INAUTHENTIC] = inauthentic.reason[:_MAX_REASON]
        await self._broker.publish(
            record.value,
            self.dead_letter_topic.name,
            key=record.key,
            headers=headers,
            correlation_id=headers.get("correlation_id"),
        )


def dead_letter_reason(error: Exception) -> str:
    """Why a message was set aside, in the words the dead-letter topic carries: what
    `infra.redaction.describe` says, never a value of the message."""
    return describe(error)


def record_payload(event: IncomingEvent | None, record: KafkaRecord) -> dict[str, Any]:
    """The data of a message set aside, as far as it can be read: the event's data, or the
    record's value when it is a JSON object, or nothing."""
    if event is not None:
        return event.data
    try:
        data = json.loads(record.value or b"")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _event_name(ce_type: str) -> str:
    """The event a CloudEvents type names, without its version (`x.Happened.v2` -> `x.Happened`)."""
    name, dot_v, version = ce_type.rpartition(".v")
    return name if dot_v and version.isdigit() else ce_type


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


async def _records_as_they_are(
    records: Any,
    original: Callable[[Any], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """faststream's batch parser reads every record's headers into a dict of text, which this
    runtime never reads (`decode` reads the records' own bytes), and stops at a header that is
    not UTF-8 (whose message must still be dead-lettered, not lost). It is given the first and
    the last record without their headers, which is all the message it makes needs (where the
    batch starts and ends, for the logs), and the message then carries the records as received."""
    ends = (records[0], records[-1]) if len(records) > 1 else (records[0],)
    message = await original(tuple(dataclasses.replace(record, headers=()) for record in ends))
    message.raw_message = records
    return message


async def _whole_message(message: StreamMessage[Any]) -> StreamMessage[Any]:
    """Hands the handler the message itself rather than a body faststream decoded: a body that
    is not JSON must reach the handler (and the dead-letter topic), not fail in faststream."""
    return message
