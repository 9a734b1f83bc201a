"""Commands refuse malformed fields, naming the field as the API request names it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.ddd import InvalidInput
from supervision.domain import (
    AmendAgreement,
    AmendSession,
    ApproveAgreement,
    LogSession,
    RecordPracticeHours,
    RegisterSupervisee,
    ReopenMonth,
    SignAgreement,
    SignOffMonth,
    TerminateAgreement,
    VoidSession,
)
from supervision.domain.errors import (
    AgreementFrequencyMustBeWithinBounds,
    AgreementMustEndAfterItStarts,
    AgreementMustNameItsModalities,
    ApprovalReferenceMustBeGiven,
    ChoicesMustBeListedOnce,
    LicenseNumberMustBeWellFormed,
    PracticeMinutesMustFitInAWeek,
    PracticeWeekMustStartOnAMonday,
    ReasonMustBeGiven,
    SessionLengthMustBeWithinBounds,
    SessionMustHaveASupervisee,
    SignOffMustNotPrecedeTheMonthsEnd,
    SuperviseesMustBeListedOnce,
    SupervisorMustNotBeAmongSupervisees,
    SupervisorMustNotSuperviseThemself,
    WellbeingCheckMustBeOfASuperviseeInTheSession,
    WellbeingCheckMustBeOnePerSupervisee,
    WellbeingMustBeOnTheScale,
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
        "modalities": ["in_person", "video"],
        "sessions_per_period": 1,
        "period": "week",
    }
    return SignAgreement(**(fields | overrides))


def log(**overrides: Any) -> LogSession:
    fields: dict[str, Any] = {
        "session_id": "ses-1",
        "kind": "clinical",
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


@pytest.mark.parametrize("value", ["", "dyadic", "Individual"])
def test_a_session_format_other_than_individual_triadic_or_group_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        log(format=value)
    assert refused.value.field == "format"


@pytest.mark.parametrize("session_format", ["individual", "triadic", "group"])
def test_every_session_format_is_known(session_format: str) -> None:
    assert log(format=session_format).format == session_format


@pytest.mark.parametrize("modality", ["in_person", "video", "phone"])
def test_in_person_video_and_phone_sessions_are_known(modality: str) -> None:
    assert log(modality=modality).modality == modality


def test_an_unknown_modality_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        log(modality="telephone")
    assert refused.value.field == "modality"


@pytest.mark.parametrize("kind", ["", "supervisory", "CLINICAL"])
def test_a_session_kind_other_than_clinical_or_administrative_is_refused(kind: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        log(kind=kind)
    assert refused.value.field == "kind"


def test_a_session_keeps_its_start_time_techniques_and_focus() -> None:
    command = log(
        kind="administrative",
        start_time="09:30",
        techniques=["role_play", "case_review"],
        focus=["personalization"],
    )
    assert command.kind == "administrative"
    assert command.start_time == dt.time(9, 30)
    assert command.techniques == ("role_play", "case_review")
    assert command.focus == ("personalization",)


@pytest.mark.parametrize(
    ("field", "value"),
    [("techniques", ["role_play", "hypnosis"]), ("focus", ["intervention", "diagnosis"])],
)
def test_an_unknown_technique_or_focus_is_refused_by_field(field: str, value: list[str]) -> None:
    with pytest.raises(InvalidInput) as refused:
        log(**{field: value})
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [("techniques", ["role_play", "role_play"]), ("focus", ["intervention", "intervention"])],
)
def test_a_technique_or_focus_listed_twice_is_refused(field: str, value: list[str]) -> None:
    with pytest.raises(ChoicesMustBeListedOnce) as refused:
        log(**{field: value})
    assert refused.value.field == field
    assert refused.value.duplicates == (value[0],)


def test_a_wellbeing_check_holds_two_scores_per_supervisee() -> None:
    command = log(wellbeing=[{"supervisee_id": "see-1", "burnout": 2, "vicarious_trauma": 4}])

    check = command.wellbeing_of("see-1")
    assert check is not None
    assert (check.burnout, check.vicarious_trauma) == (2, 4)
    assert command.wellbeing_of("see-2") is None


@pytest.mark.parametrize(("burnout", "trauma"), [(0, 3), (6, 3), (3, 0), (3, 9)])
def test_a_wellbeing_score_off_the_one_to_five_scale_is_refused(burnout: int, trauma: int) -> None:
    with pytest.raises(WellbeingMustBeOnTheScale) as refused:
        log(wellbeing=[{"supervisee_id": "see-1", "burnout": burnout, "vicarious_trauma": trauma}])
    assert refused.value.field == "wellbeing"


def test_a_wellbeing_check_holds_no_free_text() -> None:
    with pytest.raises(InvalidInput) as refused:
        log(
            wellbeing=[
                {"supervisee_id": "see-1", "burnout": 2, "vicarious_trauma": 2, "note": "tired"}
            ]
        )
    assert refused.value.field == "wellbeing"


def test_a_wellbeing_check_of_someone_not_in_the_session_is_refused() -> None:
    with pytest.raises(WellbeingCheckMustBeOfASuperviseeInTheSession) as refused:
        log(wellbeing=[{"supervisee_id": "see-9", "burnout": 1, "vicarious_trauma": 1}])
    assert refused.value.supervisee_id == "see-9"


def test_two_wellbeing_checks_of_one_supervisee_are_refused() -> None:
    check = {"supervisee_id": "see-1", "burnout": 1, "vicarious_trauma": 1}
    with pytest.raises(WellbeingCheckMustBeOnePerSupervisee) as refused:
        log(wellbeing=[check, check])
    assert refused.value.duplicates == ("see-1",)


@pytest.mark.parametrize("start_time", ["9am", "25:00", "noon"])
def test_a_start_time_that_is_not_a_time_is_refused(start_time: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        log(start_time=start_time)
    assert refused.value.field == "start_time"


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


def test_an_agreement_without_a_modality_is_refused() -> None:
    with pytest.raises(AgreementMustNameItsModalities) as refused:
        sign(modalities=[])
    assert refused.value.field == "modalities"


def test_a_modality_listed_twice_in_an_agreement_is_refused() -> None:
    with pytest.raises(ChoicesMustBeListedOnce) as refused:
        sign(modalities=["video", "video"])
    assert refused.value.field == "modalities"


@pytest.mark.parametrize("sessions", [0, -1, 32])
def test_an_agreed_frequency_outside_1_to_31_sessions_is_refused(sessions: int) -> None:
    with pytest.raises(AgreementFrequencyMustBeWithinBounds) as refused:
        sign(sessions_per_period=sessions)
    assert refused.value.field == "sessions_per_period"


@pytest.mark.parametrize("period", ["", "fortnight", None])
def test_an_agreed_period_other_than_week_two_weeks_or_month_is_refused(period: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        sign(period=period)
    assert refused.value.field == "period"


def test_an_agreement_need_not_name_its_track() -> None:
    assert sign(credential_track=None).credential_track is None


def register(**overrides: Any) -> RegisterSupervisee:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "credential_track": "TX-LPC-ASSOCIATE",
        "license_number": "LPC-A-81234",
        "home_site_id": "site-a",
        "registered_on": "2026-01-02",
    }
    return RegisterSupervisee(**(fields | overrides))


@pytest.mark.parametrize("number", ["", " LPC-1", "x" * 41, "LPC 1", "no\nline"])
def test_a_malformed_license_number_is_refused(number: str) -> None:
    with pytest.raises(LicenseNumberMustBeWellFormed) as refused:
        register(license_number=number)
    assert refused.value.field == "license_number"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (
            lambda reason: AmendAgreement(
                supervisee_id="see-1",
                agreement_id="agr-1",
                end_date="2027-01-01",
                modalities=["video"],
                sessions_per_period=2,
                period="month",
                reason=reason,
                actor="staff-1",
            ),
            "reason",
        ),
        (
            lambda reason: TerminateAgreement(
                supervisee_id="see-1",
                agreement_id="agr-1",
                terminated_on="2026-05-01",
                reason=reason,
                actor="staff-1",
            ),
            "reason",
        ),
        (
            lambda reason: AmendSession(
                session_id="ses-1",
                kind="clinical",
                format="individual",
                modality="video",
                date="2026-03-02",
                minutes=60,
                reason=reason,
                actor="staff-1",
            ),
            "reason",
        ),
        (
            lambda reason: VoidSession(session_id="ses-1", reason=reason, actor="staff-1"),
            "reason",
        ),
        (
            lambda reason: ReopenMonth(
                supervisee_id="see-1",
                month="2026-03",
                reason=reason,
                actor="staff-1",
                reopened_on="2026-04-05",
            ),
            "reason",
        ),
        (
            lambda reason: RecordPracticeHours(
                supervisee_id="see-1",
                site_id="site-a",
                week_start="2026-03-02",
                direct_minutes=60,
                indirect_minutes=0,
                correction=reason,
            ),
            "correction",
        ),
    ],
    ids=["amend agreement", "terminate", "amend session", "void", "reopen", "correction"],
)
@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_correction_must_say_why_in_at_most_500_characters(
    build: Any, field: str, reason: str
) -> None:
    with pytest.raises(ReasonMustBeGiven) as refused:
        build(reason)
    assert refused.value.field == field


@pytest.mark.parametrize("reference", ["", "  ", "r" * 101])
def test_a_board_approval_needs_its_reference(reference: str) -> None:
    with pytest.raises(ApprovalReferenceMustBeGiven) as refused:
        ApproveAgreement(
            supervisee_id="see-1",
            agreement_id="agr-1",
            approved_on="2026-02-01",
            approval_reference=reference,
        )
    assert refused.value.field == "approval_reference"


def hours(**overrides: Any) -> RecordPracticeHours:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "site_id": "site-a",
        "week_start": "2026-03-02",
        "direct_minutes": 600,
        "indirect_minutes": 240,
    }
    return RecordPracticeHours(**(fields | overrides))


@pytest.mark.parametrize("week_start", ["2026-03-03", "2026-03-08"])
def test_a_practice_week_starts_on_a_monday(week_start: str) -> None:
    with pytest.raises(PracticeWeekMustStartOnAMonday) as refused:
        hours(week_start=week_start)
    assert refused.value.field == "week_start"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"direct_minutes": -1}, "direct_minutes"),
        ({"indirect_minutes": -5}, "indirect_minutes"),
        ({"direct_minutes": 10081}, "direct_minutes"),
        ({"direct_minutes": 6000, "indirect_minutes": 6000}, "indirect_minutes"),
    ],
)
def test_practice_minutes_must_fit_in_a_week(overrides: dict[str, int], field: str) -> None:
    with pytest.raises(PracticeMinutesMustFitInAWeek) as refused:
        hours(**overrides)
    assert refused.value.field == field


def test_a_week_without_practice_is_zero_minutes() -> None:
    assert hours(direct_minutes=0, indirect_minutes=0).direct_minutes == 0


@pytest.mark.parametrize("month", ["2026-3", "2026-13", "March 2026", "2026-03-01", ""])
def test_a_month_is_written_yyyy_mm(month: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        SignOffMonth(
            supervisee_id="see-1", month=month, supervisor_id="sup-1", signed_on="2026-04-01"
        )
    assert refused.value.field == "month"


@pytest.mark.parametrize(
    ("month", "signed_on"), [("2026-03", "2026-03-30"), ("2026-02", "2026-02-27")]
)
def test_a_month_cannot_be_signed_off_before_its_last_day(month: str, signed_on: str) -> None:
    with pytest.raises(SignOffMustNotPrecedeTheMonthsEnd) as refused:
        SignOffMonth(supervisee_id="see-1", month=month, supervisor_id="sup-1", signed_on=signed_on)
    assert refused.value.field == "signed_on"


def test_a_month_can_be_signed_off_on_its_last_day() -> None:
    command = SignOffMonth(
        supervisee_id="see-1", month="2028-02", supervisor_id="sup-1", signed_on="2028-02-29"
    )
    assert command.signed_on == dt.date(2028, 2, 29)
