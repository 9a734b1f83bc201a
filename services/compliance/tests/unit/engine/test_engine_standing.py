"""A supervisee's standing on a date, resolutions of verdicts, and progress toward the
license."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from compliance.domain.engine import verdict_id
from services.compliance.tests.unit.engine.given import (
    D,
    Supervisee,
    counted,
    credentials,
    designated,
    evaluate,
    figure,
    licensed,
    requirements,
    resolution,
    rule,
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
)


def short_march() -> Supervisee:
    supervisee = Supervisee().agreement().practising("2026-03-02", "2026-03-23", 20)
    return supervisee.session("2026-03-03", 180)


def test_a_verdict_keeps_its_id_whatever_the_day_of_the_view() -> None:
    in_april = evaluate(short_march(), version(TX1), "2026-04-15")
    in_june = evaluate(short_march(), version(TX1), "2026-06-30")

    (april,) = in_april.verdicts
    assert [v.verdict_id for v in in_june.verdicts] == [april.verdict_id]
    assert april.verdict_id == verdict_id("tx1-four-hours", "see-1", "calendar_month/2026-03-01")


def test_a_resolved_finding_stays_listed_with_who_when_why_and_no_longer_counts_against() -> None:
    (finding,) = evaluate(short_march(), version(TX1), "2026-04-15").verdicts
    waived = [resolution(finding.verdict_id, on="2026-04-20")]

    before = evaluate(short_march(), version(TX1), "2026-04-19", resolutions=waived)
    after = evaluate(short_march(), version(TX1), "2026-04-21", resolutions=waived)

    assert before.status.level == "out_of_compliance"
    assert after.status.level == "compliant"
    (listed,) = after.verdicts
    assert listed.resolved and listed.resolution is not None
    assert (listed.resolution.by, listed.resolution.on) == ("officer-1", D("2026-04-20"))
    assert listed.resolution.kind == "documented_exception"
    assert after.open_verdicts == ()


def test_a_resolved_void_changes_the_standing_not_the_hours() -> None:
    phone = rule("modality_not_countable", "oh-no-phone", modality="phone", src="OH3")
    supervisee = Supervisee(track="OH-LPC-TO-LPCC").agreement()
    supervisee.session("2026-03-03", modality="phone")
    (void,) = evaluate(supervisee, version(phone), "2026-03-31").verdicts

    evaluation = evaluate(
        supervisee,
        version(phone),
        "2026-04-30",
        resolutions=[resolution(void.verdict_id, "2026-04-01", kind="waiver")],
    )

    assert evaluation.status.level == "compliant"
    assert counted(evaluation) == {"s1": 0}


def test_a_supervisors_license_expiring_within_thirty_days_puts_at_risk() -> None:
    held = credentials(licensed(expires="2026-04-20"), designated(expires="2026-06-30"))
    supervisee = Supervisee().agreement()

    evaluation = evaluate(supervisee, version(), "2026-04-01", held)

    assert evaluation.status.level == "at_risk"
    (reason,) = evaluation.status.reasons
    assert reason.kind == "credential_expiring" and reason.supervisor_id == "sup-1"
    assert reason.detail == (
        "supervisor sup-1's LPC license LPC sup-1 expires on 2026-04-20, in 19 days"
    )
    later = evaluate(
        supervisee,
        version(),
        "2026-06-10",
        credentials(licensed(), designated(expires="2026-06-30")),
    )
    assert [r.detail for r in later.status.reasons] == [
        "supervisor sup-1's LPC-S designation expires on 2026-06-30, in 20 days"
    ]


def test_a_supervisee_with_nothing_wrong_is_compliant_without_reasons() -> None:
    evaluation = evaluate(Supervisee().agreement(), version(TX1), "2026-03-31")

    assert (evaluation.status.level, evaluation.status.reasons) == ("compliant", ())


# --- progress ------------------------------------------------------------------------------


def twelve_weeks() -> Supervisee:
    supervisee = Supervisee(registered_on="2026-01-05").agreement(start="2026-01-05")
    supervisee.practising("2026-01-05", "2026-03-23", 10)
    monday = D("2026-01-06")
    for week in range(12):
        supervisee.session((monday + dt.timedelta(weeks=week)).isoformat(), 60)
    return supervisee


def test_progress_counts_hours_against_the_requirements_and_months_against_the_minimum() -> None:
    small = version(needs=requirements(total=100, direct=50, supervision=None, min_months=6))

    evaluation = evaluate(twelve_weeks(), small, "2026-03-29")

    progress = evaluation.progress
    assert progress.direct_client.counted_minutes == 120 * 60
    assert progress.total.counted_minutes == (120 + 12) * 60
    assert progress.supervision.counted_minutes == 12 * 60
    assert progress.supervision.required_minutes is None  # unknown, said so
    assert progress.total.remaining_minutes == 0
    assert (progress.duration.months_elapsed, progress.duration.weeks_elapsed) == (2, 12)
    assert progress.duration.minimum_reached_on == D("2026-07-04")
    assert progress.duration.minimum_met is False
    # The hours are there; the shortest duration is what is left.
    assert progress.projected_completion == D("2026-07-04")


def test_the_projected_completion_paces_the_remaining_hours_on_the_recent_weeks() -> None:
    evaluation = evaluate(
        twelve_weeks(), version(needs=requirements(3000, 1500, 100)), "2026-03-29"
    )

    # 132 h counted over the last 12 weeks (84 days); 2,868 h remain of 3,000: 1,826 days.
    assert evaluation.progress.projected_completion == D("2026-03-29") + dt.timedelta(days=1826)
    assert evaluation.progress.projection_note == "at the pace of the last 12 weeks"
    assert evaluation.progress.total.required_minutes == 180_000


def test_no_pace_or_no_requirement_projects_nothing() -> None:
    idle = Supervisee().agreement()
    unknown = requirements(total=None, direct=None, supervision=None)

    no_pace = evaluate(idle, version(), "2026-03-29")
    nothing_required = evaluate(twelve_weeks(), version(needs=unknown), "2026-03-29")

    assert no_pace.progress.projected_completion is None
    assert nothing_required.progress.projected_completion is None
    assert nothing_required.progress.projection_note == "the pack states no requirement to pace"


def test_an_unconfirmed_requirement_is_shown_with_its_confidence() -> None:
    ca = requirements()
    unconfirmed = ca.model_copy(
        update={
            "total_hours": figure(3200).model_copy(
                update={"confidence": "unconfirmed", "note": "older statute text"}
            )
        }
    )

    evaluation = evaluate(twelve_weeks(), version(needs=unconfirmed), "2026-03-29")

    assert evaluation.progress.total.required_minutes == 3200 * 60
    assert evaluation.progress.total.confidence == "unconfirmed"
    assert evaluation.progress.total.note == "older statute text"
    assert evaluation.progress.direct_client.counted_minutes == Decimal(7200)
