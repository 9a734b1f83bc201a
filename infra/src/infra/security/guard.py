"""What the gRPC server puts in front of every RPC of the services: the bearer token verified
(UNAUTHENTICATED when missing or invalid), the policy's rule applied (PERMISSION_DENIED naming
what is missing), then the servicer run with the Principal as the current caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc

from infra.security.policy import (
    POLICY,
    AccessDenied,
    Rule,
    authorize,
    needs_facts,
    rule_for,
)
from infra.security.principal import CURRENT_PRINCIPAL
from infra.security.relations import RecordFacts, Relations
from infra.security.tokens import InvalidToken, TokenVerifier

AUTHORIZATION_KEY = "authorization"
BEARER = "bearer "

Behavior = Callable[[Any, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Guard:
    verifier: TokenVerifier
    policy: Mapping[str, Rule] = field(default_factory=lambda: POLICY)
    relations: Relations | None = None
    """The service's answers about its records; without them, rules naming a record are
    judged by role and request fields only."""

    def around(self, method: str, behavior: Behavior) -> Behavior:
        """`behavior` admitted only to callers the policy lets call `method`; raises
        UnguardedRpc at once (the server does not start) when the policy has no rule for it."""
        rule = rule_for(method, self.policy)
        verify = self.verifier.verify
        relations = self.relations if rule.record is not None else None

        async def guarded(request: Any, context: Any) -> Any:
            try:
                token = bearer_token(context.invocation_metadata() or ())
                if token is None:
                    raise InvalidToken(
                        "a bearer token is required (metadata 'authorization: Bearer <token>')"
                    )
                principal = verify(token)
                facts: RecordFacts | None = None
                record_id = "" if rule.record is None else getattr(request, rule.record.field, "")
                if relations is not None and record_id and needs_facts(rule, principal):
                    assert rule.record is not None
                    facts = await relations.facts(rule.record.kind, record_id)
                authorize(method, rule, principal, request, facts)
            except InvalidToken as invalid:
                refusal: tuple[grpc.StatusCode, str] | None = (
                    grpc.StatusCode.UNAUTHENTICATED,
                    str(invalid),
                )
            except AccessDenied as denied:
                refusal = (grpc.StatusCode.PERMISSION_DENIED, str(denied))
            else:
                refusal = None
            if refusal is not None:
                # Aborted outside the except blocks, so the refusal carries no chained error.
                await context.abort(*refusal)
            reset = CURRENT_PRINCIPAL.set(principal)
            try:
                return await behavior(request, context)
            finally:
                CURRENT_PRINCIPAL.reset(reset)

        return guarded


def bearer_token(metadata: Any) -> str | None:
    """The token of the first `authorization: Bearer <token>` entry, if any."""
    for key, value in metadata:
        if key == AUTHORIZATION_KEY and isinstance(value, str):
            if value[: len(BEARER)].lower() == BEARER:
                return value[len(BEARER) :].strip() or None
            return None
    return None
