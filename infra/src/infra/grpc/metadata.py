"""Who is calling and on whose behalf: the identity and correlation a servicer reads from the
call's metadata and records with the events it causes.

The actor is taken on trust from `x-actor` until signed tokens arrive; `call_context` is the one
seam where token verification will replace that.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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
    return CallContext(
        actor=values.get(ACTOR_KEY) or ANONYMOUS,
        correlation_id=values.get(CORRELATION_ID_KEY) or str(uuid.uuid4()),
        site_id=values.get(SITE_ID_KEY) or None,
    )


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
