"""The engine over the repository's own rule packs, the ten tracks as the boards' data: the cases
the field complained of are judged as the boards' rules say, and every rule of every pack is
reported on."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.domain.engine import SuperviseeEvaluation, evaluate_supervisee
from contracts.rulepacks.model import RulePacks
from services.compliance.tests.unit.engine.given import (
    D,
    Supervisee,
    counted,
    credentials,
    designated,
    licensed,
    verdicts,
)

pytestmark = pytest.mark.unit

loader = pytest.importorskip(
    "contracts.rulepacks.loader", reason="the rule packs' data and loader are not on this branch"
)


@pytest.fixture(scope="module")
def packs() -> RulePacks:
    loaded: RulePacks = loader.load_rule_packs()
    return loaded


# What a qualified supervisor of each track holds: a license, and the board's designation where
# the pack asks one.
HELD = {
    "TX-LPC-ASSOCIATE": ("LPC", "LPC-S"),
    "TX-LMSW-TO-LCSW": ("LCSW", "LCSW-S"),
    "OH-LPC-TO-LPCC": ("LPCC", "LPCC-S"),
    "NC-LCMHCA": ("LCMHC", "LCMHCS"),
    "FL-RMHCI": ("LMHC", "QUALIFIED-SUPERVISOR"),
    "IL-LPC-TO-LCPC": ("LCPC", None),
    "IL-LCSW": ("LCSW", None),
    "CA-AMFT": ("LMFT", None),
    "CA-ASW": ("LCSW", None),
    "NY-LMHC-LIMITED-PERMIT": ("LMHC", None),
}


def judged(supervisee: Supervisee, packs: RulePacks, as_of: str) -> SuperviseeEvaluation:
    state = supervisee.track[:2]
    kind, designation = HELD[supervisee.track]
    held = [licensed(kind=kind, state=state)]
    if designation is not None:
        held.append(designated(designation=designation, state=state))
    return evaluate_supervisee(supervisee.facts(), credentials(*held), packs, D(as_of))


def test_tx1_three_and_a_half_hours_in_a_month_of_practice(packs: RulePacks) -> None:
    supervisee = Supervisee().agreement().practising("2026-03-02", "2026-03-23", 20)
    supervisee.session("2026-03-03", 120).session("2026-03-17", 90)

    evaluation = judged(supervisee, packs, "2026-04-15")

    (finding,) = verdicts(evaluation, "tx-lpc-associate.monthly-minimum")
    assert (finding.severity, finding.src) == ("finding", ("TX1",))
    assert "3.5 h of supervision in the calendar month of March 2026" in finding.reason


def test_tx6_a_twelve_hour_month_for_an_lmsw(packs: RulePacks) -> None:
    supervisee = Supervisee(track="TX-LMSW-TO-LCSW").agreement()
    for day in ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"):
        supervisee.session(day, 144)

    evaluation = judged(supervisee, packs, "2026-04-15")

    (void,) = verdicts(evaluation, "tx-lmsw-to-lcsw.monthly-cap")
    assert void.not_counted.supervision_minutes == 120
    assert counted(evaluation)["s5"] == 24


def test_fl2_group_supervision_by_video(packs: RulePacks) -> None:
    supervisee = Supervisee(track="FL-RMHCI").agreement()
    supervisee.session("2026-03-03", 120, format="group", modality="video")

    evaluation = judged(supervisee, packs, "2026-03-31")

    (void,) = verdicts(evaluation, "fl-rmhci.group-in-person")
    assert void.severity == "void" and void.session_id == "s1"


def test_nc2_only_group_supervision(packs: RulePacks) -> None:
    supervisee = Supervisee(track="NC-LCMHCA").agreement()
    supervisee.session("2026-03-03", 120, format="group").session("2026-03-10", 120, format="group")

    evaluation = judged(supervisee, packs, "2026-03-31")

    (finding,) = verdicts(evaluation, "nc-lcmhca.individual-share")
    assert finding.severity == "finding" and "individual supervision is 0%" in finding.reason


def test_oh3_a_phone_session(packs: RulePacks) -> None:
    supervisee = Supervisee(track="OH-LPC-TO-LPCC").agreement()
    supervisee.session("2026-03-03", modality="phone")

    evaluation = judged(supervisee, packs, "2026-03-31")

    (void,) = verdicts(evaluation, "oh-lpc-to-lpcc.no-telephone")
    assert void.not_counted.supervision_minutes == 60


def test_tyh3_a_california_week_without_a_unit(packs: RulePacks) -> None:
    supervisee = Supervisee(track="CA-ASW").agreement().practice("2026-03-02", 20)
    supervisee.session("2026-03-03", 60, format="group")

    evaluation = judged(supervisee, packs, "2026-03-31")

    (void,) = verdicts(evaluation, "ca-asw.week-without-a-unit")
    assert (void.site_id, void.not_counted.direct_minutes) == ("site-a", 1200)
    assert counted(evaluation) == {"s1": 0}


def test_tx4_years_under_another_license_are_not_years_as_an_lpc(packs: RulePacks) -> None:
    supervisee = Supervisee().agreement().practising("2026-03-02", "2026-03-23", 20)
    supervisee.session("2026-03-03", 120)
    held = credentials(
        licensed(kind="LMFT", issued="2010-01-04"),
        licensed(kind="LPC", issued="2023-03-01"),
        designated(designation="LPC-S", granted="2024-06-03"),
    )

    evaluation = evaluate_supervisee(supervisee.facts(), held, packs, D("2026-03-31"))

    (void,) = verdicts(evaluation, "tx-lpc-associate.supervisor-years")
    assert "licensed since 2023-03-01, less than the 5 years" in void.reason
    assert counted(evaluation) == {"s1": 0}


def test_tx6_years_under_another_license_are_not_years_as_an_lcsw(packs: RulePacks) -> None:
    supervisee = Supervisee(track="TX-LMSW-TO-LCSW").agreement().session("2026-03-03", 120)
    held = credentials(
        licensed(kind="LPC", issued="2010-01-04"),
        licensed(kind="LCSW", issued="2025-03-03"),
        designated(designation="LCSW-S", granted="2025-09-01"),
    )

    evaluation = evaluate_supervisee(supervisee.facts(), held, packs, D("2026-03-31"))

    (void,) = verdicts(evaluation, "tx-lmsw-to-lcsw.supervisor-years")
    assert "licensed since 2025-03-03, less than the 2 years" in void.reason
    assert counted(evaluation) == {"s1": 0}


def test_every_rule_of_every_pack_is_reported_on(packs: RulePacks) -> None:
    for track in sorted(packs.tracks):
        supervisee = Supervisee(track=track, registered_on="2025-06-02").agreement(
            start="2025-06-02"
        )
        supervisee.practising("2025-06-02", "2026-02-23", 20, 5)
        monday = D("2025-06-03")
        for week in range(38):
            day = monday + dt.timedelta(weeks=week)
            supervisee.session(day.isoformat(), 60).session(
                (day + dt.timedelta(days=2)).isoformat(), 120, format="group"
            )

        evaluation = judged(supervisee, packs, "2026-03-15")

        in_force = packs.pack(track).version_on(D("2026-03-15"))
        assert in_force is not None, track
        reported = {o.rule_id for o in evaluation.outcomes}
        assert {r.id for r in in_force.rules} <= reported, track
        assert all(0 <= s.counted_minutes <= s.minutes for s in evaluation.sessions), track
