"""Stage two, first: caps and shares decide what of a window (or of the program) counts. The
latest sessions are the ones beyond a cap, cut to the minute; a window still running is judged
when it ends."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.compliance.tests.unit.engine.given import (
    Supervisee,
    counted,
    evaluate,
    outcome_in,
    outcomes,
    rule,
    verdicts,
    version,
)

pytestmark = pytest.mark.unit

TX6_CAP = rule(
    "max_countable_supervision_per_window",
    "tx6-ten-hours",
    window="calendar_month",
    hours=10,
    src="TX6",
)


def twelve_hours_in_march(supervisee: Supervisee) -> Supervisee:
    for day in ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"):
        supervisee.session(day, 120)
    return supervisee.session("2026-03-25", 90).session("2026-03-30", 150)


def test_tx6_a_twelve_hour_month_counts_ten_the_latest_two_hours_do_not() -> None:
    # Given a TX LMSW with 12 h of supervision in March, under the 10 h monthly cap (TX6)
    supervisee = twelve_hours_in_march(Supervisee(track="TX-LMSW-TO-LCSW").agreement())

    evaluation = evaluate(supervisee, version(TX6_CAP), "2026-04-15")

    (void,) = verdicts(evaluation, "tx6-ten-hours")
    assert void.not_counted.supervision_minutes == 120
    assert void.window is not None and str(void.window.start) == "2026-03-01"
    assert void.reason == (
        "12 h of supervision in the calendar month of March 2026; no more than 10 h count "
        "(TX6): the latest 2 h do not"
    )
    # The latest session gives up 120 of its 150 minutes; the others count whole.
    assert counted(evaluation) == {"s1": 120, "s2": 120, "s3": 120, "s4": 120, "s5": 90, "s6": 30}
    assert evaluation.progress.supervision.counted_minutes == 600


def test_a_month_still_running_above_the_cap_is_running_and_nothing_is_withdrawn_yet() -> None:
    supervisee = twelve_hours_in_march(Supervisee(track="TX-LMSW-TO-LCSW").agreement())

    evaluation = evaluate(supervisee, version(TX6_CAP), "2026-03-30")

    assert verdicts(evaluation, "tx6-ten-hours") == []
    march = outcome_in(evaluation, "tx6-ten-hours", "2026-03-01")
    assert march.status == "running" and "2 h above the cap" in march.reason
    assert sum(counted(evaluation).values()) == 720


def test_ca4_practice_above_forty_hours_a_week_does_not_count_its_indirect_hours_first() -> None:
    # Given 30 direct and 15 indirect hours in one week, under CA's 40-hour week (CA4)
    cap = rule("practice_cap_per_window", "ca4-forty", window="calendar_week", hours=40, src="CA4")
    supervisee = Supervisee(track="CA-ASW").agreement().practice("2026-03-02", 30, 15)

    evaluation = evaluate(supervisee, version(cap), "2026-03-31")

    (void,) = verdicts(evaluation, "ca4-forty")
    assert void.not_counted.indirect_minutes == 300
    assert void.not_counted.direct_minutes == 0
    (week,) = evaluation.practice
    assert (week.direct_counted_minutes, week.indirect_counted_minutes) == (1800, 600)
    assert evaluation.progress.direct_client.counted_minutes == 1800


def test_tx1_group_counts_up_to_half_the_latest_group_minutes_beyond_it_do_not() -> None:
    # Given 1 h individual then two 2 h group sessions, under TX1's half-group cap
    share = rule("group_share_max", "tx1-group-half", max_share=Decimal("0.5"), src="TX1")
    supervisee = (
        Supervisee()
        .agreement()
        .session("2026-03-02", 60)
        .session("2026-03-09", 120, format="group")
        .session("2026-03-16", 120, format="group")
    )

    evaluation = evaluate(supervisee, version(share), "2026-03-31")

    (void,) = verdicts(evaluation, "tx1-group-half")
    assert void.window is None and void.not_counted.supervision_minutes == 180
    assert "group supervision is 80% of 5 h over the program so far" in void.reason
    assert counted(evaluation) == {"s1": 60, "s2": 60, "s3": 0}


def test_nc2_only_group_supervision_is_an_individual_share_finding() -> None:
    # Given North Carolina's 75% individual (NC2/NC3), as a finding
    share = rule(
        "individual_share_min",
        "nc-individual",
        min_share=Decimal("0.75"),
        severity="finding",
        src="NC2",
    )
    supervisee = (
        Supervisee(track="NC-LCMHCA")
        .agreement()
        .session("2026-03-03", 120, format="group")
        .session("2026-03-10", 120, format="group")
    )

    evaluation = evaluate(supervisee, version(share), "2026-03-31")

    (finding,) = verdicts(evaluation, "nc-individual")
    assert finding.severity == "finding" and finding.not_counted.nothing
    assert "individual supervision is 0% of 4 h" in finding.reason
    assert "at least 75%" in finding.reason
    assert evaluation.status.level == "out_of_compliance"
    assert counted(evaluation) == {"s1": 120, "s2": 120}


def test_an_individual_share_that_voids_withdraws_the_latest_group_minutes_beyond_it() -> None:
    share = rule("individual_share_min", "share", min_share=Decimal("0.75"))
    supervisee = (
        Supervisee()
        .agreement()
        .session("2026-03-03", 60, format="group")
        .session("2026-03-10", 60)
        .session("2026-03-17", 60, format="group")
    )

    evaluation = evaluate(supervisee, version(share), "2026-03-31")

    # 60 individual minutes allow 20 of group: 100 of the 120 group minutes go, latest first.
    assert counted(evaluation) == {"s1": 20, "s2": 60, "s3": 0}


def test_fl2_half_in_person_and_the_first_session_in_person() -> None:
    in_person = rule(
        "modality_share_min",
        "fl-in-person",
        modality="in_person",
        min_share=Decimal("0.5"),
        first_session=True,
        severity="finding",
        src="FL2",
    )
    supervisee = (
        Supervisee(track="FL-RMHCI")
        .agreement()
        .session("2026-03-03", 60, modality="video")
        .session("2026-03-10", 60)
        .session("2026-03-17", 60, modality="video")
    )

    evaluation = evaluate(supervisee, version(in_person), "2026-03-31")

    share, first = sorted(verdicts(evaluation, "fl-in-person"), key=lambda v: v.session_id or "")
    assert "supervision in person is 33.3% of 3 h" in share.reason
    assert first.session_id == "s1" and "the first session counted" in first.reason
    (outcome,) = outcomes(evaluation, "fl-in-person")
    assert outcome.status == "violated" and len(outcome.verdict_ids) == 2


def test_a_windowed_share_is_judged_per_window_and_a_running_window_waits() -> None:
    monthly = rule(
        "individual_share_min",
        "monthly-share",
        min_share=Decimal("0.5"),
        window="calendar_month",
        severity="finding",
    )
    supervisee = (
        Supervisee()
        .agreement()
        .session("2026-02-03", 60, format="group")
        .session("2026-03-03", 60, format="group")
    )

    evaluation = evaluate(supervisee, version(monthly), "2026-03-20")

    assert outcome_in(evaluation, "monthly-share", "2026-02-01").status == "violated"
    assert outcome_in(evaluation, "monthly-share", "2026-03-01").status == "running"
    assert outcome_in(evaluation, "monthly-share", "2026-01-01").status == "not_applicable"
