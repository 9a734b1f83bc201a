"""A retried command is answered with its first outcome and changes nothing, even when it arrives
after later commands: every command is recorded with its id (the command runner's record), so
the domain keeps no history to recognise retries by. Commands that may be repeated with the same
content carry a command_id: the same content under a new id is a new command, decided by every
rule. A client that sends no id is known by the content of its command.

Given a supervisee on CA-AMFT with an agreement with sup-1 for 2026, when commands run through the
runner (in memory), then the record and each answer are as below."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.commands import CommandIdMustNotBeReused
from services.supervision.tests.conftest import NOW, Service
from supervision.domain import (
    AmendAgreement,
    AmendSession,
    LogSession,
    RecordPracticeHours,
    RegisterSupervisee,
    ReopenMonth,
    SignAgreement,
    SignOffMonth,
    TerminateAgreement,
    TransferSupervisee,
    VoidSession,
)
from supervision.domain.errors import (
    AgreementMustBeInForceToChange,
    MonthMustBeOpenToChange,
    MonthMustBeOpenToSignOff,
    MonthMustBeSignedOffToReopen,
    PracticeHoursCorrectionMustSayWhy,
    SessionMustStandToBeChanged,
    SuperviseeIdMustNotBeReused,
    TransferMustChangeTheSite,
    TransferMustNotPrecedeTheLastChange,
)
from supervision.domain.supervisee import SuperviseeState

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
SUPERVISEE = "supervisee-see-1"

REGISTER = RegisterSupervisee(
    supervisee_id="see-1",
    credential_track="CA-AMFT",
    license_number="AMFT-1234",
    home_site_id="site-a",
    registered_on="2026-01-01",
)
SIGN = SignAgreement(
    agreement_id="agr-1",
    supervisor_id="sup-1",
    supervisee_id="see-1",
    site_id="site-a",
    start_date="2026-01-01",
    end_date="2026-12-31",
    modalities=["in_person", "video"],
    sessions_per_period=1,
    period="week",
)


@pytest.fixture
async def on_record(service: Service) -> Service:
    for command in (REGISTER, SIGN):
        assert not (await service.run(command)).already_recorded
    return service


async def state(service: Service) -> SuperviseeState:
    from supervision.application.handlers import get_supervisee

    return await get_supervisee("see-1", service.runner)


async def replayed(service: Service, command: Any) -> None:
    """The command again: answered as recorded, and nothing more on the supervisee's stream."""
    before = await service.types(SUPERVISEE)
    again = await service.run(command)
    assert (again.retry, again.already_recorded) == (True, True)
    assert await service.types(SUPERVISEE) == before


# Registration and agreements (known by their own ids).


async def test_a_registration_retried_after_later_commands_records_nothing(
    on_record: Service,
) -> None:
    await replayed(on_record, REGISTER)
    await replayed(on_record, SIGN)


async def test_a_registration_under_a_taken_id_with_other_details_is_refused(
    on_record: Service,
) -> None:
    with pytest.raises(SuperviseeIdMustNotBeReused):
        await on_record.run(REGISTER.model_copy(update={"license_number": "AMFT-9999"}))


# Month sign-off and reopening.


def sign_off(signed_on: str, command_id: str | None, **overrides: Any) -> SignOffMonth:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "month": "2026-03",
        "supervisor_id": "sup-1",
        "signed_on": signed_on,
        "command_id": command_id,
    }
    return SignOffMonth(**(fields | overrides))


def reopen(command_id: str | None, **overrides: Any) -> ReopenMonth:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "month": "2026-03",
        "reason": "a session was logged on the wrong day",
        "actor": "coordinator-1",
        "reopened_on": "2026-04-10",
        "command_id": command_id,
    }
    return ReopenMonth(**(fields | overrides))


FIRST_SIGN_OFF = sign_off("2026-04-02", "so-1")
REOPENING = reopen("re-1")
SECOND_SIGN_OFF = sign_off("2026-04-20", "so-2")


async def run_all(service: Service, *commands: Any) -> None:
    for command in commands:
        assert not (await service.run(command)).already_recorded, command


