"""One supervisee judged on a date by the rules of their track: the three stages, in order.

1. each session, by the version in force on its date (modality, group modality, supervisor
   qualified, board approval, contemporaneous record): its voids take the session out of what
   counts;
2. each window (calendar week, two weeks, calendar month, calendar quarter; per site where a
   rule says so), by the version in force on the window's first day: first the caps and shares
   of every window, which decide what counts, then what each window must hold;
3. the program so far, by the version in force on the view's date.

A version that comes into force in the middle of a window judges from the next window on; the
sessions are judged by their own date's version.

The evaluation's standing (status, progress, verdicts) is computed at once; its detail (every
outcome, every window's tally, every session and week of practice as judged) is built the first
time it is read (`evaluation`), so that a site of supervisees costs only what its standing
needs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from compliance.domain.engine.evaluation import SuperviseeEvaluation
from compliance.domain.engine.inputs import ApprovedLeave, Resolution
from compliance.domain.engine.progress import progress_of
from compliance.domain.engine.record import FactsDisagree, Record, SessionEntry, read_record
from compliance.domain.engine.rules import (
    CADENCE_RULES,
    CAP_RULES,
    SESSION_RULES,
    RuleContext,
    SessionContext,
    SessionRule,
    concurrent_supervisors_max,
    duration_max,
    evaluation_cadence,
    extra_supervision_above_practice,
    group_alternates_with_individual,
    hours_lookback,
    min_supervision_averaged,
    min_supervision_per_window,
)
from compliance.domain.engine.status import (
    StatusReason,
    expiring_credentials,
    status_of,
)
from compliance.domain.engine.supervisors import SupervisorCredentials
from compliance.domain.engine.tallies import Tally, WindowTally, window_tally
from compliance.domain.engine.verdicts import (
    NOTHING,
    Breach,
    Judgement,
    NotCounted,
    RuleOutcome,
    Verdict,
    WindowRef,
    to_decimal,
    verdict_id,
)
from compliance.domain.engine.windows import Span, window_containing, windows_through
from compliance.domain.record import Credentials, SuperviseeFacts
from compliance.domain.sessions import ExclusionCode
from contracts.rulepacks.model import (
    BoardApprovalBeforeHoursCount,
    ConcurrentSupervisorsMax,
    DurationMax,
    EvaluationCadence,
    ExtraSupervisionAbovePractice,
    GroupAlternatesWithIndividual,
    GroupShareMax,
    HoursLookback,
    IndividualShareMin,
    MinSupervisionPerWindow,
    ModalityShareMin,
    PackVersion,
    RuleKind,
    RulePack,
    RulePacks,
    SupervisionPerPracticeHours,
    Window,
)

_KINDS: tuple[Window, ...] = ("calendar_week", "two_weeks", "calendar_month", "calendar_quarter")
_DAY = dt.timedelta(days=1)
_SET_ASIDE: tuple[ExclusionCode, ...] = ("voided", "administrative")


@dataclass(slots=True)
class _Judged:
    rule: RuleKind | None
    version: PackVersion | None
    judgement: Judgement
    verdict_ids: list[str]
    span: Span | None = None
    site_id: str | None = None


def _unique(items: Iterable[Any], what: str) -> list[Any]:
    """Each leave or resolution once, by the event it came from."""
    seen: dict[str, Any] = {}
    for item in items:
        known = seen.setdefault(item.source_event_id, item)
        if known != item:
            raise FactsDisagree(what, item.source_event_id)
    return list(seen.values())


def _resolutions(resolutions: Iterable[Resolution], as_of: dt.date) -> dict[str, Resolution]:
    """The first resolution of each verdict made by `as_of`."""
    chosen: dict[str, Resolution] = {}
    ordered = sorted(
        _unique(resolutions, "resolution"), key=lambda r: (r.on, r.recorded_at, r.source_event_id)
    )
    for resolution in ordered:
        if resolution.on <= as_of:
            chosen.setdefault(resolution.verdict_id, resolution)
    return chosen


def _track(record: Record) -> str | None:
    """The registration's track; without one, the track all the agreements name."""
    if record.registration is not None:
        return record.registration.credential_track
    tracks = {a.credential_track for a in record.agreements}
    return tracks.pop() if len(tracks) == 1 else None


