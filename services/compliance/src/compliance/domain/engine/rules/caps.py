"""Stage two, first half: caps and shares. They decide which minutes of a window (or of the
program so far) count, so they run before any minimum is judged: the minimum then sees only what
counts.

Where a cap or a share is exceeded, the latest sessions of the tally are the ones beyond it
(TX6: the hours above ten in a month), cut to the minute. A window still running is judged when
it ends: until then its outcome is "running" and nothing is withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from math import floor

from compliance.domain.engine.record import SessionEntry
from compliance.domain.engine.rules.context import RuleContext, in_minutes
from compliance.domain.engine.tallies import Tally
from compliance.domain.engine.text import at_site, cited, hours, period, share
from compliance.domain.engine.verdicts import (
    Breach,
    Judgement,
    Measure,
    PracticeCut,
    SessionCut,
    met,
    not_applicable,
)
from contracts.rulepacks.model import (
    GroupShareMax,
    IndividualShareMin,
    MaxCountableSupervisionPerWindow,
    ModalityShareMin,
    PracticeCapPerWindow,
    SessionFormat,
)


def latest_first(sessions: Iterable[SessionEntry], excess: int) -> tuple[SessionCut, ...]:
    """Cuts of `excess` minutes off the latest counting sessions, to the minute."""
    cuts: list[SessionCut] = []
    left = excess
    for session in sorted(sessions, key=lambda s: s.sort_key, reverse=True):
        if left <= 0:
            break
        if session.countable <= 0:
            continue
        take = min(session.countable, left)
        cuts.append(SessionCut(session, take))
        left -= take
    return tuple(cuts)


def _where(tally: Tally) -> str:
    if tally.span is None:
        return "over the program so far"
    return f"in {period(tally.span)}{at_site(tally.site_id)}"


def _scope(tally: Tally) -> str:
    if tally.span is None:
        return "cumulative"
    site = f"@{tally.site_id}" if tally.site_id else ""
    return f"{tally.span.key}{site}"


def _running(
    reason: str, measured: Fraction | int, required: Fraction | int, measure: Measure
) -> Judgement:
    """A cap or a share in a window not over yet: judged when it ends."""
    return Judgement("running", reason, measured, required, measure, "on_track")


def practice_cap_per_window(
    rule: PracticeCapPerWindow, tally: Tally, ctx: RuleContext
) -> Judgement:
    """No more than `hours` of practice count in a window (CA1, CA4, NC2: 40 hours a week); the
    excess does not count."""
    cap = in_minutes(rule.hours) if rule.hours is not None else 0
    sums = tally.practice
    practice = sums.total_counted
    if sums.direct_counted7 + sums.indirect_counted7 <= cap * 7:
        return met(
            lambda: f"{hours(practice)} of practice {_where(tally)}", practice, cap, "minutes"
        )
    excess = practice - cap
    if tally.running:
        return _running(
            f"{hours(practice)} of practice {_where(tally)} so far, {hours(excess)} above the cap "
            "(judged when the window ends)",
            practice,
            cap,
            "minutes",
        )
    assert tally.span is not None
    return Judgement(
        "violated",
        f"{hours(excess)} above the cap",
        practice,
        cap,
        "minutes",
        breaches=(
            Breach(
                scope=_scope(tally),
                on=tally.span.end,
                reason=(
                    f"{hours(practice)} of practice {_where(tally)}; no more than "
                    f"{hours(cap)} count{cited(rule)}: {hours(excess)} do not"
                ),
                evidence=tally.evidence(),
                practice_cuts=(PracticeCut(tally.span.start, tally.span.end, None, excess),),
            ),
        ),
    )


def max_countable_supervision_per_window(
    rule: MaxCountableSupervisionPerWindow, tally: Tally, ctx: RuleContext
) -> Judgement:
    """No more than `hours` of supervision count in a window (TX6: ten hours a month); the
    latest sessions beyond the cap do not."""
    cap = in_minutes(rule.hours) if rule.hours is not None else 0
    counted = tally.counted()
    if counted <= cap:
        return met(
            lambda: f"{hours(counted)} of supervision {_where(tally)}", counted, cap, "minutes"
        )
    excess = counted - cap
    if tally.running:
        return _running(
            f"{hours(counted)} of supervision {_where(tally)} so far, {hours(excess)} above the "
            "cap (judged when the window ends)",
            counted,
            cap,
            "minutes",
        )
    assert tally.span is not None
    return Judgement(
        "violated",
        f"{hours(excess)} above the cap",
        counted,
        cap,
        "minutes",
        breaches=(
            Breach(
                scope=_scope(tally),
                on=tally.span.end,
                reason=(
                    f"{hours(counted)} of supervision {_where(tally)}; no more than "
                    f"{hours(cap)} count{cited(rule)}: the latest {hours(excess)} do not"
                ),
                evidence=tally.evidence(),
                session_cuts=latest_first(tally.sessions, excess),
            ),
        ),
    )


def _share_breach(
    rule_text: str,
    tally: Tally,
    cut_from: Iterable[SessionEntry],
    excess: int,
) -> Breach:
    return Breach(
        scope=_scope(tally),
        on=tally.span.end if tally.span is not None else tally.as_of,
        reason=rule_text,
        evidence=tally.evidence(),
        session_cuts=latest_first(cut_from, excess),
    )


def _of(tally: Tally, formats: tuple[SessionFormat, ...]) -> list[SessionEntry]:
    return [s for s in tally.sessions if s.format in formats]


def group_share_max(rule: GroupShareMax, tally: Tally, ctx: RuleContext) -> Judgement:
    """Group supervision counts up to `max_share` of all supervision counted (TX1: half); the
    latest group minutes beyond it do not."""
    assert rule.max_share is not None
    limit = Fraction(rule.max_share)
    group = tally.counted(ctx.group_formats())
    total = tally.counted()
    if total == 0:
        return not_applicable(f"no supervision counted {_where(tally)}")
    measured = Fraction(group, total)
    if measured <= limit:
        return met(
            f"group supervision is {share(measured)} {_where(tally)}", measured, limit, "share"
        )
    other = total - group
    allowed = floor(limit * other / (1 - limit)) if limit < 1 else group
    excess = group - allowed
    reason = (
        f"group supervision is {share(measured)} of {hours(total)} {_where(tally)}; it counts up "
        f"to {share(limit)}{cited(rule)}: the latest {hours(excess)} of group do not"
    )
    if tally.running:
        return _running(f"{reason} so far (judged when the window ends)", measured, limit, "share")
    return Judgement(
        "violated",
        reason,
        measured,
        limit,
        "share",
        breaches=(_share_breach(reason, tally, _of(tally, ctx.group_formats()), excess),),
    )


def individual_share_min(rule: IndividualShareMin, tally: Tally, ctx: RuleContext) -> Judgement:
    """At least `min_share` of the supervision counted is individual (NC2/NC3: 75%); where the
    rule voids, the latest group minutes beyond what the share allows do not count."""
    assert rule.min_share is not None
    floor_share = Fraction(rule.min_share)
    individual = tally.counted(ctx.individual_formats())
    total = tally.counted()
    if total == 0:
        return not_applicable(f"no supervision counted {_where(tally)}")
    measured = Fraction(individual, total)
    if measured >= floor_share:
        return met(
            f"individual supervision is {share(measured)} {_where(tally)}",
            measured,
            floor_share,
            "share",
        )
    other = total - individual
    allowed = floor(individual * (1 - floor_share) / floor_share) if floor_share > 0 else other
    excess = other - allowed
    reason = (
        f"individual supervision is {share(measured)} of {hours(total)} {_where(tally)}; the "
        f"board asks at least {share(floor_share)}{cited(rule)}"
    )
    if tally.running:
        return _running(f"{reason} so far", measured, floor_share, "share")
    others = [s for s in tally.sessions if s.format not in ctx.individual_formats()]
    return Judgement(
        "violated",
        reason,
        measured,
        floor_share,
        "share",
        breaches=(_share_breach(reason, tally, others, excess),),
    )


def modality_share_min(rule: ModalityShareMin, tally: Tally, ctx: RuleContext) -> Judgement:
    """At least `min_share` of the supervision counted is held in one modality (FL2: half in
    person), and, with `first_session`, the first session counted too. Where the rule voids, the
    latest minutes of other modalities beyond the share do not count."""
    assert rule.min_share is not None
    floor_share = Fraction(rule.min_share)
    how = rule.modality.replace("_", " ")
    in_modality = tally.counted(modality=rule.modality)
    total = tally.counted()
    if total == 0:
        return not_applicable(f"no supervision counted {_where(tally)}")
    measured = Fraction(in_modality, total)
    breaches: list[Breach] = []
    reasons: list[str] = []
    if measured < floor_share:
        other = total - in_modality
        allowed = floor(in_modality * (1 - floor_share) / floor_share) if floor_share else other
        reason = (
            f"supervision {how} is {share(measured)} of {hours(total)} {_where(tally)}; the board "
            f"asks at least {share(floor_share)}{cited(rule)}"
        )
        reasons.append(reason)
        others = [s for s in tally.sessions if s.modality != rule.modality]
        breaches.append(_share_breach(reason, tally, others, other - allowed))
    if rule.first_session:
        first = next(iter(tally.counting_sessions()), None)
        if first is not None and first.modality != rule.modality:
            reason = (
                f"the first session counted, on {first.date.isoformat()}, was held by "
                f"{first.modality.replace('_', ' ')}; the board asks it {how}{cited(rule)}"
            )
            reasons.append(reason)
            breaches.append(
                Breach(
                    scope=f"first-session/{first.session_id}",
                    on=first.date,
                    reason=reason,
                    evidence=first.source_event_ids,
                    session_id=first.session_id,
                    session_cuts=(SessionCut(first, first.countable),),
                )
            )
    if not breaches:
        return met(
            f"supervision {how} is {share(measured)} {_where(tally)}",
            measured,
            floor_share,
            "share",
        )
    if tally.running:
        return _running("; ".join(reasons) + " so far", measured, floor_share, "share")
    return Judgement(
        "violated", "; ".join(reasons), measured, floor_share, "share", breaches=tuple(breaches)
    )