async def test_the_first_sign_off_replayed_after_a_reopening_and_a_new_sign_off_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    await replayed(on_record, FIRST_SIGN_OFF)
    await replayed(on_record, SECOND_SIGN_OFF)


async def test_the_first_sign_off_replayed_while_the_month_is_reopened_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, FIRST_SIGN_OFF, REOPENING)
    await replayed(on_record, FIRST_SIGN_OFF)
    assert not (await state(on_record)).is_locked(D("2026-03-15"))


async def test_the_reopening_replayed_after_a_new_sign_off_leaves_the_month_signed(
    on_record: Service,
) -> None:
    await run_all(on_record, FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    await replayed(on_record, REOPENING)
    assert (await state(on_record)).is_locked(D("2026-03-15"))


async def test_a_reopening_left_undated_is_retried_on_another_day_as_recorded(
    on_record: Service,
) -> None:
    undated = reopen("re-1", reopened_on=None)
    await run_all(on_record, FIRST_SIGN_OFF)
    await on_record.run(undated)

    again = await on_record.run(undated, now=NOW + dt.timedelta(days=3))

    assert again.retry
    assert (await state(on_record)).signed_months == {}


async def test_a_new_sign_off_of_a_signed_month_is_still_refused_naming_the_month(
    on_record: Service,
) -> None:
    await run_all(on_record, FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    with pytest.raises(MonthMustBeOpenToSignOff) as refused:
        await on_record.run(sign_off("2026-04-25", "so-3"))
    assert "2026-03 of supervisee see-1 is signed off (by sup-1 on 2026-04-20)" in (
        refused.value.message
    )


async def test_a_new_reopening_after_a_new_sign_off_reopens_the_month(on_record: Service) -> None:
    await run_all(on_record, FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    await run_all(on_record, reopen("re-2", reopened_on="2026-04-21", reason="hours were short"))
    assert not (await state(on_record)).is_locked(D("2026-03-15"))


async def test_the_same_reason_on_a_later_day_after_a_new_sign_off_is_a_new_reopening(
    on_record: Service,
) -> None:
    await run_all(on_record, FIRST_SIGN_OFF, REOPENING, SECOND_SIGN_OFF)
    await run_all(on_record, reopen("re-2", reopened_on="2026-04-22"))
    assert (await on_record.types(SUPERVISEE)).count("MonthReopened") == 2


async def test_a_new_reopening_of_an_open_month_is_still_refused_naming_its_state(
    on_record: Service,
) -> None:
    await run_all(on_record, FIRST_SIGN_OFF, REOPENING)
    with pytest.raises(MonthMustBeSignedOffToReopen) as refused:
        await on_record.run(reopen("re-2", reason="another reason", actor="coordinator-2"))
    assert "2026-03 of supervisee see-1 is open" in refused.value.message


async def test_a_sign_off_id_reused_for_another_month_is_refused_naming_the_id(
    on_record: Service,
) -> None:
    await run_all(on_record, FIRST_SIGN_OFF)
    with pytest.raises(CommandIdMustNotBeReused) as refused:
        await on_record.run(sign_off("2026-03-02", "so-1", month="2026-02"))
    assert "SignOffMonth see-1/so-1" in refused.value.message


async def test_a_sign_off_without_an_id_is_known_by_its_content(on_record: Service) -> None:
    await run_all(on_record, sign_off("2026-04-02", None), reopen(None))
    await replayed(on_record, sign_off("2026-04-02", None))


# Practice hours.


def hours(direct: int, command_id: str, correction: str | None = None) -> RecordPracticeHours:
    return RecordPracticeHours(
        supervisee_id="see-1",
        site_id="site-a",
        week_start="2026-03-02",
        direct_minutes=direct,
        indirect_minutes=300,
        correction=correction,
        command_id=command_id,
    )


F1 = hours(900, "ph-1")
F2 = hours(960, "ph-2", correction="a session was left out")


async def test_the_original_record_replayed_after_a_correction_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, F1, F2)
    await replayed(on_record, F1)
    practice = (await state(on_record)).practice
    assert practice[(D("2026-03-02"), "site-a")].direct_minutes == 960


async def test_a_correction_replayed_after_a_later_correction_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, F1, F2, hours(1000, "ph-3", correction="one more was left out"))
    await replayed(on_record, F2)


async def test_the_original_record_replayed_after_the_month_was_signed_off_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, F1, F2, FIRST_SIGN_OFF)
    await replayed(on_record, F1)