def _unevaluable(rule: RuleKind) -> Judgement:
    if not rule.confirmed:
        note = f": {rule.note}" if rule.note else ""
        return Judgement("not_evaluated", f"not evaluated (unconfirmed){note}")
    unknown = ", ".join(rule.unknown_figures())
    return Judgement("not_evaluated", f"not evaluated: the board's figure is not known ({unknown})")


def _window(rule: RuleKind) -> str | None:
    """The window a rule is judged over ("cumulative": the program so far); None for rules of
    sessions and of the program."""
    window: str | None = getattr(rule, "window", None)
    return window


def _is_windowed(rule: RuleKind) -> bool:
    window = _window(rule)
    if window is None or window == "cumulative":
        return False
    return not (isinstance(rule, MinSupervisionPerWindow) and rule.averaged)


def _program_order(rule: RuleKind) -> int:
    """Withdrawals first (old hours, hours past the longest duration), then the caps and shares
    over the program, then everything that reads what counts."""
    order: tuple[type, ...] = (
        HoursLookback,
        DurationMax,
        GroupShareMax,
        IndividualShareMin,
        ModalityShareMin,
        SupervisionPerPracticeHours,
    )
    for index, kind in enumerate(order):
        if isinstance(rule, kind):
            return index
    return len(order)


def _ref(span: Span | None) -> WindowRef | None:
    if span is None:
        return None
    return WindowRef.model_construct(kind=span.kind, start=span.start, end=span.end)


class _Plan:
    """A version's window rules, sorted once: the caps by (kind of rule, window), and the rest
    by window, in the pack's order."""

    __slots__ = ("cadence", "caps", "unevaluable")

    def __init__(self, version: PackVersion) -> None:
        self.caps: dict[tuple[type, str], list[RuleKind]] = defaultdict(list)
        self.cadence: dict[str, list[RuleKind]] = defaultdict(list)
        self.unevaluable = frozenset(r.id for r in version.rules if not r.evaluable)
        for rule in version.rules:
            if not _is_windowed(rule):
                continue
            window = _window(rule)
            assert window is not None
            if type(rule) in CAP_RULES:
                self.caps[type(rule), window].append(rule)
            else:
                self.cadence[window].append(rule)


