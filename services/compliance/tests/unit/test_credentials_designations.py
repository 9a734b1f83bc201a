"""Supervisor designations: recorded on top of an active license of the holder in the same
state, with the training the rule pack's primary sources require (TX LPC-S 40 hours, OH LPCC-S
24 hours)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.domain.credentials import holder as credentials
from compliance.domain.credentials.commands import RecordSupervisorDesignation
from compliance.domain.credentials.designations import requirement
from compliance.domain.credentials.errors import (
    DateMustNotBeInTheFuture,
    DesignationMustExpireAfterItIsGranted,
    IssuingStateMustBeATwoLetterCode,
    SupervisorDesignationIdMustNotBeReused,
    SupervisorDesignationRequiresAnActiveLicense,
    SupervisorTrainingMustMeetTheBoardMinimum,
    SupervisorTrainingMustPrecedeTheDesignation,
    TrainingHoursMustBeWithinBounds,
)
from compliance.domain.credentials.events import (
    LicenseRecorded,
    LicenseSuspended,
    SupervisorDesignationRecorded,
)
from compliance.domain.credentials.holder import HolderState, decide
from infra.ddd import AlreadyRecorded, DomainEvent, InvalidInput, RuleViolated

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
TODAY = D("2026-11-02")
HOLDER = "sup-1"


def license_recorded(**overrides: Any) -> LicenseRecorded:
    fields: dict[str, Any] = {
        "holder_id": HOLDER,
        "license_id": "lic-1",
        "kind": "LPC",
        "number": "12345",
        "state": "TX",
        "issued_on": D("2019-01-31"),
        "expires_on": D("2027-01-31"),
    }
    return LicenseRecorded(**(fields | overrides))


def designate(**overrides: Any) -> RecordSupervisorDesignation:
    fields: dict[str, Any] = {
        "designation_id": "des-1",
        "holder_id": HOLDER,
        "designation": "LPC-S",
        "state": "TX",
        "granted_on": "2026-06-01",
        "expires_on": None,
        "training_hours": 40,
        "training_completed_on": "2026-04-15",
    }
    return RecordSupervisorDesignation(**(fields | overrides))


def given(*events: DomainEvent) -> HolderState:
    return credentials.fold(events or (license_recorded(),))


def test_a_designation_on_an_active_license_of_the_required_kind_is_recorded() -> None:
    events = decide(given(), designate(), TODAY)

    assert events == [
        SupervisorDesignationRecorded(
            holder_id=HOLDER,
            designation_id="des-1",
            designation="LPC-S",
            state="TX",
            granted_on=D("2026-06-01"),
            expires_on=None,
            training_hours=40,
            training_completed_on=D("2026-04-15"),
        )
    ]
    (designation,) = credentials.fold(events, given()).designations
    assert designation.designation == "LPC-S"


def test_a_retried_designation_records_nothing_and_a_reused_id_is_refused() -> None:
    state = credentials.fold(decide(given(), designate(), TODAY), given())
    assert decide(state, designate(), TODAY) == []
    with pytest.raises(SupervisorDesignationIdMustNotBeReused) as refused:
        decide(state, designate(training_hours=45), TODAY)
    assert isinstance(refused.value, AlreadyRecorded)


def test_the_tx_lpc_s_needs_the_40_hour_course() -> None:
    with pytest.raises(SupervisorTrainingMustMeetTheBoardMinimum) as refused:
        decide(given(), designate(training_hours=39), TODAY)
    assert isinstance(refused.value, InvalidInput)
    assert refused.value.field == "training_hours"
    assert "40 hours" in refused.value.reason and "TX3" in refused.value.reason


def test_the_oh_lpcc_s_needs_24_hours_of_training_on_an_lpcc() -> None:
    state = given(license_recorded(kind="LPCC", state="OH", number="E.1234"))
    with pytest.raises(SupervisorTrainingMustMeetTheBoardMinimum):
        decide(state, designate(designation="LPCC-S", state="OH", training_hours=20), TODAY)
    assert decide(state, designate(designation="LPCC-S", state="OH", training_hours=24), TODAY)


def test_a_designation_needs_the_license_it_sits_on() -> None:
    """A TX LPC Associate cannot be an LPC-S: the designation sits on a full LPC."""
    state = given(license_recorded(kind="LPC-ASSOCIATE"))
    with pytest.raises(SupervisorDesignationRequiresAnActiveLicense) as refused:
        decide(state, designate(), TODAY)
    assert isinstance(refused.value, RuleViolated)
    assert "no active LPC license in TX" in refused.value.message
    assert "lic-1 LPC-ASSOCIATE active" in refused.value.message


def test_a_designation_needs_a_license_in_its_own_state() -> None:
    with pytest.raises(SupervisorDesignationRequiresAnActiveLicense) as refused:
        decide(given(license_recorded(state="OK")), designate(), TODAY)
    assert refused.value.message.endswith("none is recorded")


def test_a_suspended_license_cannot_carry_a_new_designation_and_the_error_names_it() -> None:
    state = given(
        license_recorded(),
        LicenseSuspended(
            holder_id=HOLDER, license_id="lic-1", effective_on=D("2026-09-01"), reason="order"
        ),
    )
    with pytest.raises(SupervisorDesignationRequiresAnActiveLicense) as refused:
        decide(state, designate(), TODAY)
    assert "lic-1 LPC suspended since 2026-09-01" in refused.value.message


def test_the_license_must_be_issued_by_the_day_the_designation_was_granted() -> None:
    state = given(license_recorded(issued_on=D("2026-07-01")))
    with pytest.raises(SupervisorDesignationRequiresAnActiveLicense):
        decide(state, designate(), TODAY)


def test_an_unknown_designation_needs_an_active_license_of_any_kind_in_its_state() -> None:
    assert requirement("FL", "QUALIFIED-SUPERVISOR").base_license_kinds == ()
    state = given(license_recorded(kind="LMHC", state="FL", number="MH1"))
    command = designate(designation="QUALIFIED-SUPERVISOR", state="FL", training_hours=12)
    assert decide(state, command, TODAY)
    with pytest.raises(SupervisorDesignationRequiresAnActiveLicense):
        decide(credentials.INITIAL, command, TODAY)


def test_a_designation_cannot_be_granted_in_the_future() -> None:
    command = designate(granted_on="2026-11-03", training_completed_on="2026-11-01")
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(given(), command, TODAY)
    assert refused.value.field == "granted_on"


@pytest.mark.parametrize(
    ("field", "overrides", "error"),
    [
        (
            "training_completed_on",
            {"training_completed_on": "2026-06-02"},
            SupervisorTrainingMustPrecedeTheDesignation,
        ),
        ("expires_on", {"expires_on": "2026-06-01"}, DesignationMustExpireAfterItIsGranted),
        ("training_hours", {"training_hours": -1}, TrainingHoursMustBeWithinBounds),
        ("training_hours", {"training_hours": 1001}, TrainingHoursMustBeWithinBounds),
        ("state", {"state": "ZZ"}, IssuingStateMustBeATwoLetterCode),
        ("designation", {"designation": "LPC S"}, InvalidInput),
        ("designation_id", {"designation_id": ""}, InvalidInput),
    ],
)
def test_a_malformed_designation_is_refused_naming_the_field(
    field: str, overrides: dict[str, Any], error: type[InvalidInput]
) -> None:
    with pytest.raises(error) as refused:
        designate(**overrides)
    assert refused.value.field == field
