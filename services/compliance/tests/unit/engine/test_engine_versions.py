"""A pack changes by new versions: each window is judged by the version in force on its first
day, each session by the one in force on its date; where none is, or a rule is unconfirmed or
its figure unknown, the engine says "not evaluated" and why, never guesses."""

from __future__ import annotations

import pytest

from services.compliance.tests.unit.engine.given import (
    D,
    Supervisee,
    counted,
    evaluate,
    outcome_in,
    outcomes,
    pack,
    packs,
    rule,
    verdicts,
    version,
)

pytestmark = pytest.mark.unit


def monthly(hours: int) -> object:
    return rule(
        "min_supervision_per_window",
        "monthly-minimum",
        window="calendar_month",
        hours=hours,
        severity="finding",
        src="T1",
    )


PHONE = rule("modality_not_countable", "no-phone", modality="phone", src="T2")
TWO_VERSIONS = pack(
    version(monthly(4), effective_from="2020-01-01", effective_to="2026-03-31"),  # type: ignore[arg-type]
    version(monthly(2), PHONE, effective_from="2026-04-01"),  # type: ignore[arg-type]
)


def test_windows_before_and_after_a_change_are_judged_by_their_own_version() -> None:
    # Given 3 h of supervision in March and in April, a phone session in each; the monthly
    # minimum drops from 4 h to 2 h on April 1, when phone supervision stops counting
    supervisee = Supervisee().agreement().practising("2026-03-02", "2026-04-27", 20)
    supervisee.session("2026-03-03", 120).session("2026-03-10", 60, modality="phone")
    supervisee.session("2026-04-07", 120).session("2026-04-14", 60, modality="phone")

    evaluation = evaluate(supervisee, TWO_VERSIONS, "2026-05-15")

    march = outcome_in(evaluation, "monthly-minimum", "2026-03-01")
    april = outcome_in(evaluation, "monthly-minimum", "2026-04-01")
    assert (march.status, march.required, march.pack_effective_from) == (
        "violated",
        240,
        D("2020-01-01"),
    )
    assert (april.status, april.required, april.pack_effective_from) == (
        "met",
        120,
        D("2026-04-01"),
    )
    (finding,) = verdicts(evaluation, "monthly-minimum")
    assert finding.pack_effective_from == D("2020-01-01")
    # The March phone session is judged by the old version, which counted it.
    assert counted(evaluation) == {"s1": 120, "s2": 60, "s3": 120, "s4": 0}
    (void,) = verdicts(evaluation, "no-phone")
    assert (void.session_id, void.pack_effective_from) == ("s4", D("2026-04-01"))


def test_a_window_before_any_version_is_not_evaluated_with_the_reason() -> None:
    late_pack = pack(version(monthly(4), PHONE, effective_from="2026-03-01"))  # type: ignore[arg-type]
    supervisee = Supervisee().agreement().practising("2026-02-02", "2026-03-23", 20)
    supervisee.session("2026-02-10", 60, modality="phone").session("2026-03-03", 240)

    evaluation = evaluate(supervisee, late_pack, "2026-04-15")

    february = [
        o for o in evaluation.outcomes if o.window is not None and o.window.start == D("2026-02-01")
    ]
    assert [(o.rule_id, o.status) for o in february] == [(None, "not_evaluated")]
    assert february[0].reason == (
        "no version of the TX-LPC-ASSOCIATE pack is in force on 2026-02-01"
    )
    # Its session is not judged either: it counts as recorded, and the engine says why.
    assert counted(evaluation)["s1"] == 60
    assert any(
        o.rule_id is None and o.reason.startswith("1 sessions fall on days no version")
        for o in evaluation.outcomes
    )
    assert outcome_in(evaluation, "monthly-minimum", "2026-03-01").status == "met"


def test_a_rule_whose_figure_the_board_did_not_give_is_not_evaluated() -> None:
    unknown = rule(
        "max_countable_supervision_per_window",
        "cap-unknown",
        window="calendar_month",
        hours=None,
        confidence="secondary",
        src="T3",
    )
    supervisee = Supervisee().agreement().session("2026-03-03", 900)

    evaluation = evaluate(supervisee, version(unknown), "2026-04-15")

    march = outcome_in(evaluation, "cap-unknown", "2026-03-01")
    assert (march.status, march.reason) == (
        "not_evaluated",
        "not evaluated: the board's figure is not known (hours)",
    )
    assert evaluation.verdicts == () and counted(evaluation) == {"s1": 900}


def test_a_track_without_a_pack_is_not_evaluated_rather_than_compliant() -> None:
    supervisee = Supervisee(track="ZZ-UNKNOWN").agreement().session("2026-03-03")

    evaluation = evaluate(supervisee, packs(pack(version())), "2026-04-15")

    assert evaluation.status.level == "not_evaluated"
    assert evaluation.status.reasons[0].detail == "no rule pack for the track ZZ-UNKNOWN"
    assert [s.session_id for s in evaluation.sessions] == ["s1"]


def test_without_a_registration_the_track_comes_from_the_agreements() -> None:
    supervisee = Supervisee(registered=False).agreement().session("2026-03-03", modality="phone")

    evaluation = evaluate(supervisee, version(PHONE), "2026-04-15")

    assert evaluation.track == "TX-LPC-ASSOCIATE"
    assert [v.rule_id for v in evaluation.verdicts] == ["no-phone"]


def test_session_rules_report_one_outcome_per_version_that_judged_sessions() -> None:
    supervisee = Supervisee().agreement().session("2026-04-07", modality="phone")

    evaluation = evaluate(supervisee, TWO_VERSIONS, "2026-05-15")

    (outcome,) = outcomes(evaluation, "no-phone")
    assert (outcome.status, outcome.reason) == ("violated", "1 of 1 sessions not met")
