"""Events on the wire: the CloudEvents 1.0 Kafka protocol binding, binary content mode.

Attributes travel as `ce_*` headers, the data (a JSON object) is the message value and the
`partitionkey` extension is the Kafka key, so any CloudEvents SDK can read what we publish. Our
metadata rides along as extensions (`correlationid`, `causationid`, `actor`, `siteid`) and the
trace context as the distributed-tracing extension (`traceparent`, `tracestate`), and the
producer's signature as `signature` and `signingkey` (`infra.messaging.authenticity`). The plain W3C
`traceparent`/`tracestate` headers are set as well, for tools that know tracing but not
CloudEvents.

Reading is on every consumer's hot path (a projection rebuilt from the log reads tens of
thousands of messages a second), so a well-formed binary-mode message is read directly from its
headers; anything unusual, and structured mode, goes through the SDK, which says what is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka, to_binary
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic_core import from_json

from contracts.events import EventContract, parse
from infra.eventstore.model import EventMetadata, OutboxMessage
from infra.messaging.authenticity import SIGNATURE_HEADER, SIGNING_KEY_HEADER, EventSigner
from infra.redaction import Disclosable

Headers = list[tuple[str, bytes]]

DATA_CONTENT_TYPE: Final = "application/json"
SPECVERSION: Final = "1.0"
CE_PREFIX: Final = "ce_"
CONTENT_TYPE_HEADER: Final = "content-type"
TRACEPARENT: Final = "traceparent"
TRACESTATE: Final = "tracestate"

# EventMetadata field -> CloudEvents extension attribute (extension names are [a-z0-9]+).
_METADATA_EXTENSIONS: Final = (
    ("correlation_id", "correlationid"),
    ("causation_id", "causationid"),
    ("actor", "actor"),
    ("site_id", "siteid"),
    ("traceparent", TRACEPARENT),
    ("tracestate", TRACESTATE),
)

_REQUIRED: Final = frozenset({"specversion", "id", "source", "type", "time"})
_FORMAT = JSONFormat()
# The attributes the specification defines; any other ce_ header is an extension.
_SPEC_ATTRIBUTES: Final = frozenset({*_REQUIRED, "datacontenttype", "dataschema", "subject"})
_EXTENSION_NAME = re.compile(r"[a-z0-9]+")
# The extensions our producers write (valid names, known without a pattern match).
_OUR_EXTENSIONS: Final = frozenset(
    {name for _, name in _METADATA_EXTENSIONS}
    | {"partitionkey"}
    | {header.removeprefix(CE_PREFIX) for header in (SIGNATURE_HEADER, SIGNING_KEY_HEADER)}
)
# The attribute each header of a well-formed message carries, by the header's exact name.
_HEADER_ATTRIBUTES: Final = {
    CE_PREFIX + name: name for name in sorted(_SPEC_ATTRIBUTES | _OUR_EXTENSIONS)
} | {CONTENT_TYPE_HEADER: "datacontenttype"}


class MalformedMessage(Disclosable):
    """A Kafka message that is not one of our CloudEvents; it can never be handled. Its reason
    names what is wrong, never a value the message holds (it goes to logs and dead letters)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A CloudEvent as a consumer receives it."""

    event_id: uuid.UUID
    ce_type: str
    source: str
    subject: str | None
    key: str | None
    time: dt.datetime
    data: dict[str, Any]
    metadata: EventMetadata

    @property
    def traceparent(self) -> str | None:
        return self.metadata.traceparent

    @property
    def tracestate(self) -> str | None:
        return self.metadata.tracestate

    def contract(self) -> EventContract:
        """The data parsed by its published schema (older versions upcast); raises
        UnknownEventType or a pydantic ValidationError, both permanent for a consumer."""
        return parse(self.ce_type, self.data)


def encode(
    message: OutboxMessage, signer: EventSigner | None = None
) -> tuple[bytes, bytes, Headers]:
    """The Kafka key, value and headers of one outbox message, signed by `signer` (what every
    service publishes is; an unsigned message is what a test of a forgery sends)."""
    if message.occurred_at.tzinfo is None:
        raise ValueError(f"event {message.event_id}: occurred_at must be timezone-aware")
    attributes: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": str(message.event_id),
        "source": message.source,
        "type": message.ce_type,
        "time": message.occurred_at.astimezone(dt.UTC),
        "datacontenttype": DATA_CONTENT_TYPE,
        "partitionkey": message.key,
    }
    if message.subject:
        attributes["subject"] = message.subject
    for field_name, extension in _METADATA_EXTENSIONS:
        value = getattr(message.metadata, field_name)
        if value:
            attributes[extension] = value
    kafka_message = to_binary(CloudEvent(attributes, dict(message.data)), _FORMAT)
    headers: Headers = list(kafka_message.headers.items())
    for name in (TRACEPARENT, TRACESTATE):
        value = attributes.get(name)
        if value:
            headers.append((name, value.encode("utf-8")))
    key = message.key.encode("utf-8")
    if signer is not None:
        # The value signed is the value sent: the data is encoded once, above.
        headers += signer.signature_headers(message.source, key, kafka_message.value, headers)
    return key, kafka_message.value, headers


def decode(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
) -> IncomingEvent:
    """The event a Kafka message carries; raises MalformedMessage if it is not a valid CloudEvent
    with a UUID id, a time and a JSON object as data. Structured mode is read as well."""
    fast = _well_formed_binary(key, value, headers)
    if fast is not None:
        return fast
    # Only the binding's own headers go to the SDK: others may be anything, even non-UTF-8.
    relevant: dict[str, bytes] = {}
    w3c: dict[str, bytes] = {}
    for name, header_value in headers:
        lowered = name.lower()
        if header_value is None:
            continue
        if lowered.startswith(CE_PREFIX) or lowered == CONTENT_TYPE_HEADER:
            relevant[lowered] = header_value
        elif lowered in (TRACEPARENT, TRACESTATE):
            w3c[lowered] = header_value
    if any(name.startswith(CE_PREFIX) for name in relevant):
        present = {name.removeprefix(CE_PREFIX) for name in relevant}
    elif relevant.get(CONTENT_TYPE_HEADER, b"").startswith(b"application/cloudevents"):
        present = _structured_attributes(value)
    else:
        raise MalformedMessage("not a CloudEvent: no ce_ headers, no structured content type")
    # The SDK fills in a random id and the current time when they are missing: that would
    # defeat deduplication and misdate the event.
    missing = sorted(_REQUIRED - present)
    if missing:
        raise MalformedMessage(f"invalid CloudEvent: missing {', '.join(missing)}")
    try:
        event = from_kafka(KafkaMessage(headers=relevant, key=key, value=value or b""), _FORMAT)
    except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError) as exc:
        # UnicodeDecodeError and JSONDecodeError are ValueErrors.
        # The SDK's own words may quote the attribute it could not read.
        raise MalformedMessage(f"invalid CloudEvent: {type(exc).__name__}") from exc
    return _incoming(event, w3c)


def _well_formed_binary(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
) -> IncomingEvent | None:
    """The event of a binary-mode message the SDK would read without complaint, read the same
    way in one pass over its headers; None for anything else (the SDK then says what is
    wrong, or reads structured mode)."""
    attributes: dict[str, str] = {}
    w3c: dict[str, bytes] = {}
    # Headers our producers write are known by name; any other is read as the SDK reads it.
    others: list[str] = []
    try:
        for name, raw in headers:
            if raw is None:
                continue
            attribute = _HEADER_ATTRIBUTES.get(name)
            if attribute is not None:
                attributes[attribute] = raw.decode("utf-8")
                continue
            lowered = name.lower()
            if lowered.startswith(CE_PREFIX):
                attributes[lowered[3:]] = raw.decode("utf-8")
                others.append(lowered[3:])
            elif lowered == CONTENT_TYPE_HEADER:
                attributes["datacontenttype"] = raw.decode("utf-8")
            elif lowered in (TRACEPARENT, TRACESTATE):
                w3c[lowered] = raw
        if key is not None:
            attributes["partitionkey"] = key.decode("utf-8")
    except UnicodeDecodeError:
        return None
    get = attributes.get
    if get("specversion") != SPECVERSION or not (get("id") and get("source") and get("type")):
        return None
    if "" in (get("subject"), get("datacontenttype"), get("dataschema")):
        return None
    for name in others:
        unknown = name not in _SPEC_ATTRIBUTES and name not in _OUR_EXTENSIONS
        if unknown and (name == "data" or not _EXTENSION_NAME.fullmatch(name)):
            return None
    time = get("time")
    # RFC 3339 as producers write it; other ISO 8601 spellings go through the SDK's parser.
    if time is None or len(time) < 20 or time[10] != "T":
        return None
    content_type = get("datacontenttype", DATA_CONTENT_TYPE)
    if not value or (
        content_type != DATA_CONTENT_TYPE
        and not _FORMAT.JSON_CONTENT_TYPE_PATTERN.match(content_type)
    ):
        return None
    try:
        moment = dt.datetime.fromisoformat(time)
        event_id = uuid.UUID(attributes["id"])
        # pydantic's JSON reader: one pass in Rust, several times faster than json.loads. What
        # it refuses goes to the SDK's reader, which says why or reads it after all.
        data = from_json(value)
    except ValueError:  # also UnicodeDecodeError
        return None
    if moment.tzinfo is None or not isinstance(data, dict):
        return None
    traceparent, tracestate = get(TRACEPARENT) or None, get(TRACESTATE) or None
    if traceparent is None and TRACEPARENT in w3c:
        # A producer that knows tracing but not the CloudEvents extension.
        traceparent = w3c[TRACEPARENT].decode("utf-8", "replace")
        if TRACESTATE in w3c:
            tracestate = w3c[TRACESTATE].decode("utf-8", "replace")
    return IncomingEvent(
        event_id=event_id,
        ce_type=attributes["type"],
        source=attributes["source"],
        subject=get("subject"),
        key=get("partitionkey") or None,
        time=moment.astimezone(dt.UTC),
        data=data,
        metadata=EventMetadata(
            correlation_id=get("correlationid") or "",
            causation_id=get("causationid") or None,
            actor=get("actor") or "system",
            site_id=get("siteid") or None,
            traceparent=traceparent,
            tracestate=tracestate,
        ),
    )


def _structured_attributes(value: bytes | None) -> set[str]:
    try:
        envelope = json.loads(value or b"")
    except ValueError as exc:
        raise MalformedMessage(f"invalid structured CloudEvent: {exc}") from exc
    if not isinstance(envelope, dict):
        raise MalformedMessage("invalid structured CloudEvent: not a JSON object")
    return set(envelope)


def _incoming(event: BaseCloudEvent, w3c: dict[str, bytes]) -> IncomingEvent:
    if event.get_specversion() != SPECVERSION:
        raise MalformedMessage(f"unsupported CloudEvents specversion, {SPECVERSION} expected")
    try:
        event_id = uuid.UUID(event.get_id())
    except ValueError as exc:
        raise MalformedMessage("the event id is not a UUID") from exc
    time = event.get_time()
    if time is None:
        raise MalformedMessage(f"event {event_id} has no time")
    data = event.get_data()
    if not isinstance(data, dict):
        raise MalformedMessage(f"event {event_id}: data is not a JSON object")
    return _incoming_from(event.get_attributes(), data, w3c)


def _incoming_from(
    attributes: dict[str, Any], data: dict[str, Any], w3c: dict[str, bytes]
) -> IncomingEvent:
    """The event of a valid CloudEvent's attributes and JSON-object data."""
    extensions = {name: _text(attributes.get(name)) for _, name in _METADATA_EXTENSIONS}
    if extensions[TRACEPARENT] is None and TRACEPARENT in w3c:
        # A producer that knows tracing but not the CloudEvents extension.
        extensions[TRACEPARENT] = w3c[TRACEPARENT].decode("utf-8", "replace")
        if TRACESTATE in w3c:
            extensions[TRACESTATE] = w3c[TRACESTATE].decode("utf-8", "replace")
    metadata = EventMetadata(
        correlation_id=extensions["correlationid"] or "",
        causation_id=extensions["causationid"],
        actor=extensions["actor"] or "system",
        site_id=extensions["siteid"],
        traceparent=extensions[TRACEPARENT],
        tracestate=extensions[TRACESTATE],
    )
    return IncomingEvent(
        event_id=uuid.UUID(attributes["id"]),
        ce_type=attributes["type"],
        source=attributes["source"],
        subject=attributes.get("subject"),
        key=_text(attributes.get("partitionkey")),
        time=attributes["time"].astimezone(dt.UTC),
        data=data,
        metadata=metadata,
    )


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
