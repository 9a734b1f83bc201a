"""How a servicer reads who is calling from the call metadata."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

import pytest

from infra.grpc.metadata import ANONYMOUS, CallContext, call_context, outgoing_metadata

pytestmark = pytest.mark.unit


class _Metadatum(NamedTuple):
    key: str
    value: str | bytes


class _Context:
    def __init__(self, metadata: Sequence[Any] | None) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> Sequence[Any] | None:
        return self._metadata


def test_reads_actor_correlation_and_site_from_metadata() -> None:
    context = _Context(
        [
            _Metadatum("user-agent", "grpc-python"),
            _Metadatum("x-actor", "sup-1"),
            _Metadatum("x-correlation-id", "corr-7"),
            _Metadatum("x-site-id", "site-austin"),
        ]
    )

    assert call_context(context) == CallContext("sup-1", "corr-7", "site-austin")


def test_a_call_without_correlation_id_gets_a_new_uuid_each_time() -> None:
    context = _Context([("x-actor", "sup-1")])

    first, second = call_context(context), call_context(context)

    assert uuid.UUID(first.correlation_id).version == 4
    assert first.correlation_id != second.correlation_id


def test_a_call_that_names_nobody_is_anonymous_and_siteless() -> None:
    caller = call_context(_Context(None))

    assert caller.actor == ANONYMOUS
    assert caller.site_id is None


def test_blank_values_count_as_absent() -> None:
    caller = call_context(
        _Context([("x-actor", "  "), ("x-site-id", ""), ("x-correlation-id", "")])
    )

    assert caller.actor == ANONYMOUS
    assert caller.site_id is None
    assert caller.correlation_id


def test_binary_metadata_is_ignored() -> None:
    caller = call_context(_Context([_Metadatum("x-actor", b"sup-1")]))

    assert caller.actor == ANONYMOUS


def test_outgoing_metadata_round_trips_through_call_context() -> None:
    sent = outgoing_metadata(actor="coach-3", correlation_id="corr-9", site_id="site-waco")

    assert call_context(_Context(sent)) == CallContext("coach-3", "corr-9", "site-waco")


def test_outgoing_metadata_leaves_out_what_is_not_given() -> None:
    assert outgoing_metadata(actor="coach-3") == (("x-actor", "coach-3"),)
