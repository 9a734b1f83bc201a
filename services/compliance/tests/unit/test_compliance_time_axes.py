"""Both time axes, for every kind of fact: `known_at` keeps only what had been recorded by a
moment (the same rule for all), `as_of` says what the facts describe at the end of a date, in
valid time only. A report issued at a moment is what the facts known then show; a fact recorded
late shows in the current view of its own period."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.domain.agreements import (
    AgreementAmendment,
    AgreementApproval,
    AgreementFact,
    AgreementTermination,
    AgreementTerms,
    agreement_as_of,
)
from compliance.domain.facts import (
    LapseMark,
    ReferralChange,
    ReferralFact,
    ServiceLevelBreach,
    SessionCorrection,
    SupervisionSessionFact,
    concerns,
)
from compliance.domain.hours import hours_as_of
from compliance.domain.record import (
    Credentials,
    DomainScore,
    EvaluationFact,
    MonthEvent,
    PracticeHoursFact,
    SuperviseeFact,
    SuperviseeFacts,
    TransferFact,
    evaluations_as_of,
    months_as_of,
    practice_hours_as_of,
    record_as_of,
    supervisee_as_of,
)
from compliance.domain.referrals import breached_as_of, referral_as_of
from compliance.domain.standing import (
    DesignationFact,
    LicenseChange,
    LicenseFact,
    license_as_of,
    standing_on,
)

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


def session(**overrides: Any) -> SupervisionSessionFact:
    fields: dict[str, Any] = {
        "session_id": "s1",
        "supervisee_id": "see-1",
        "date": D("2026-03-02"),
        "format": "individual",
        "modality": "in_person",
        "minutes": 60,
        "supervisor_id": "sup-1",
        "site_id": "site-a",
        "source_event_id": "evt-s1",
        "recorded_at": at("2026-03-02"),
    }
    return SupervisionSessionFact(**(fields | overrides))


# --- one rule for the known_at axis: recorded by then -----------------------------------------


def test_a_fact_is_known_from_the_moment_it_was_recorded_inclusive() -> None:
    fact = session(recorded_at=at("2026-04-15"))

    assert fact.known_at(at("2026-04-15") - dt.timedelta(microseconds=1)) is None
    assert fact.known_at(at("2026-04-15")) == fact


def test_a_session_logged_late_shows_in_its_months_view_but_not_in_an_earlier_report() -> None:
    late = session(recorded_at=at("2026-04-15"))
    report_of_march = at("2026-04-01", 9)

    assert hours_as_of([late], D("2026-03-31")).total_minutes == 60
    assert late.known_at(report_of_march) is None


def test_a_void_applies_to_every_view_of_the_session_once_known_and_not_before() -> None:
    void = SessionCorrection(
        change="voided",
        recorded_at=at("2026-04-12"),
        by="sup-1",
        reason="logged twice",
        source_event_id="evt-void",
    )
    fact = session(corrections=(void,))
    known_before = fact.known_at(at("2026-04-11"))

    assert hours_as_of([fact], D("2026-03-02")).total_minutes == 0
    assert known_before is not None and known_before.corrections == ()
    assert hours_as_of([known_before], D("2026-03-31")).total_minutes == 60


def test_a_session_under_an_expired_license_is_flagged_as_of_that_month() -> None:
    """The issue's example: the lapse was found and marked in May; a view as of March, known
    now, flags the March session; the report issued in April did not, and still does not."""
    mark = LapseMark(
        license_id="lic-1",
        lapse="expired",
        lapsed_since=D("2026-02-28"),
        recorded_at=at("2026-05-06"),
        source_event_id="evt-lapse",
    )
    fact = session(lapse_marks=(mark,))
    april_report = fact.known_at(at("2026-04-01"))

    (march,) = hours_as_of([fact], D("2026-03-31")).sessions
    assert march.flagged_for_review
    assert april_report is not None
    assert not hours_as_of([april_report], D("2026-03-31")).sessions[0].flagged_for_review


def test_the_supervisors_license_on_the_session_date_follows_changes_known_by_then() -> None:
    expired = LicenseChange(
        change="expired",
        effective_on=D("2026-03-01"),
        recorded_at=at("2026-05-06"),
        source_event_id="evt-expired",
    )
    license_ = LicenseFact(
        license_id="lic-1",
        holder_id="sup-1",
        kind="LPC",
        number="LPC 1",
        state="TX",
        issued_on=D("2020-01-01"),
        expires_on=D("2026-12-31"),
        recorded_at=at("2020-01-02"),
        source_event_id="evt-lic",
        changes=(expired,),
    )
    credentials = Credentials(licenses=(license_,))
    facts = SuperviseeFacts(supervisee_id="see-1", sessions=(session(),))

    now = record_as_of(facts, credentials, D("2026-03-31"))
    april = record_as_of(facts, credentials.known_at(at("2026-04-01")), D("2026-03-31"))

    assert now.sessions[0].supervisor.licenses[0].status == "expired"
    assert april.sessions[0].supervisor.licenses[0].status == "active"
    assert license_.known_at(at("2020-01-01")) is None


# --- referrals: steps from their dates, breaches from their due time ----------------------------


def referral(**overrides: Any) -> ReferralFact:
    fields: dict[str, Any] = {
        "referral_id": "r1",
        "client_id": "client-1",
        "site_id": "site-a",
        "to_service": "therapy",
        "urgency": "routine",
        "raised_on": D("2026-02-02"),
        "recorded_at": at("2026-02-02", 9),
        "source_event_ids": ("evt-r1",),
    }
    return ReferralFact(**(fields | overrides))


def test_a_referral_that_missed_its_february_target_shows_the_breach_as_of_june() -> None:
    """The issue's example: due in February, recorded by the clock in December."""
    breach = ServiceLevelBreach(
        target="scheduling",
        due_at=at("2026-02-09", 9),
        detected_at=at("2026-12-01"),
        recorded_at=at("2026-12-01"),
        source_event_id="evt-breach",
    )
    fact = referral(breaches=(breach,))
    june_report = fact.known_at(at("2026-06-30"))

    assert [r.referral_id for r in breached_as_of([fact], D("2026-06-30"))] == ["r1"]
    assert breached_as_of([fact], D("2026-02-08")) == ()
    assert june_report is not None
    assert breached_as_of([june_report], D("2026-06-30")) == ()


