"""Who is calling and on whose behalf: the identity and correlation a servicer reads from the
call's metadata and records with the events it causes.

The actor is taken on trust from `x-actor` until signed tokens arrive; `call_context` is the one
seam where token verification will replace that. Whatever names the actor, it is an id
(`contracts.fields.Id`), as every event's metadata and every consumer's store records it; a
site is an id too, and a correlation id a short label. A value that is not is refused as
INVALID_ARGUMENT naming the header.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from contracts.fields import check_id, check_label
from infra.ddd import InvalidInput

ACTOR_KEY = "x-actor"
CORRELATION_ID_KEY = "x-correlation-id"
SITE_ID_KEY = "x-site-id"

ANONYMOUS = "anonymous"
"""The actor of a call that names none."""


@dataclass(frozen=True, slots=True)
class CallContext:
    actor: str
    correlation_id: str
    """Ties together everything one user action caused, across services; new when the caller
    sent none."""
    site_id: str | None


class HasInvocationMetadata(Protocol):
    """The part of a grpc.aio.ServicerContext that `call_context` reads."""

    def invocation_metadata(self) -> Sequence[Any] | None: ...


def call_context(context: HasInvocationMetadata) -> CallContext:
    """Reads the caller's identity and correlation from the call's metadata."""
    values = _text_values(context.invocation_metadata() or ())
    site_id = values.get(SITE_ID_KEY)
    return CallContext(
        actor=_checked(check_id, ACTOR_KEY, values.get(ACTOR_KEY) or ANONYMOUS),
        correlation_id=_checked(
            _correlation, CORRELATION_ID_KEY, values.get(CORRELATION_ID_KEY) or str(uuid.uuid4())
        ),
        site_id=_checked(check_id, SITE_ID_KEY, site_id) if site_id else None,
    )


CORRELATION_ID_MAX_LENGTH = 64


def _correlation(value: str) -> str:
    if len(value) > CORRELATION_ID_MAX_LENGTH:
        raise ValueError(f"must be at most {CORRELATION_ID_MAX_LENGTH} characters")
    return check_label(value)


def _checked(check: Callable[[str], str], key: str, value: str) -> str:
    try:
        return check(value)
    except ValueError as error:
        raise InvalidInput(key, str(error)) from None


def outgoing_metadata(
    *, actor: str, correlation_id: str | None = None, site_id: str | None = None
) -> tuple[tuple[str, str], ...]:
    """The metadata a client sends so that `call_context` on the server reads these values."""
    pairs = [(ACTOR_KEY, actor)]
    if correlation_id is not None:
        pairs.append((CORRELATION_ID_KEY, correlation_id))
    if site_id is not None:
        pairs.append((SITE_ID_KEY, site_id))
    return tuple(pairs)


def _text_values(metadata: Iterable[Any]) -> dict[str, str]:
    # Items are grpc's _Metadatum named tuples (key, value) or plain pairs; keys arrive
    # lower-cased. Binary (`-bin`) values are bytes and never carry these keys.
    values: dict[str, str] = {}
    for key, value in metadata:
        if isinstance(value, str) and key not in values:
            values[key] = value.strip()
    return values
