"""A retry of the same command changes nothing, even when it arrives after later commands.

Month sign-offs, reopenings, practice hours, transfers and corrections carry no id of their own:
a retry is recognised by its natural key among everything the stream recorded, not only among
what stands now. Genuinely new commands are still decided by every rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contracts.rulepacks.loader import load_rule_packs
from infra.ddd import DomainEvent
from supervision.domain import (
    AgreementSigned,
    AmendAgreement,
    AmendSession,
    LogSession,
    MonthSignedOff,
    RecordPracticeHours,
    ReopenMonth,
    SignOffMonth,
    SuperviseeRegistered,
    TerminateAgreement,
    Tracks,
    TransferSupervisee,
    VoidSession,
    session,
    supervisee,
    supervisor,
)
from supervision.domain.decision import Decision
from supervision.domain.errors import (
    AgreementMustBeInForceToChange,
    MonthMustBeOpenToChange,
    MonthMustBeOpenToSignOff,
    MonthMustBeSignedOffToReopen,
    PracticeHoursCorrectionMustSayWhy,
    SessionMustStandToBeChanged,
    TransferMustChangeTheSite,
    TransferMustNotPrecedeTheLastChange,
)

pytestmark = pytest.mark.unit

# The credential tracks as the service runs them: read from the packaged rule packs.
TRACKS = Tracks(load_rule_packs())

D = dt.date.fromisoformat
TODAY = D("2026-05-10")

REGISTERED = SuperviseeRegistered(
    supervisee_id="see-1",
    credential_track="CA-AMFT",
    license_number="AMFT-1234",
    home_site_id="site-a",
    registered_on=D("2026-01-01"),
)
AGREEMENT = AgreementSigned(
    agreement_id="agr-1",
    supervisor_id="sup-1",
    supervisee_id="see-1",
    site_id="site-a",
    credential_track="CA-AMFT",
    start_date=D("2026-01-01"),
    end_date=D("2026-12-31"),
)


def after(*commands: supervisee.SuperviseeCommand) -> supervisee.SuperviseeState:
    """The supervisee's state after each command was decided and recorded in turn."""
    state = supervisee.fold([REGISTERED, AGREEMENT])
    for command in commands:
        events = supervisee.decide(state, command, TODAY, TRACKS)
        assert events, f"{command!r} recorded nothing"
        state = supervisee.fold(events, state)
    return state


def decide(
    state: supervisee.SuperviseeState, command: supervisee.SuperviseeCommand
) -> list[DomainEvent]:
    return supervisee.decide(state, command, TODAY, TRACKS)


def sign_off(signed_on: str, **overrides: Any) -> SignOffMonth:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "month": "2026-03",
        "supervisor_id": "sup-1",
        "signed_on": signed_on,
    }
    return SignOffMonth(**(fields | overrides))


def reopen(reopened_on: str, **overrides: Any) -> ReopenMonth:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "month": "2026-03",
        "reason": "a session was logged on the wrong day",
        "actor": "coordinator-1",
        "reopened_on": reopened_on,
    }
    return ReopenMonth(**(fields | overrides))


FIRST_SIGN_OFF = sign_off("2026-04-02")
REOPENING = reopen("2026-04-10")
SECOND_SIGN_OFF = sign_off("2026-04-20")


# Month sign-off and reopening.


