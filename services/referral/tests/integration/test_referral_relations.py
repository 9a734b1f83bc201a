"""The Relations port of referral, over the command runner's stores (in memory, and SQL on each
storage backend): a referral's site and its parties, as the access policy asks for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from conftest import STORAGE_BACKENDS, database_factory
from infra.application import CommandContext
from infra.commands import CommandRunner, InMemoryUnitStore, SqlUnitStore
from infra.eventstore import EventMetadata
from infra.security.crypto import memory_keyring
from referral.adapters.publishing import translate
from referral.adapters.records import MIGRATIONS, SqlReferralIndex
from referral.application.handlers import Referrals
from referral.application.relations import ReferralRelations
from referral.domain import AcceptReferral, RaiseReferral

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 5, 19, 9, 0, tzinfo=dt.UTC)


def ctx(actor: str) -> CommandContext:
    return CommandContext(now=T0, metadata=EventMetadata(correlation_id="c", actor=actor))


class Service:
    def __init__(self, runner: CommandRunner, referrals: Referrals) -> None:
        self.runner, self.referrals = runner, referrals


@pytest.fixture(params=["memory", *STORAGE_BACKENDS])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    async with database_factory(
        "sqlite" if request.param == "memory" else request.param, request, tmp_path
    ) as make:
        db = await make(MIGRATIONS)
        store = (
            InMemoryUnitStore(translate, now=lambda: T0)
            if request.param == "memory"
            else SqlUnitStore(db, translate)
        )
        yield Service(CommandRunner(store, memory_keyring()), Referrals(SqlReferralIndex(db)))


async def raised(service: Service, referral_id: str) -> None:
    raise_ = RaiseReferral(
        referral_id=referral_id,
        client_id="client-1",
        site_id="site-a",
        from_service="coaching",
        to_service="therapy",
        urgency="routine",
        reason="symptoms_resurfaced",
        source=f"coaching-concern/{referral_id}",
        raised_at=T0,
        raised_by="coach-1",
    )
    await service.runner.run(service.referrals.step, raise_, ctx("coach-1"))


async def test_a_referral_names_its_site_and_who_raised_and_accepted_it(
    service: Service,
) -> None:
    # given
    await raised(service, "ref-1")
    accept = AcceptReferral(referral_id="ref-1", accepted_by="therapist-1", actor="coord-1")
    await service.runner.run(service.referrals.step, accept, ctx("coord-1"))
    # when
    facts = await ReferralRelations(service.runner).facts("referral", "ref-1")
    # then
    assert facts is not None
    assert facts.site_id == "site-a"
    assert {"coach-1", "therapist-1"} <= facts.parties


async def test_an_unknown_referral_has_no_facts(service: Service) -> None:
    relations = ReferralRelations(service.runner)
    assert await relations.facts("referral", "ref-unknown") is None
    assert await relations.facts("session", "ref-unknown") is None