class _Run:
    """One evaluation while its stages run: what counts only goes down, verdicts and outcomes
    accumulate."""

    def __init__(
        self,
        record: Record,
        pack: RulePack,
        packs: RulePacks,
        credentials: SupervisorCredentials,
        leaves: Sequence[ApprovedLeave],
        resolutions: dict[str, Resolution],
    ) -> None:
        self.record = record
        self.pack = pack
        self.policy = packs.policy
        self.credentials = credentials
        self.leaves = leaves
        self.resolutions = resolutions
        self.verdicts: dict[str, Verdict] = {}
        self.judged: list[_Judged] = []
        self.as_of = record.as_of
        self.started = record.experience_start
        self.first_day = min(
            [
                *([self.started] if self.started else []),
                *(s.date for s in record.sessions[:1]),
                *(r.week_start for r in record.practice.records[:1]),
            ],
            default=self.as_of,
        )
        registration = record.registration
        self.fortnights_from = registration.registered_on if registration else self.first_day
        self.months = {m.month: m for m in record.months}
        self.contexts: dict[dt.date, RuleContext] = {}
        self.in_play = [
            v
            for v in pack.versions
            if v.effective_from <= self.as_of
            and (v.effective_to is None or v.effective_to >= self.first_day)
        ]
        self.spans: list[tuple[Span, PackVersion | None]] = []
        self._plans: dict[dt.date, _Plan] = {}

    def plan(self, version: PackVersion) -> _Plan:
        plan = self._plans.get(version.effective_from)
        if plan is None:
            plan = self._plans[version.effective_from] = _Plan(version)
        return plan

    def context(self, version: PackVersion) -> RuleContext:
        ctx = self.contexts.get(version.effective_from)
        if ctx is None:
            ctx = self.contexts[version.effective_from] = RuleContext(
                policy=self.policy,
                triadic_counts_as=version.session_limits.triadic_counts_as,
                months=self.months,
                as_of=self.as_of,
            )
        return ctx

    def issue(
        self,
        rule: RuleKind,
        version: PackVersion,
        breach: Breach,
        span: Span | None = None,
        site_id: str | None = None,
    ) -> str:
        """Turn a breach into a verdict; a void withdraws what it names from what counts."""
        vid = verdict_id(rule.id, self.record.supervisee_id, breach.scope)
        if vid in self.verdicts:
            return vid
        not_counted = NOTHING
        if rule.severity == "void":
            supervision = 0
            for cut in breach.session_cuts:
                take = min(cut.minutes, cut.session.countable)
                if take > 0:
                    cut.session.countable -= take
                    supervision += take
                    cut.session.verdict_ids.append(vid)
            direct = indirect = Decimal(0)
            for practice in breach.practice_cuts:
                d, i = self.record.practice.withdraw(
                    practice.start, practice.end, practice.site_id, practice.excess
                )
                direct += to_decimal(d, "minutes")
                indirect += to_decimal(i, "minutes")
            if supervision or direct or indirect:
                not_counted = NotCounted(
                    supervision_minutes=supervision,
                    direct_minutes=direct,
                    indirect_minutes=indirect,
                )
        if breach.session_id is not None:
            for cut in breach.session_cuts:
                concerned = cut.session
                if concerned.session_id == breach.session_id and vid not in concerned.verdict_ids:
                    concerned.verdict_ids.append(vid)
        self.verdicts[vid] = Verdict(
            verdict_id=vid,
            severity=rule.severity,
            rule_id=rule.id,
            rule_kind=rule.kind,
            title=rule.title,
            reason=breach.reason,
            src=rule.src,
            confidence=rule.confidence,
            track=self.pack.track,
            pack_effective_from=version.effective_from,
            window=_ref(span),
            site_id=site_id,
            session_id=breach.session_id,
            on=breach.on,
            not_counted=not_counted,
            evidence_event_ids=tuple(dict.fromkeys(breach.evidence)),
            resolution=self.resolutions.get(vid),
        )
        return vid

    def judge(
        self,
        rule: RuleKind | None,
        version: PackVersion | None,
        judgement: Judgement,
        span: Span | None = None,
        site_id: str | None = None,
    ) -> None:
        """Issue a judgement's verdicts and keep its outcome."""
        ids: list[str] = []
        if rule is not None and version is not None:
            ids = [self.issue(rule, version, b, span, site_id) for b in judgement.breaches]
        self.judged.append(_Judged(rule, version, judgement, ids, span, site_id))

    # --- stage one: each session ----------------------------------------------------------

    def sessions(self) -> None:
        violations: dict[tuple[dt.date, str], list[str]] = defaultdict(list)
        counts: dict[tuple[dt.date, str], int] = defaultdict(int)
        by_version: dict[dt.date, tuple[SessionContext, list[tuple[RuleKind, SessionRule]]]] = {}
        unjudged: list[SessionEntry] = []
        version: PackVersion | None = None
        for session in self.record.sessions:
            if session.excluded in _SET_ASIDE:
                continue
            if version is None or not version.in_force_on(session.date):
                version = self.pack.version_on(session.date)
            if version is None:
                unjudged.append(session)
                continue
            prepared = by_version.get(version.effective_from)
            if prepared is None:
                prepared = by_version[version.effective_from] = (
                    SessionContext(
                        state=self.pack.state,
                        triadic_counts_as=version.session_limits.triadic_counts_as,
                        credentials=self.credentials,
                        agreements=self.record.agreements,
                    ),
                    [
                        (r, SESSION_RULES[type(r)])
                        for r in version.rules
                        if type(r) in SESSION_RULES and r.evaluable
                    ],
                )
            ctx, rules = prepared
            if session.excluded == "board_approval_missing" and any(
                isinstance(r, BoardApprovalBeforeHoursCount) for r, _ in rules
            ):
                # The pack's rule judges it, and its void says so with the board's source.
                session.excluded = session.excluded_detail = None
                session.countable = session.minutes
            if session.excluded is not None:
                continue
            for rule, function in rules:
                key = (version.effective_from, rule.id)
                counts[key] += 1
                breach = function(rule, session, ctx)
                if breach is not None:
                    violations[key].append(self.issue(rule, version, breach))
        if unjudged:
            self.judge(
                None,
                None,
                Judgement(
                    "not_evaluated",
                    f"{len(unjudged)} sessions fall on days no version of the {self.pack.track} "
                    f"pack is in force (the first on {unjudged[0].date.isoformat()})",
                ),
            )
        for version in self.in_play:
            for rule in version.rules:
                if type(rule) not in SESSION_RULES:
                    continue
                key = (version.effective_from, rule.id)
                ids = violations[key]
                if not rule.evaluable:
                    judgement = _unevaluable(rule)
                elif not counts[key]:
                    judgement = Judgement("not_applicable", "no session judged by this version")
                elif ids:
                    judgement = Judgement(
                        "violated", f"{len(ids)} of {counts[key]} sessions not met"
                    )
                else:
                    judgement = Judgement("met", f"{counts[key]} sessions judged, all met")
                self.judged.append(_Judged(rule, version, judgement, ids))

    # --- stage two: each window -----------------------------------------------------------

    def find_spans(self) -> None:
        kinds = {"calendar_month"} | {
            _window(r)
            for v in self.in_play
            for r in v.rules
            if _is_windowed(r) or (isinstance(r, MinSupervisionPerWindow) and r.averaged)
        }
        for kind in _KINDS:
            if kind in kinds:
                for span in windows_through(kind, self.first_day, self.as_of, self.fortnights_from):
                    self.spans.append((span, self.pack.version_on(span.start)))

    def sites(self, span: Span) -> list[str]:
        """The work settings of a window: where practice or sessions are recorded in it, and
        those of the agreements covering any of its days."""
        sites = self.record.practice.sites_between(span.start, span.end)
        sites.update(s.site_id for s in self.record.sessions_between(span.start, span.end))
        sites.update(
            a.site_id
            for a in self.record.agreements
            if a.start_date <= span.end and a.last_day >= span.start
        )
        return sorted(sites)

    def tally(self, span: Span, site_id: str | None = None, before: Span | None = None) -> Tally:
        return Tally(self.record, span, site_id, self.leaves, before)

    def windows(self) -> None:
        judged: list[tuple[Span, PackVersion]] = []
        for span, version in self.spans:
            if version is None:
                self.judge(
                    None,
                    None,
                    Judgement(
                        "not_evaluated",
                        f"no version of the {self.pack.track} pack is in force on "
                        f"{span.start.isoformat()}",
                    ),
                    span,
                )
            else:
                judged.append((span, version))
        # What counts, first: every cap of every window, kind by kind.
        present = {kind for v in self.in_play for kind, _ in self.plan(v).caps}
        for kind, function in CAP_RULES.items():
            if kind not in present:
                continue
            for span, version in judged:
                plan = self.plan(version)
                for rule in plan.caps.get((kind, span.kind), ()):
                    if rule.id in plan.unevaluable:
                        self.judge(rule, version, _unevaluable(rule), span)
                        continue
                    judgement = function(rule, self.tally(span), self.context(version))
                    self.judge(rule, version, judgement, span)
        # Then what each window must hold, judged on the tallies as the caps left them; the
        # voids are applied once all are judged, so that none depends on another.
        pending: list[tuple[RuleKind, PackVersion, Judgement, Span, str | None]] = []
        previous: dict[str, Span] = {}
        for span, version in judged:
            ctx = self.context(version)
            before = previous.get(span.kind) or window_containing(
                span.kind, span.start - _DAY, self.fortnights_from
            )
            previous[span.kind] = span
            tallies: dict[str | None, Tally] = {}
            plan = self.plan(version)
            work_settings: list[str] | None = None
            for rule in plan.cadence.get(span.kind, ()):
                if rule.id in plan.unevaluable:
                    pending.append((rule, version, _unevaluable(rule), span, None))
                    continue
                sites: list[str | None] = [None]
                if getattr(rule, "per_site", False):
                    if work_settings is None:
                        work_settings = self.sites(span)
                    sites = list(work_settings)
                    if not sites:
                        none = Judgement("not_applicable", "no work setting in the window")
                        pending.append((rule, version, none, span, None))
                for site in sites:
                    tally = tallies.get(site)
                    if tally is None:
                        tally = tallies[site] = self.tally(span, site, before)
                    judgement = self._cadence(rule, version, tally, ctx)
                    pending.append((rule, version, judgement, span, site))
        for rule, version, judgement, span, site in pending:
            self.judge(rule, version, judgement, span, site)

    def _cadence(
        self, rule: RuleKind, version: PackVersion, tally: Tally, ctx: RuleContext
    ) -> Judgement:
        if isinstance(rule, MinSupervisionPerWindow):
            return min_supervision_per_window(rule, tally, ctx)
        if isinstance(rule, ExtraSupervisionAbovePractice):
            base = version.rule(rule.adds_to)
            assert isinstance(base, MinSupervisionPerWindow)
            return extra_supervision_above_practice(rule, tally, ctx, base)
        return CADENCE_RULES[type(rule)](rule, tally, ctx)

    # --- stage three: the program so far --------------------------------------------------

    def program(self) -> None:
        version = self.pack.version_on(self.as_of)
        if version is None:
            self.judge(
                None,
                None,
                Judgement(
                    "not_evaluated",
                    f"no version of the {self.pack.track} pack is in force on "
                    f"{self.as_of.isoformat()}",
                ),
            )
            return
        ctx = self.context(version)
        rules = [r for r in version.rules if type(r) not in SESSION_RULES and not _is_windowed(r)]
        for rule in sorted(rules, key=_program_order):
            if not rule.evaluable:
                self.judge(rule, version, _unevaluable(rule))
                continue
            self.judge(rule, version, self._program_rule(rule, ctx))

    def _program_rule(self, rule: RuleKind, ctx: RuleContext) -> Judgement:
        record = self.record
        if isinstance(rule, HoursLookback):
            return hours_lookback(rule, record, ctx)
        if isinstance(rule, DurationMax):
            return duration_max(rule, record, self.started, ctx)
        if isinstance(rule, ConcurrentSupervisorsMax):
            return concurrent_supervisors_max(rule, record.agreements, ctx)
        if isinstance(rule, EvaluationCadence):
            return evaluation_cadence(
                rule, record.evaluations, record.agreements, self.leaves, self.started, ctx
            )
        if isinstance(rule, GroupAlternatesWithIndividual):
            return group_alternates_with_individual(rule, record.sessions, ctx)
        if isinstance(rule, MinSupervisionPerWindow):
            tallies = [self.tally(s) for s, _ in self.spans if s.kind == rule.window]
            return min_supervision_averaged(rule, tallies, ctx)
        program = Tally(record, None, None, self.leaves)
        if type(rule) in CAP_RULES:
            return CAP_RULES[type(rule)](rule, program, ctx)
        return CADENCE_RULES[type(rule)](rule, program, ctx)

    # --- what it says ---------------------------------------------------------------------

    def at_risk(self) -> list[StatusReason]:
        reasons: list[StatusReason] = []
        for item in self.judged:
            if item.judgement.risk != "at_risk" or item.rule is None:
                continue
            due = item.rule.kind == "evaluation_cadence"
            reasons.append(
                StatusReason(
                    kind="evaluation_due" if due else "window_at_risk",
                    detail=item.judgement.said(),
                    on=item.span.end if item.span else None,
                    rule_id=item.rule.id,
                )
            )
        return reasons

    def outcomes(self) -> tuple[RuleOutcome, ...]:
        track = self.pack.track
        return tuple(
            RuleOutcome.model_construct(
                rule_id=j.rule.id if j.rule else None,
                rule_kind=j.rule.kind if j.rule else None,
                track=track,
                pack_effective_from=j.version.effective_from if j.version else None,
                window=_ref(j.span),
                site_id=j.site_id,
                status=j.judgement.status,
                risk=j.judgement.risk,
                reason=j.judgement.said(),
                measured=to_decimal(j.judgement.measured, j.judgement.measure),
                required=to_decimal(j.judgement.required, j.judgement.measure),
                measure=j.judgement.measure,
                verdict_ids=tuple(j.verdict_ids),
            )
            for j in self.judged
        )

    def window_tallies(self) -> tuple[WindowTally, ...]:
        per_site_kinds = {
            _window(r)
            for v in self.in_play
            for r in v.rules
            if _is_windowed(r) and getattr(r, "per_site", False)
        }
        shown: list[WindowTally] = []
        for span, _ in self.spans:
            sites: list[str | None] = [None]
            if span.kind in per_site_kinds:
                sites.extend(self.sites(span))
            shown.extend(window_tally(self.tally(span, site)) for site in sites)
        return tuple(shown)


