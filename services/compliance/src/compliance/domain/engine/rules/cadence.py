"""Stage two, second half: what each window must hold (minimum supervision, the extra unit of a
busy week, supervision per hours of practice, raw data, the supervisor's sign-off), judged on the
tally as the caps left it.

- A rule that applies only while the supervisee practised is not applicable to a window without
  practice; a window on approved leave (see `ApprovedLeave`) is not applicable either.
- A window still running is never a violation: it is on track, or at risk when what it must hold
  is not there yet with fewer than `policy.window_days_left_at_risk` days left. Practice is often
  recorded only after its week, so a running window counts as one of practice when practice is
  recorded in it or in the window before it.
- A void here withdraws the window's hours (CA, TYH3: a week without a unit of supervision counts
  no hours that week, at that work setting); a finding withdraws nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from fractions import Fraction

from compliance.domain.engine.rules.caps import latest_first
from compliance.domain.engine.rules.context import RuleContext, in_minutes
from compliance.domain.engine.tallies import Tally
from compliance.domain.engine.text import at_site, cited, hours, period
from compliance.domain.engine.verdicts import (
    Breach,
    Judgement,
    Measure,
    PracticeCut,
    SessionCut,
    met,
    not_applicable,
)
from compliance.domain.engine.windows import add_months
from contracts.rulepacks.model import (
    ExtraSupervisionAbovePractice,
    MinSupervisionPerWindow,
    RawDataRequired,
    SignOffCadence,
    SupervisionPerPracticeHours,
    SupervisionWeights,
)


def _where(tally: Tally) -> str:
    if tally.span is None:
        return "over the program so far"
    return f"in {period(tally.span)}{at_site(tally.site_id)}"


def _scope(tally: Tally) -> str:
    if tally.span is None:
        return "cumulative"
    return f"{tally.span.key}@{tally.site_id}" if tally.site_id else tally.span.key


def weighting(weights: SupervisionWeights) -> str:
    """How the figure weighs formats, when it does: " (group counts 0.5)"."""
    parts = [
        f"{name} counts {getattr(weights, name).normalize():f}"
        for name in ("individual", "triadic", "group")
        if getattr(weights, name) != 1
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _window_void(tally: Tally, reason: str) -> Breach:
    """Every hour of the window (at its site) stops counting, if the rule voids."""
    assert tally.span is not None
    return Breach(
        scope=_scope(tally),
        on=tally.span.end,
        reason=reason,
        evidence=tally.evidence(),
        session_cuts=tuple(SessionCut(s, s.countable) for s in tally.counting_sessions()),
        practice_cuts=(PracticeCut(tally.span.start, tally.span.end, tally.site_id),),
    )


def _suspended(tally: Tally, min_leave_days: int = 0) -> Judgement | None:
    if tally.leaves and tally.on_leave(min_leave_days):
        return not_applicable(
            f"on approved leave {tally.leave_days} of the {tally.span.days if tally.span else 0} "
            "days"
        )
    return None


def _running(
    tally: Tally,
    ctx: RuleContext,
    measured: Fraction | int,
    required: Fraction | int,
    measure: Measure,
    what: Callable[[], str],
    practising: bool = True,
) -> Judgement:
    left = tally.days_left
    if measured >= required:
        return Judgement(
            "running",
            lambda: f"{what()} so far: already met",
            measured,
            required,
            measure,
            "on_track",
        )
    at_risk = practising and left < ctx.policy.window_days_left_at_risk
    return Judgement(
        "running",
        lambda: f"{what()} so far, {left} days left",
        measured,
        required,
        measure,
        "at_risk" if at_risk else "on_track",
    )


def min_supervision_per_window(
    rule: MinSupervisionPerWindow, tally: Tally, ctx: RuleContext
) -> Judgement:
    """At least `hours` of (weighted) supervision in every window in which the supervisee
    practised (TX1: 4 hours a calendar month while engaged in counseling; FL1: 1 hour every two
    weeks; IL3: 1 hour a week; CA, TYH1/TYH6: one unit a week at each work setting). A rule
    that applies whether or not the supervisee practised still asks nothing of a window with
    neither practice nor an agreement in force."""
    assert rule.hours is not None
    suspended = _suspended(tally, rule.min_leave_days)
    if suspended is not None:
        return suspended
    required = in_minutes(rule.hours)
    measured = tally.weighted(rule.weights)

    def what() -> str:
        return f"{hours(measured)} of supervision{weighting(rule.weights)} {_where(tally)}"

    if not rule.only_while_practising and not tally.practised and not tally.supervised:
        return not_applicable(lambda: f"no practice and no agreement {_where(tally)}")
    if tally.running:
        practising = tally.practised or tally.practised_before or not rule.only_while_practising
        return _running(tally, ctx, measured, required, "weighted_minutes", what, practising)
    if rule.only_while_practising and not tally.practised:
        return not_applicable(lambda: f"no practice recorded {_where(tally)}")
    if measured >= required:
        return met(what, measured, required, "weighted_minutes")
    practice = f", with {hours(tally.practice.total)} of practice" if tally.practised else ""
    reason = f"{what()}{practice}; the board asks at least {hours(required)}{cited(rule)}"
    return Judgement(
        "violated",
        reason,
        measured,
        required,
        "weighted_minutes",
        breaches=(_window_void(tally, reason),),
    )


def extra_supervision_above_practice(
    rule: ExtraSupervisionAbovePractice,
    tally: Tally,
    ctx: RuleContext,
    base: MinSupervisionPerWindow,
) -> Judgement:
    """In a window of more than `direct_hours_above` direct client hours, `extra_hours` more
    (weighted) supervision than the minimum it adds to (CA, TYH1/TYH6: a second unit in a week
    of more than ten direct hours)."""
    assert rule.direct_hours_above is not None and rule.extra_hours is not None
    if base.hours is None or not base.confirmed:
        return Judgement("not_evaluated", f"it adds to {base.id}, which is not evaluated")
    suspended = _suspended(tally, base.min_leave_days)
    if suspended is not None:
        return suspended
    threshold = in_minutes(rule.direct_hours_above)
    sevenths = tally.practice.direct7
    direct = tally.practice.direct
    if sevenths <= threshold * 7:
        if tally.running:
            return Judgement(
                "running",
                lambda: f"{hours(direct)} of direct client hours {_where(tally)} so far",
                direct,
                threshold,
                "minutes",
                "on_track",
            )
        return not_applicable(
            lambda: (
                f"{hours(direct)} of direct client hours {_where(tally)}, not above "
                f"{hours(threshold)}"
            )
        )
    assert base.hours is not None
    required = in_minutes(base.hours) + in_minutes(rule.extra_hours)
    measured = tally.weighted(rule.weights)

    def what() -> str:
        return (
            f"{hours(measured)} of supervision{weighting(rule.weights)} {_where(tally)}, with "
            f"{hours(direct)} of direct client hours"
        )

    if tally.running:
        return _running(tally, ctx, measured, required, "weighted_minutes", what)
    if measured >= required:
        return met(what, measured, required, "weighted_minutes")
    reason = (
        f"{what()}; above {hours(threshold)} of direct client hours the board asks "
        f"{hours(required)}{cited(rule)}"
    )
    return Judgement(
        "violated",
        reason,
        measured,
        required,
        "weighted_minutes",
        breaches=(_window_void(tally, reason),),
    )


def practice_base(rule: SupervisionPerPracticeHours, tally: Tally, ctx: RuleContext) -> Fraction:
    """The practice the ratio is taken of, in minutes counted.

    `direct`: direct client minutes. `total`: the experience hours, that is client minutes
    (direct and indirect) and the supervision counted; with NC3's exclusion, less the individual
    supervision, which is not itself practice.
    """
    if rule.practice == "direct":
        return tally.practice.direct_counted
    supervision = tally.counted()
    if rule.exclude_individual_supervision_from_practice:
        supervision -= tally.counted(ctx.individual_formats())
    return tally.practice.total_counted + supervision


def supervision_per_practice_hours(
    rule: SupervisionPerPracticeHours, tally: Tally, ctx: RuleContext
) -> Judgement:
    """At least `supervision_hours` of (weighted) supervision for every `per_practice_hours` of
    practice (FL1: 1 per 15; NC3: 1 individual or 2 group per 40, individual supervision not
    being practice). Where it voids, the practice the supervision does not cover does not count,
    latest first."""
    assert rule.supervision_hours is not None and rule.per_practice_hours is not None
    if tally.span is not None:
        suspended = _suspended(tally)
        if suspended is not None:
            return suspended
    per, each = in_minutes(rule.per_practice_hours), in_minutes(rule.supervision_hours)
    base = practice_base(rule, tally, ctx)
    measured = tally.weighted(rule.weights)
    required = base * Fraction(each, per)

    def what() -> str:
        practice = "direct client hours" if rule.practice == "direct" else "practice"
        return (
            f"{hours(measured)} of supervision{weighting(rule.weights)} for {hours(base)} of "
            f"{practice} {_where(tally)}"
        )

    if tally.running:
        return _running(tally, ctx, measured, required, "weighted_minutes", what)
    if base == 0:
        return not_applicable(lambda: f"no practice counted {_where(tally)}")
    if measured >= required:
        return met(what, measured, required, "weighted_minutes")
    uncovered = base - Fraction(measured) * per / each
    reason = (
        f"{what()}; the board asks {hours(each)} for every {hours(per)}{cited(rule)}, so "
        f"{hours(uncovered)} of practice are not covered"
    )
    start = tally.span.start if tally.span is not None else dt.date.min
    end = tally.span.end if tally.span is not None else tally.as_of
    return Judgement(
        "violated",
        reason,
        measured,
        required,
        "weighted_minutes",
        breaches=(
            Breach(
                scope=_scope(tally),
                on=end,
                reason=reason,
                evidence=tally.evidence(),
                practice_cuts=(PracticeCut(start, end, tally.site_id, uncovered),),
            ),
        ),
    )


def raw_data_required(rule: RawDataRequired, tally: Tally, ctx: RuleContext) -> Judgement:
    """In every window with supervision, at least one session rests on raw data (live
    observation, recordings), not on self-report alone (NC3)."""
    suspended = _suspended(tally)
    if suspended is not None:
        return suspended
    counting = tally.counting_sessions()
    wanted = set(rule.techniques)
    with_raw = [s for s in counting if wanted.intersection(s.techniques)]

    def what() -> str:
        return f"{len(with_raw)} of {len(counting)} sessions on raw data {_where(tally)}"

    if tally.running:
        return _running(tally, ctx, len(with_raw), 1, "sessions", what, bool(counting))
    if not counting:
        return not_applicable(lambda: f"no supervision counted {_where(tally)}")
    if with_raw:
        return met(what)
    techniques = " or ".join(t.replace("_", " ") for t in rule.techniques)
    reason = (
        f"no session {_where(tally)} used {techniques}; supervision rests on raw data, not "
        f"self-report alone{cited(rule)}"
    )
    assert tally.span is not None
    return Judgement(
        "violated",
        reason,
        breaches=(
            Breach(
                scope=_scope(tally),
                on=tally.span.end,
                reason=reason,
                evidence=tally.evidence(),
                session_cuts=latest_first(counting, sum(s.countable for s in counting)),
            ),
        ),
    )


def _months_of(start: dt.date, end: dt.date) -> list[str]:
    months: list[str] = []
    day = start.replace(day=1)
    while day <= end:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = add_months(day, 1)
    return months


def sign_off_cadence(rule: SignOffCadence, tally: Tally, ctx: RuleContext) -> Judgement:
    """The supervisor signs the log of every window with anything recorded in it within
    `within_days` after the window ends (OH3: the log signed quarterly). The log is signed by
    month: a window is signed when each month it touches is. A month reopened for a correction
    must be signed again within the same number of days."""
    assert tally.span is not None
    span = tally.span
    if not tally.sessions and not tally.practice.total:
        return not_applicable(f"nothing recorded {_where(tally)}")
    if tally.running:
        return Judgement("running", f"{period(span)} is not over yet", risk="on_track")
    deadline = span.end + dt.timedelta(days=rule.within_days)
    late: list[str] = []
    pending: list[str] = []
    evidence: list[str] = []
    for month in _months_of(span.start, span.end):
        status = ctx.months.get(month)
        history = status.history if status is not None else ()
        evidence.extend(e.source_event_id for e in history)
        signed = [e for e in history if e.action == "signed_off"]
        reopened_last = bool(history) and history[-1].action == "reopened"
        if reopened_last:
            since = history[-1].on + dt.timedelta(days=rule.within_days)
            if ctx.as_of > since:
                late.append(f"{month} was reopened on {history[-1].on} and not signed again")
            else:
                pending.append(month)
        elif not signed or signed[0].on > deadline:
            if ctx.as_of <= deadline:
                pending.append(month)
            elif signed:
                late.append(f"{month} was signed on {signed[0].on}, after {deadline}")
            else:
                late.append(f"{month} is not signed")
    if late:
        reason = (
            f"the log of {period(span)} was to be signed within {rule.within_days} days of its "
            f"end: {'; '.join(late)}{cited(rule)}"
        )
        return Judgement(
            "violated",
            reason,
            breaches=(
                Breach(
                    scope=span.key,
                    on=deadline,
                    reason=reason,
                    evidence=(*tally.evidence(), *evidence),
                ),
            ),
        )
    if pending:
        left = max(0, (deadline - ctx.as_of).days)
        return Judgement(
            "running",
            f"the log of {', '.join(pending)} is to be signed by {deadline}, {left} days left",
            risk="at_risk" if left < ctx.policy.window_days_left_at_risk else "on_track",
        )
    return met(f"the log of {period(span)} was signed in time")
