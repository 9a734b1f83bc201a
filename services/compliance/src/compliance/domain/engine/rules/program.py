"""Stage three: rules over the whole program so far, judged by the version in force on the
view's date, once the windows have had their say: the lookback and the longest duration (which
withdraw hours), concurrent supervisors, the evaluation cadence, group sessions alternating with
individual ones, and a minimum judged as an average over the windows (IL6).

The cumulative forms of the shares and ratios (`window: cumulative`) are the window functions of
`caps` and `cadence` applied to the program's tally.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from fractions import Fraction

from compliance.domain.agreements import AgreementAsOf
from compliance.domain.engine.inputs import ApprovedLeave
from compliance.domain.engine.record import Record, SessionEntry
from compliance.domain.engine.rules.cadence import weighting
from compliance.domain.engine.rules.context import RuleContext, in_minutes
from compliance.domain.engine.tallies import Tally
from compliance.domain.engine.text import cited, day, hours
from compliance.domain.engine.verdicts import (
    Breach,
    Judgement,
    PracticeCut,
    SessionCut,
    met,
    not_applicable,
)
from compliance.domain.engine.windows import add_months, months_elapsed
from compliance.domain.record import EvaluationFact
from contracts.rulepacks.model import (
    ConcurrentSupervisorsMax,
    DurationMax,
    EvaluationCadence,
    GroupAlternatesWithIndividual,
    HoursLookback,
    MinSupervisionPerWindow,
)

_DAY = dt.timedelta(days=1)


def _expired_hours(record: Record, start: dt.date, end: dt.date) -> tuple[int, Fraction]:
    sessions = sum(s.countable for s in record.sessions_between(start, end))
    return sessions, record.practice.sums(start, end).total_counted


def hours_lookback(rule: HoursLookback, record: Record, ctx: RuleContext) -> Judgement:
    """Hours older than `years` before the view's date no longer count (CA1: six years; TX5:
    five). One verdict per calendar month of expired hours, so that each keeps its id as the
    cutoff moves on."""
    assert rule.years is not None
    cutoff = add_months(ctx.as_of, -12 * rule.years)
    first_day = min(
        [
            *(s.date for s in record.sessions[:1]),
            *(r.week_start for r in record.practice.records[:1]),
        ],
        default=None,
    )
    if first_day is None or first_day >= cutoff:
        return met(f"no hours before {day(cutoff)}, {rule.years} years before {day(ctx.as_of)}")
    breaches: list[Breach] = []
    month = first_day.replace(day=1)
    while month < cutoff:
        end = min(add_months(month, 1) - _DAY, cutoff - _DAY)
        supervision, practice = _expired_hours(record, month, end)
        if supervision or practice:
            sessions = [s for s in record.sessions_between(month, end) if s.countable > 0]
            breaches.append(
                Breach(
                    scope=f"expired/{month.isoformat()[:7]}",
                    on=end,
                    reason=(
                        f"hours of {month.isoformat()[:7]} are more than {rule.years} years old "
                        f"on {day(ctx.as_of)} and no longer count{cited(rule)}: "
                        f"{hours(supervision)} of supervision, {hours(practice)} of practice"
                    ),
                    evidence=(
                        *(e for s in sessions for e in s.source_event_ids),
                        *(r.source_event_id for r in record.practice.records_between(month, end)),
                    ),
                    session_cuts=tuple(SessionCut(s, s.countable) for s in sessions),
                    practice_cuts=(PracticeCut(month, end, None),),
                )
            )
        month = add_months(month, 1)
    if not breaches:
        return met(f"no hours counted before {day(cutoff)}")
    return Judgement(
        "violated", f"hours before {day(cutoff)} no longer count", breaches=tuple(breaches)
    )


def duration_max(
    rule: DurationMax, record: Record, started: dt.date | None, ctx: RuleContext
) -> Judgement:
    """The supervised experience may last at most `months` (TX5: 48): supervision and practice
    from the day after it are beyond it."""
    assert rule.months is not None
    if started is None:
        return not_applicable("no supervised experience on the record")
    limit = add_months(started, rule.months)
    elapsed = months_elapsed(started, ctx.as_of)
    if ctx.as_of < limit:
        return met(
            f"{elapsed} months since {day(started)}, of at most {rule.months}",
            elapsed,
            rule.months,
            "months",
        )
    supervision, practice = _expired_hours(record, limit, ctx.as_of)
    sessions = [s for s in record.sessions_between(limit, ctx.as_of) if s.countable > 0]
    if not supervision and not practice:
        return met(f"nothing recorded since the limit of {day(limit)}")
    reason = (
        f"the supervised experience began on {day(started)}; it may last at most {rule.months} "
        f"months, to {day(limit - _DAY)}{cited(rule)}: since then {hours(supervision)} of "
        f"supervision and {hours(practice)} of practice"
    )
    return Judgement(
        "violated",
        reason,
        elapsed,
        rule.months,
        "months",
        breaches=(
            Breach(
                scope=f"duration/{limit.isoformat()}",
                on=limit,
                reason=reason,
                evidence=(
                    *(e for s in sessions for e in s.source_event_ids),
                    *(r.source_event_id for r in record.practice.records_between(limit, ctx.as_of)),
                ),
                session_cuts=tuple(SessionCut(s, s.countable) for s in sessions),
                practice_cuts=(PracticeCut(limit, ctx.as_of, None),),
            ),
        ),
    )


def concurrent_supervisors_max(
    rule: ConcurrentSupervisorsMax, agreements: Sequence[AgreementAsOf], ctx: RuleContext
) -> Judgement:
    """No more than `supervisors` supervisors at once (TX2: two), counted from the agreements
    covering each day (signed, started, not yet ended or terminated), approved or not."""
    assert rule.supervisors is not None
    spans = [
        (a, a.start_date, min(a.last_day, ctx.as_of))
        for a in agreements
        if a.start_date <= min(a.last_day, ctx.as_of)
    ]
    days = sorted({d for _, start, end in spans for d in (start, end + _DAY)})
    breaches: list[Breach] = []
    most = 0
    episode: tuple[dt.date, dt.date, set[str], list[AgreementAsOf]] | None = None
    for first, following in itertools.pairwise(days):
        covering = [a for a, start, end in spans if start <= first <= end]
        supervisors = {a.supervisor_id for a in covering}
        most = max(most, len(supervisors))
        if len(supervisors) > rule.supervisors:
            if episode is None:
                episode = (first, following - _DAY, set(supervisors), list(covering))
            else:
                episode = (
                    episode[0],
                    following - _DAY,
                    episode[2] | supervisors,
                    [*episode[3], *(a for a in covering if a not in episode[3])],
                )
        elif episode is not None:
            breaches.append(_concurrent_breach(rule, *episode))
            episode = None
    if episode is not None:
        breaches.append(_concurrent_breach(rule, *episode))
    if breaches:
        return Judgement(
            "violated",
            f"more than {rule.supervisors} supervisors at once",
            most,
            rule.supervisors,
            "supervisors",
            breaches=tuple(breaches),
        )
    return met(f"at most {most} supervisors at once", most, rule.supervisors, "supervisors")


def _concurrent_breach(
    rule: ConcurrentSupervisorsMax,
    first: dt.date,
    last: dt.date,
    supervisors: set[str],
    agreements: list[AgreementAsOf],
) -> Breach:
    return Breach(
        scope=f"concurrent/{first.isoformat()}",
        on=first,
        reason=(
            f"from {day(first)} to {day(last)} under {len(supervisors)} supervisors at once "
            f"({', '.join(sorted(supervisors))}); the board allows {rule.supervisors}"
            f"{cited(rule)}"
        ),
        evidence=tuple(e for a in agreements for e in a.source_event_ids),
    )


def _leave_days(leaves: Sequence[ApprovedLeave], start: dt.date, end: dt.date) -> int:
    covered: set[dt.date] = set()
    for leave in leaves:
        first, last = max(leave.start, start), min(leave.end, end)
        covered.update(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return len(covered)


def evaluation_cadence(
    rule: EvaluationCadence,
    evaluations: Sequence[EvaluationFact],
    agreements: Sequence[AgreementAsOf],
    leaves: Sequence[ApprovedLeave],
    started: dt.date | None,
    ctx: RuleContext,
) -> Judgement:
    """A competency evaluation at least every `every_months` months from the first agreement,
    each evaluation starting the clock again, while an agreement is in force; and where
    `at_termination`, one by the supervisor when an agreement ends (CA3: annual and at
    termination; NC, OH: quarterly). Due dates move later by the days of approved leave before
    them. An evaluation overdue is a finding; one falling due within
    `policy.evaluation_due_within_days` puts the supervisee at risk."""
    assert rule.every_months is not None
    if started is None or not agreements:
        return not_applicable("no agreement on the record")
    signed = sorted(evaluations, key=lambda e: (e.signed_on, e.evaluation_id))
    last_in_force = max(a.last_day for a in agreements)
    grace = dt.timedelta(days=rule.grace_days)
    breaches: list[Breach] = []
    notes: list[str] = []
    at_risk = False
    next_due: dt.date | None = None
    anchor = started
    # Evaluations since the experience began, each one starting the clock again.
    pending = [e for e in signed if e.signed_on >= started]
    taken = 0
    while True:
        plain = add_months(anchor, rule.every_months)
        due = plain + dt.timedelta(days=_leave_days(leaves, anchor, plain))
        if due > last_in_force:
            break
        done = pending[taken] if taken < len(pending) else None
        if done is not None:
            taken += 1
            if done.signed_on > due + grace:
                breaches.append(
                    Breach(
                        scope=f"due/{due.isoformat()}",
                        on=due,
                        reason=(
                            f"the evaluation due on {day(due)} was signed on "
                            f"{day(done.signed_on)}, {(done.signed_on - due).days} days late"
                            f"{cited(rule)}"
                        ),
                        evidence=done.source_event_ids,
                    )
                )
            anchor = done.signed_on
            continue
        if ctx.as_of > due + grace:
            breaches.append(
                Breach(
                    scope=f"due/{due.isoformat()}",
                    on=due,
                    reason=(
                        f"an evaluation was due on {day(due)}, every {rule.every_months} months, "
                        f"and none is signed by {day(ctx.as_of)}{cited(rule)}"
                    ),
                    evidence=tuple(e for a in agreements for e in a.source_event_ids[:1]),
                )
            )
        else:
            next_due = due
            days_left = (due + grace - ctx.as_of).days
            if days_left <= ctx.policy.evaluation_due_within_days:
                at_risk = True
                notes.append(f"an evaluation is due on {day(due)}, {days_left} days left")
        break
    if rule.at_termination:
        for agreement in agreements:
            breach, due_soon = _termination_evaluation(rule, agreement, agreements, signed, ctx)
            if breach is not None:
                breaches.append(breach)
            if due_soon is not None:
                at_risk = True
                notes.append(due_soon)
    if breaches:
        return Judgement(
            "violated",
            "; ".join(b.reason for b in breaches),
            risk="at_risk" if at_risk else None,
            breaches=tuple(breaches),
        )
    if at_risk:
        return Judgement("running", "; ".join(notes), risk="at_risk")
    due_text = f"; the next is due on {day(next_due)}" if next_due else ""
    return met(f"every evaluation on time{due_text}")


def _termination_evaluation(
    rule: EvaluationCadence,
    agreement: AgreementAsOf,
    agreements: Sequence[AgreementAsOf],
    signed: Sequence[EvaluationFact],
    ctx: RuleContext,
) -> tuple[Breach | None, str | None]:
    last = agreement.last_day
    if last >= ctx.as_of:
        return None, None
    renewed = any(
        other.agreement_id != agreement.agreement_id
        and other.supervisor_id == agreement.supervisor_id
        and other.site_id == agreement.site_id
        and other.start_date <= last + _DAY <= other.last_day
        for other in agreements
    )
    if renewed:
        return None, None
    deadline = last + dt.timedelta(days=rule.grace_days)
    final = next(
        (
            e
            for e in signed
            if e.supervisor_id == agreement.supervisor_id
            and e.trigger in ("termination", "final")
            and e.signed_on >= agreement.start_date
        ),
        None,
    )
    if final is not None and final.signed_on <= deadline:
        return None, None
    if final is None and ctx.as_of <= deadline:
        return (
            None,
            f"an evaluation at the end of agreement {agreement.agreement_id} is due by "
            f"{day(deadline)}",
        )
    what = f"was signed on {day(final.signed_on)}" if final is not None else "is not on the record"
    return (
        Breach(
            scope=f"termination/{agreement.agreement_id}",
            on=deadline,
            reason=(
                f"agreement {agreement.agreement_id} with {agreement.supervisor_id} ended on "
                f"{day(last)}; its evaluation at termination, due by {day(deadline)}, {what}"
                f"{cited(rule)}"
            ),
            evidence=(
                *agreement.source_event_ids,
                *(final.source_event_ids if final is not None else ()),
            ),
        ),
        None,
    )


def group_alternates_with_individual(
    rule: GroupAlternatesWithIndividual, sessions: Sequence[SessionEntry], ctx: RuleContext
) -> Judgement:
    """Group supervision alternates with individual (FL1/FL2): a group session counted after
    another with no individual session between them is a finding."""
    group_formats = ctx.group_formats()
    previous: SessionEntry | None = None
    breaches: list[Breach] = []
    for session in sessions:
        if session.countable <= 0:
            continue
        if session.format not in group_formats:
            previous = None
            continue
        if previous is not None:
            breaches.append(
                Breach(
                    scope=f"session/{session.session_id}",
                    on=session.date,
                    reason=(
                        f"group supervision on {day(session.date)} follows the group session of "
                        f"{day(previous.date)} with no individual session between them; group "
                        f"supervision alternates with individual{cited(rule)}"
                    ),
                    evidence=(*previous.source_event_ids, *session.source_event_ids),
                    session_id=session.session_id,
                    session_cuts=(SessionCut(session, session.countable),),
                )
            )
        previous = session
    if breaches:
        return Judgement(
            "violated", f"{len(breaches)} group sessions in a row", breaches=tuple(breaches)
        )
    return met("group sessions alternate with individual ones")


def min_supervision_averaged(
    rule: MinSupervisionPerWindow, tallies: Sequence[Tally], ctx: RuleContext
) -> Judgement:
    """At least `hours` of supervision a window on average over the windows ended so far in
    which the supervisee practised and was not on leave (IL6: 4 hours a month on average)."""
    assert rule.hours is not None
    judged = [
        t
        for t in tallies
        if not t.running
        and (t.practised or not rule.only_while_practising)
        and not t.on_leave(rule.min_leave_days)
    ]
    if not judged:
        return not_applicable("no window of practice ended yet")
    required = in_minutes(rule.hours)
    measured = Fraction(
        sum((t.weighted(rule.weights) for t in judged), start=Fraction(0)), len(judged)
    )
    what = (
        f"{hours(measured)} of supervision{weighting(rule.weights)} a window on average over "
        f"{len(judged)} windows"
    )
    if measured >= required:
        return met(what, measured, required, "weighted_minutes")
    last = judged[-1].span
    assert last is not None
    reason = f"{what}; the board asks at least {hours(required)} on average{cited(rule)}"
    return Judgement(
        "violated",
        reason,
        measured,
        required,
        "weighted_minutes",
        breaches=(
            Breach(
                scope=f"average/{last.kind}",
                on=last.end,
                reason=reason,
                evidence=tuple(e for t in judged for e in t.evidence()),
            ),
        ),
    )