def test_the_first_sign_off_replayed_after_a_reopening_and_a_new_sign_off_records_nothing() -> None:
    state = after(FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    assert decide(state, FIRST_SIGN_OFF) == []
    assert decide(state, SECOND_SIGN_OFF) == []


def test_the_first_sign_off_replayed_while_the_month_is_reopened_records_nothing() -> None:
    state = after(FIRST_SIGN_OFF, REOPENING)
    assert decide(state, FIRST_SIGN_OFF) == []
    assert not state.is_locked(D("2026-03-15"))


def test_the_reopening_replayed_after_a_new_sign_off_leaves_the_month_signed() -> None:
    state = after(FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    assert decide(state, REOPENING) == []
    assert state.is_locked(D("2026-03-15"))


def test_a_new_sign_off_of_a_signed_month_is_still_refused_naming_the_month() -> None:
    state = after(FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    with pytest.raises(MonthMustBeOpenToSignOff) as refused:
        decide(state, sign_off("2026-04-25"))
    assert "2026-03 of supervisee see-1 is signed off (by sup-1 on 2026-04-20)" in (
        refused.value.message
    )


def test_a_new_reopening_after_a_new_sign_off_reopens_the_month() -> None:
    state = after(FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    events = decide(state, reopen("2026-04-21", reason="hours were under-reported"))
    assert len(events) == 1
    assert not supervisee.fold(events, state).is_locked(D("2026-03-15"))


def test_the_same_reason_on_a_later_day_after_a_new_sign_off_is_a_new_reopening() -> None:
    state = after(FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    assert len(decide(state, reopen("2026-04-22"))) == 1


def test_a_new_reopening_of_an_open_month_is_still_refused_naming_its_state() -> None:
    state = after(FIRST_SIGN_OFF, REOPENING)
    with pytest.raises(MonthMustBeSignedOffToReopen) as refused:
        decide(state, reopen("2026-04-11", reason="another reason", actor="coordinator-2"))
    assert "2026-03 of supervisee see-1 is open" in refused.value.message


def test_the_history_of_a_month_is_folded_from_its_events() -> None:
    state = after(FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    assert [s.signed_on for s in state.sign_off_history["2026-03"]] == [
        D("2026-04-02"),
        D("2026-04-20"),
    ]
    assert [r.reopened_on for r in state.reopening_history["2026-03"]] == [D("2026-04-10")]


# Practice hours.


def hours(direct: int, correction: str | None = None) -> RecordPracticeHours:
    return RecordPracticeHours(
        supervisee_id="see-1",
        site_id="site-a",
        week_start="2026-03-02",
        direct_minutes=direct,
        indirect_minutes=300,
        correction=correction,
    )


F1 = hours(900)
F2 = hours(960, correction="a session was left out")


def test_the_original_record_replayed_after_a_correction_records_nothing() -> None:
    state = after(F1, F2)
    assert decide(state, F1) == []
    assert state.practice[(D("2026-03-02"), "site-a")].direct_minutes == 960


def test_a_correction_replayed_after_a_later_correction_records_nothing() -> None:
    state = after(F1, F2, hours(1000, correction="one more session was left out"))
    assert decide(state, F2) == []


def test_the_original_record_replayed_after_the_month_was_signed_off_records_nothing() -> None:
    assert decide(after(F1, F2, FIRST_SIGN_OFF), F1) == []


def test_new_figures_without_a_reason_are_still_refused_after_a_correction() -> None:
    with pytest.raises(PracticeHoursCorrectionMustSayWhy):
        decide(after(F1, F2), hours(1000))


def test_the_original_figures_with_a_new_reason_are_a_new_correction() -> None:
    events = decide(after(F1, F2), hours(900, correction="the session was double-counted"))
    assert len(events) == 1


def test_a_new_correction_in_a_signed_off_month_is_still_refused() -> None:
    with pytest.raises(MonthMustBeOpenToChange):
        decide(after(F1, F2, FIRST_SIGN_OFF), hours(1000, correction="another"))


# Transfers.


def transfer(to_site_id: str, effective_on: str) -> TransferSupervisee:
    return TransferSupervisee(
        supervisee_id="see-1", to_site_id=to_site_id, effective_on=effective_on
    )


TO_B = transfer("site-b", "2026-02-01")
TO_C = transfer("site-c", "2026-03-01")


def test_a_transfer_replayed_after_a_later_transfer_records_nothing() -> None:
    state = after(TO_B, TO_C)
    assert decide(state, TO_B) == []
    assert state.home is not None and state.home.site_id == "site-c"


def test_a_transfer_replayed_after_a_transfer_back_records_nothing() -> None:
    state = after(TO_B, transfer("site-a", "2026-03-01"))
    assert decide(state, TO_B) == []
    assert state.home is not None and state.home.site_id == "site-a"


def test_a_new_transfer_before_the_last_change_is_still_refused() -> None:
    with pytest.raises(TransferMustNotPrecedeTheLastChange):
        decide(after(TO_B, TO_C), transfer("site-b", "2026-02-15"))


def test_a_new_transfer_to_the_current_site_is_still_refused() -> None:
    with pytest.raises(TransferMustChangeTheSite):
        decide(after(TO_B, TO_C), transfer("site-c", "2026-04-01"))


# Agreement amendments and termination.


def amend_agreement(end_date: str, reason: str, **overrides: Any) -> AmendAgreement:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "end_date": end_date,
        "modalities": ["video"],
        "sessions_per_period": 2,
        "period": "month",
        "reason": reason,
        "actor": "coordinator-1",
    }
    return AmendAgreement(**(fields | overrides))


def terminate(**overrides: Any) -> TerminateAgreement:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "terminated_on": "2026-04-30",
        "reason": "supervisor left the practice",
        "actor": "coordinator-1",
    }
    return TerminateAgreement(**(fields | overrides))


EXTENDED = amend_agreement("2027-06-30", "extended for another year")
SHORTENED = amend_agreement("2026-09-30", "supervisor leaves in the autumn")


def test_an_amendment_replayed_after_a_later_amendment_records_nothing() -> None:
    state = after(EXTENDED, SHORTENED)
    assert decide(state, EXTENDED) == []
    agreement = state.agreement("agr-1")
    assert agreement is not None and agreement.end_date == D("2026-09-30")


def test_the_same_terms_again_for_a_new_reason_are_a_new_amendment() -> None:
    events = decide(after(EXTENDED, SHORTENED), amend_agreement("2027-06-30", "plans changed"))
    assert len(events) == 1


def test_an_amendment_by_another_actor_is_a_new_amendment() -> None:
    other_actor = amend_agreement("2027-06-30", "extended for another year", actor="lead-2")
    assert len(decide(after(EXTENDED, SHORTENED), other_actor)) == 1


def test_an_amendment_replayed_after_the_termination_records_nothing() -> None:
    assert decide(after(EXTENDED, SHORTENED, terminate()), EXTENDED) == []


def test_a_new_amendment_after_the_termination_is_still_refused() -> None:
    with pytest.raises(AgreementMustBeInForceToChange):
        decide(after(EXTENDED, terminate()), amend_agreement("2027-12-31", "new plans"))


def test_the_termination_replayed_after_it_records_nothing_and_another_is_refused() -> None:
    state = after(EXTENDED, terminate())
    assert decide(state, terminate()) == []
    with pytest.raises(AgreementMustBeInForceToChange):
        decide(state, terminate(terminated_on="2026-05-01"))


# Session amendments and voiding.


class Session:
    """A session's stream and its supervisee's, advanced by applying decisions."""

    def __init__(self) -> None:
        self.supervisees = {"see-1": supervisee.fold([REGISTERED, AGREEMENT])}
        self.session = session.INITIAL
        self.standing = supervisor.INITIAL
        logged = LogSession(
            session_id="ses-1",
            kind="clinical",
            format="individual",
            modality="in_person",
            date="2026-03-02",
            minutes=60,
            supervisor_id="sup-1",
            supervisee_ids=["see-1"],
            site_id="site-a",
        )
        self.apply(
            session.decide_log_session(
                self.session, self.supervisees, self.standing, logged, TODAY, TRACKS
            )
        )

    def apply(self, decision: Decision) -> Decision:
        assert not decision.already_recorded
        for stream, events in decision.events_by_stream.items():
            if stream.startswith("session-"):
                self.session = session.fold(events, self.session)
            elif stream.startswith("supervisor-"):
                self.standing = supervisor.fold(events, self.standing)
            else:
                sid = stream.removeprefix("supervisee-")
                self.supervisees[sid] = supervisee.fold(events, self.supervisees[sid])
        return decision

    def amend(self, command: AmendSession) -> Decision:
        return session.decide_amend_session(
            self.session, self.supervisees, self.standing, command, TODAY, TRACKS
        )

    def void(self, command: VoidSession) -> Decision:
        return session.decide_void_session(self.session, self.supervisees, command)

    def sign_off_march(self) -> None:
        signed = MonthSignedOff(
            supervisee_id="see-1", month="2026-03", supervisor_id="sup-1", signed_on=D("2026-04-02")
        )
        self.supervisees["see-1"] = supervisee.fold([signed], self.supervisees["see-1"])


def amend_session(minutes: int, reason: str, **overrides: Any) -> AmendSession:
    fields: dict[str, Any] = {
        "session_id": "ses-1",
        "kind": "clinical",
        "format": "individual",
        "modality": "in_person",
        "date": "2026-03-02",
        "minutes": minutes,
        "reason": reason,
        "actor": "coordinator-1",
    }
    return AmendSession(**(fields | overrides))


def void_session(**overrides: Any) -> VoidSession:
    fields: dict[str, Any] = {"session_id": "ses-1", "reason": "logged twice", "actor": "lead-1"}
    return VoidSession(**(fields | overrides))


NINETY = amend_session(90, "it ran long")
FORTY_FIVE = amend_session(45, "it was cut short after all")


def test_a_session_amendment_replayed_after_a_later_amendment_records_nothing() -> None:
    world = Session()
    world.apply(world.amend(NINETY))
    world.apply(world.amend(FORTY_FIVE))
    assert world.amend(NINETY).already_recorded
    assert world.session.session is not None and world.session.session.minutes == 45


def test_the_same_fields_again_for_a_new_reason_are_a_new_session_amendment() -> None:
    world = Session()
    world.apply(world.amend(NINETY))
    world.apply(world.amend(FORTY_FIVE))
    assert not world.amend(amend_session(90, "it did run long")).already_recorded


def test_a_session_amendment_replayed_after_the_voiding_records_nothing() -> None:
    world = Session()
    world.apply(world.amend(NINETY))
    world.apply(world.void(void_session()))
    assert world.amend(NINETY).already_recorded
    with pytest.raises(SessionMustStandToBeChanged):
        world.amend(FORTY_FIVE)


def test_a_session_amendment_replayed_after_the_month_was_signed_off_records_nothing() -> None:
    world = Session()
    world.apply(world.amend(NINETY))
    world.apply(world.amend(FORTY_FIVE))
    world.sign_off_march()
    assert world.amend(NINETY).already_recorded
    with pytest.raises(MonthMustBeOpenToChange):
        world.amend(amend_session(30, "shorter still"))


def test_a_voiding_replayed_after_the_month_was_signed_off_records_nothing() -> None:
    world = Session()
    world.apply(world.void(void_session()))
    world.sign_off_march()
    assert world.void(void_session()).already_recorded
    with pytest.raises(SessionMustStandToBeChanged):
        world.void(void_session(reason="another reason"))