def test_a_referral_step_takes_effect_on_its_date_and_is_known_from_its_recording() -> None:
    accepted = ReferralChange(
        status="accepted",
        on=D("2026-02-03"),
        recorded_at=at("2026-02-10"),
        source_event_id="evt-accepted",
    )
    fact = referral(changes=(accepted,))
    known_before = fact.known_at(at("2026-02-09"))

    shown = referral_as_of(fact, D("2026-02-04"))
    assert shown is not None and shown.status == "accepted"
    assert known_before is not None
    earlier = referral_as_of(known_before, D("2026-02-04"))
    assert earlier is not None and earlier.status == "raised"
    assert referral(recorded_at=at("2026-02-05")).known_at(at("2026-02-04")) is None


# --- agreements ---------------------------------------------------------------------------


def agreement(**overrides: Any) -> AgreementFact:
    fields: dict[str, Any] = {
        "agreement_id": "agr-1",
        "supervisee_id": "see-1",
        "supervisor_id": "sup-1",
        "site_id": "site-a",
        "credential_track": "FL-RMHCI",
        "start_date": D("2026-02-01"),
        "terms": AgreementTerms(end_date=D("2026-12-31")),
        "board_approval_required": True,
        "recorded_at": at("2026-01-20"),
        "source_event_id": "evt-signed",
    }
    return AgreementFact(**(fields | overrides))


def test_an_approval_recorded_late_counts_from_its_own_date_once_known() -> None:
    approval = AgreementApproval(
        approved_on=D("2026-02-01"),
        approval_reference="FL-1",
        recorded_at=at("2026-03-15"),
        source_event_id="evt-approved",
    )
    fact = agreement(approvals=(approval,))
    known_before = fact.known_at(at("2026-03-14"))

    february = agreement_as_of(fact, D("2026-02-10"))
    assert february is not None and february.status == "active"
    assert known_before is not None
    earlier = agreement_as_of(known_before, D("2026-02-10"))
    assert earlier is not None and earlier.status == "pending_approval"


