"""Stage three: the program so far, judged by the version in force on the view's date."""

from __future__ import annotations

import pytest

from services.compliance.tests.unit.engine.given import (
    D,
    Supervisee,
    counted,
    evaluate,
    leave,
    outcomes,
    rule,
    verdicts,
    version,
)

pytestmark = pytest.mark.unit


def test_ca1_hours_older_than_six_years_no_longer_count_one_verdict_a_month() -> None:
    # Given a CA AMFT's hours of March 2019 and June 2020, under CA1's six-year lookback
    lookback = rule("hours_lookback", "ca1-six-years", years=6, src="CA1")
    supervisee = (
        Supervisee(track="CA-AMFT", registered_on="2019-01-07")
        .agreement(start="2019-01-07", end="2027-12-31")
        .practice("2019-03-04", 20)
        .session("2019-03-05", 60)
        .session("2020-06-02", 60)
    )

    in_june = evaluate(supervisee, version(lookback), "2025-06-15")
    in_july = evaluate(supervisee, version(lookback), "2025-07-01")

    (expired,) = verdicts(in_june, "ca1-six-years")
    assert expired.reason == (
        "hours of 2019-03 are more than 6 years old on 2025-06-15 and no longer count (CA1): "
        "1 h of supervision, 20 h of practice"
    )
    assert expired.not_counted.supervision_minutes == 60
    assert expired.not_counted.direct_minutes == 1200
    assert counted(in_june) == {"s1": 0, "s2": 60}
    # The same month keeps the same verdict, whatever the day of the view.
    assert [v.verdict_id for v in verdicts(in_july, "ca1-six-years")] == [expired.verdict_id]


def test_tx5_supervision_past_the_longest_duration_is_a_finding() -> None:
    longest = rule(
        "duration_max",
        "tx5-48-months",
        months=48,
        severity="finding",
        src="TX5",
        confidence="secondary",
    )
    supervisee = (
        Supervisee(track="TX-LMSW-TO-LCSW", registered_on="2020-01-06")
        .agreement(start="2020-01-06", end="2025-12-31")
        .session("2023-12-12")
        .session("2024-02-10")
    )

    before = evaluate(supervisee, version(longest), "2023-12-31")
    after = evaluate(supervisee, version(longest), "2024-03-01")

    assert outcomes(before, "tx5-48-months")[0].status == "met"
    (finding,) = verdicts(after, "tx5-48-months")
    assert "it may last at most 48 months, to 2024-01-05 (TX5)" in finding.reason
    assert "since then 1 h of supervision" in finding.reason
    assert finding.evidence_event_ids == ("evt-s2",)


def test_tx2_three_supervisors_at_once_is_a_finding_for_the_days_it_lasted() -> None:
    two = rule(
        "concurrent_supervisors_max", "tx2-two", supervisors=2, severity="finding", src="TX2"
    )
    supervisee = (
        Supervisee()
        .agreement(supervisor="sup-1")
        .agreement(supervisor="sup-2", start="2026-02-01")
        .agreement(supervisor="sup-3", start="2026-03-01", terminated_on="2026-03-31")
    )

    evaluation = evaluate(supervisee, version(two), "2026-05-01")

    (finding,) = verdicts(evaluation, "tx2-two")
    assert finding.reason == (
        "from 2026-03-01 to 2026-03-31 under 3 supervisors at once (sup-1, sup-2, sup-3); the "
        "board allows 2 (TX2)"
    )
    (outcome,) = outcomes(evaluation, "tx2-two")
    assert (outcome.measured, outcome.required) == (3, 2)


QUARTERLY = rule(
    "evaluation_cadence", "nc-quarterly-evaluation", every_months=3, severity="finding", src="NC5"
)


