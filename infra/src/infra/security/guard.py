"""What the gRPC server puts in front of every RPC of the services: the bearer token verified
(UNAUTHENTICATED when missing or invalid), the policy's rule applied (PERMISSION_DENIED naming
what is missing), then the servicer run with the Principal as the current caller.

A record id the rule looks up is checked first (INVALID_ARGUMENT naming its field when it is no
id), and what the access log keeps of a request is what it can store: an id or a correlation
that is not well formed is kept as its digest, never as it came, and of the caller's roles those
the policy knows."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc

from contracts.fields import ID_MAX_LENGTH, check_id, check_label
from infra.ddd import InvalidInput
from infra.security.access_log import (
    ANSWERED,
    FAILED,
    REFUSED,
    AccessEntry,
    AccessRecorder,
    Subject,
)
from infra.security.policy import (
    POLICY,
    AccessDenied,
    Role,
    Rule,
    authorize,
    needs_facts,
    rule_for,
)
from infra.security.principal import CURRENT_PRINCIPAL, Principal
from infra.security.relations import RecordFacts, Relations
from infra.security.tokens import InvalidToken, TokenVerifier

KNOWN_ROLES = frozenset(Role)
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
    access_log: AccessRecorder | None = None
    """Where reads of subject-linked records are recorded; None records nothing (tests of
    the policy alone)."""

    def around(self, method: str, behavior: Behavior) -> Behavior:
        """`behavior` admitted only to callers the policy lets call `method`; raises
        UnguardedRpc at once (the server does not start) when the policy has no rule for it."""
        rule = rule_for(method, self.policy)
        verify = self.verifier.verify_call
        relations = self.relations if rule.record is not None else None
        audited = self.access_log if rule.subjects and not rule.write else None

        async def guarded(request: Any, context: Any) -> Any:
            principal: Principal | None = None
            facts: RecordFacts | None = None
            try:
                token = bearer_token(context.invocation_metadata() or ())
                if token is None:
                    raise InvalidToken(
                        "a bearer token is required (metadata 'authorization: Bearer <token>')"
                    )
                principal = await verify(token)
                record_id = "" if rule.record is None else getattr(request, rule.record.field, "")
                if relations is not None and record_id and needs_facts(rule, principal):
                    assert rule.record is not None
                    facts = await relations.facts(
                        rule.record.kind, _record_id(record_id, rule.record.field)
                    )
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
                if audited is not None and principal is not None:
                    await audited.record(
                        _entry(method, rule, principal, request, context, facts, REFUSED)
                    )
                # Aborted outside the except blocks, so the refusal carries no chained error.
                await context.abort(*refusal)
            assert principal is not None
            reset = CURRENT_PRINCIPAL.set(principal)
            try:
                reply = await behavior(request, context)
            except BaseException:
                if audited is not None:
                    await audited.record(
                        _entry(method, rule, principal, request, context, facts, FAILED)
                    )
                raise
            finally:
                CURRENT_PRINCIPAL.reset(reset)
            if audited is not None:
                # Committed before the reply leaves: a record shown is a record logged.
                await audited.record(
                    _entry(method, rule, principal, request, context, facts, ANSWERED)
                )
            return reply

        return guarded


def bearer_token(metadata: Any) -> str | None:
    """The token of the first `authorization: Bearer <token>` entry, if any."""
    for key, value in metadata:
        if key == AUTHORIZATION_KEY and isinstance(value, str):
            if value[: len(BEARER)].lower() == BEARER:
                return value[len(BEARER) :].strip() or None
            return None
    return None


def _entry(
    method: str,
    rule: Rule,
    principal: Principal,
    request: Any,
    context: Any,
    facts: RecordFacts | None,
    outcome: str,
) -> AccessEntry:
    subjects = tuple(
        Subject(kind, _recordable(value))
        for kind, name in rule.subjects.items()
        if (value := getattr(request, name, ""))
    )
    site = facts.site_id if facts is not None else None
    if site is None and rule.site_field is not None:
        site = _recordable(getattr(request, rule.site_field, "")) or None
    # Imported here: infra.grpc's server imports this module.
    from infra.grpc.metadata import CORRELATION_ID_KEY, CORRELATION_ID_MAX_LENGTH

    correlation = ""
    for key, value in context.invocation_metadata() or ():
        if key == CORRELATION_ID_KEY and isinstance(value, str):
            correlation = value
            break
    return AccessEntry(
        at=dt.datetime.now(dt.UTC),
        actor=principal.subject,
        # The roles the policy grants by; other systems' roles in the token grant nothing here,
        # and are whatever text the identity provider chose.
        roles=tuple(sorted(role for role in principal.roles if role in KNOWN_ROLES)),
        rpc=method,
        subjects=subjects,
        outcome=outcome,
        peer=str(context.peer() or ""),
        correlation_id=_recordable(correlation, CORRELATION_ID_MAX_LENGTH, check_label),
        site_id=site,
    )


def _record_id(value: str, field_name: str) -> str:
    """The id of the record a rule looks up, if it is one; InvalidInput naming the field if not
    (a lookup of anything else could only fail, and some stores refuse to try)."""
    try:
        return check_id(value)
    except ValueError as error:
        raise InvalidInput(field_name, str(error)) from None


def _recordable(
    value: str, longest: int = ID_MAX_LENGTH, check: Callable[[str], str] = check_id
) -> str:
    """What the access log keeps of a value a caller sent: the value, when well formed and at
    most `longest` characters; otherwise its digest, which names the attempt without holding
    what it carried (a NUL, 10 KB, text that is not an id)."""
    try:
        if len(value) <= longest:
            return check(value)
    except ValueError:
        pass
    return "malformed:sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
