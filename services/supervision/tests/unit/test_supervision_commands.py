"""Commands refuse malformed fields, naming the field as the API request names it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.ddd import InvalidInput
from supervision.domain import LogSession, SignAgreement
from supervision.domain.errors import (
    AgreementMustEndAfterItStarts,
    CredentialTrackMustBeKnown,
    SessionLengthMustBeWithinBounds,
    SessionMustHaveASupervisee,
    SuperviseesMustBeListedOnce,
    SupervisorMustNotBeAmongSupervisees,
    SupervisorMustNotSuperviseThemself,
)

pytestmark = pytest.mark.unit


def sign(**overrides: Any) -> SignAgreement:
    fields: dict[str, Any] = {
        "agreement_id": "agr-1",
        "supervisor_id": "sup-1",
        "supervisee_id": "see-1",
        "site_id": "site-a",
        "credential_track": "TX-LPC-ASSOCIATE",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }
    return SignAgreement(**(fields | overrides))


def log(**overrides: Any) -> LogSession:
    fields: dict[str, Any] = {
        "session_id": "ses-1",
        "format": "individual",
        "modality": "in_person",
        "date": "2026-03-02",
        "minutes": 60,
        "supervisor_id": "sup-1",
        "supervisee_ids": ["see-1"],
        "site_id": "site-a",
    }
    return LogSession(**(fields | overrides))


def test_a_well_formed_agreement_parses_its_iso_dates() -> None:
    command = sign()
    assert command.start_date == dt.date(2026, 1, 1)
    assert command.end_date == dt.date(2026, 12, 31)


@pytest.mark.parametrize("bad_id", ["", "x" * 65, "has space", "slash/inside", "é"])
def test_an_id_outside_the_allowed_alphabet_or_length_is_refused(bad_id: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sign(agreement_id=bad_id)
    assert refused.value.field == "agreement_id"


def test_an_id_of_64_allowed_characters_is_accepted() -> None:
    assert sign(site_id="A-z.0_9:" * 8).site_id == "A-z.0_9:" * 8


def test_an_unknown_credential_track_is_refused() -> None:
    with pytest.raises(CredentialTrackMustBeKnown) as refused:
        sign(credential_track="TX-LPC")
    assert refused.value.field == "credential_track"


def test_a_supervisor_cannot_sign_an_agreement_to_supervise_themself() -> None:
    with pytest.raises(SupervisorMustNotSuperviseThemself) as refused:
        sign(supervisor_id="p-1", supervisee_id="p-1")
    assert refused.value.field == "supervisee_id"


@pytest.mark.parametrize("end_date", ["2026-01-01", "2025-12-31"])
def test_an_agreement_must_end_after_it_starts(end_date: str) -> None:
    with pytest.raises(AgreementMustEndAfterItStarts) as refused:
        sign(end_date=end_date)
    assert refused.value.field == "end_date"


@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_an_agreement_date_that_is_not_a_date_is_refused(field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sign(**{field: "31/12/2026"})
    assert refused.value.field == field


def test_an_unexpected_field_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput) as refused:
        sign(diagnosis="F41.1")
    assert refused.value.field == "diagnosis"


def test_a_well_formed_session_keeps_its_supervisees_in_order() -> None:
    command = log(format="group", supervisee_ids=["b", "a", "c"])
    assert command.supervisee_ids == ("b", "a", "c")


@pytest.mark.parametrize("minutes", [14, 481, 0, -30])
def test_a_session_length_outside_15_to_480_minutes_is_refused(minutes: int) -> None:
    with pytest.raises(SessionLengthMustBeWithinBounds) as refused:
        log(minutes=minutes)
    assert refused.value.field == "minutes"


@pytest.mark.parametrize("minutes", [15, 480])
def test_a_session_length_at_the_bounds_is_accepted(minutes: int) -> None:
    assert log(minutes=minutes).minutes == minutes


@pytest.mark.parametrize(("field", "value"), [("format", ""), ("format", "triadic")])
def test_a_session_format_other_than_individual_or_group_is_refused(field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        log(**{field: value})
    assert refused.value.field == "format"


def test_a_telephone_session_is_refused_as_a_modality() -> None:
    with pytest.raises(InvalidInput) as refused:
        log(modality="telephone")
    assert refused.value.field == "modality"


def test_a_session_date_that_is_not_a_date_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        log(date="")
    assert refused.value.field == "date"


def test_a_session_needs_at_least_one_supervisee() -> None:
    with pytest.raises(SessionMustHaveASupervisee) as refused:
        log(supervisee_ids=[])
    assert refused.value.field == "supervisee_ids"


def test_a_supervisee_listed_twice_is_refused_and_named() -> None:
    with pytest.raises(SuperviseesMustBeListedOnce) as refused:
        log(format="group", supervisee_ids=["a", "b", "a"])
    assert refused.value.field == "supervisee_ids"
    assert refused.value.duplicates == ("a",)


def test_the_supervisor_cannot_be_one_of_the_supervisees() -> None:
    with pytest.raises(SupervisorMustNotBeAmongSupervisees) as refused:
        log(supervisee_ids=["see-1", "sup-1"])
    assert refused.value.field == "supervisee_ids"


def test_a_malformed_supervisee_id_is_refused_under_supervisee_ids() -> None:
    with pytest.raises(InvalidInput) as refused:
        log(supervisee_ids=["see-1", "bad id"])
    assert refused.value.field == "supervisee_ids"


def test_commands_are_immutable() -> None:
    command = log()
    with pytest.raises(ValueError, match="frozen"):
        command.minutes = 90  # type: ignore[misc]