async def test_new_figures_without_a_reason_are_still_refused_after_a_correction(
    on_record: Service,
) -> None:
    await run_all(on_record, F1, F2)
    with pytest.raises(PracticeHoursCorrectionMustSayWhy):
        await on_record.run(hours(1000, "ph-3"))


async def test_the_original_figures_with_a_new_reason_are_a_new_correction(
    on_record: Service,
) -> None:
    await run_all(on_record, F1, F2)
    await run_all(on_record, hours(900, "ph-3", correction="the session was double-counted"))


async def test_a_new_correction_in_a_signed_off_month_is_still_refused(on_record: Service) -> None:
    await run_all(on_record, F1, F2, FIRST_SIGN_OFF)
    with pytest.raises(MonthMustBeOpenToChange):
        await on_record.run(hours(1000, "ph-3", correction="another"))


# Transfers.


def transfer(to_site_id: str, effective_on: str, command_id: str) -> TransferSupervisee:
    return TransferSupervisee(
        supervisee_id="see-1",
        to_site_id=to_site_id,
        effective_on=effective_on,
        command_id=command_id,
    )


TO_B = transfer("site-b", "2026-02-01", "tr-1")
TO_C = transfer("site-c", "2026-03-01", "tr-2")


async def test_a_transfer_replayed_after_a_later_transfer_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, TO_B, TO_C)
    await replayed(on_record, TO_B)
    home = (await state(on_record)).home
    assert home is not None and home.site_id == "site-c"


async def test_a_transfer_replayed_after_a_transfer_back_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, TO_B, transfer("site-a", "2026-03-01", "tr-2"))
    await replayed(on_record, TO_B)
    home = (await state(on_record)).home
    assert home is not None and home.site_id == "site-a"


async def test_the_same_transfer_retried_records_nothing(on_record: Service) -> None:
    await run_all(on_record, TO_B)
    await replayed(on_record, TO_B)


async def test_a_new_transfer_before_the_last_change_is_still_refused(on_record: Service) -> None:
    await run_all(on_record, TO_B, TO_C)
    with pytest.raises(TransferMustNotPrecedeTheLastChange):
        await on_record.run(transfer("site-b", "2026-02-15", "tr-3"))


async def test_a_new_transfer_to_the_current_site_is_still_refused(on_record: Service) -> None:
    await run_all(on_record, TO_B, TO_C)
    with pytest.raises(TransferMustChangeTheSite):
        await on_record.run(transfer("site-c", "2026-04-01", "tr-3"))


# Agreement amendments and termination.


def amend_agreement(
    end_date: str, reason: str, command_id: str, **overrides: Any
) -> AmendAgreement:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "agreement_id": "agr-1",
        "end_date": end_date,
        "modalities": ["video"],
        "sessions_per_period": 2,
        "period": "month",
        "reason": reason,
        "actor": "coordinator-1",
        "command_id": command_id,
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


EXTENDED = amend_agreement("2027-06-30", "extended for another year", "am-1")
SHORTENED = amend_agreement("2026-09-30", "supervisor leaves in the autumn", "am-2")


async def test_an_amendment_replayed_after_a_later_amendment_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, EXTENDED, SHORTENED)
    await replayed(on_record, EXTENDED)
    agreement = (await state(on_record)).agreement("agr-1")
    assert agreement is not None and agreement.end_date == D("2026-09-30")


async def test_the_same_terms_again_for_a_new_reason_are_a_new_amendment(
    on_record: Service,
) -> None:
    await run_all(on_record, EXTENDED, SHORTENED)
    await run_all(on_record, amend_agreement("2027-06-30", "plans changed", "am-3"))


async def test_the_same_amendment_under_a_new_id_is_a_new_amendment(on_record: Service) -> None:
    await run_all(on_record, EXTENDED, SHORTENED)
    await run_all(on_record, EXTENDED.model_copy(update={"command_id": "am-3"}))
    agreement = (await state(on_record)).agreement("agr-1")
    assert agreement is not None and agreement.amendments == 3


