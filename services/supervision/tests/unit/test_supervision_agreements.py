"""Signing agreements on a supervisee's stream: given events, when SignAgreement, then events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from supervision.domain import EVENT_TYPES, AgreementSigned, SignAgreement, supervisee
from supervision.domain.errors import (
    AgreementIdMustNotBeReused,
    ConcurrentSupervisorsMustStayWithinTrackLimit,
)

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


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


def signed(**overrides: Any) -> AgreementSigned:
    """The event a SignAgreement with the same overrides records."""
    command = sign(**overrides)
    return AgreementSigned(**command.model_dump())


def given(*events: AgreementSigned) -> supervisee.SuperviseeState:
    return supervisee.fold(events)


def test_signing_a_first_agreement_records_it() -> None:
    events = supervisee.decide(given(), sign())

    assert events == [
        AgreementSigned(
            agreement_id="agr-1",
            supervisor_id="sup-1",
            supervisee_id="see-1",
            site_id="site-a",
            credential_track="TX-LPC-ASSOCIATE",
            start_date=D("2026-01-01"),
            end_date=D("2026-12-31"),
        )
    ]


def test_a_signed_agreement_is_held_in_the_supervisee_state() -> None:
    state = given(signed())

    assert state.supervisee_id == "see-1"
    agreement = state.agreement("agr-1")
    assert agreement is not None
    assert agreement.supervisor_id == "sup-1"
    assert agreement.covers("sup-1", "site-a", D("2026-12-31"))
    assert not agreement.covers("sup-1", "site-a", D("2027-01-01"))
    assert not agreement.covers("sup-1", "site-b", D("2026-06-01"))


def test_signing_the_same_agreement_again_records_nothing() -> None:
    assert supervisee.decide(given(signed()), sign()) == []


def test_reusing_an_agreement_id_for_other_content_is_refused() -> None:
    with pytest.raises(AgreementIdMustNotBeReused) as refused:
        supervisee.decide(given(signed()), sign(end_date="2027-06-30"))
    assert refused.value.agreement_id == "agr-1"


def test_a_texas_lpc_associate_may_have_two_supervisors_at_once() -> None:
    state = given(signed())

    events = supervisee.decide(state, sign(agreement_id="agr-2", supervisor_id="sup-2"))

    assert [e.type for e in events] == ["AgreementSigned"]


def test_a_third_concurrent_supervisor_for_a_texas_lpc_associate_is_refused() -> None:
    state = given(
        signed(),
        signed(agreement_id="agr-2", supervisor_id="sup-2", start_date="2026-03-01"),
    )

    with pytest.raises(ConcurrentSupervisorsMustStayWithinTrackLimit) as refused:
        supervisee.decide(
            state,
            sign(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-02-01"),
        )
    assert refused.value.limit == 2
    assert refused.value.on == D("2026-03-01")
    assert refused.value.supervisors == ("sup-1", "sup-2", "sup-3")


def test_supervisors_who_follow_each_other_are_not_concurrent() -> None:
    state = given(
        signed(end_date="2026-03-31"),
        signed(agreement_id="agr-2", supervisor_id="sup-2", start_date="2026-04-01"),
    )

    events = supervisee.decide(
        state, sign(agreement_id="agr-3", supervisor_id="sup-3", end_date="2026-12-31")
    )

    assert len(events) == 1


def test_an_agreement_ending_the_day_another_starts_overlaps_it() -> None:
    state = given(
        signed(end_date="2026-06-30"),
        signed(agreement_id="agr-2", supervisor_id="sup-2"),
    )

    with pytest.raises(ConcurrentSupervisorsMustStayWithinTrackLimit):
        supervisee.decide(
            state,
            sign(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-06-30"),
        )


def test_an_agreement_starting_after_the_others_end_is_not_concurrent() -> None:
    state = given(
        signed(end_date="2026-06-30"),
        signed(agreement_id="agr-2", supervisor_id="sup-2", end_date="2026-06-30"),
    )

    events = supervisee.decide(
        state, sign(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-07-01")
    )

    assert len(events) == 1


def test_one_supervisor_at_two_sites_counts_as_one_supervisor() -> None:
    state = given(
        signed(),
        signed(agreement_id="agr-2", site_id="site-b"),
    )

    events = supervisee.decide(state, sign(agreement_id="agr-3", supervisor_id="sup-2"))

    assert len(events) == 1


def test_tracks_without_a_supervisor_limit_accept_a_third_concurrent_supervisor() -> None:
    track = {"credential_track": "NC-LCMHCA"}
    state = given(
        signed(**track),
        signed(agreement_id="agr-2", supervisor_id="sup-2", **track),
    )

    events = supervisee.decide(state, sign(agreement_id="agr-3", supervisor_id="sup-3", **track))

    assert len(events) == 1


def test_deciding_on_another_supervisees_state_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="see-2"):
        supervisee.decide(given(signed()), sign(agreement_id="agr-2", supervisee_id="see-2"))


def test_agreement_signed_survives_a_round_trip_through_storage() -> None:
    event = signed()

    assert EVENT_TYPES.load(event.type, event.to_data()) == event
