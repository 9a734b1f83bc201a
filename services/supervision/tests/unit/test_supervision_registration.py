"""Registering and transferring supervisees: given events, when a command, then events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contracts.rulepacks.loader import load_rule_packs
from infra.ddd import RuleViolated
from services.supervision.tests.conftest import Service
from supervision.domain import (
    EVENT_TYPES,
    RegisterSupervisee,
    SuperviseeRegistered,
    SuperviseeTransferred,
    Tracks,
    TransferSupervisee,
    supervisee,
)
from supervision.domain.errors import (
    CredentialTrackMustBeKnown,
    DateMustNotBeInTheFuture,
    SuperviseeIdMustNotBeReused,
    SuperviseeMustBeRegistered,
    TransferMustChangeTheSite,
    TransferMustNotPrecedeTheLastChange,
)

pytestmark = pytest.mark.unit

# The credential tracks as the service runs them: read from the packaged rule packs.
TRACKS = Tracks(load_rule_packs())

D = dt.date.fromisoformat
TODAY = D("2026-03-10")


def register(**overrides: Any) -> RegisterSupervisee:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "credential_track": "TX-LPC-ASSOCIATE",
        "license_number": "LPC-A-81234",
        "home_site_id": "site-a",
        "registered_on": "2026-01-02",
    }
    return RegisterSupervisee(**(fields | overrides))


def registered(**overrides: Any) -> SuperviseeRegistered:
    return SuperviseeRegistered(**register(**overrides).model_dump())


def transfer(**overrides: Any) -> TransferSupervisee:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "to_site_id": "site-b",
        "effective_on": "2026-03-01",
    }
    return TransferSupervisee(**(fields | overrides))


def transferred(**overrides: Any) -> SuperviseeTransferred:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "from_site_id": "site-a",
        "to_site_id": "site-b",
        "effective_on": D("2026-03-01"),
    }
    return SuperviseeTransferred(**(fields | overrides))


def test_registering_a_supervisee_records_their_track_license_and_home_site() -> None:
    events = supervisee.decide(supervisee.INITIAL, register(), TODAY, TRACKS)

    assert events == [
        SuperviseeRegistered(
            supervisee_id="see-1",
            credential_track="TX-LPC-ASSOCIATE",
            license_number="LPC-A-81234",
            home_site_id="site-a",
            registered_on=D("2026-01-02"),
        )
    ]
    state = supervisee.fold(events)
    assert state.supervisee_id == "see-1"
    assert state.registration is not None
    assert state.registration.credential_track == "TX-LPC-ASSOCIATE"
    assert state.home is not None
    assert (state.home.site_id, state.home.since) == ("site-a", D("2026-01-02"))


async def test_registering_the_same_supervisee_again_records_nothing(service: Service) -> None:
    await service.run(register())

    again = await service.run(register())

    assert again.already_recorded
    assert await service.types("supervisee-see-1") == ["SuperviseeRegistered"]


@pytest.mark.parametrize(
    "change",
    [
        {"credential_track": "CA-AMFT"},
        {"license_number": "LPC-A-99999"},
        {"home_site_id": "site-b"},
        {"registered_on": "2026-01-03"},
    ],
)
def test_registering_a_supervisee_id_again_with_other_details_is_refused(
    change: dict[str, str],
) -> None:
    with pytest.raises(SuperviseeIdMustNotBeReused) as refused:
        supervisee.decide(supervisee.fold([registered()]), register(**change), TODAY, TRACKS)
    assert refused.value.supervisee_id == "see-1"


def test_a_registration_names_a_track_with_a_rule_pack() -> None:
    with pytest.raises(CredentialTrackMustBeKnown) as refused:
        supervisee.decide(supervisee.INITIAL, register(credential_track="TX-LPC"), TODAY, TRACKS)
    assert refused.value.field == "credential_track"
    assert "TX-LPC-ASSOCIATE" in refused.value.reason


def test_a_registration_dated_after_today_is_refused() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        supervisee.decide(supervisee.INITIAL, register(registered_on="2026-03-11"), TODAY, TRACKS)
    assert refused.value.field == "registered_on"


def test_transferring_a_supervisee_records_from_where_to_where() -> None:
    events = supervisee.decide(supervisee.fold([registered()]), transfer(), TODAY, TRACKS)

    assert events == [transferred()]
    state = supervisee.fold(events, supervisee.fold([registered()]))
    assert state.home is not None
    assert (state.home.site_id, state.home.since) == ("site-b", D("2026-03-01"))
    # The registration keeps the first home site.
    assert state.registration is not None
    assert state.registration.home_site_id == "site-a"


async def test_the_same_transfer_retried_records_nothing(service: Service) -> None:
    await service.run(register())
    await service.run(transfer())

    again = await service.run(transfer(), now=service.now + dt.timedelta(days=2))

    assert again.already_recorded
    assert await service.types("supervisee-see-1") == [
        "SuperviseeRegistered",
        "SuperviseeTransferred",
    ]


def test_a_transfer_back_is_a_new_transfer() -> None:
    state = supervisee.fold([registered(), transferred()])

    events = supervisee.decide(
        state, transfer(to_site_id="site-a", effective_on="2026-03-09"), TODAY, TRACKS
    )

    assert events == [
        transferred(from_site_id="site-b", to_site_id="site-a", effective_on=D("2026-03-09"))
    ]


def test_transferring_to_the_home_site_is_refused() -> None:
    with pytest.raises(TransferMustChangeTheSite) as refused:
        supervisee.decide(
            supervisee.fold([registered()]), transfer(to_site_id="site-a"), TODAY, TRACKS
        )
    assert refused.value.site_id == "site-a"
    assert isinstance(refused.value, RuleViolated)


def test_a_transfer_effective_before_the_last_change_is_refused() -> None:
    state = supervisee.fold([registered(), transferred()])

    with pytest.raises(TransferMustNotPrecedeTheLastChange) as refused:
        supervisee.decide(
            state, transfer(to_site_id="site-c", effective_on="2026-02-28"), TODAY, TRACKS
        )
    assert refused.value.since == D("2026-03-01")


def test_a_transfer_effective_after_today_is_refused() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        supervisee.decide(
            supervisee.fold([registered()]), transfer(effective_on="2026-03-11"), TODAY, TRACKS
        )
    assert refused.value.field == "effective_on"


def test_an_unregistered_supervisee_cannot_be_transferred() -> None:
    with pytest.raises(SuperviseeMustBeRegistered) as refused:
        supervisee.decide(supervisee.INITIAL, transfer(), TODAY, TRACKS)
    assert refused.value.supervisee_id == "see-1"


def test_registration_events_survive_a_round_trip_through_storage() -> None:
    for event in (registered(), transferred()):
        assert EVENT_TYPES.load(event.type, event.to_data()) == event
