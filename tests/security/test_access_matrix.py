"""The access policy, RPC by RPC: generated from the services' descriptors, every RPC x every
role x own site / other site / own record / someone else's record. An RPC added to a proto
without a rule fails here (and its server refuses to start)."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

import continuum
from infra.security.policy import (
    AUDITOR_MAX_TOKEN_LIFETIME,
    POLICY,
    ROLE_COLUMNS,
    AccessDenied,
    Role,
    UnguardedRpc,
    authorize,
    matrix_markdown,
    rule_for,
)
from infra.security.principal import Principal
from infra.security.relations import RecordFacts

pytestmark = pytest.mark.unit

CALLER = "caller-1"
OWN_SITE, OTHER_SITE = "site-own", "site-other"
SOMEONE_ELSE = "someone-else"
README = Path(__file__).resolve().parents[2] / "README.md"


def _methods() -> Iterator[MethodDescriptor]:
    for module in pkgutil.walk_packages(continuum.__path__, "continuum."):
        if module.name.endswith("_pb2"):
            descriptor = importlib.import_module(module.name).DESCRIPTOR
            for service in descriptor.services_by_name.values():
                yield from service.methods


METHODS = sorted(_methods(), key=lambda m: m.full_name)
SCENARIOS = ("own site, own record", "other site", "someone else's record")


def path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def caller(role: Role, lifetime: dt.timedelta = dt.timedelta(hours=1)) -> Principal:
    now = dt.datetime.now(dt.UTC)
    return Principal(CALLER, frozenset({role}), frozenset({OWN_SITE}), now + lifetime, lifetime)


def request(method: MethodDescriptor, scenario: str) -> Any:
    """The method's request, its site field and its own-record fields filled per scenario."""
    rule = rule_for(path(method))
    message = message_factory.GetMessageClass(method.input_type)()
    if rule.site_field is not None:
        setattr(message, rule.site_field, OTHER_SITE if scenario == "other site" else OWN_SITE)
    if rule.record is not None:
        setattr(message, rule.record.field, "record-1")
    for own_field in set(rule.own.values()):
        setattr(message, own_field, SOMEONE_ELSE if scenario.startswith("someone") else CALLER)
    return message


def facts(method: MethodDescriptor, scenario: str) -> RecordFacts | None:
    """What the service would answer about the record the request names, per scenario."""
    if rule_for(path(method)).record is None:
        return None
    site = OTHER_SITE if scenario == "other site" else OWN_SITE
    parties = {SOMEONE_ELSE} if scenario.startswith("someone") else {CALLER, SOMEONE_ELSE}
    return RecordFacts(site, frozenset(parties))


def decision(method: MethodDescriptor, role: Role, scenario: str) -> str | None:
    """None when admitted, else the refusal."""
    rule = rule_for(path(method))
    try:
        authorize(
            path(method), rule, caller(role), request(method, scenario), facts(method, scenario)
        )
    except AccessDenied as denied:
        return str(denied)
    return None


def test_every_rpc_of_every_service_has_a_rule_and_every_rule_an_rpc() -> None:
    served = {path(method) for method in METHODS}

    assert len(served) >= 55
    assert sorted(served - POLICY.keys()) == []
    assert sorted(POLICY.keys() - served) == []


def test_an_rpc_the_policy_does_not_know_is_refused() -> None:
    with pytest.raises(UnguardedRpc, match="NewRpc"):
        rule_for("/continuum.supervision.v1.SupervisionService/NewRpc")


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("role", ROLE_COLUMNS, ids=str)
@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_each_rpc_admits_exactly_whom_its_rule_names(
    method: MethodDescriptor, role: Role, scenario: str
) -> None:
    rule = rule_for(path(method))

    refusal = decision(method, role, scenario)

    if role not in rule.roles:
        assert refusal is not None and "needs one of the roles" in refusal
        assert all(str(admitted) in refusal for admitted in rule.roles)
    elif role is Role.ADMINISTRATOR:
        assert refusal is None
    elif scenario == "other site" and rule.site_field is not None:
        assert refusal is not None
        assert f"'{OTHER_SITE}' ({rule.site_field}) is not among the caller's sites" in refusal
    elif scenario == "other site" and rule.record is not None:
        assert refusal is not None
        assert f"the site '{OTHER_SITE}' of {rule.record.kind} '" in refusal
    elif scenario.startswith("someone") and (role in rule.own or role in rule.related):
        assert refusal is not None
        reasons = [f"{rule.own[role]} must be the caller's own id"] if role in rule.own else []
        reasons += ["the caller is not a party to"] if role in rule.related else []
        assert any(reason in refusal for reason in reasons)
    else:
        assert refusal is None


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_an_auditor_only_reads(method: MethodDescriptor) -> None:
    rule = rule_for(path(method))

    refusal = decision(method, Role.AUDITOR, SCENARIOS[0])

    assert (refusal is None) == (not rule.write)
    if rule.write:
        assert Role.AUDITOR not in rule.roles


def test_an_auditors_access_is_time_limited() -> None:
    method = "/continuum.compliance.v1.ComplianceService/GetOrganizationOverview"
    long_lived = caller(Role.AUDITOR, AUDITOR_MAX_TOKEN_LIFETIME + dt.timedelta(minutes=1))

    with pytest.raises(AccessDenied, match="at most 8 hours"):
        authorize(method, rule_for(method), long_lived, None)


def test_the_readme_shows_the_policy_as_it_is() -> None:
    assert matrix_markdown() in README.read_text()
