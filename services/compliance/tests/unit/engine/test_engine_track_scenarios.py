"""The table of track scenarios (tests/scenarios/tracks.py), judged in process by the engine over
the repository's own rule packs: the same facts the end-to-end suite records through the
services' APIs, the same expectations computed by hand from the boards' rules.

The sessions are recorded at the moment the test runs, as the end-to-end suite records them, so
that the organization's contemporaneous-record policy judges both alike.
"""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.domain.engine import SuperviseeEvaluation, evaluate_supervisee
from compliance.domain.standing import DesignationFact, LicenseFact
from contracts.rulepacks.loader import load_rule_packs
from contracts.rulepacks.model import RulePacks
from services.compliance.tests.unit.engine.given import (
    D,
    Supervisee,
    credentials,
    designated,
    licensed,
)
from tests.scenarios.tracks import SCENARIOS, Seen, TrackScenario, differences, rule_statuses

pytestmark = pytest.mark.unit

SUPERVISOR = "sup-1"


@pytest.fixture(scope="module")
def packs() -> RulePacks:
    loaded: RulePacks = load_rule_packs()
    return loaded


def facts_of(scenario: TrackScenario, recorded_at: dt.datetime) -> Supervisee:
    supervisee = Supervisee(track=scenario.track, registered_on=scenario.registered_on)
    supervisee.agreement(
        start=scenario.agreement_start,
        end=scenario.agreement_end,
        supervisor=SUPERVISOR,
        approval_required=scenario.approved_on is not None,
        approved_on=scenario.approved_on,
    )
    for session in scenario.sessions:
        supervisee.session(
            session.date,
            session.minutes,
            format=session.format,
            modality=session.modality,
            supervisor=SUPERVISOR,
            techniques=session.techniques,
            recorded=recorded_at,
        )
    for week in scenario.practice:
        supervisee.practice(week.week_start, week.direct_hours, week.indirect_hours)
    for month, signed_on in scenario.sign_offs:
        supervisee.signed(month, signed_on)
    return supervisee


def held_by(scenario: TrackScenario) -> list[LicenseFact | DesignationFact]:
    held: list[LicenseFact | DesignationFact] = [
        licensed(
            holder=SUPERVISOR,
            kind=scenario.supervisor.license_kind,
            state=scenario.state,
            issued=scenario.supervisor.licensed_since,
            expires=scenario.supervisor.license_expires,
        )
    ]
    if scenario.supervisor.other_license is not None:
        kind, issued = scenario.supervisor.other_license
        held.append(
            licensed(
                holder=SUPERVISOR,
                kind=kind,
                state=scenario.state,
                issued=issued,
                expires=scenario.supervisor.license_expires,
            )
        )
    if scenario.supervisor.designation is not None:
        held.append(
            designated(
                holder=SUPERVISOR,
                designation=scenario.supervisor.designation,
                state=scenario.state,
                granted=scenario.supervisor.designation_granted,
            )
        )
    return held


def seen_in(evaluation: SuperviseeEvaluation) -> Seen:
    return Seen(
        level=evaluation.status.level,
        statuses=rule_statuses((o.rule_id or "", o.status) for o in evaluation.outcomes),
        verdict_rules=frozenset(v.rule_id for v in evaluation.verdicts),
        supervision_counted_minutes=int(evaluation.progress.supervision.counted_minutes),
        detail=[
            f"{o.rule_id} {o.window.start if o.window else ''} {o.status}: {o.reason}"
            for o in evaluation.outcomes
        ],
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_track_scenario_is_judged_as_its_board_says(
    scenario: TrackScenario, packs: RulePacks
) -> None:
    recorded_at = dt.datetime.now(dt.UTC)
    supervisee = facts_of(scenario, recorded_at)

    evaluation = evaluate_supervisee(
        supervisee.facts(), credentials(*held_by(scenario)), packs, D(scenario.as_of)
    )

    seen = seen_in(evaluation)
    assert not differences(scenario, seen), "\n".join([*differences(scenario, seen), *seen.detail])


def test_the_table_holds_a_scenario_of_every_track_and_of_every_rule_it_names(
    packs: RulePacks,
) -> None:
    assert {s.track for s in SCENARIOS} == set(packs.tracks)
    for scenario in SCENARIOS:
        version = packs.pack(scenario.track).version_on(D(scenario.as_of))
        assert version is not None, scenario.name
        rules = {r.id for r in version.rules}
        named = scenario.expect.violated | scenario.expect.met | scenario.expect.not_evaluated
        assert named <= rules, (scenario.name, sorted(named - rules))
