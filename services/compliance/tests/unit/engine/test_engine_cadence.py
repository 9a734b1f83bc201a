"""Stage two, then: what each window must hold, judged on what counts once the caps have had
their say. Only while practising, never while on approved leave, never a violation before the
window ends."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.compliance.tests.unit.engine.given import (
    Supervisee,
    counted,
    evaluate,
    leave,
    outcome_in,
    rule,
    verdicts,
    version,
)

pytestmark = pytest.mark.unit

TX1 = rule(
    "min_supervision_per_window",
    "tx1-four-hours",
    window="calendar_month",
    hours=4,
    severity="finding",
    src="TX1",
    min_leave_days=30,
)


def practising_in_march(supervisee: Supervisee) -> Supervisee:
    for monday in ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"):
        supervisee.practice(monday, 20)
    return supervisee


def test_tx1_three_and_a_half_hours_in_a_month_of_practice_is_a_finding() -> None:
    # Given a TX LPC Associate who practised all March with 3.5 h of supervision (TX1: 4 h)
    supervisee = practising_in_march(Supervisee().agreement())
    supervisee.session("2026-03-03", 90).session("2026-03-17", 90).session("2026-03-24", 30)

    # When judged in April
    evaluation = evaluate(supervisee, version(TX1), "2026-04-15")

    # Then March is a finding, February (no practice) is not applicable, nothing is withdrawn
    (finding,) = verdicts(evaluation, "tx1-four-hours")
    assert finding.severity == "finding" and finding.not_counted.nothing
    assert finding.reason == (
        "3.5 h of supervision in the calendar month of March 2026, with 80 h of practice; the "
        "board asks at least 4 h (TX1)"
    )
    assert finding.evidence_event_ids[:3] == ("evt-s1", "evt-s2", "evt-s3")
    march = outcome_in(evaluation, "tx1-four-hours", "2026-03-01")
    assert (march.status, march.measured, march.required) == ("violated", 210, 240)
    assert outcome_in(evaluation, "tx1-four-hours", "2026-02-01").status == "not_applicable"
    assert evaluation.status.level == "out_of_compliance"


def test_tx1_four_hours_in_the_month_is_met() -> None:
    supervisee = practising_in_march(Supervisee().agreement())
    supervisee.session("2026-03-03", 120).session("2026-03-17", 120)

    evaluation = evaluate(supervisee, version(TX1), "2026-04-15")

    assert outcome_in(evaluation, "tx1-four-hours", "2026-03-01").status == "met"
    assert evaluation.verdicts == ()
    assert evaluation.status.level == "compliant"


def test_a_month_still_running_short_with_few_days_left_is_at_risk_never_a_violation() -> None:
    supervisee = Supervisee().agreement().practising("2026-03-02", "2026-04-20", 20)
    supervisee.session("2026-03-03", 240).session("2026-04-07", 60)

    early = evaluate(supervisee, version(TX1), "2026-04-10")
    late = evaluate(supervisee, version(TX1), "2026-04-27")

    assert outcome_in(early, "tx1-four-hours", "2026-04-01").risk == "on_track"
    april = outcome_in(late, "tx1-four-hours", "2026-04-01")
    assert (april.status, april.risk) == ("running", "at_risk")
    assert april.reason == (
        "1 h of supervision in the calendar month of April 2026 so far, 3 days left"
    )
    assert late.verdicts == ()
    assert late.status.level == "at_risk"
    (reason,) = late.status.reasons
    assert (reason.kind, reason.rule_id) == ("window_at_risk", "tx1-four-hours")


def test_tx1_an_approved_leave_of_a_month_suspends_the_months_it_mostly_covers() -> None:
    # Given an extended leave from April 10 to May 20, approved in writing (TX1's exception)
    supervisee = Supervisee().agreement().practising("2026-04-06", "2026-05-25", 20)
    away = [leave("2026-04-10", "2026-05-20")]

    evaluation = evaluate(supervisee, version(TX1), "2026-06-10", leaves=away)

    # April has 21 of 30 days on leave and May 20 of 31: both are not applicable.
    april = outcome_in(evaluation, "tx1-four-hours", "2026-04-01")
    assert (april.status, april.reason) == ("not_applicable", "on approved leave 21 of the 30 days")
    assert outcome_in(evaluation, "tx1-four-hours", "2026-05-01").status == "not_applicable"
    assert evaluation.verdicts == ()


def test_a_leave_shorter_than_the_rule_asks_or_covering_under_half_does_not_suspend() -> None:
    supervisee = Supervisee().agreement().practising("2026-03-30", "2026-05-04", 20)
    short = [leave("2026-04-01", "2026-04-20")]  # 20 days: TX1 asks a month
    few_days = rule("min_supervision_per_window", "weekly", window="calendar_month", hours=4)
    part = [leave("2026-04-01", "2026-04-14")]  # 14 of 30 days

    under_tx1 = evaluate(supervisee, version(TX1), "2026-05-10", leaves=short)
    under_half = evaluate(supervisee, version(few_days), "2026-05-10", leaves=part)

    assert outcome_in(under_tx1, "tx1-four-hours", "2026-04-01").status == "violated"
    assert outcome_in(under_half, "weekly", "2026-04-01").status == "violated"


# --- California: a unit a week at each work setting ----------------------------------------

CA_UNIT = {"individual": 1, "triadic": 1, "group": Decimal("0.5")}
WEEKLY_UNIT = rule(
    "min_supervision_per_window",
    "ca-asw-unit",
    window="calendar_week",
    hours=1,
    per_site=True,
    weights=CA_UNIT,
    src="TYH6",
    confidence="secondary",
)


def test_tyh3_a_week_without_a_unit_at_a_setting_counts_no_hours_that_week_there() -> None:
    # Given a CA ASW at two settings; in the week of March 2 one hour of group (half a unit) at
    # site-a and nothing at site-b; the next week an hour of individual at site-a
    supervisee = (
        Supervisee(track="CA-ASW")
        .agreement()
        .practice("2026-03-02", 20, 5)
        .practice("2026-03-02", 6, site="site-b")
        .practice("2026-03-09", 20, 5)
        .session("2026-03-03", 60, format="group")
        .session("2026-03-10", 60)
    )

    evaluation = evaluate(supervisee, version(WEEKLY_UNIT), "2026-03-31")

    by_site = {v.site_id: v for v in verdicts(evaluation, "ca-asw-unit")}
    assert set(by_site) == {"site-a", "site-b"}
    a = by_site["site-a"]
    assert a.reason == (
        "0.5 h of supervision (group counts 0.5) in the week of 2026-03-02 at site-a, with 25 h "
        "of practice; the board asks at least 1 h (TYH6)"
    )
    assert (a.not_counted.supervision_minutes, a.not_counted.direct_minutes) == (60, 1200)
    assert a.not_counted.indirect_minutes == 300
    assert by_site["site-b"].not_counted.direct_minutes == 360
    assert counted(evaluation) == {"s1": 0, "s2": 60}
    assert outcome_in(evaluation, "ca-asw-unit", "2026-03-09", "site-a").status == "met"
    assert evaluation.progress.direct_client.counted_minutes == 1200


def test_tyh6_a_week_of_more_than_ten_direct_hours_asks_a_second_unit() -> None:
    extra = rule(
        "extra_supervision_above_practice",
        "ca-asw-extra",
        window="calendar_week",
        direct_hours_above=10,
        extra_hours=1,
        adds_to="ca-asw-unit",
        per_site=True,
        weights=CA_UNIT,
        severity="finding",
        src="TYH6",
        confidence="secondary",
    )
    supervisee = (
        Supervisee(track="CA-ASW")
        .agreement()
        .practice("2026-03-02", 12)
        .practice("2026-03-09", 8)
        .session("2026-03-03", 60)
        .session("2026-03-10", 60)
    )

    evaluation = evaluate(supervisee, version(WEEKLY_UNIT, extra), "2026-03-31")

    (finding,) = verdicts(evaluation, "ca-asw-extra")
    assert "above 10 h of direct client hours the board asks 2 h (TYH6)" in finding.reason
    assert outcome_in(evaluation, "ca-asw-extra", "2026-03-09", "site-a").status == (
        "not_applicable"
    )
    assert counted(evaluation) == {"s1": 60, "s2": 60}


# --- supervision per hours of practice -----------------------------------------------------


def test_fl1_an_hour_of_supervision_for_every_fifteen_direct_hours() -> None:
    per_fifteen = rule(
        "supervision_per_practice_hours",
        "fl-per-fifteen",
        supervision_hours=1,
        per_practice_hours=15,
        practice="direct",
        severity="finding",
        src="FL1",
        confidence="secondary",
    )
    supervisee = (
        Supervisee(track="FL-RMHCI")
        .agreement()
        .practice("2026-03-02", 15)
        .practice("2026-03-09", 15)
        .practice("2026-03-16", 15)
        .session("2026-03-03", 60)
        .session("2026-03-10", 60)
    )

    evaluation = evaluate(supervisee, version(per_fifteen), "2026-03-31")

    (finding,) = verdicts(evaluation, "fl-per-fifteen")
    assert "2 h of supervision for 45 h of direct client hours over the program so far" in (
        finding.reason
    )
    assert "15 h of practice are not covered" in finding.reason


def nc3(exclude: bool) -> object:
    return rule(
        "supervision_per_practice_hours",
        "nc3-per-forty",
        supervision_hours=1,
        per_practice_hours=40,
        window="calendar_week",
        weights={"group": Decimal("0.5")},
        exclude_individual_supervision_from_practice=exclude,
        severity="finding",
        src="NC3",
    )


def test_nc3_individual_supervision_is_not_practice_but_group_supervision_is() -> None:
    # Given a week of 39 client hours, one hour of individual and one of group supervision
    supervisee = (
        Supervisee(track="NC-LCMHCA")
        .agreement()
        .practice("2026-03-02", 30, 9)
        .session("2026-03-03", 60)
        .session("2026-03-05", 60, format="group")
    )

    excluded = evaluate(supervisee, version(nc3(True)), "2026-03-31")  # type: ignore[arg-type]
    included = evaluate(supervisee, version(nc3(False)), "2026-03-31")  # type: ignore[arg-type]

    # 39 + 1 (group) = 40 practice hours ask 1 h; 1 h + 1 h x 0.5 = 1.5 h weighted: met.
    week = outcome_in(excluded, "nc3-per-forty", "2026-03-02")
    assert (week.status, week.measured, week.required) == ("met", 90, 60)
    # Counting individual supervision as practice too: 41 h ask 61.5 minutes, still met.
    assert outcome_in(included, "nc3-per-forty", "2026-03-02").required == Decimal("61.5")


def test_nc3_supervision_rests_on_raw_data_in_every_month_with_supervision() -> None:
    raw = rule(
        "raw_data_required", "nc3-raw-data", window="calendar_month", severity="finding", src="NC3"
    )
    supervisee = (
        Supervisee(track="NC-LCMHCA")
        .agreement()
        .session("2026-02-03", techniques=("case_review",))
        .session("2026-03-03", techniques=("case_review", "recording_review"))
    )

    evaluation = evaluate(supervisee, version(raw), "2026-04-15")

    (finding,) = verdicts(evaluation, "nc3-raw-data")
    assert finding.window is not None and str(finding.window.start) == "2026-02-01"
    assert "direct observation or recording review" in finding.reason
    assert outcome_in(evaluation, "nc3-raw-data", "2026-03-01").status == "met"


# --- the supervisor's sign-off ------------------------------------------------------------

OH3_SIGN = rule(
    "sign_off_cadence",
    "oh3-quarterly-log",
    window="calendar_quarter",
    within_days=30,
    severity="finding",
    src="OH3",
)


def first_quarter(supervisee: Supervisee) -> Supervisee:
    return supervisee.agreement().session("2026-01-13").session("2026-03-10")


def test_oh3_a_quarter_signed_within_thirty_days_is_met_one_signed_late_is_a_finding() -> None:
    on_time = first_quarter(Supervisee(track="OH-LPC-TO-LPCC"))
    for month in ("2026-01", "2026-02", "2026-03"):
        on_time.signed(month, "2026-04-10")
    late = first_quarter(Supervisee(track="OH-LPC-TO-LPCC"))
    late.signed("2026-01", "2026-02-02").signed("2026-02", "2026-03-02")
    late.signed("2026-03", "2026-05-05")

    met = evaluate(on_time, version(OH3_SIGN), "2026-06-01")
    found = evaluate(late, version(OH3_SIGN), "2026-06-01")

    assert outcome_in(met, "oh3-quarterly-log", "2026-01-01").status == "met"
    (finding,) = verdicts(found, "oh3-quarterly-log")
    assert "2026-03 was signed on 2026-05-05, after 2026-04-30" in finding.reason
    assert finding.on.isoformat() == "2026-04-30"


def test_oh3_a_quarter_not_yet_signed_within_its_thirty_days_is_running() -> None:
    supervisee = first_quarter(Supervisee(track="OH-LPC-TO-LPCC"))

    evaluation = evaluate(supervisee, version(OH3_SIGN), "2026-04-20")

    q1 = outcome_in(evaluation, "oh3-quarterly-log", "2026-01-01")
    assert (q1.status, q1.risk) == ("running", "on_track")
    assert "to be signed by 2026-04-30, 10 days left" in q1.reason
    assert evaluation.verdicts == ()


def test_a_minimum_that_applies_without_practice_asks_nothing_outside_any_agreement() -> None:
    every_week = rule(
        "min_supervision_per_window",
        "every-week",
        window="calendar_week",
        hours=1,
        only_while_practising=False,
        severity="finding",
    )
    supervisee = Supervisee().agreement(start="2026-03-02", end="2026-03-15")
    supervisee.session("2026-03-03")

    evaluation = evaluate(supervisee, version(every_week), "2026-03-31")

    assert outcome_in(evaluation, "every-week", "2026-03-02").status == "met"
    assert outcome_in(evaluation, "every-week", "2026-03-09").status == "violated"
    assert outcome_in(evaluation, "every-week", "2026-03-16").status == "not_applicable"
