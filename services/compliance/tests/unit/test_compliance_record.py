"""A supervisee's record as of a date: registration and transfers, agreements, practice hours
(latest record per week and site), month sign-offs, evaluations, and the supervisor's licenses
on each session's date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from compliance.domain.agreements import (
    AgreementAmendment,
    AgreementApproval,
    AgreementFact,
    AgreementTermination,
    AgreementTerms,
    agreement_as_of,
)
from compliance.domain.facts import SupervisionSessionFact
from compliance.domain.record import (
    Credentials,
    DomainScore,
    EvaluationFact,
    MonthAction,
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
from compliance.domain.standing import LicenseChange, LicenseFact

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


# --- registration -------------------------------------------------------------------------


def registered(**overrides: Any) -> SuperviseeFact:
    fields: dict[str, Any] = {
        "supervisee_id": "see-1",
        "credential_track": "TX-LPC-ASSOCIATE",
        "license_number": "LPC-A 81234",
        "home_site_id": "site-austin",
        "registered_on": D("2026-01-05"),
        "recorded_at": at("2026-01-05"),
        "source_event_id": "evt-reg",
    }
    return SuperviseeFact(**(fields | overrides))


def test_the_home_site_follows_the_transfers_effective_by_the_date() -> None:
    fact = registered(
        transfers=(
            TransferFact(
                from_site_id="site-austin",
                to_site_id="site-sacramento",
                effective_on=D("2026-06-01"),
                recorded_at=at("2026-05-20"),
                source_event_id="evt-moved",
            ),
        )
    )

    before = supervisee_as_of(fact, D("2026-05-31"))
    after = supervisee_as_of(fact, D("2026-06-01"))

    assert before is not None and after is not None
    assert (before.home_site_id, after.home_site_id) == ("site-austin", "site-sacramento")
    assert after.source_event_ids == ("evt-reg", "evt-moved")
    assert supervisee_as_of(fact, D("2026-01-04")) is None


# --- agreements ---------------------------------------------------------------------------


def agreement(**overrides: Any) -> AgreementFact:
    fields: dict[str, Any] = {
        "agreement_id": "agr-1",
        "supervisee_id": "see-1",
        "supervisor_id": "sup-1",
        "site_id": "site-a",
        "credential_track": "FL-RMHCI",
        "start_date": D("2026-02-01"),
        "terms": AgreementTerms(end_date=D("2026-12-31"), modalities=("in_person",)),
        "board_approval_required": True,
        "recorded_at": at("2026-01-20"),
        "source_event_id": "evt-signed",
    }
    return AgreementFact(**(fields | overrides))


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        ("2026-01-25", "not_started"),
        ("2026-02-10", "pending_approval"),
        ("2026-03-01", "active"),
        ("2026-09-30", "active"),
        ("2026-10-01", "terminated"),
    ],
)
def test_an_agreement_status_as_of_the_date(as_of: str, status: str) -> None:
    fact = agreement(
        approvals=(
            AgreementApproval(
                approved_on=D("2026-03-01"),
                approval_reference="FL-1",
                recorded_at=at("2026-03-01"),
                source_event_id="evt-ok",
            ),
        ),
        terminations=(
            AgreementTermination(
                terminated_on=D("2026-09-30"),
                reason="supervisor left the practice",
                terminated_by="admin-1",
                recorded_at=at("2026-09-30"),
                source_event_id="evt-end",
            ),
        ),
    )

    shown = agreement_as_of(fact, D(as_of))

    assert shown is not None
    assert shown.status == status


def test_an_agreement_neither_signed_nor_started_by_the_date_is_not_shown() -> None:
    assert agreement_as_of(agreement(), D("2026-01-19")) is None


def test_an_agreement_past_its_end_date_has_ended() -> None:
    shown = agreement_as_of(agreement(board_approval_required=False), D("2027-01-01"))

    assert shown is not None and shown.status == "ended"


def test_amended_terms_are_in_force_from_the_day_the_amendment_was_recorded() -> None:
    fact = agreement(
        amendments=(
            AgreementAmendment(
                terms=AgreementTerms(end_date=D("2027-06-30"), modalities=("in_person", "video")),
                recorded_at=at("2026-05-01"),
                reason="extended for a second year",
                amended_by="sup-1",
                source_event_id="evt-amended",
            ),
        )
    )

    before = agreement_as_of(fact, D("2026-04-30"))
    after = agreement_as_of(fact, D("2026-05-01"))

    assert before is not None and after is not None
    assert before.terms.end_date == D("2026-12-31")
    assert (after.terms.end_date, after.terms.modalities) == (
        D("2027-06-30"),
        ("in_person", "video"),
    )
    assert after.source_event_ids == ("evt-signed", "evt-amended")


# --- practice hours -----------------------------------------------------------------------


def practice(
    week: str, direct: int, recorded: str, event: str, site: str = "site-a"
) -> PracticeHoursFact:
    return PracticeHoursFact(
        site_id=site,
        week_start=D(week),
        direct_minutes=direct,
        indirect_minutes=60,
        correction=None if event.endswith("1") else "client hours recounted",
        recorded_at=at(recorded),
        source_event_id=event,
    )


def test_the_latest_record_per_week_and_site_corrects_that_week() -> None:
    facts = [
        practice("2026-03-02", 600, "2026-03-09", "evt-w1"),
        practice("2026-03-02", 540, "2026-03-20", "evt-w2"),
        practice("2026-03-02", 120, "2026-03-09", "evt-b1", site="site-b"),
    ]
    known_before = [f for f in facts if f.recorded_at <= at("2026-03-19")]

    before = practice_hours_as_of(known_before, D("2026-03-08"))
    after = practice_hours_as_of(facts, D("2026-03-08"))

    assert [(w.site_id, w.direct_minutes) for w in before.weeks] == [
        ("site-a", 600),
        ("site-b", 120),
    ]
    assert (after.direct_minutes, after.indirect_minutes) == (660, 120)
    week_a = after.weeks[0]
    assert (week_a.source_event_id, week_a.superseded_event_ids) == ("evt-w2", ("evt-w1",))
    assert week_a.correction == "client hours recounted"


def test_a_week_first_recorded_late_still_stands_from_the_week_itself() -> None:
    facts = [practice("2026-03-02", 600, "2026-04-15", "evt-w1")]

    assert practice_hours_as_of(facts, D("2026-03-31")).direct_minutes == 600
    assert practice_hours_as_of(facts, D("2026-03-01")).weeks == ()


def test_practice_hours_cannot_be_negative() -> None:
    with pytest.raises(ValidationError):
        practice("2026-03-02", -1, "2026-03-09", "evt-w1")


# --- month sign-offs ----------------------------------------------------------------------


def month_event(action: MonthAction, on: str, month: str = "2026-03") -> MonthEvent:
    return MonthEvent(
        month=month,
        action=action,
        on=D(on),
        by="sup-1",
        reason="session minutes corrected" if action == "reopened" else None,
        recorded_at=at(on),
        source_event_id=f"evt-{action}-{on}",
    )


def test_a_month_is_signed_off_then_reopened_then_signed_again() -> None:
    events = [
        month_event("signed_off", "2026-04-02"),
        month_event("reopened", "2026-04-10"),
        month_event("signed_off", "2026-04-12"),
    ]

    assert months_as_of(events, D("2026-04-01")) == ()
    (signed,) = months_as_of(events, D("2026-04-09"))
    (reopened,) = months_as_of(events, D("2026-04-11"))
    (again,) = months_as_of(events, D("2026-04-30"))

    assert (signed.status, signed.signed_on) == ("signed_off", D("2026-04-02"))
    assert reopened.status == "reopened"
    assert reopened.history[-1].reason == "session minutes corrected"
    assert (again.status, again.signed_on, len(again.history)) == (
        "signed_off",
        D("2026-04-12"),
        3,
    )


def test_a_month_is_named_as_year_and_month() -> None:
    with pytest.raises(ValidationError):
        month_event("signed_off", "2026-04-02", month="2026-13")


# --- evaluations --------------------------------------------------------------------------


def evaluation(**overrides: Any) -> EvaluationFact:
    fields: dict[str, Any] = {
        "evaluation_id": "ev-1",
        "supervisor_id": "sup-1",
        "framework": "APA-BENCHMARKS",
        "framework_version": "2011",
        "scale_min": 1,
        "scale_max": 5,
        "expected_min": 3,
        "trigger": "quarterly",
        "period_start": D("2026-01-01"),
        "period_end": D("2026-03-31"),
        "scores": (DomainScore(domain="professionalism", score=4),),
        "below_expectations": (),
        "remediation_required": False,
        "evidence_session_ids": ("s1",),
        "signed_on": D("2026-04-03"),
        "recorded_at": at("2026-04-03"),
        "source_event_id": "evt-ev",
        "acknowledged_on": D("2026-04-06"),
        "acknowledgement_recorded_at": at("2026-04-06"),
        "acknowledgement_event_id": "evt-ack",
    }
    return EvaluationFact(**(fields | overrides))


def test_an_evaluation_shows_once_signed_and_is_acknowledged_once_acknowledged() -> None:
    facts = [evaluation()]

    assert evaluations_as_of(facts, D("2026-04-02")) == ()
    (signed,) = evaluations_as_of(facts, D("2026-04-05"))
    (acknowledged,) = evaluations_as_of(facts, D("2026-04-06"))

    assert signed.acknowledged_on is None
    assert signed.source_event_ids == ("evt-ev",)
    assert acknowledged.acknowledged_on == D("2026-04-06")
    assert acknowledged.source_event_ids == ("evt-ev", "evt-ack")


# --- the whole record ---------------------------------------------------------------------


def test_each_session_shows_the_supervisors_licenses_as_they_stood_on_its_date() -> None:
    sessions = tuple(
        SupervisionSessionFact(
            session_id=session_id,
            supervisee_id="see-1",
            date=D(day),
            format="individual",
            modality="in_person",
            minutes=60,
            supervisor_id="sup-1",
            site_id="site-a",
            source_event_id=f"evt-{session_id}",
            recorded_at=at(day),
        )
        for session_id, day in (("s1", "2026-03-02"), ("s2", "2026-05-04"))
    )
    license_ = LicenseFact(
        license_id="lic-1",
        holder_id="sup-1",
        kind="LPC",
        number="LPC 12345",
        state="TX",
        issued_on=D("2020-01-01"),
        expires_on=D("2027-01-31"),
        recorded_at=at("2020-01-01"),
        source_event_id="evt-lic",
        changes=(
            LicenseChange(
                change="suspended",
                effective_on=D("2026-04-01"),
                recorded_at=at("2026-04-01"),
                source_event_id="evt-susp",
            ),
        ),
    )
    facts = SuperviseeFacts(supervisee_id="see-1", registration=registered(), sessions=sessions)

    record = record_as_of(facts, Credentials(licenses=(license_,)), D("2026-12-31"))

    assert [(r.session.session_id, r.supervisor.licenses[0].status) for r in record.sessions] == [
        ("s1", "active"),
        ("s2", "suspended"),
    ]
    assert record.registration is not None
    assert record.registration.license_number == "LPC-A 81234"