def test_a_termination_takes_effect_on_its_date_once_known() -> None:
    ended = AgreementTermination(
        terminated_on=D("2026-06-30"),
        reason="supervisor left",
        terminated_by="admin-1",
        recorded_at=at("2026-07-20"),
        source_event_id="evt-end",
    )
    fact = agreement(board_approval_required=False, terminations=(ended,))
    known_before = fact.known_at(at("2026-07-19"))

    july = agreement_as_of(fact, D("2026-07-10"))
    assert july is not None and july.status == "terminated"
    assert known_before is not None
    earlier = agreement_as_of(known_before, D("2026-07-10"))
    assert earlier is not None and earlier.status == "active"


def test_new_terms_stand_from_the_day_recorded_and_are_known_from_that_moment() -> None:
    amendment = AgreementAmendment(
        terms=AgreementTerms(end_date=D("2027-06-30")),
        recorded_at=at("2026-05-01"),
        reason="a second year",
        amended_by="sup-1",
        source_event_id="evt-amended",
    )
    fact = agreement(board_approval_required=False, amendments=(amendment,))

    before, after = agreement_as_of(fact, D("2026-04-30")), agreement_as_of(fact, D("2026-05-01"))
    known_before = fact.known_at(at("2026-05-01", 11))

    assert before is not None and before.terms.end_date == D("2026-12-31")
    assert after is not None and after.terms.end_date == D("2027-06-30")
    assert known_before is not None
    earlier = agreement_as_of(known_before, D("2026-05-01"))
    assert earlier is not None and earlier.terms.end_date == D("2026-12-31")
    assert agreement().known_at(at("2026-01-19")) is None


# --- registration, practice hours, sign-offs, evaluations, designations --------------------------


def test_a_transfer_takes_effect_on_its_date_once_known() -> None:
    moved = TransferFact(
        from_site_id="site-a",
        to_site_id="site-b",
        effective_on=D("2026-06-01"),
        recorded_at=at("2026-06-10"),
        source_event_id="evt-moved",
    )
    fact = SuperviseeFact(
        supervisee_id="see-1",
        credential_track="TX-LPC-ASSOCIATE",
        license_number="LPC-A 1",
        home_site_id="site-a",
        registered_on=D("2026-01-05"),
        recorded_at=at("2026-01-05"),
        source_event_id="evt-reg",
        transfers=(moved,),
    )
    known_before = fact.known_at(at("2026-06-09"))

    june = supervisee_as_of(fact, D("2026-06-05"))
    assert june is not None and june.home_site_id == "site-b"
    assert known_before is not None
    earlier = supervisee_as_of(known_before, D("2026-06-05"))
    assert earlier is not None and earlier.home_site_id == "site-a"
    assert fact.known_at(at("2026-01-04")) is None


def test_a_weeks_practice_hours_recorded_again_correct_that_week_once_known() -> None:
    def week(direct: int, recorded: str, event: str) -> PracticeHoursFact:
        return PracticeHoursFact(
            site_id="site-a",
            week_start=D("2026-03-02"),
            direct_minutes=direct,
            indirect_minutes=0,
            recorded_at=at(recorded),
            source_event_id=event,
        )

    facts = SuperviseeFacts(
        supervisee_id="see-1",
        practice_hours=(week(600, "2026-03-09", "evt-1"), week(540, "2026-04-20", "evt-2")),
    )

    now = practice_hours_as_of(facts.practice_hours, D("2026-03-31"))
    april = practice_hours_as_of(facts.known_at(at("2026-04-01")).practice_hours, D("2026-03-31"))

    assert (now.direct_minutes, now.weeks[0].superseded_event_ids) == (540, ("evt-1",))
    assert april.direct_minutes == 600


def test_a_sign_off_takes_effect_on_its_date_once_known() -> None:
    signed = MonthEvent(
        month="2026-03",
        action="signed_off",
        on=D("2026-04-02"),
        by="sup-1",
        recorded_at=at("2026-04-09"),
        source_event_id="evt-signed",
    )
    facts = SuperviseeFacts(supervisee_id="see-1", months=(signed,))

    assert [m.status for m in months_as_of(facts.months, D("2026-04-02"))] == ["signed_off"]
    assert months_as_of(facts.known_at(at("2026-04-08")).months, D("2026-04-30")) == ()


