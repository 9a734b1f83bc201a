"""Agreements on a supervisee's stream: sign, approve, amend, terminate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contracts.rulepacks.loader import load_rule_packs
from infra.ddd import DomainEvent, InvalidInput, RuleViolated
from services.supervision.tests.conftest import Service
from supervision.domain import (
    EVENT_TYPES,
    AgreementAmended,
    AgreementApproved,
    AgreementSigned,
    AgreementTerminated,
    AmendAgreement,
    ApproveAgreement,
    RegisterSupervisee,
    SignAgreement,
    SuperviseeRegistered,
    SupervisionReceived,
    SupervisionVoided,
    TerminateAgreement,
    Tracks,
    supervisee,
)
from supervision.domain.errors import (
    AgreementIdMustNotBeReused,
    AgreementMustBeApprovedOnce,
    AgreementMustBeInForceToChange,
    AgreementMustEndAfterItStarts,
    AgreementMustExist,
    AgreementMustStillCoverItsSessions,
    BoardApprovalMustBeRequiredByTheTrack,
    ConcurrentSupervisorsMustStayWithinTrackLimit,
    CredentialTrackMustBeKnown,
    CredentialTrackMustMatchRegistration,
    DateMustNotBeInTheFuture,
    SuperviseeMustBeRegistered,
    TerminationMustFallWithinTheAgreement,
)

pytestmark = pytest.mark.unit

# The credential tracks as the service runs them: read from the packaged rule packs.
TRACKS = Tracks(load_rule_packs())

D = dt.date.fromisoformat
TODAY = D("2026-03-10")


def registered(track: str = "TX-LPC-ASSOCIATE", supervisee_id: str = "see-1") -> DomainEvent:
    return SuperviseeRegistered(
        supervisee_id=supervisee_id,
        credential_track=track,
        license_number="LIC-1",
        home_site_id="site-a",
        registered_on=D("2026-01-01"),
    )


def sign(**overrides: Any) -> SignAgreement:
    fields: dict[str, Any] = {
        "agreement_id": "agr-1",
        "supervisor_id": "sup-1",
        "supervisee_id": "see-1",
        "site_id": "site-a",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "modalities": ["in_person", "video"],
        "sessions_per_period": 1,
        "period": "week",
    }
    return SignAgreement(**(fields | overrides))


def signed(track: str = "TX-LPC-ASSOCIATE", **overrides: Any) -> AgreementSigned:
    """The event a SignAgreement with the same overrides records for a supervisee on `track`."""
    command = sign(**overrides)
    return AgreementSigned(
        **command.model_dump(exclude={"credential_track"}),
        credential_track=track,
        board_approval_required=track == "FL-RMHCI",
    )


def given(*events: DomainEvent, track: str = "TX-LPC-ASSOCIATE") -> supervisee.SuperviseeState:
    return supervisee.fold([registered(track), *events])


def decide(state: supervisee.SuperviseeState, command: Any) -> list[DomainEvent]:
    return supervisee.decide(state, command, TODAY, TRACKS)


def received(session_id: str, day: str, agreement_id: str = "agr-1") -> SupervisionReceived:
    return SupervisionReceived(
        session_id=session_id,
        supervisee_id="see-1",
        agreement_id=agreement_id,
        date=D(day),
        minutes=60,
        format="individual",
        modality="in_person",
        supervisor_id="sup-1",
        site_id="site-a",
    )


# Signing.


def test_signing_a_first_agreement_records_it_on_the_registered_track() -> None:
    events = decide(given(), sign())

    assert events == [
        AgreementSigned(
            agreement_id="agr-1",
            supervisor_id="sup-1",
            supervisee_id="see-1",
            site_id="site-a",
            credential_track="TX-LPC-ASSOCIATE",
            start_date=D("2026-01-01"),
            end_date=D("2026-12-31"),
            modalities=("in_person", "video"),
            sessions_per_period=1,
            period="week",
            board_approval_required=False,
        )
    ]


def test_an_agreement_may_name_the_registered_track() -> None:
    assert decide(given(), sign(credential_track="TX-LPC-ASSOCIATE")) == [signed()]


@pytest.mark.parametrize("state", [given(), supervisee.INITIAL], ids=["registered", "not yet"])
def test_an_agreement_naming_a_track_without_a_rule_pack_is_refused(
    state: supervisee.SuperviseeState,
) -> None:
    # Known tracks are those of the rule packs: checked before anything else about the agreement.
    with pytest.raises(CredentialTrackMustBeKnown) as refused:
        supervisee.decide(state, sign(credential_track="TX-LPC"), TODAY, TRACKS)
    assert refused.value.field == "credential_track"


def test_an_agreement_naming_another_track_than_the_registered_one_is_refused() -> None:
    with pytest.raises(CredentialTrackMustMatchRegistration) as refused:
        decide(given(), sign(credential_track="CA-AMFT"))
    assert refused.value.field == "credential_track"
    assert refused.value.registered == "TX-LPC-ASSOCIATE"


def test_an_unregistered_supervisee_cannot_sign_an_agreement() -> None:
    with pytest.raises(SuperviseeMustBeRegistered) as refused:
        supervisee.decide(supervisee.INITIAL, sign(), TODAY, TRACKS)
    assert refused.value.supervisee_id == "see-1"
    assert isinstance(refused.value, RuleViolated)


def test_a_florida_intern_agreement_needs_board_approval() -> None:
    (event,) = decide(given(track="FL-RMHCI"), sign())

    assert isinstance(event, AgreementSigned)
    assert event.board_approval_required


def test_a_signed_agreement_is_held_in_the_supervisee_state() -> None:
    state = given(signed())

    agreement = state.agreement("agr-1")
    assert agreement is not None
    assert agreement.supervisor_id == "sup-1"
    assert agreement.terms.modalities == ("in_person", "video")
    assert agreement.covers("sup-1", "site-a", D("2026-12-31"))
    assert not agreement.covers("sup-1", "site-a", D("2027-01-01"))
    assert not agreement.covers("sup-1", "site-b", D("2026-06-01"))


def register(track: str = "TX-LPC-ASSOCIATE") -> RegisterSupervisee:
    return RegisterSupervisee(
        supervisee_id="see-1",
        credential_track=track,
        license_number="LIC-1",
        home_site_id="site-a",
        registered_on="2026-01-01",
    )


async def recorded(service: Service, *commands: Any) -> None:
    for command in commands:
        assert not (await service.run(command)).already_recorded, command


async def test_signing_the_same_agreement_again_records_nothing(service: Service) -> None:
    await recorded(service, register(), sign())
    assert (await service.run(sign())).already_recorded


async def test_a_retried_signature_is_recognised_after_the_agreement_was_amended(
    service: Service,
) -> None:
    await recorded(service, register(), sign(), amend())
    retry = await service.run(sign(modalities=["video", "in_person"]))
    assert (retry.retry, retry.already_recorded) == (True, True)
    assert await service.types("supervisee-see-1") == [
        "SuperviseeRegistered",
        "AgreementSigned",
        "AgreementAmended",
    ]


@pytest.mark.parametrize(
    "change", [{"end_date": "2027-06-30"}, {"sessions_per_period": 2}, {"modalities": ["video"]}]
)
def test_reusing_an_agreement_id_for_other_content_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(AgreementIdMustNotBeReused) as refused:
        decide(given(signed()), sign(**change))
    assert refused.value.agreement_id == "agr-1"


def test_a_texas_lpc_associate_may_have_two_supervisors_at_once() -> None:
    events = decide(given(signed()), sign(agreement_id="agr-2", supervisor_id="sup-2"))
    assert [e.type for e in events] == ["AgreementSigned"]


def test_a_third_concurrent_supervisor_for_a_texas_lpc_associate_is_refused() -> None:
    state = given(
        signed(),
        signed(agreement_id="agr-2", supervisor_id="sup-2", start_date="2026-03-01"),
    )

    with pytest.raises(ConcurrentSupervisorsMustStayWithinTrackLimit) as refused:
        decide(state, sign(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-02-01"))
    assert refused.value.limit == 2
    assert refused.value.on == D("2026-03-01")
    assert refused.value.supervisors == ("sup-1", "sup-2", "sup-3")


def test_supervisors_who_follow_each_other_are_not_concurrent() -> None:
    state = given(
        signed(end_date="2026-03-31"),
        signed(agreement_id="agr-2", supervisor_id="sup-2", start_date="2026-04-01"),
    )
    assert len(decide(state, sign(agreement_id="agr-3", supervisor_id="sup-3"))) == 1


def test_an_agreement_ending_the_day_another_starts_overlaps_it() -> None:
    state = given(
        signed(end_date="2026-06-30"), signed(agreement_id="agr-2", supervisor_id="sup-2")
    )

    with pytest.raises(ConcurrentSupervisorsMustStayWithinTrackLimit):
        decide(state, sign(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-06-30"))


def test_one_supervisor_at_two_sites_counts_as_one_supervisor() -> None:
    state = given(signed(), signed(agreement_id="agr-2", site_id="site-b"))
    assert len(decide(state, sign(agreement_id="agr-3", supervisor_id="sup-2"))) == 1


def test_tracks_without_a_supervisor_limit_accept_a_third_concurrent_supervisor() -> None:
    track = "NC-LCMHCA"
    state = given(
        signed(track), signed(track, agreement_id="agr-2", supervisor_id="sup-2"), track=track
    )
    assert len(decide(state, sign(agreement_id="agr-3", supervisor_id="sup-3"))) == 1


def test_a_terminated_agreement_no_longer_counts_against_the_limit() -> None:
    state = given(
        signed(),
        signed(agreement_id="agr-2", supervisor_id="sup-2"),
        terminated(terminated_on=D("2026-04-30")),
    )

    events = decide(
        state, sign(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-05-01")
    )

    assert len(events) == 1


def test_a_shortened_agreement_no_longer_counts_against_the_limit_after_its_new_end() -> None:
    state = given(
        signed(),
        signed(agreement_id="agr-2", supervisor_id="sup-2"),
        amended(end_date=D("2026-04-30")),
    )

    assert (
        len(
            decide(
                state, sign(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-05-01")
            )
        )
        == 1
    )
    with pytest.raises(ConcurrentSupervisorsMustStayWithinTrackLimit):
        decide(state, sign(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-04-30"))


def test_deciding_on_another_supervisees_state_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="see-2"):
        decide(given(signed()), sign(agreement_id="agr-2", supervisee_id="see-2"))


# Board approval.


def approve(**overrides: Any) -> ApproveAgreement:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "approved_on": "2026-02-01",
        "approval_reference": "FL-BOARD-2026-0042",
    }
    return ApproveAgreement(**(fields | overrides))


def approved(**overrides: Any) -> AgreementApproved:
    return AgreementApproved(**approve(**overrides).model_dump())


def florida(*events: DomainEvent) -> supervisee.SuperviseeState:
    return given(signed("FL-RMHCI"), *events, track="FL-RMHCI")


def test_approving_an_agreement_that_needs_it_records_the_approval() -> None:
    events = decide(florida(), approve())

    assert events == [approved()]
    agreement = florida(*events).agreement("agr-1")
    assert agreement is not None
    assert agreement.approval is not None
    assert agreement.approval.approval_reference == "FL-BOARD-2026-0042"


async def test_the_same_approval_retried_records_nothing(service: Service) -> None:
    await recorded(service, register("FL-RMHCI"), sign(), approve())
    assert (await service.run(approve())).already_recorded


def test_a_second_different_approval_is_refused() -> None:
    with pytest.raises(AgreementMustBeApprovedOnce) as refused:
        decide(florida(approved()), approve(approval_reference="OTHER"))
    assert "approved (on 2026-02-01, FL-BOARD-2026-0042)" in refused.value.message


def test_an_agreement_whose_track_needs_no_approval_cannot_be_approved() -> None:
    with pytest.raises(BoardApprovalMustBeRequiredByTheTrack) as refused:
        decide(given(signed()), approve())
    assert refused.value.track_id == "TX-LPC-ASSOCIATE"


def test_an_approval_dated_after_today_is_refused() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(florida(), approve(approved_on="2026-03-11"))
    assert refused.value.field == "approved_on"


def test_approving_an_unknown_agreement_is_not_found() -> None:
    with pytest.raises(AgreementMustExist) as refused:
        decide(florida(), approve(agreement_id="agr-9"))
    assert refused.value.agreement_id == "agr-9"


# Amendment.


def amend(**overrides: Any) -> AmendAgreement:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "end_date": "2027-06-30",
        "modalities": ["video"],
        "sessions_per_period": 2,
        "period": "month",
        "reason": "supervisor moved to remote work",
        "actor": "coordinator-1",
    }
    return AmendAgreement(**(fields | overrides))


def amended(**overrides: Any) -> AgreementAmended:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "end_date": D("2027-06-30"),
        "modalities": ("video",),
        "sessions_per_period": 2,
        "period": "month",
        "reason": "supervisor moved to remote work",
        "amended_by": "coordinator-1",
    }
    return AgreementAmended(**(fields | overrides))


def test_amending_an_agreement_records_the_new_terms_reason_and_actor() -> None:
    events = decide(given(signed()), amend())

    assert events == [amended()]
    agreement = given(signed(), *events).agreement("agr-1")
    assert agreement is not None
    assert agreement.end_date == D("2027-06-30")
    assert agreement.terms.period == "month"
    assert agreement.amendments == 1


def test_an_amendment_to_the_terms_in_force_records_nothing() -> None:
    assert decide(given(signed(), amended()), amend(reason="retry")) == []


def test_an_amendment_may_not_end_the_agreement_before_it_starts() -> None:
    with pytest.raises(AgreementMustEndAfterItStarts) as refused:
        decide(given(signed()), amend(end_date="2025-12-31"))
    assert refused.value.field == "end_date"
    assert isinstance(refused.value, InvalidInput)


def test_an_amendment_may_not_strand_sessions_after_the_new_end() -> None:
    state = given(signed(), received("ses-1", "2026-02-10"), received("ses-2", "2026-03-02"))

    with pytest.raises(AgreementMustStillCoverItsSessions) as refused:
        decide(state, amend(end_date="2026-02-28"))
    assert refused.value.session_ids == ("ses-2",)


def test_a_voided_session_does_not_hold_the_agreement_open() -> None:
    voided = SupervisionVoided(
        session_id="ses-2", supervisee_id="see-1", reason="duplicate", voided_by="c-1"
    )
    state = given(signed(), received("ses-2", "2026-03-02"), voided)

    assert len(decide(state, amend(end_date="2026-02-28"))) == 1


def test_extending_an_agreement_respects_the_concurrent_supervisor_limit() -> None:
    state = given(
        signed(end_date="2026-06-30"),
        signed(agreement_id="agr-2", supervisor_id="sup-2"),
        signed(agreement_id="agr-3", supervisor_id="sup-3", start_date="2026-07-01"),
    )

    with pytest.raises(ConcurrentSupervisorsMustStayWithinTrackLimit) as refused:
        decide(state, amend(end_date="2026-07-31"))
    assert refused.value.on == D("2026-07-01")


def test_a_terminated_agreement_cannot_be_amended() -> None:
    with pytest.raises(AgreementMustBeInForceToChange) as refused:
        decide(given(signed(), terminated()), amend())
    assert "is terminated (on 2026-04-30)" in refused.value.message


def test_amending_an_unknown_agreement_is_not_found() -> None:
    with pytest.raises(AgreementMustExist):
        decide(given(signed()), amend(agreement_id="agr-9"))


# Termination.


def terminate(**overrides: Any) -> TerminateAgreement:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "terminated_on": "2026-04-30",
        "reason": "supervisor left the organization",
        "actor": "coordinator-1",
    }
    return TerminateAgreement(**(fields | overrides))


def terminated(**overrides: Any) -> AgreementTerminated:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "terminated_on": D("2026-04-30"),
        "reason": "supervisor left the organization",
        "terminated_by": "coordinator-1",
    }
    return AgreementTerminated(**(fields | overrides))


def test_terminating_an_agreement_ends_it_on_that_day() -> None:
    events = decide(given(signed()), terminate())

    assert events == [terminated()]
    agreement = given(signed(), *events).agreement("agr-1")
    assert agreement is not None
    assert agreement.last_day == D("2026-04-30")
    assert agreement.covers("sup-1", "site-a", D("2026-04-30"))
    assert not agreement.covers("sup-1", "site-a", D("2026-05-01"))


async def test_the_same_termination_retried_records_nothing(service: Service) -> None:
    await recorded(service, register(), sign(), terminate())
    assert (await service.run(terminate())).already_recorded


def test_terminating_a_terminated_agreement_otherwise_is_refused_naming_its_state() -> None:
    with pytest.raises(AgreementMustBeInForceToChange) as refused:
        decide(given(signed(), terminated()), terminate(terminated_on="2026-04-01"))
    assert refused.value.terminated_on == D("2026-04-30")


@pytest.mark.parametrize("day", ["2025-12-31", "2027-01-01"])
def test_a_termination_outside_the_agreement_is_refused(day: str) -> None:
    with pytest.raises(TerminationMustFallWithinTheAgreement):
        decide(given(signed()), terminate(terminated_on=day))


def test_a_termination_may_not_strand_sessions_after_it() -> None:
    state = given(signed(), received("ses-1", "2026-05-04"))

    with pytest.raises(AgreementMustStillCoverItsSessions) as refused:
        decide(state, terminate())
    assert refused.value.session_ids == ("ses-1",)


def test_terminating_an_unknown_agreement_is_not_found() -> None:
    with pytest.raises(AgreementMustExist):
        decide(given(signed()), terminate(agreement_id="agr-9"))


def test_agreement_events_survive_a_round_trip_through_storage() -> None:
    for event in (signed(), approved(), amended(), terminated()):
        assert EVENT_TYPES.load(event.type, event.to_data()) == event


def test_an_agreement_stored_before_terms_were_recorded_still_loads() -> None:
    old = {
        "agreement_id": "agr-1",
        "supervisor_id": "sup-1",
        "supervisee_id": "see-1",
        "site_id": "site-a",
        "credential_track": "TX-LPC-ASSOCIATE",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }
    event = EVENT_TYPES.load("AgreementSigned", old)
    state = supervisee.fold([event])
    agreement = state.agreement("agr-1")
    assert agreement is not None
    assert agreement.terms.sessions_per_period is None
    assert not agreement.board_approval_required
