"""What counts, as of a date: a session as corrected (an amendment or a void says what the
session was, for every date once known), administrative supervision never, sessions under an
agreement the board has not approved not before the approval, and a supervisor's lapse flagged
for review, from the session's date, without dropping the hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from compliance.domain.agreements import (
    AgreementApproval,
    AgreementAsOf,
    AgreementFact,
    AgreementTermination,
    AgreementTerms,
    agreements_as_of,
)
from compliance.domain.facts import (
    LapseMark,
    SessionCorrection,
    SessionFigures,
    SupervisionSessionFact,
)
from compliance.domain.hours import hours_as_of
from compliance.domain.sessions import session_as_of

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


def session(
    session_id: str = "s1", date: str = "2026-03-02", **overrides: Any
) -> SupervisionSessionFact:
    fields: dict[str, Any] = {
        "session_id": session_id,
        "supervisee_id": "see-1",
        "date": D(date),
        "format": "individual",
        "modality": "in_person",
        "minutes": 60,
        "supervisor_id": "sup-1",
        "site_id": "site-a",
        "source_event_id": f"evt-{session_id}",
        "recorded_at": at(date, 18),
    }
    return SupervisionSessionFact(**(fields | overrides))


def amended(recorded: str, event: str = "evt-amend", **figures: Any) -> SessionCorrection:
    values: dict[str, Any] = {
        "format": "individual",
        "modality": "in_person",
        "date": D("2026-03-02"),
        "minutes": 60,
    }
    return SessionCorrection(
        change="amended",
        recorded_at=at(recorded),
        by="sup-1",
        reason="minutes mistyped",
        source_event_id=event,
        amended_to=SessionFigures(**(values | figures)),
    )


def voided(recorded: str, event: str = "evt-void") -> SessionCorrection:
    return SessionCorrection(
        change="voided",
        recorded_at=at(recorded),
        by="sup-1",
        reason="logged for the wrong supervisee",
        source_event_id=event,
    )


def agreement(
    agreement_id: str = "agr-1", *, needs_approval: bool = False, **overrides: Any
) -> AgreementFact:
    fields: dict[str, Any] = {
        "agreement_id": agreement_id,
        "supervisee_id": "see-1",
        "supervisor_id": "sup-1",
        "site_id": "site-a",
        "credential_track": "FL-RMHCI",
        "start_date": D("2026-01-01"),
        "terms": AgreementTerms(end_date=D("2027-12-31")),
        "board_approval_required": needs_approval,
        "recorded_at": at("2026-01-01"),
        "source_event_id": f"evt-{agreement_id}",
    }
    return AgreementFact(**(fields | overrides))


def approval(on: str) -> AgreementApproval:
    return AgreementApproval(
        approved_on=D(on),
        approval_reference="FL-2026-0042",
        recorded_at=at(on),
        source_event_id="evt-approved",
    )


def under(facts: list[AgreementFact], as_of: str) -> tuple[AgreementAsOf, ...]:
    return agreements_as_of(facts, D(as_of))


# --- amendments ---------------------------------------------------------------------------


def test_an_amendment_says_what_the_session_was_for_every_date_once_known() -> None:
    fact = session(corrections=(amended("2026-04-10", minutes=90),))

    as_of_march = hours_as_of([fact], D("2026-03-31"))
    known_before = fact.known_at(at("2026-04-09"))

    assert as_of_march.total_minutes == 90
    assert as_of_march.sessions[0].source_event_id == "evt-amend"
    assert as_of_march.sessions[0].source_event_ids == ("evt-s1", "evt-amend")
    # As known before the amendment was recorded: the session as logged.
    assert known_before is not None
    before = hours_as_of([known_before], D("2026-03-31"))
    assert before.total_minutes == 60
    assert before.sessions[0].source_event_id == "evt-s1"
    assert before.sessions[0].corrections == ()


def test_an_amended_session_keeps_what_was_first_logged_and_who_corrected_it() -> None:
    fact = session(corrections=(amended("2026-04-10", minutes=90, modality="video"),))

    (shown,) = hours_as_of([fact], D("2026-12-31")).sessions

    assert (shown.minutes, shown.modality) == (90, "video")
    assert (shown.logged.minutes, shown.logged.modality) == (60, "in_person")
    (correction,) = shown.corrections
    assert (correction.change, correction.by, correction.reason) == (
        "amended",
        "sup-1",
        "minutes mistyped",
    )


def test_the_latest_amendment_known_is_the_one_in_force() -> None:
    fact = session(
        corrections=(
            amended("2026-05-01", "evt-second", minutes=45),
            amended("2026-04-10", "evt-first", minutes=90),
        )
    )

    def minutes(known_at: dt.datetime) -> int:
        known = fact.known_at(known_at)
        assert known is not None
        return hours_as_of([known], D("2026-03-31")).total_minutes

    assert (minutes(at("2026-04-30")), minutes(at("2026-05-01"))) == (90, 45)


def test_an_amendment_moving_a_session_to_a_later_date_moves_it_out_of_earlier_views() -> None:
    fact = session(corrections=(amended("2026-03-03", date=D("2026-03-20")),))
    known_before = fact.known_at(at("2026-03-02", 20))

    assert hours_as_of([fact], D("2026-03-10")).sessions == ()
    assert hours_as_of([fact], D("2026-03-20")).sessions[0].date == D("2026-03-20")
    # As known before the amendment: held on the day first logged.
    assert known_before is not None
    assert hours_as_of([known_before], D("2026-03-10")).total_minutes == 60


def test_an_amendment_to_administrative_stops_the_session_counting_once_known() -> None:
    fact = session(corrections=(amended("2026-04-10", kind="administrative"),))
    known_before = fact.known_at(at("2026-04-09"))

    march = hours_as_of([fact], D("2026-03-31"))
    assert march.total_minutes == 0
    assert march.excluded_by_reason["administrative"] == 60
    assert known_before is not None
    assert hours_as_of([known_before], D("2026-03-31")).total_minutes == 60


# --- voids --------------------------------------------------------------------------------


def test_a_voided_session_counts_for_no_one_once_known_and_stays_listed() -> None:
    fact = session(corrections=(voided("2026-04-10"),))
    known_before = fact.known_at(at("2026-04-09"))

    after = hours_as_of([fact], D("2026-03-31"))

    assert known_before is not None
    assert hours_as_of([known_before], D("2026-03-31")).total_minutes == 60
    assert after.total_minutes == 0
    assert after.sessions == ()
    (excluded,) = after.excluded
    assert excluded.exclusion is not None
    assert excluded.exclusion.code == "voided"
    assert "sup-1" in excluded.exclusion.detail
    assert "wrong supervisee" in excluded.exclusion.detail
    assert excluded.source_event_ids == ("evt-s1", "evt-void")
    assert after.excluded_minutes == after.excluded_by_reason["voided"] == 60


def test_an_amendment_after_a_void_does_not_bring_the_session_back() -> None:
    fact = session(corrections=(voided("2026-04-10"), amended("2026-04-11", minutes=30)))

    summary = hours_as_of([fact], D("2026-12-31"))

    assert summary.total_minutes == 0
    assert summary.excluded[0].voided


# --- administrative -----------------------------------------------------------------------


def test_administrative_supervision_never_counts_and_is_listed_with_the_reason() -> None:
    summary = hours_as_of(
        [session("adm", kind="administrative", minutes=30), session("cl", minutes=60)],
        D("2026-12-31"),
    )

    assert summary.total_minutes == 60
    assert [s.session_id for s in summary.sessions] == ["cl"]
    (excluded,) = summary.excluded
    assert excluded.exclusion is not None
    assert excluded.exclusion.code == "administrative"
    assert summary.by_kind["administrative"].counted == 0
    assert summary.by_kind["administrative"].excluded == 30
    assert summary.by_kind["clinical"].counted == 60


# --- board approval -----------------------------------------------------------------------


def test_a_session_under_an_agreement_the_board_has_not_approved_does_not_count() -> None:
    fact = session(date="2026-03-02")
    agreements = under([agreement(needs_approval=True)], "2026-12-31")

    summary = hours_as_of([fact], D("2026-12-31"), agreements)

    assert summary.total_minutes == 0
    (excluded,) = summary.excluded
    assert excluded.exclusion is not None
    assert excluded.exclusion.code == "board_approval_missing"
    assert "agr-1" in excluded.exclusion.detail
    assert excluded.agreement_id == "agr-1"


def test_an_approval_counts_the_sessions_on_and_after_its_date_only() -> None:
    facts = [session("before", date="2026-03-01"), session("on", date="2026-03-02")]
    agreements = under(
        [agreement(needs_approval=True, approvals=(approval("2026-03-02"),))], "2026-12-31"
    )

    summary = hours_as_of(facts, D("2026-12-31"), agreements)

    assert [s.session_id for s in summary.sessions] == ["on"]
    assert [s.session_id for s in summary.excluded] == ["before"]


def test_an_approval_is_not_needed_where_the_track_does_not_require_one() -> None:
    summary = hours_as_of([session()], D("2026-12-31"), under([agreement()], "2026-12-31"))

    assert summary.total_minutes == 60
    assert summary.sessions[0].agreement_id == "agr-1"


def test_a_session_no_agreement_covers_is_counted_without_an_agreement() -> None:
    other_site = agreement(needs_approval=True, site_id="site-b")

    summary = hours_as_of([session()], D("2026-12-31"), under([other_site], "2026-12-31"))

    assert summary.total_minutes == 60
    assert summary.sessions[0].agreement_id is None


def test_a_session_after_the_agreement_was_terminated_does_not_fall_under_it() -> None:
    terminated = agreement(
        needs_approval=True,
        terminations=(
            AgreementTermination(
                terminated_on=D("2026-02-28"),
                reason="supervisor left",
                terminated_by="admin-1",
                recorded_at=at("2026-02-28"),
                source_event_id="evt-term",
            ),
        ),
    )

    (shown,) = hours_as_of([session()], D("2026-12-31"), under([terminated], "2026-12-31")).sessions

    assert shown.agreement_id is None


def test_of_two_covering_agreements_the_approved_one_governs() -> None:
    agreements = under(
        [
            agreement("agr-a", needs_approval=True),
            agreement("agr-b", needs_approval=True, approvals=(approval("2026-01-15"),)),
        ],
        "2026-12-31",
    )

    (shown,) = hours_as_of([session()], D("2026-12-31"), agreements).sessions

    assert shown.agreement_id == "agr-b"


# --- supervisor lapse -----------------------------------------------------------------------


def lapse(recorded: str) -> LapseMark:
    return LapseMark(
        license_id="lic-1",
        lapse="suspended",
        lapsed_since=D("2026-02-15"),
        recorded_at=at(recorded),
        source_event_id="evt-lapse",
    )


def test_a_lapse_marked_session_still_counts_and_is_flagged_for_review() -> None:
    summary = hours_as_of([session(lapse_marks=(lapse("2026-03-02"),))], D("2026-03-31"))

    (shown,) = summary.sessions
    assert summary.total_minutes == 60
    assert shown.flagged_for_review
    assert summary.flagged_minutes == 60
    assert shown.source_event_ids == ("evt-s1", "evt-lapse")


def test_a_lapse_marked_later_stands_from_the_sessions_date_once_known() -> None:
    fact = session(lapse_marks=(lapse("2026-04-20"),))
    known_before = fact.known_at(at("2026-04-19"))

    assert hours_as_of([fact], D("2026-03-31")).sessions[0].flagged_for_review
    assert known_before is not None
    assert not hours_as_of([known_before], D("2026-03-31")).sessions[0].flagged_for_review


# --- the facts themselves -----------------------------------------------------------------


def test_a_session_dated_after_the_view_is_not_shown() -> None:
    assert session_as_of(session(date="2026-03-02"), D("2026-03-01")) is None


def test_an_amendment_must_say_what_the_session_became_and_a_void_must_not() -> None:
    with pytest.raises(ValidationError, match="amended figures"):
        SessionCorrection(
            change="amended",
            recorded_at=at("2026-04-10"),
            by="sup-1",
            reason="r",
            source_event_id="e",
        )
    with pytest.raises(ValidationError, match="amended figures"):
        SessionCorrection(
            change="voided",
            recorded_at=at("2026-04-10"),
            by="sup-1",
            reason="r",
            source_event_id="e",
            amended_to=SessionFigures(
                format="individual", modality="video", date=D("2026-03-02"), minutes=60
            ),
        )
