"""Events on the wire follow the CloudEvents 1.0 Kafka binding (binary mode) and read back."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, from_kafka
from cloudevents.core.formats.json import JSONFormat

from infra.eventstore.model import EventMetadata, OutboxMessage
from infra.messaging.cloudevents import (
    IncomingEvent,
    MalformedMessage,
    _incoming,
    decode,
    encode,
)

pytestmark = pytest.mark.unit

FORMAT = JSONFormat()
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
OCCURRED = dt.datetime(2026, 3, 14, 15, 9, 26, 535000, tzinfo=dt.UTC)


def outbox_message(**changes: object) -> OutboxMessage:
    fields: dict[str, object] = {
        "event_id": uuid.UUID("6f1c1a3e-8d5b-4c4e-9d55-2b1f0d6a7c01"),
        "topic": "continuum.supervision.events",
        "key": "session-42",
        "ce_type": "continuum.supervision.SessionLogged.v1",
        "source": "/continuum/supervision",
        "subject": "session/session-42",
        "occurred_at": OCCURRED,
        "data": {"session_id": "session-42", "minutes": 60, "note": "Zoë"},
        "metadata": EventMetadata(
            correlation_id="corr-1",
            causation_id="cmd-7",
            actor="supervisor-7",
            site_id="site-a",
            traceparent=TRACEPARENT,
            tracestate="vendor=x",
        ),
    }
    fields.update(changes)
    return OutboxMessage(**fields)  # type: ignore[arg-type]


def test_an_encoded_message_decodes_to_the_same_event() -> None:
    message = outbox_message()

    event = decode(*encode(message))

    assert event.event_id == message.event_id
    assert event.ce_type == message.ce_type
    assert event.source == message.source
    assert event.subject == message.subject
    assert event.key == message.key
    assert event.time == OCCURRED
    assert event.data == message.data
    assert event.metadata == message.metadata
    assert (event.traceparent, event.tracestate) == (TRACEPARENT, "vendor=x")


def test_the_message_is_keyed_by_the_aggregate_and_carries_attributes_as_ce_headers() -> None:
    key, value, headers = encode(outbox_message())
    by_name = dict(headers)

    assert key == b"session-42"
    assert json.loads(value)["minutes"] == 60
    assert by_name["ce_specversion"] == b"1.0"
    assert by_name["ce_id"] == b"6f1c1a3e-8d5b-4c4e-9d55-2b1f0d6a7c01"
    assert by_name["ce_type"] == b"continuum.supervision.SessionLogged.v1"
    assert by_name["ce_time"] == b"2026-03-14T15:09:26.535000Z"
    assert by_name["content-type"] == b"application/json"
    assert by_name["ce_partitionkey"] == b"session-42"
    assert by_name["ce_correlationid"] == b"corr-1"
    assert by_name["ce_causationid"] == b"cmd-7"
    assert by_name["ce_actor"] == b"supervisor-7"
    assert by_name["ce_siteid"] == b"site-a"
    assert by_name["ce_traceparent"] == TRACEPARENT.encode()
    # For tools that know W3C trace context but not CloudEvents.
    assert by_name["traceparent"] == TRACEPARENT.encode()
    assert by_name["tracestate"] == b"vendor=x"


def test_a_generic_cloudevents_reader_understands_the_message() -> None:
    key, value, headers = encode(outbox_message())

    event = from_binary(KafkaMessage(headers=dict(headers), key=key, value=value), JSONFormat())

    assert event.get_id() == "6f1c1a3e-8d5b-4c4e-9d55-2b1f0d6a7c01"
    assert event.get_extension("partitionkey") == "session-42"
    assert event.get_data() == {"session_id": "session-42", "minutes": 60, "note": "Zoë"}


def test_absent_metadata_is_left_out_and_reads_back_as_defaults() -> None:
    message = outbox_message(metadata=EventMetadata(correlation_id="c"), subject="")

    _, _, headers = encode(message)
    event = decode(*encode(message))

    names = {name for name, _ in headers}
    assert not names & {
        "ce_causationid",
        "ce_siteid",
        "ce_traceparent",
        "traceparent",
        "ce_subject",
    }
    assert event.metadata == EventMetadata(correlation_id="c")
    assert event.subject is None


def test_a_naive_occurred_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        encode(outbox_message(occurred_at=dt.datetime(2026, 3, 14, 15, 0)))  # noqa: DTZ001


def test_the_plain_w3c_traceparent_is_used_when_the_extension_is_missing() -> None:
    key, value, headers = encode(outbox_message(metadata=EventMetadata(correlation_id="c")))

    event = decode(key, value, [*headers, ("traceparent", TRACEPARENT.encode())])

    assert event.traceparent == TRACEPARENT


def test_a_structured_mode_cloudevent_is_read_too() -> None:
    body = {
        "specversion": "1.0",
        "id": "6f1c1a3e-8d5b-4c4e-9d55-2b1f0d6a7c01",
        "source": "/elsewhere",
        "type": "x.Happened.v1",
        "time": "2026-03-14T15:00:00Z",
        "data": {"a": 1},
    }
    headers = [("content-type", b"application/cloudevents+json")]

    event = decode(b"k", json.dumps(body).encode(), headers)

    assert (event.ce_type, event.key, event.data) == ("x.Happened.v1", "k", {"a": 1})


def test_a_structured_mode_cloudevent_without_an_id_is_malformed() -> None:
    body = {"specversion": "1.0", "source": "/s", "type": "t", "time": "2026-03-14T15:00:00Z"}
    headers = [("content-type", b"application/cloudevents+json")]

    with pytest.raises(MalformedMessage, match="missing id"):
        decode(None, json.dumps(body).encode(), headers)


def test_an_unrelated_header_that_is_not_utf8_does_not_spoil_the_event() -> None:
    key, value, headers = encode(outbox_message())

    event = decode(key, value, [*headers, ("x-binary", b"\xff\xfe")])

    assert event.key == "session-42"


def _replace(
    headers: list[tuple[str, bytes]], name: str, new: bytes | None
) -> list[tuple[str, bytes]]:
    kept = [(n, v) for n, v in headers if n != name]
    return kept if new is None else [*kept, (name, new)]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda k, v, h: (k, v, []), "not a CloudEvent"),
        (lambda k, v, h: (k, b"{not json", h), "not a JSON object"),
        (lambda k, v, h: (k, b"[1, 2]", h), "not a JSON object"),
        (lambda k, v, h: (k, None, h), "not a JSON object"),
        (lambda k, v, h: (k, v, _replace(h, "ce_id", None)), "missing id"),
        (lambda k, v, h: (k, v, _replace(h, "ce_id", b"42")), "not a UUID"),
        (lambda k, v, h: (k, v, _replace(h, "ce_id", b"\xff\xfe")), "invalid CloudEvent"),
        (lambda k, v, h: (k, v, _replace(h, "ce_time", None)), "missing time"),
        (lambda k, v, h: (k, v, _replace(h, "ce_time", b"yesterday")), "invalid CloudEvent"),
        (lambda k, v, h: (k, v, _replace(h, "ce_specversion", b"0.3")), "specversion"),
        (lambda k, v, h: (k, v, _replace(h, "ce_type", b"")), "invalid CloudEvent"),
    ],
    ids=[
        "no-ce-headers",
        "data-not-json",
        "data-not-object",
        "no-data",
        "no-id",
        "id-not-uuid",
        "id-not-utf8",
        "no-time",
        "bad-time",
        "old-specversion",
        "empty-type",
    ],
)
def test_a_message_that_is_not_a_valid_cloudevent_is_malformed(mutate: object, reason: str) -> None:
    key, value, headers = encode(outbox_message())

    with pytest.raises(MalformedMessage) as raised:
        decode(*mutate(key, value, headers))  # type: ignore[operator]

    assert reason in raised.value.reason


def _read_by_the_sdk(
    key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
) -> IncomingEvent:
    """What the CloudEvents SDK reads from the same message (the slow, general path)."""
    relevant = {n: v for n, v in headers if n.startswith("ce_") or n == "content-type"}
    w3c = {n: v for n, v in headers if n in ("traceparent", "tracestate")}
    return _incoming(from_kafka(KafkaMessage(headers=relevant, key=key, value=value), FORMAT), w3c)


@pytest.mark.parametrize(
    "message",
    [
        outbox_message(),
        outbox_message(metadata=EventMetadata(correlation_id="c"), subject=""),
        outbox_message(data={"nested": {"list": [1, 2.5, None, True]}, "text": "naïve ☕"}),
        outbox_message(occurred_at=dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.UTC)),
    ],
    ids=["full-metadata", "no-metadata", "nested-data", "whole-seconds"],
)
def test_a_well_formed_message_reads_as_the_cloudevents_sdk_reads_it(
    message: OutboxMessage,
) -> None:
    key, value, headers = encode(message)

    assert decode(key, value, headers) == _read_by_the_sdk(key, value, headers)


def test_a_w3c_traceparent_reads_the_same_on_the_fast_path() -> None:
    key, value, headers = encode(outbox_message(metadata=EventMetadata(correlation_id="c")))
    headers = [*headers, ("traceparent", TRACEPARENT.encode())]

    assert decode(key, value, headers) == _read_by_the_sdk(key, value, headers)


def test_a_time_written_with_an_offset_is_read_in_utc() -> None:
    key, value, headers = encode(outbox_message())
    headers = _replace(headers, "ce_time", b"2026-03-14T17:09:26.535+02:00")

    assert decode(key, value, headers).time == OCCURRED
