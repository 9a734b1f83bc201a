"""How a servicer reads who is calling from the call metadata."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import pytest

from infra.grpc.metadata import ANONYMOUS, CallContext, call_context, outgoing_metadata
from infra.security.principal import CURRENT_PRINCIPAL, Principal

pytestmark = pytest.mark.unit


class _Metadatum(NamedTuple):
    key: str
    value: str | bytes


class _Context:
    def __init__(self, metadata: Sequence[Any] | None) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> Sequence[Any] | None:
        return self._metadata


SUPERVISOR = Principal("sup-1", frozenset({"supervisor"}), frozenset({"site-austin"}), None)


@pytest.fixture
def verified_supervisor() -> Iterator[Principal]:
    """The call being handled is one the server verified as SUPERVISOR."""
    reset = CURRENT_PRINCIPAL.set(SUPERVISOR)
    yield SUPERVISOR
    CURRENT_PRINCIPAL.reset(reset)


def test_the_actor_is_the_verified_callers_subject(verified_supervisor: Principal) -> None:
    context = _Context(
        [
            _Metadatum("user-agent", "grpc-python"),
            _Metadatum("x-correlation-id", "corr-7"),
            _Metadatum("x-site-id", "site-austin"),
        ]
    )

    assert call_context(context) == CallContext(
        "sup-1", "corr-7", "site-austin", verified_supervisor
    )


def test_an_actor_header_is_not_believed(verified_supervisor: Principal) -> None:
    caller = call_context(_Context([_Metadatum("x-actor", "sup-forged")]))

    assert caller.actor == "sup-1"


def test_without_a_verified_caller_an_actor_header_still_names_nobody() -> None:
    caller = call_context(_Context([_Metadatum("x-actor", "sup-forged")]))

    assert caller.actor == ANONYMOUS
    assert caller.principal is None


def test_a_call_without_correlation_id_gets_a_new_uuid_each_time() -> None:
    context = _Context([])

    first, second = call_context(context), call_context(context)

    assert uuid.UUID(first.correlation_id).version == 4
    assert first.correlation_id != second.correlation_id


def test_a_call_that_names_nobody_is_anonymous_and_siteless() -> None:
    caller = call_context(_Context(None))

    assert caller.actor == ANONYMOUS
    assert caller.site_id is None


def test_blank_values_count_as_absent() -> None:
    caller = call_context(_Context([("x-site-id", ""), ("x-correlation-id", "")]))

    assert caller.site_id is None
    assert caller.correlation_id


def test_binary_metadata_is_ignored() -> None:
    caller = call_context(_Context([_Metadatum("x-site-id", b"site-austin")]))

    assert caller.site_id is None


def test_outgoing_metadata_round_trips_through_call_context(
    verified_supervisor: Principal,
) -> None:
    sent = outgoing_metadata(correlation_id="corr-9", site_id="site-waco")

    assert call_context(_Context(sent)) == CallContext(
        "sup-1", "corr-9", "site-waco", verified_supervisor
    )


def test_outgoing_metadata_leaves_out_what_is_not_given() -> None:
    assert outgoing_metadata(correlation_id="corr-9") == (("x-correlation-id", "corr-9"),)
