"""The verified caller of one RPC, as its bearer token names them."""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[str]
    sites: frozenset[str]
    expires_at: dt.datetime | None
    lifetime: dt.timedelta | None = None
    """From the token's not-before to its expiry: how long the credential was issued for."""


CURRENT_PRINCIPAL: ContextVar[Principal | None] = ContextVar("principal", default=None)
"""The caller of the RPC being handled: set by the server around each call, once verified."""