async def test_an_amendment_by_another_actor_is_a_new_amendment(on_record: Service) -> None:
    await run_all(on_record, EXTENDED, SHORTENED)
    other = amend_agreement("2027-06-30", "extended for another year", "am-3", actor="lead-2")
    await run_all(on_record, other)


async def test_an_amendment_replayed_after_the_termination_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, EXTENDED, SHORTENED, terminate())
    await replayed(on_record, EXTENDED)


async def test_a_new_amendment_after_the_termination_is_still_refused(on_record: Service) -> None:
    await run_all(on_record, EXTENDED, terminate())
    with pytest.raises(AgreementMustBeInForceToChange):
        await on_record.run(amend_agreement("2027-12-31", "new plans", "am-3"))


async def test_the_termination_replayed_after_it_records_nothing_and_another_is_refused(
    on_record: Service,
) -> None:
    await run_all(on_record, EXTENDED, terminate())
    await replayed(on_record, terminate())
    with pytest.raises(AgreementMustBeInForceToChange):
        await on_record.run(terminate(terminated_on="2026-05-01"))


# Session amendments and voiding.

LOGGED = LogSession(
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


def amend_session(minutes: int, reason: str, command_id: str, **overrides: Any) -> AmendSession:
    fields: dict[str, Any] = {
        "session_id": "ses-1",
        "kind": "clinical",
        "format": "individual",
        "modality": "in_person",
        "date": "2026-03-02",
        "minutes": minutes,
        "reason": reason,
        "actor": "coordinator-1",
        "command_id": command_id,
    }
    return AmendSession(**(fields | overrides))


def void_session(**overrides: Any) -> VoidSession:
    fields: dict[str, Any] = {"session_id": "ses-1", "reason": "logged twice", "actor": "lead-1"}
    return VoidSession(**(fields | overrides))


NINETY = amend_session(90, "it ran long", "as-1")
FORTY_FIVE = amend_session(45, "it was cut short after all", "as-2")


async def session_replayed(service: Service, command: Any) -> None:
    before = await service.types("session-ses-1")
    again = await service.run(command)
    assert (again.retry, again.already_recorded) == (True, True)
    assert await service.types("session-ses-1") == before


async def minutes(service: Service) -> int:
    from supervision.application.handlers import SESSION

    current, _ = await service.runner.state(SESSION, "ses-1")
    assert current.session is not None
    return current.session.minutes


async def test_a_session_retried_after_later_commands_is_answered_as_first_logged(
    on_record: Service,
) -> None:
    await run_all(on_record, LOGGED, NINETY)
    again = await on_record.run(LOGGED)
    assert (again.retry, again.outcome.lapse_marked) == (True, False)
    assert await minutes(on_record) == 90


async def test_a_session_amendment_replayed_after_a_later_amendment_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, LOGGED, NINETY, FORTY_FIVE)
    await session_replayed(on_record, NINETY)
    assert await minutes(on_record) == 45


async def test_the_same_fields_again_for_a_new_reason_are_a_new_session_amendment(
    on_record: Service,
) -> None:
    await run_all(on_record, LOGGED, NINETY, FORTY_FIVE)
    await run_all(on_record, amend_session(90, "it did run long", "as-3"))


async def test_a_session_amendment_replayed_after_the_voiding_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, LOGGED, NINETY, void_session())
    await session_replayed(on_record, NINETY)
    with pytest.raises(SessionMustStandToBeChanged):
        await on_record.run(FORTY_FIVE)


async def test_a_session_amendment_replayed_after_the_month_was_signed_off_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, LOGGED, NINETY, FORTY_FIVE, FIRST_SIGN_OFF)
    await session_replayed(on_record, NINETY)
    with pytest.raises(MonthMustBeOpenToChange):
        await on_record.run(amend_session(30, "shorter still", "as-3"))


async def test_a_voiding_replayed_after_the_month_was_signed_off_records_nothing(
    on_record: Service,
) -> None:
    await run_all(on_record, LOGGED, void_session(), FIRST_SIGN_OFF)
    await session_replayed(on_record, void_session())
    with pytest.raises(SessionMustStandToBeChanged):
        await on_record.run(void_session(reason="another reason"))