def test_an_evaluation_overdue_is_a_finding_and_one_due_soon_puts_at_risk() -> None:
    # Given an agreement from January 5 and one evaluation, on April 1 (on time)
    supervisee = Supervisee(track="NC-LCMHCA").agreement().evaluation("2026-04-01")

    soon = evaluate(supervisee, version(QUARTERLY), "2026-06-15")
    overdue = evaluate(supervisee, version(QUARTERLY), "2026-07-20")

    (outcome,) = outcomes(soon, "nc-quarterly-evaluation")
    assert (outcome.status, outcome.risk) == ("running", "at_risk")
    assert soon.status.level == "at_risk"
    assert soon.status.reasons[0].kind == "evaluation_due"
    assert "an evaluation is due on 2026-07-01, 16 days left" in soon.status.reasons[0].detail
    (finding,) = verdicts(overdue, "nc-quarterly-evaluation")
    assert finding.on == D("2026-07-01")
    assert "none is signed by 2026-07-20" in finding.reason


def test_an_evaluation_signed_late_stays_a_finding_and_starts_the_clock_again() -> None:
    supervisee = Supervisee(track="NC-LCMHCA").agreement().evaluation("2026-04-20")

    evaluation = evaluate(supervisee, version(QUARTERLY), "2026-07-01")

    (finding,) = verdicts(evaluation, "nc-quarterly-evaluation")
    assert "due on 2026-04-05 was signed on 2026-04-20, 15 days late" in finding.reason


def test_approved_leave_moves_the_evaluation_due_date_later_by_its_days() -> None:
    supervisee = Supervisee(track="NC-LCMHCA").agreement()

    evaluation = evaluate(
        supervisee, version(QUARTERLY), "2026-04-20", leaves=[leave("2026-02-01", "2026-02-20")]
    )

    assert verdicts(evaluation, "nc-quarterly-evaluation") == []
    assert "due on 2026-04-25" in evaluation.status.reasons[0].detail


def test_ca3_an_agreement_that_ends_asks_an_evaluation_at_termination() -> None:
    annual = rule(
        "evaluation_cadence",
        "ca3-evaluations",
        every_months=12,
        at_termination=True,
        severity="finding",
        src="CA3",
        confidence="secondary",
    )
    missing = Supervisee(track="CA-AMFT").agreement(terminated_on="2026-03-31")
    done = Supervisee(track="CA-AMFT").agreement(terminated_on="2026-03-31")
    done.evaluation("2026-03-31", trigger="termination")

    found = evaluate(missing, version(annual), "2026-04-15")
    met = evaluate(done, version(annual), "2026-04-15")

    (finding,) = verdicts(found, "ca3-evaluations")
    assert "agreement agr-1 with sup-1 ended on 2026-03-31" in finding.reason
    assert "is not on the record" in finding.reason
    assert verdicts(met, "ca3-evaluations") == []


def test_fl1_two_group_sessions_with_no_individual_between_them_is_a_finding() -> None:
    alternate = rule(
        "group_alternates_with_individual",
        "fl-alternate",
        severity="finding",
        src="FL1",
        confidence="secondary",
    )
    supervisee = (
        Supervisee(track="FL-RMHCI")
        .agreement()
        .session("2026-03-03", format="group")
        .session("2026-03-10", format="group")
        .session("2026-03-17")
        .session("2026-03-24", format="group")
    )

    evaluation = evaluate(supervisee, version(alternate), "2026-03-31")

    (finding,) = verdicts(evaluation, "fl-alternate")
    assert finding.session_id == "s2"
    assert "follows the group session of 2026-03-03" in finding.reason
    assert {s.session_id: s.verdict_ids for s in evaluation.sessions}["s2"] == (finding.verdict_id,)


def test_il6_four_hours_a_month_on_average_over_the_months_of_practice() -> None:
    average = rule(
        "min_supervision_per_window",
        "il6-average",
        window="calendar_month",
        hours=4,
        averaged=True,
        severity="finding",
        src="IL6",
    )
    supervisee = (
        Supervisee(track="IL-LCSW", registered_on="2026-01-05")
        .agreement()
        .practising("2026-01-05", "2026-03-23", 20)
        .session("2026-01-06", 360)
        .session("2026-02-03", 60)
        .session("2026-03-03", 240)
    )

    short = evaluate(supervisee, version(average), "2026-04-10")
    supervisee.session("2026-03-10", 60)
    enough = evaluate(supervisee, version(average), "2026-04-10")

    (finding,) = verdicts(short, "il6-average")
    assert "3.67 h of supervision a window on average over 3 windows" in finding.reason
    assert outcomes(enough, "il6-average")[0].status == "met"
