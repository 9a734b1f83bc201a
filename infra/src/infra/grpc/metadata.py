"""Who is calling and on whose behalf: the identity and correlation a servicer reads from the
call's metadata and records with the events it causes.

The caller is the Principal the server verified from the call's bearer token (see
`infra.security.guard`); no header names the actor. Correlation and site travel as metadata.
The actor is an id (`contracts.fields.Id`), as every event's metadata and every consumer's store
records it; a site is an id too, and a correlation id a short label. A value that is not is
refused as INVALID_ARGUMENT naming the token's subject or the header.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from contracts.fields import check_id, check_label
from infra.ddd import InvalidInput
from infra.security.principal import CURRENT_PRINCIPAL, Principal

ACTOR_FIELD = "actor"
"""What an invalid caller id is called in INVALID_ARGUMENT: the token's subject."""
CORRELATION_ID_KEY = "x-correlation-id"
SITE_ID_KEY = "x-site-id"

ANONYMOUS = "anonymous"
"""The actor of a call no verified token names (a server run without a guard)."""


@dataclass(frozen=True, slots=True)
class CallContext:
    actor: str
    correlation_id: str
    """Ties together everything one user action caused, across services; new when the caller
    sent none."""
    site_id: str | None
    principal: Principal | None = None
    """The verified caller; `actor` is its subject."""


class HasInvocationMetadata(Protocol):
    """The part of a grpc.aio.ServicerContext that `call_context` reads."""

    def invocation_metadata(self) -> Sequence[Any] | None: ...


def call_context(context: HasInvocationMetadata) -> CallContext:
    """The verified caller of the RPC being handled, and the correlation from its metadata."""
    values = _text_values(context.invocation_metadata() or ())
    principal = CURRENT_PRINCIPAL.get()
    site_id = values.get(SITE_ID_KEY)
    return CallContext(
        actor=_checked(
            check_id, ACTOR_FIELD, ANONYMOUS if principal is None else principal.subject
        ),
        correlation_id=_checked(
            _correlation, CORRELATION_ID_KEY, values.get(CORRELATION_ID_KEY) or str(uuid.uuid4())
        ),
        site_id=_checked(check_id, SITE_ID_KEY, site_id) if site_id else None,
        principal=principal,
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
    *, correlation_id: str | None = None, site_id: str | None = None
) -> tuple[tuple[str, str], ...]:
    """The metadata a client sends so that `call_context` on the server reads these values (the
    caller itself travels as the channel's bearer token)."""
    pairs: list[tuple[str, str]] = []
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
