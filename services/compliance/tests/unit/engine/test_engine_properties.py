"""What holds for any record: counted never exceeds recorded and every minute withdrawn is in a
void; a replay (facts repeated, in another order) changes nothing; knowing more never hides a
session; the standing is out of compliance exactly when a verdict stands unresolved; and the
engine reads a session exactly as the projection's `session_as_of` does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.application.queries import withheld_by_rules
from compliance.domain.agreements import agreements_as_of
from compliance.domain.engine import evaluate_supervisee
from compliance.domain.engine.record import read_record
from compliance.domain.facts import LapseMark, SessionCorrection, SessionFigures
from compliance.domain.hours import hours_as_of
from compliance.domain.record import SuperviseeFacts
from compliance.domain.sessions import session_as_of
from services.compliance.tests.unit.engine.given import (
    D,
    Supervisee,
    at,
    credentials,
    designated,
    leave,
    licensed,
    pack,
    packs,
    resolution,
    rule,
    version,
)

pytestmark = pytest.mark.unit

FIRST = D("2026-01-05")
CA_UNIT = {"individual": 1, "triadic": 1, "group": Decimal("0.5")}

# Every kind of rule at once, voiding where it can, so that what is voided feeds what counts.
EVERYTHING = packs(
    pack(
        version(
            rule("modality_not_countable", "no-phone", modality="phone"),
            rule("group_modality_required", "group-in-person", modality="in_person"),
            rule("supervisor_qualified", "qualified", license_kinds=("LPC",)),
            rule("board_approval_before_hours_count", "approved-first"),
            rule("contemporaneous_record", "in-time", within_days=14, severity="finding"),
            rule("practice_cap_per_window", "forty", window="calendar_week", hours=40),
            rule("max_countable_supervision_per_window", "ten", window="calendar_month", hours=10),
            rule("group_share_max", "half-group", max_share=Decimal("0.5")),
            rule(
                "individual_share_min",
                "monthly-individual",
                min_share=Decimal("0.5"),
                window="calendar_month",
            ),
            rule(
                "modality_share_min",
                "in-person",
                modality="in_person",
                min_share=Decimal("0.5"),
                first_session=True,
                severity="finding",
            ),
            rule(
                "min_supervision_per_window",
                "unit",
                window="calendar_week",
                hours=1,
                per_site=True,
                weights=CA_UNIT,
            ),
            rule(
                "extra_supervision_above_practice",
                "extra",
                window="calendar_week",
                direct_hours_above=10,
                extra_hours=1,
                adds_to="unit",
                per_site=True,
                weights=CA_UNIT,
                severity="finding",
            ),
            rule(
                "supervision_per_practice_hours",
                "per-forty",
                supervision_hours=1,
                per_practice_hours=40,
                window="two_weeks",
                weights={"group": Decimal("0.5")},
                exclude_individual_supervision_from_practice=True,
            ),
            rule("raw_data_required", "raw", window="calendar_month", severity="finding"),
            rule("sign_off_cadence", "signed", window="calendar_quarter", severity="finding"),
            rule("hours_lookback", "lookback", years=1),
            rule("duration_max", "longest", months=4),
            rule("concurrent_supervisors_max", "one", supervisors=1, severity="finding"),
            rule(
                "evaluation_cadence",
                "evaluated",
                every_months=2,
                at_termination=True,
                severity="finding",
            ),
            rule("group_alternates_with_individual", "alternate", severity="finding"),
            rule(
                "min_supervision_per_window",
                "average",
                window="calendar_month",
                hours=4,
                averaged=True,
                severity="finding",
            ),
        )
    )
)
HELD = credentials(
    licensed(changes=[("suspended", "2026-03-01"), ("reinstated", "2026-03-20")]),
    licensed(holder="sup-2", expires="2026-05-31"),
    designated(holder="sup-2"),
)

days = st.integers(min_value=0, max_value=200)
sessions = st.fixed_dictionaries(
    {
        "day": days,
        "minutes": st.sampled_from([30, 45, 60, 90, 120, 150, 240]),
        "format": st.sampled_from(["individual", "triadic", "group"]),
        "modality": st.sampled_from(["in_person", "in_person", "video", "phone"]),
        "supervisor": st.sampled_from(["sup-1", "sup-2"]),
        "site": st.sampled_from(["site-a", "site-b"]),
        "late": st.sampled_from([0, 0, 1, 20]),
        "kind": st.sampled_from(["clinical"] * 5 + ["administrative"]),
        "raw": st.booleans(),
        "correction": st.sampled_from([None, None, None, "void", "amend"]),
        "lapse": st.booleans(),
    }
)
weeks = st.fixed_dictionaries(
    {
        "week": st.integers(min_value=0, max_value=28),
        "site": st.sampled_from(["site-a", "site-b"]),
        "direct": st.integers(min_value=0, max_value=45),
        "indirect": st.integers(min_value=0, max_value=8),
    }
)
records = st.fixed_dictionaries(
    {
        "sessions": st.lists(sessions, max_size=30),
        "weeks": st.lists(weeks, max_size=20),
        "signed": st.lists(st.integers(min_value=1, max_value=7), max_size=4, unique=True),
        "evaluated": st.lists(days, max_size=3, unique=True),
        "as_of": st.integers(min_value=20, max_value=260),
    }
)


def _figures(day: dt.date, minutes: int) -> SessionFigures:
    return SessionFigures(format="individual", modality="in_person", date=day, minutes=minutes)


def build(drawn: dict[str, Any]) -> tuple[SuperviseeFacts, dt.date]:
    supervisee = (
        Supervisee(registered_on=FIRST.isoformat())
        .agreement(start="2026-01-05", end="2026-12-31", site="site-a")
        .agreement(
            supervisor="sup-2",
            start="2026-02-02",
            end="2026-06-30",
            site="site-b",
            approval_required=True,
            approved_on="2026-03-02",
        )
    )
    for n, s in enumerate(drawn["sessions"]):
        day = FIRST + dt.timedelta(days=s["day"])
        corrections: tuple[SessionCorrection, ...] = ()
        if s["correction"] == "void":
            corrections = (
                SessionCorrection(
                    change="voided",
                    recorded_at=at(day + dt.timedelta(days=2)),
                    by="sup-1",
                    reason="logged twice",
                    source_event_id=f"evt-void-{n}",
                ),
            )
        elif s["correction"] == "amend":
            corrections = (
                SessionCorrection(
                    change="amended",
                    recorded_at=at(day + dt.timedelta(days=1)),
                    by="sup-1",
                    reason="the length was wrong",
                    source_event_id=f"evt-amend-{n}",
                    amended_to=_figures(day - dt.timedelta(days=1), 45),
                ),
            )
        supervisee.session(
            day.isoformat(),
            s["minutes"],
            s["format"],
            s["modality"],
            s["supervisor"],
            s["site"],
            session_id=f"s{n}",
            recorded=at(day + dt.timedelta(days=s["late"])),
            techniques=("recording_review",) if s["raw"] else ("case_review",),
            kind=s["kind"],
            corrections=corrections,
        )
        if s["lapse"]:
            fact = supervisee.sessions[-1]
            supervisee.sessions[-1] = fact.model_copy(
                update={
                    "lapse_marks": (
                        LapseMark(
                            license_id="lic-sup-1-LPC",
                            lapse="suspended",
                            lapsed_since=day,
                            recorded_at=at(day + dt.timedelta(days=3)),
                            source_event_id=f"evt-lapse-{n}",
                        ),
                    )
                }
            )
    seen: set[tuple[int, str]] = set()
    for w in drawn["weeks"]:
        if (w["week"], w["site"]) in seen:
            continue
        seen.add((w["week"], w["site"]))
        monday = FIRST + dt.timedelta(weeks=w["week"])
        supervisee.practice(monday.isoformat(), w["direct"], w["indirect"], w["site"])
    for month in drawn["signed"]:
        supervisee.signed(f"2026-{month:02d}", f"2026-{month + 1:02d}-10")
    for day in drawn["evaluated"]:
        supervisee.evaluation((FIRST + dt.timedelta(days=day)).isoformat())
    return supervisee.facts(), FIRST + dt.timedelta(days=drawn["as_of"])


LEAVES = [leave("2026-03-02", "2026-04-12")]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(records)
def test_counted_never_exceeds_recorded_and_every_minute_withdrawn_is_in_a_void(
    drawn: dict[str, Any],
) -> None:
    facts, as_of = build(drawn)

    evaluation = evaluate_supervisee(facts, HELD, EVERYTHING, as_of, leaves=LEAVES)

    for s in evaluation.sessions:
        assert 0 <= s.counted_minutes <= s.minutes
        if s.excluded is not None:
            assert s.counted_minutes == 0
    withdrawn = sum(s.minutes - s.counted_minutes for s in evaluation.sessions if not s.excluded)
    voids = [v for v in evaluation.verdicts if v.severity == "void"]
    assert withdrawn == sum(v.not_counted.supervision_minutes for v in voids)
    for w in evaluation.practice:
        assert 0 <= w.direct_counted_minutes <= w.direct_minutes
        assert 0 <= w.indirect_counted_minutes <= w.indirect_minutes
    practice_gone = sum(
        w.direct_minutes
        + w.indirect_minutes
        - w.direct_counted_minutes
        - w.indirect_counted_minutes
        for w in evaluation.practice
    )
    in_voids = sum(v.not_counted.direct_minutes + v.not_counted.indirect_minutes for v in voids)
    # Each void's practice is rounded to the hundredth of a minute.
    assert abs(practice_gone - in_voids) <= Decimal("0.02") * (
        len(voids) + len(evaluation.practice)
    )
    assert all(v.severity == "void" or v.not_counted.nothing for v in evaluation.verdicts)


def replayed(facts: SuperviseeFacts, seed: int) -> SuperviseeFacts:
    """The same facts, some delivered twice, all in another order."""
    shuffle = random.Random(seed)

    def again(items: tuple[Any, ...]) -> tuple[Any, ...]:
        doubled = [*items, *(i for i in items if shuffle.random() < 0.5)]
        shuffle.shuffle(doubled)
        return tuple(doubled)

    return facts.model_copy(
        update={
            "agreements": again(facts.agreements),
            "sessions": again(facts.sessions),
            "practice_hours": again(facts.practice_hours),
            "months": again(facts.months),
            "evaluations": again(facts.evaluations),
        }
    )


@PROPERTY
@given(records, st.integers(min_value=0, max_value=2**16))
def test_a_replay_facts_repeated_and_in_another_order_changes_nothing(
    drawn: dict[str, Any], seed: int
) -> None:
    facts, as_of = build(drawn)
    first = evaluate_supervisee(facts, HELD, EVERYTHING, as_of, leaves=LEAVES)

    again = evaluate_supervisee(
        replayed(facts, seed), HELD, EVERYTHING, as_of, leaves=[*LEAVES, *LEAVES]
    )

    assert again == first


@PROPERTY
@given(records, records)
def test_knowing_more_never_hides_a_session_from_the_record(
    drawn: dict[str, Any], more: dict[str, Any]
) -> None:
    facts, as_of = build(drawn)
    later, _ = build(more)
    # What a later known_at adds: more sessions and weeks, and voids of sessions already known.
    extra_sessions = tuple(
        s.model_copy(update={"session_id": f"later-{s.session_id}"}) for s in later.sessions
    )
    voided = tuple(
        s.model_copy(
            update={
                "corrections": (
                    *s.corrections,
                    SessionCorrection(
                        change="voided",
                        recorded_at=at(as_of),
                        by="sup-1",
                        reason="entered in error",
                        source_event_id=f"evt-later-void-{s.session_id}",
                    ),
                )
            }
        )
        if n % 2
        else s
        for n, s in enumerate(facts.sessions)
    )
    weeks_known = {(p.week_start, p.site_id) for p in facts.practice_hours}
    superset = facts.model_copy(
        update={
            "sessions": (*voided, *extra_sessions),
            "practice_hours": (
                *facts.practice_hours,
                *(
                    p.model_copy(update={"source_event_id": f"later-{p.source_event_id}"})
                    for p in later.practice_hours
                    if (p.week_start, p.site_id) not in weeks_known
                ),
            ),
        }
    )

    known = evaluate_supervisee(facts, HELD, EVERYTHING, as_of)
    more_known = evaluate_supervisee(superset, HELD, EVERYTHING, as_of)

    shown = {s.session_id for s in more_known.sessions}
    assert {s.session_id for s in known.sessions} <= shown


@PROPERTY
@given(records, st.data())
def test_out_of_compliance_exactly_when_a_verdict_stands_unresolved(
    drawn: dict[str, Any], data: st.DataObject
) -> None:
    facts, as_of = build(drawn)
    first = evaluate_supervisee(facts, HELD, EVERYTHING, as_of)
    ids = [v.verdict_id for v in first.verdicts]
    chosen = data.draw(st.lists(st.sampled_from(ids), unique=True) if ids else st.just([]))
    offsets = data.draw(st.lists(st.integers(-30, 30), min_size=len(chosen), max_size=len(chosen)))
    resolutions = [
        resolution(vid, (as_of + dt.timedelta(days=d)).isoformat())
        for vid, d in zip(chosen, offsets, strict=True)
    ]

    evaluation = evaluate_supervisee(facts, HELD, EVERYTHING, as_of, resolutions=resolutions)

    standing = [v for v in evaluation.verdicts if not v.resolved]
    assert (evaluation.status.level == "out_of_compliance") == bool(standing)
    resolved_by = {r.verdict_id for r in resolutions if r.on <= as_of}
    assert {v.verdict_id for v in evaluation.verdicts if v.resolved} == resolved_by & set(ids)
    assert len(evaluation.verdicts) == len(first.verdicts)


@PROPERTY
@given(records)
def test_the_engine_reads_each_session_as_the_projection_does(drawn: dict[str, Any]) -> None:
    facts, as_of = build(drawn)
    agreements = agreements_as_of(facts.agreements, as_of)

    record = read_record(facts, as_of)

    shown = [session_as_of(fact, as_of, agreements) for fact in facts.sessions]
    expected = {s.session_id: s for s in shown if s is not None}
    assert {s.session_id for s in record.sessions} == set(expected)
    for entry in record.sessions:
        projected = expected[entry.session_id]
        exclusion = projected.exclusion
        assert dataclasses.astuple(entry)[:11] == (
            projected.session_id,
            projected.date,
            projected.date.toordinal(),
            projected.start_time,
            projected.site_id,
            projected.supervisor_id,
            projected.kind,
            projected.format,
            projected.modality,
            projected.minutes,
            projected.techniques,
        )
        assert entry.agreement_id == projected.agreement_id
        assert entry.excluded == (exclusion.code if exclusion else None)
        assert entry.excluded_detail == (exclusion.detail if exclusion else None)
        assert entry.source_event_ids == projected.source_event_ids


@PROPERTY
@given(records)
def test_the_hours_view_counts_what_the_rules_count_and_lists_every_session_once(
    drawn: dict[str, Any],
) -> None:
    facts, as_of = build(drawn)
    evaluation = evaluate_supervisee(facts, HELD, EVERYTHING, as_of, leaves=LEAVES)

    hours = hours_as_of(
        facts.sessions,
        as_of,
        agreements_as_of(facts.agreements, as_of),
        withheld_by_rules(evaluation),
    )

    counted = {s.session_id: s.counted_minutes for s in evaluation.sessions}
    listed = [s.session_id for s in (*hours.sessions, *hours.excluded)]
    assert sorted(listed) == sorted(counted)
    assert {s.session_id: s.counted_minutes for s in hours.sessions} == {
        i: m for i, m in counted.items() if m
    }
    assert hours.total_minutes == sum(counted.values())
    recorded = sum(s.minutes for s in evaluation.sessions)
    assert hours.total_minutes + hours.excluded_minutes == recorded
    for s in (*hours.sessions, *hours.excluded):
        if s.withheld is not None:
            assert s.withheld.detail and s.withheld.minutes > 0
