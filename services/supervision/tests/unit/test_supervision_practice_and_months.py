"""Practice hours per week and site, and the monthly sign-off that locks a supervisee's record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contracts.rulepacks.loader import load_rule_packs
from infra.ddd import DomainEvent, InvalidInput, RuleViolated
from services.supervision.tests.conftest import Service
from supervision.domain import (
    EVENT_TYPES,
    AgreementSigned,
    AgreementTerminated,
    MonthReopened,
    MonthSignedOff,
    PracticeHoursRecorded,
    RecordPracticeHours,
    RegisterSupervisee,
    ReopenMonth,
    SignAgreement,
    SignOffMonth,
    SuperviseeRegistered,
    Tracks,
    supervisee,
)
from supervision.domain.errors import (
    CorrectionMustHaveARecordToCorrect,
    DateMustNotBeInTheFuture,
    MonthMustBeOpenToChange,
    MonthMustBeOpenToSignOff,
    MonthMustBeSignedOffToReopen,
    PracticeHoursCorrectionMustSayWhy,
    ReopeningMustNotPrecedeTheSignOff,
    SignOffMustBeByASupervisorOfTheMonth,
    SuperviseeMustBeRegistered,
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


def given(*events: DomainEvent) -> supervisee.SuperviseeState:
    return supervisee.fold([REGISTERED, AGREEMENT, *events])


def decide(state: supervisee.SuperviseeState, command: Any) -> list[DomainEvent]:
    return supervisee.decide(state, command, TODAY, TRACKS)


def hours(**overrides: Any) -> RecordPracticeHours:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "site_id": "site-a",
        "week_start": "2026-03-02",
        "direct_minutes": 900,
        "indirect_minutes": 300,
    }
    return RecordPracticeHours(**(fields | overrides))


def recorded(**overrides: Any) -> PracticeHoursRecorded:
    return PracticeHoursRecorded(**hours(**overrides).model_dump(exclude={"command_id"}))


def sign_off(**overrides: Any) -> SignOffMonth:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "month": "2026-03",
        "supervisor_id": "sup-1",
        "signed_on": "2026-04-02",
    }
    return SignOffMonth(**(fields | overrides))


def signed_off(**overrides: Any) -> MonthSignedOff:
    return MonthSignedOff(**sign_off(**overrides).model_dump(exclude={"command_id"}))


def reopen(**overrides: Any) -> ReopenMonth:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "month": "2026-03",
        "reason": "a session was logged on the wrong day",
        "actor": "coordinator-1",
        "reopened_on": "2026-04-20",
    }
    return ReopenMonth(**(fields | overrides))


def reopened(**overrides: Any) -> MonthReopened:
    command = reopen(**overrides)
    return MonthReopened(
        supervisee_id=command.supervisee_id,
        month=command.month,
        reason=command.reason,
        reopened_by=command.actor,
        reopened_on=command.reopened_on,
    )


# Practice hours.


def test_recording_a_week_of_practice_records_its_direct_and_indirect_minutes() -> None:
    events = decide(given(), hours())

    assert events == [
        PracticeHoursRecorded(
            supervisee_id="see-1",
            site_id="site-a",
            week_start=D("2026-03-02"),
            direct_minutes=900,
            indirect_minutes=300,
        )
    ]
    week = given(*events).practice[(D("2026-03-02"), "site-a")]
    assert (week.direct_minutes, week.indirect_minutes) == (900, 300)


def test_the_same_week_with_the_same_figures_records_nothing() -> None:
    assert decide(given(recorded()), hours()) == []
    assert decide(given(recorded()), hours(correction="typo")) == []


def test_the_same_week_at_another_site_is_another_record() -> None:
    assert len(decide(given(recorded()), hours(site_id="site-b"))) == 1


def test_other_figures_for_a_recorded_week_need_a_correction_reason() -> None:
    with pytest.raises(PracticeHoursCorrectionMustSayWhy) as refused:
        decide(given(recorded()), hours(direct_minutes=960))
    assert refused.value.week_start == D("2026-03-02")
    assert isinstance(refused.value, RuleViolated)


def test_a_correction_replaces_the_week_and_says_why() -> None:
    events = decide(given(recorded()), hours(direct_minutes=960, correction="missed a client"))

    assert events == [recorded(direct_minutes=960, correction="missed a client")]
    assert given(recorded(), *events).practice[(D("2026-03-02"), "site-a")].direct_minutes == 960


def test_a_correction_of_a_week_never_recorded_is_refused() -> None:
    with pytest.raises(CorrectionMustHaveARecordToCorrect) as refused:
        decide(given(), hours(correction="fix"))
    assert refused.value.field == "correction"


def test_a_week_starting_after_today_is_refused() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(given(), hours(week_start="2026-05-11"))
    assert refused.value.field == "week_start"


def test_practice_hours_of_an_unregistered_supervisee_are_refused() -> None:
    with pytest.raises(SuperviseeMustBeRegistered):
        supervisee.decide(supervisee.INITIAL, hours(), TODAY, TRACKS)


def test_practice_hours_for_a_week_starting_in_a_signed_off_month_are_refused() -> None:
    with pytest.raises(MonthMustBeOpenToChange) as refused:
        decide(given(signed_off()), hours(week_start="2026-03-30"))
    assert refused.value.month == "2026-03"
    assert "2026-03" in refused.value.message


def test_a_week_starting_in_the_next_month_is_not_locked_by_this_one() -> None:
    # 2026-03-30 starts in March; 2026-04-06 in April: only March is signed.
    assert len(decide(given(signed_off()), hours(week_start="2026-04-06"))) == 1


def test_a_correction_in_a_signed_off_month_is_refused_until_it_is_reopened() -> None:
    state = given(recorded(), signed_off())
    correction = hours(direct_minutes=100, correction="wrong figures")

    with pytest.raises(MonthMustBeOpenToChange):
        decide(state, correction)
    assert len(decide(given(recorded(), signed_off(), reopened()), correction)) == 1


# Sign-off.


def test_signing_off_a_month_locks_it() -> None:
    events = decide(given(), sign_off())

    assert events == [signed_off()]
    state = given(*events)
    assert state.is_locked(D("2026-03-01"))
    assert state.is_locked(D("2026-03-31"))
    assert not state.is_locked(D("2026-04-01"))


async def on_record(service: Service) -> None:
    """The supervisee and their agreement, through the runner."""
    for command in (
        RegisterSupervisee(
            supervisee_id="see-1",
            credential_track="CA-AMFT",
            license_number="AMFT-1234",
            home_site_id="site-a",
            registered_on="2026-01-01",
        ),
        SignAgreement(
            agreement_id="agr-1",
            supervisor_id="sup-1",
            supervisee_id="see-1",
            site_id="site-a",
            start_date="2026-01-01",
            end_date="2026-12-31",
            modalities=["in_person"],
            sessions_per_period=1,
            period="week",
        ),
    ):
        await service.run(command)


async def test_the_same_sign_off_retried_records_nothing(service: Service) -> None:
    await on_record(service)
    await service.run(sign_off())

    assert (await service.run(sign_off())).already_recorded
    assert (await service.types("supervisee-see-1")).count("MonthSignedOff") == 1


def test_signing_a_signed_month_again_is_refused_naming_who_signed_it() -> None:
    with pytest.raises(MonthMustBeOpenToSignOff) as refused:
        decide(given(signed_off()), sign_off(signed_on="2026-04-03"))
    assert refused.value.month == "2026-03"
    assert "signed off (by sup-1 on 2026-04-02)" in refused.value.message


def test_a_supervisor_without_an_agreement_that_month_cannot_sign_it() -> None:
    with pytest.raises(SignOffMustBeByASupervisorOfTheMonth) as refused:
        decide(given(), sign_off(supervisor_id="sup-2"))
    assert refused.value.supervisor_id == "sup-2"


def test_a_month_before_the_agreement_cannot_be_signed_by_its_supervisor() -> None:
    with pytest.raises(SignOffMustBeByASupervisorOfTheMonth):
        decide(given(), sign_off(month="2025-12", signed_on="2026-01-05"))


def test_a_month_after_the_agreement_was_terminated_cannot_be_signed_by_its_supervisor() -> None:
    ended = AgreementTerminated(
        supervisee_id="see-1",
        agreement_id="agr-1",
        terminated_on=D("2026-02-27"),
        reason="left",
        terminated_by="c-1",
    )

    with pytest.raises(SignOffMustBeByASupervisorOfTheMonth):
        decide(given(ended), sign_off())
    assert len(decide(given(ended), sign_off(month="2026-02", signed_on="2026-03-01"))) == 1


def test_a_sign_off_dated_after_today_is_refused() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(given(), sign_off(month="2026-05", signed_on="2026-05-31"))
    assert refused.value.field == "signed_on"


# Reopening.


def test_reopening_a_month_is_its_own_event_and_unlocks_it() -> None:
    events = decide(given(signed_off()), reopen())

    assert events == [reopened()]
    state = given(signed_off(), *events)
    assert not state.is_locked(D("2026-03-15"))


async def test_the_same_reopening_retried_records_nothing(service: Service) -> None:
    await on_record(service)
    await service.run(sign_off())
    undated = reopen(reopened_on=None)
    await service.run(undated)

    # Left to the clock's day, and retried on the next one.
    retry = await service.run(undated, now=service.now + dt.timedelta(days=1))

    assert retry.already_recorded
    assert (await service.types("supervisee-see-1")).count("MonthReopened") == 1


def test_reopening_an_open_month_is_refused_naming_its_state() -> None:
    with pytest.raises(MonthMustBeSignedOffToReopen) as refused:
        decide(given(), reopen())
    assert "2026-03 of supervisee see-1 is open" in refused.value.message


def test_a_reopened_month_can_be_signed_again_and_reopened_again() -> None:
    state = given(signed_off(), reopened())
    resigned = decide(state, sign_off(signed_on="2026-04-25"))
    assert len(resigned) == 1
    assert (
        len(decide(given(signed_off(), reopened(), *resigned), reopen(reopened_on="2026-04-26")))
        == 1
    )


def test_a_reopening_dated_before_the_sign_off_is_refused() -> None:
    with pytest.raises(ReopeningMustNotPrecedeTheSignOff) as refused:
        decide(given(signed_off()), reopen(reopened_on="2026-04-01"))
    assert isinstance(refused.value, InvalidInput)
    assert refused.value.field == "reopened_on"


def test_a_reopening_dated_after_today_is_refused() -> None:
    with pytest.raises(DateMustNotBeInTheFuture) as refused:
        decide(given(signed_off()), reopen(reopened_on="2026-05-11"))
    assert refused.value.field == "reopened_on"


def test_practice_and_month_events_survive_a_round_trip_through_storage() -> None:
    for event in (recorded(correction="fix"), signed_off(), reopened()):
        assert EVENT_TYPES.load(event.type, event.to_data()) == event
