"""Every RPC of every service, sent generated requests over a socket, on each storage backend:
the values a kind admits and the hostile ones (NUL and control characters, 10 KB strings, the
first and last days of the calendar, +14:00 offsets, the 32-bit extremes, unknown enum numbers).

Whatever the request, the answer is never INTERNAL or UNKNOWN (nor a reply too large to
receive); an INVALID_ARGUMENT names a field of the request; and a refused request records
nothing (the event store, the outbox and the command records hold as many rows as before).
The caller is an administrator, so that the access policy hides no answer."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import continuum
from contracts.fields import INT32_MAX, INT32_MIN
from tests.composed import SERVICES
from tests.contracts.kinds import KINDS
from tests.security.served import Served

pytestmark = pytest.mark.integration

# What a refused request must not have written.
RECORDS = frozenset({"events", "outbox", "commands"})
# RESOURCE_EXHAUSTED: a reply too large for the client (an error quoting what it was sent).
NEVER = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.RESOURCE_EXHAUSTED)
# What a staff app might type into any text field, and what an attacker would.
HOSTILE = (
    "x\u0000z",
    "\u0000",
    "line\u0007bell",
    "tab\tand\nnewline",
    "\u001b[31mred",
    "é" * 10_000,
    "x" * 10_240,
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-01-01T00:00:00",
    "9999-12",
    "'; DROP TABLE events; --",
    "😀👩‍⚕️漢字e\u0301",
    " ",
    "",
)
INTEGERS = st.one_of(
    st.sampled_from((INT32_MIN, -1, 0, 1, 90, 3660, 3661, INT32_MAX)),
    st.integers(INT32_MIN, INT32_MAX),
)


def _as_text(kind: str) -> st.SearchStrategy[str]:
    return KINDS[kind].map(lambda v: v if isinstance(v, str) else v.isoformat())


# A value of every kind, as text (a day, a moment and a month travel as ISO text).
ANY_KIND = st.one_of(*(_as_text(kind) for kind in KINDS if kind != "Int32"))
# The kind a field's name says it holds, so that most requests pass their other fields and reach
# the checks (and the stores) behind them: a day, a moment, a month, an id, else a label or text.
NAMED = (
    (lambda name: name.endswith("_at"), "Instant"),
    (lambda name: name.endswith("_on") or name in ("as_of", "date", "week_start"), "Date"),
    (lambda name: name.startswith("period_"), "Date"),
    (lambda name: "month" in name, "Month"),
    (lambda name: name.endswith("_id") or name.endswith("_ids"), "Id"),
)


def _texts(name: str) -> st.SearchStrategy[str]:
    """What a text field is sent: mostly a value of the kind its name says, else any kind's,
    else a hostile one."""
    kind = next((kind for says, kind in NAMED if says(name)), None)
    likely = _as_text(kind) if kind is not None else st.one_of(_as_text("Label"), _as_text("Text"))
    return st.one_of(likely, likely, ANY_KIND, st.sampled_from(HOSTILE))


def _served_by() -> dict[str, list[MethodDescriptor]]:
    """Each service's RPCs, from the descriptors of the gRPC services it composes."""
    by_name: dict[str, MethodDescriptor] = {}
    for module in pkgutil.walk_packages(continuum.__path__, "continuum."):
        if module.name.endswith("_pb2"):
            descriptor = importlib.import_module(module.name).DESCRIPTOR
            for service in descriptor.services_by_name.values():
                for method in service.methods:
                    by_name[method.full_name] = method
    methods: dict[str, list[MethodDescriptor]] = {}
    for full_name, method in sorted(by_name.items()):
        package = full_name.split(".")[1]
        owner = package if package in SERVICES else None
        # The access log's service is served by every service: each one's own log.
        for name in SERVICES if owner is None else (owner,):
            methods.setdefault(name, []).append(method)
    return methods


METHODS = _served_by()
CASES = [(service, method) for service in SERVICES for method in METHODS[service]]
CASE_IDS = [f"{s}-{m.containing_service.name}.{m.name}" for s, m in CASES]


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Requests of the message type: each field left unset or given a generated value."""
    cls = message_factory.GetMessageClass(descriptor)
    fields = {
        field.name: st.one_of(st.none(), _values(field, depth), _values(field, depth))
        for field in descriptor.fields
    }

    def build(values: dict[str, Any]) -> Message:
        message = cls()
        for name, value in values.items():
            if value is None:
                continue
            field = descriptor.fields_by_name[name]
            if field.is_repeated:
                getattr(message, name).extend(value)
            elif field.message_type is not None:
                getattr(message, name).CopyFrom(value)
            else:
                setattr(message, name, value)
        return message

    return st.fixed_dictionaries(fields).map(build)


def _values(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    one: st.SearchStrategy[Any]
    if field.type == FieldDescriptor.TYPE_STRING:
        one = _texts(field.name)
    elif field.type == FieldDescriptor.TYPE_INT32:
        one = INTEGERS
    elif field.type == FieldDescriptor.TYPE_BOOL:
        one = st.booleans()
    elif field.type == FieldDescriptor.TYPE_ENUM:
        known = [value.number for value in field.enum_type.values]
        one = st.one_of(st.sampled_from(known), st.sampled_from((max(known) + 1, -1)))
    elif field.type == FieldDescriptor.TYPE_MESSAGE and depth < 2:
        one = messages(field.message_type, depth + 1)
    else:
        raise TypeError(f"{field.full_name}: no values for its type {field.type}")
    return st.lists(one, max_size=3) if field.is_repeated else one


def _path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


@settings(
    max_examples=5,
    deadline=None,
    # One server and database for all the examples: a failure is read from the example itself.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@pytest.mark.parametrize(
    ("service", "method"),
    CASES,
    ids=[f"{s}-{m.containing_service.name}.{m.name}" for s, m in CASES],
)
async def test_an_rpc_answers_any_request_without_an_internal_error_or_a_partial_record(
    service: str, method: MethodDescriptor, served: Served, data: st.DataObject
) -> None:
    # given a generated request and the records as they stand
    request = data.draw(messages(method.input_type), label="request")
    before = await served.service.rows()
    call = served.channel.unary_unary(
        _path(method),
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=message_factory.GetMessageClass(method.output_type).FromString,
    )

    # when it is sent
    try:
        await call(request, timeout=30)
    except grpc.aio.AioRpcError as error:
        code, details = error.code(), error.details() or ""
    else:
        return

    # then the answer is one the caller can act on, and nothing was recorded
    assert code not in NEVER, f"{code.name} for {request!r}"
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        named = re.split(r"[.\[]", details.split(":", 1)[0])[0]
        assert named in method.input_type.fields_by_name, f"{details!r} names no field"
    after = await served.service.rows()
    assert {t: after[t] for t in RECORDS} == {t: before[t] for t in RECORDS}, details


def test_every_rpc_of_every_service_is_sent_requests() -> None:
    assert len({_path(method) for _, method in CASES}) >= 55
    assert {service for service, _ in CASES} == set(SERVICES)