def test_an_acknowledgement_takes_effect_on_its_date_once_known() -> None:
    evaluation = EvaluationFact(
        evaluation_id="ev-1",
        supervisor_id="sup-1",
        framework="APA-BENCHMARKS",
        framework_version="2011",
        scale_min=1,
        scale_max=5,
        expected_min=3,
        trigger="quarterly",
        period_start=D("2026-01-01"),
        period_end=D("2026-03-31"),
        scores=(DomainScore(domain="professionalism", score=4),),
        below_expectations=(),
        remediation_required=False,
        evidence_session_ids=(),
        signed_on=D("2026-04-03"),
        recorded_at=at("2026-04-03"),
        source_event_id="evt-ev",
        acknowledged_on=D("2026-04-06"),
        acknowledgement_recorded_at=at("2026-04-20"),
        acknowledgement_event_id="evt-ack",
    )
    known_before = evaluation.known_at(at("2026-04-19"))

    (now,) = evaluations_as_of([evaluation], D("2026-04-07"))
    assert now.acknowledged_on == D("2026-04-06")
    assert known_before is not None
    (earlier,) = evaluations_as_of([known_before], D("2026-04-07"))
    assert earlier.acknowledged_on is None and earlier.source_event_ids == ("evt-ev",)
    assert evaluation.known_at(at("2026-04-02")) is None


def test_a_designation_is_held_from_its_grant_once_known() -> None:
    designation = DesignationFact(
        designation_id="des-1",
        holder_id="sup-1",
        designation="LPC-S",
        state="TX",
        granted_on=D("2026-01-01"),
        training_hours=40,
        training_completed_on=D("2025-11-01"),
        recorded_at=at("2026-02-15"),
        source_event_id="evt-des",
    )
    credentials = Credentials(designations=(designation,))

    now = standing_on("sup-1", (), credentials.designations, D("2026-01-10"))
    january = standing_on(
        "sup-1", (), credentials.known_at(at("2026-02-14")).designations, D("2026-01-10")
    )

    assert [d.designation for d in now.designations] == ["LPC-S"]
    assert january.designations == ()


def test_a_license_renewal_takes_effect_on_its_date_once_known() -> None:
    renewed = LicenseChange(
        change="renewed",
        effective_on=D("2026-12-20"),
        expires_on=D("2028-12-31"),
        recorded_at=at("2027-01-10"),
        source_event_id="evt-renewed",
    )
    fact = LicenseFact(
        license_id="lic-1",
        holder_id="sup-1",
        kind="LPC",
        number="LPC 1",
        state="TX",
        issued_on=D("2024-01-01"),
        expires_on=D("2026-12-31"),
        recorded_at=at("2024-01-01"),
        source_event_id="evt-lic",
        changes=(renewed,),
    )
    known_before = fact.known_at(at("2027-01-09"))

    now = license_as_of(fact, D("2027-01-05"))
    assert now is not None and now.status == "active"
    assert known_before is not None
    earlier = license_as_of(known_before, D("2027-01-05"))
    assert earlier is not None and earlier.status == "expired"


# --- what a supervisee's facts are, and what an unapplied event names --------------------------


def test_a_supervisee_is_heard_of_through_any_fact_naming_them() -> None:
    nothing = SuperviseeFacts(supervisee_id="see-1")
    with_a_session = SuperviseeFacts(supervisee_id="see-1", sessions=(session(),))

    assert not nothing.heard_of
    assert with_a_session.heard_of
    assert not with_a_session.known_at(at("2026-03-01")).heard_of


def test_an_event_names_what_its_payload_says_as_far_as_it_can_be_read() -> None:
    payload = {
        "session_id": "s1",
        "supervisee_ids": ["see-1", "see-2", 7, ""],
        "supervisor_id": "sup-1",
        "site_id": "site-a",
        "minutes": -5,
        "holder_id": {"not": "an id"},
    }

    assert concerns(payload) == (
        ("supervisee", "see-1"),
        ("supervisee", "see-2"),
        ("session", "s1"),
        ("site", "site-a"),
    )
    assert concerns({}) == ()