def evaluate_supervisee(
    facts: SuperviseeFacts,
    credentials: Credentials,
    packs: RulePacks,
    as_of: dt.date,
    *,
    leaves: Iterable[ApprovedLeave] = (),
    resolutions: Iterable[Resolution] = (),
) -> SuperviseeEvaluation:
    """Judge one supervisee at the end of `as_of` by the rules of their track.

    `facts` are everything projected about the supervisee, `credentials` the licenses and
    designations of their supervisors, `leaves` the supervisee's approved leaves and
    `resolutions` the compliance officers' resolutions of verdicts (those made by `as_of`
    apply). Pure: the same inputs, in any order and with repeats, give the same evaluation.
    """
    record = read_record(facts, as_of)
    approved = sorted(_unique(leaves, "leave"), key=lambda lv: (lv.start, lv.source_event_id))
    track = _track(record)
    pack = packs.packs.get(track) if track is not None else None
    if pack is None:
        why = (
            "no registration or agreement names the supervisee's credential track"
            if track is None
            else f"no rule pack for the track {track}"
        )
        return SuperviseeEvaluation(
            record,
            track,
            status_of((), (), not_evaluated=why),
            progress_of(record, None, packs.policy, record.experience_start),
            (),
        )
    supervisors = SupervisorCredentials(credentials)
    run = _Run(record, pack, packs, supervisors, approved, _resolutions(resolutions, as_of))
    run.sessions()
    run.find_spans()
    run.windows()
    run.program()
    verdicts = tuple(sorted(run.verdicts.values(), key=lambda v: (v.on, v.rule_id, v.verdict_id)))
    expiring = expiring_credentials(
        supervisors, record.agreements, as_of, packs.policy.credential_expiring_within_days
    )
    return SuperviseeEvaluation(
        record,
        track,
        status_of(verdicts, [*run.at_risk(), *expiring]),
        progress_of(record, pack.version_on(as_of), packs.policy, record.experience_start),
        verdicts,
        run.outcomes,
        run.window_tallies,
    )
