"""What a licensing board requires of one credential track, as versioned, sourced data.

A rule pack is one file per credential track. It holds versions; each is in force from
`effective_from` up to and including `effective_to` (open-ended when unset). A change of rule is
a new version, never an edit of an old one: a window is judged by the version in force on its
dates, so sessions before a change are judged by the old rule and after it by the new.

Every figure carries where it comes from (`src`: tags resolved in `sources.md` beside the packs)
and how sure we are of it (`confidence`):
- `primary`: the board's own text;
- `secondary`: a restatement of it (a professional association, a licensure guide);
- `unconfirmed`: not found, or sources that conflict. The compliance engine never enforces an
  unconfirmed rule or a rule whose figure is unknown (`null`): it reports it as not evaluated,
  and why, rather than guessing.

Times are hours in the files (as boards write them) and minutes in the code: `minutes()` turns
one into the other exactly. Shares are fractions between 0 and 1.

This module is pure (pydantic and the standard library): the domains of supervision and
compliance both read it, so that supervision's command-time checks and compliance's evaluation
can never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Confidence = Literal["primary", "secondary", "unconfirmed"]
# A void: hours that do not count. A finding: something a person must review.
Severity = Literal["void", "finding"]
# Calendar weeks run Monday to Sunday (as practice hours are recorded); two-week windows are
# consecutive fortnights counted from the supervisee's registration date.
Window = Literal["calendar_week", "two_weeks", "calendar_month", "calendar_quarter"]
SessionFormat = Literal["individual", "triadic", "group"]
SessionModality = Literal["in_person", "video", "phone"]
Technique = Literal[
    "corrective_feedback",
    "discussion_of_interventions",
    "role_play",
    "direct_observation",
    "case_review",
    "recording_review",
]

TrackId = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9-]{2,40}$")]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,80}$")]
SourceTag = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{0,9}$")]
Hours = Annotated[Decimal, Field(ge=0, le=100_000)]
Share = Annotated[Decimal, Field(ge=0, le=1)]

_MINUTES_PER_HOUR = 60


def minutes(hours: Decimal) -> int:
    """Whole minutes in a figure given in hours (boards give hours to the quarter at most)."""
    exact = hours * _MINUTES_PER_HOUR
    if exact != exact.to_integral_value():
        raise ValueError(f"{hours} h is not a whole number of minutes")
    return int(exact)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sourced(_Model):
    """Where a figure comes from and how sure we are of it."""

    # Tags such as "TX1"; the files may write them "TX1;CA5" as the research does.
    src: tuple[SourceTag, ...] = ()
    confidence: Confidence
    note: str | None = None

    @field_validator("src", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(tag.strip() for tag in value.split(";") if tag.strip())
        return value

    @model_validator(mode="after")
    def _a_sure_figure_names_its_source(self) -> Self:
        if self.confidence != "unconfirmed" and not self.src:
            raise ValueError(f"a {self.confidence} figure must name its source (src)")
        return self

    @property
    def confirmed(self) -> bool:
        return self.confidence != "unconfirmed"


class Figure(Sourced):
    """A number a board sets; None when the board's figure is not known."""

    value: Decimal | None = None

    @model_validator(mode="after")
    def _an_unknown_figure_is_unconfirmed(self) -> Self:
        if self.value is None and self.confidence != "unconfirmed":
            raise ValueError("a figure without a value must be unconfirmed")
        return self


class Count(Sourced):
    """A whole number a board sets; None where it states none."""

    value: int | None = Field(default=None, ge=0)


class Flag(Sourced):
    value: bool


class SupervisionWeights(_Model):
    """How much a minute of each format counts toward a figure measured in supervision.

    California counts a unit as one hour of individual or triadic supervision or two hours of
    group (CA5, TYH1): individual 1, triadic 1, group 0.5. North Carolina's one hour of
    individual or two of group per 40 hours of practice (NC3) weighs the same way.
    """

    individual: Share = Decimal(1)
    triadic: Share = Decimal(1)
    group: Share = Decimal(1)
    # Where the weighting comes from (CA: TYH1;CA5, secondary); None for the plain 1:1:1.
    source: Sourced | None = None

    def of(self, session_format: SessionFormat) -> Fraction:
        weight: Decimal = getattr(self, session_format)
        return Fraction(weight)


# --- requirements: progress toward the license --------------------------------------------


class Requirements(_Model):
    """What the supervisee must have accumulated to apply for the license."""

    total_hours: Figure
    direct_client_hours: Figure
    supervision_hours: Figure
    # The shortest time the experience may take, in months or in weeks (boards use either).
    min_months: Figure | None = None
    min_weeks: Figure | None = None


# --- what supervision checks when it records an agreement or a session --------------------


class SessionLimits(_Model):
    """The per-track facts that decide whether supervision may record an agreement or a session.

    Where a board states no figure, the pack holds the organization's choice, marked
    `unconfirmed` with a note: supervision must still accept or refuse a session, but the
    compliance engine does not judge the board's rule on that figure.
    """

    group_min_supervisees: Count
    group_max_supervisees: Count
    # None: the board states no limit (several supervisors at once are then allowed).
    concurrent_supervisors_max: Count
    # The board must approve the agreement before any hour under it counts.
    board_approval_before_hours_count: Flag
    # How the board counts a session of one supervisor with two supervisees.
    triadic_counts_as: Literal["individual", "group"] = "individual"
    # Where that counting comes from (CA5: triadic counts as individual; TX6: a group starts at
    # two); None where the board's text says nothing and the default applies.
    triadic_counts_as_basis: Sourced | None = None
    # The most supervisees the board admits to individual supervision (TX1, FL1, IL3: two, so a
    # triadic session is individual supervision); None where the board's text says nothing.
    individual_max_supervisees: Count | None = None

    @model_validator(mode="after")
    def _sizes_supervision_can_decide_with(self) -> Self:
        # Supervision must accept or refuse every group session: both bounds are needed.
        low, high = self.group_min_supervisees.value, self.group_max_supervisees.value
        if low is None or high is None:
            raise ValueError(
                "group_min_supervisees and group_max_supervisees need a value (the "
                "organization's choice, unconfirmed, where the board states none)"
            )
        if low > high:
            raise ValueError(f"group_min_supervisees {low} exceeds group_max_supervisees {high}")
        return self


# --- rule kinds: each judged by a pure function over period tallies ------------------------


class _Rule(Sourced):
    id: RuleId
    severity: Severity
    # The rule as a sentence a compliance officer reads, e.g. "At least 4 hours of supervision
    # in each calendar month of practice".
    title: str = Field(min_length=3, max_length=300)

    @property
    def evaluable(self) -> bool:
        """Confirmed, with every figure known: otherwise reported as not evaluated."""
        return self.confirmed and not self.unknown_figures()

    def unknown_figures(self) -> tuple[str, ...]:
        """The names of the figures this rule needs that the board's text did not give."""
        return tuple(name for name in self._figures() if getattr(self, name) is None)

    def _figures(self) -> tuple[str, ...]:
        return ()


class MinSupervisionPerWindow(_Rule):
    """At least `hours` of (weighted) supervision in every window in which the supervisee
    practised (TX1: 4 h a calendar month; FL1: 1 h every two weeks; IL3: 1 h a week; CA: one
    unit a week per work setting). A window with approved leave is not judged."""

    kind: Literal["min_supervision_per_window"]
    window: Window
    hours: Hours | None
    weights: SupervisionWeights = SupervisionWeights()
    # Judged per work setting (site) rather than over all of them (CA: per setting).
    per_site: bool = False
    only_while_practising: bool = True
    # IL6 asks for an average: the windows are judged together, over the program so far.
    averaged: bool = False
    # An approved leave suspends the rule for the windows it covers only when it lasts at least
    # this many days (TX1: "extended leave of at least one month approved in writing").
    min_leave_days: int = Field(default=0, ge=0)

    def _figures(self) -> tuple[str, ...]:
        return ("hours",)


class ExtraSupervisionAbovePractice(_Rule):
    """In a window whose direct client hours exceed `direct_hours_above`, `extra_hours` more
    (weighted) supervision beyond the minimum of `adds_to` (CA: a second unit in a week of more
    than 10 direct hours, TYH1/TYH6)."""

    kind: Literal["extra_supervision_above_practice"]
    window: Window
    direct_hours_above: Hours | None
    extra_hours: Hours | None
    # The id of the minimum this adds to (a min_supervision_per_window rule of the same version).
    adds_to: RuleId
    weights: SupervisionWeights = SupervisionWeights()
    per_site: bool = False

    def _figures(self) -> tuple[str, ...]:
        return ("direct_hours_above", "extra_hours")


class SupervisionPerPracticeHours(_Rule):
    """At least `supervision_hours` of (weighted) supervision for every `per_practice_hours`
    of practice (FL1: 1 per 15; NC3: 1 individual or 2 group per 40), judged per window or
    over the program so far (`cumulative`)."""

    kind: Literal["supervision_per_practice_hours"]
    supervision_hours: Hours | None
    per_practice_hours: Hours | None
    window: Window | Literal["cumulative"] = "cumulative"
    practice: Literal["direct", "total"] = "total"
    weights: SupervisionWeights = SupervisionWeights()
    # NC3: hours of individual supervision are not themselves practice hours.
    exclude_individual_supervision_from_practice: bool = False

    def _figures(self) -> tuple[str, ...]:
        return ("supervision_hours", "per_practice_hours")


class MaxCountableSupervisionPerWindow(_Rule):
    """No more than `hours` of supervision count in a window; the excess does not (TX6: 10 h a
    month). The latest sessions of the window are the ones beyond the cap."""

    kind: Literal["max_countable_supervision_per_window"]
    window: Window
    hours: Hours | None

    def _figures(self) -> tuple[str, ...]:
        return ("hours",)


class GroupShareMax(_Rule):
    """Group supervision counts up to `max_share` of all supervision counted (TX1: half); the
    group minutes beyond it do not count."""

    kind: Literal["group_share_max"]
    max_share: Share | None
    window: Window | Literal["cumulative"] = "cumulative"

    def _figures(self) -> tuple[str, ...]:
        return ("max_share",)


class IndividualShareMin(_Rule):
    """At least `min_share` of the supervision counted is individual (NC2/NC3: 75%)."""

    kind: Literal["individual_share_min"]
    min_share: Share | None
    window: Window | Literal["cumulative"] = "cumulative"

    def _figures(self) -> tuple[str, ...]:
        return ("min_share",)


class PracticeCapPerWindow(_Rule):
    """No more than `hours` of practice count in a window (CA1, CA4, NC2: 40 h a week); the
    excess does not."""

    kind: Literal["practice_cap_per_window"]
    window: Window
    hours: Hours | None

    def _figures(self) -> tuple[str, ...]:
        return ("hours",)


class ModalityNotCountable(_Rule):
    """Supervision held by this modality does not count (OH3 and FL2: not by telephone)."""

    kind: Literal["modality_not_countable"]
    modality: SessionModality
    formats: tuple[SessionFormat, ...] = ("individual", "triadic", "group")


class GroupModalityRequired(_Rule):
    """Group supervision counts only when held in this modality (FL1/FL2: in person)."""

    kind: Literal["group_modality_required"]
    modality: SessionModality


class ModalityShareMin(_Rule):
    """At least `min_share` of the supervision counted is held in this modality (FL2: half in
    person), and, where `first_session` is set, the first session too."""

    kind: Literal["modality_share_min"]
    modality: SessionModality
    min_share: Share | None
    first_session: bool = False
    window: Window | Literal["cumulative"] = "cumulative"

    def _figures(self) -> tuple[str, ...]:
        return ("min_share",)


class GroupAlternatesWithIndividual(_Rule):
    """Group supervision alternates with individual: two group sessions with no individual (or
    triadic) session between them is a finding (FL1/FL2)."""

    kind: Literal["group_alternates_with_individual"]


class DurationMax(_Rule):
    """The supervised experience may last at most `months` (TX5: 48); supervision past it is a
    finding."""

    kind: Literal["duration_max"]
    months: int | None = Field(ge=1)

    def _figures(self) -> tuple[str, ...]:
        return ("months",)


class HoursLookback(_Rule):
    """Hours older than `years` before the view's date no longer count (CA1: six years; TX5:
    five)."""

    kind: Literal["hours_lookback"]
    years: int | None = Field(ge=1)

    def _figures(self) -> tuple[str, ...]:
        return ("years",)


class ConcurrentSupervisorsMax(_Rule):
    """No more than `supervisors` agreements in force at once (TX2: two)."""

    kind: Literal["concurrent_supervisors_max"]
    supervisors: int | None = Field(ge=1)

    def _figures(self) -> tuple[str, ...]:
        return ("supervisors",)


class SupervisorQualified(_Rule):
    """On the date of each session the supervisor held what the board asks: a license in good
    standing (of one of `license_kinds`, when listed), the designation (`designations`, when
    listed) in force with its base license active, the license for `min_years_licensed`, and the
    board's approval of the supervisor where `board_approval` is set. A session under a
    supervisor who did not is voided (or a finding, as the severity says)."""

    kind: Literal["supervisor_qualified"]
    license_kinds: tuple[str, ...] = ()
    designations: tuple[str, ...] = ()
    min_years_licensed: Decimal | None = Field(default=None, ge=0)
    board_approval: bool = False


class BoardApprovalBeforeHoursCount(_Rule):
    """No hour under an agreement counts before the board's approval of it (FL5)."""

    kind: Literal["board_approval_before_hours_count"]


class EvaluationCadence(_Rule):
    """A competency evaluation at least every `every_months` months from the first agreement,
    and, where `at_termination`, one when an agreement ends; overdue is a finding (CA3: annual
    and at termination; NC, OH: quarterly)."""

    kind: Literal["evaluation_cadence"]
    every_months: int | None = Field(ge=1)
    at_termination: bool = False
    grace_days: int = Field(default=0, ge=0)

    def _figures(self) -> tuple[str, ...]:
        return ("every_months",)


class SignOffCadence(_Rule):
    """The supervisor signs the log of every window within `within_days` after it ends
    (OH3: quarterly)."""

    kind: Literal["sign_off_cadence"]
    window: Window
    within_days: int = Field(default=30, ge=0)


class RawDataRequired(_Rule):
    """Supervision rests on raw data (live observation, recordings), not self-report alone: in
    every window with supervision, at least one session uses one of `techniques` (NC3)."""

    kind: Literal["raw_data_required"]
    window: Window
    techniques: tuple[Technique, ...] = ("direct_observation", "recording_review")


class ContemporaneousRecord(_Rule):
    """A session is recorded within `within_days` of being held; later is a finding, with the
    delay (what an auditor asks: a contemporaneous record per session)."""

    kind: Literal["contemporaneous_record"]
    within_days: int = Field(ge=0)


RuleKind = Annotated[
    MinSupervisionPerWindow
    | ExtraSupervisionAbovePractice
    | SupervisionPerPracticeHours
    | MaxCountableSupervisionPerWindow
    | GroupShareMax
    | IndividualShareMin
    | PracticeCapPerWindow
    | ModalityNotCountable
    | GroupModalityRequired
    | ModalityShareMin
    | GroupAlternatesWithIndividual
    | DurationMax
    | HoursLookback
    | ConcurrentSupervisorsMax
    | SupervisorQualified
    | BoardApprovalBeforeHoursCount
    | EvaluationCadence
    | SignOffCadence
    | RawDataRequired
    | ContemporaneousRecord,
    Field(discriminator="kind"),
]


# --- what the research found that no rule kind judges ---------------------------------------

# A figure as the research gives it: a number, a yes or no, a text, a list of texts; None when
# the figure is not known.
RecordedValue = bool | int | Decimal | str | tuple[str, ...] | None


# A dotted path with list indexes, as the research writes it: "supervision_cadence[0].rule".
_TOPIC = r"^[a-z][a-z0-9_]*(\[[0-9]+\])?(\.[a-z][a-z0-9_]*(\[[0-9]+\])?)*$"


class NotEvaluated(Sourced):
    """A figure of the board's that the compliance engine does not judge (renewal CE hours, a
    permit's validity, a reporting form, a clinical/non-clinical split, ...), kept with its
    source and confidence so that nothing the research found is dropped, and reported as such.
    """

    # Where the figure sits in the research, e.g. "renewal.ce_hours".
    topic: str = Field(pattern=_TOPIC)
    value: RecordedValue
    # Why no rule judges it, in a sentence a compliance officer reads.
    why: str = Field(min_length=3, max_length=500)


# --- a pack and its versions ---------------------------------------------------------------


class PackVersion(_Model):
    """The rules of a track in force over a span of dates."""

    effective_from: dt.date
    # The last day in force (inclusive); None: in force until a later version replaces it.
    effective_to: dt.date | None = None
    # What text this version states and when it was read, e.g. "22 TAC 681.92, read 2025-03-28".
    basis: str = Field(min_length=3, max_length=500)
    requirements: Requirements
    session_limits: SessionLimits
    rules: tuple[RuleKind, ...] = ()
    # Figures no rule kind judges, with their sources: reported as not evaluated, never dropped.
    not_evaluated: tuple[NotEvaluated, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} is before effective_from {self.effective_from}"
            )
        ids = [rule.id for rule in self.rules]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"rule ids must be unique within a version: {', '.join(repeated)}")
        minima = {r.id for r in self.rules if isinstance(r, MinSupervisionPerWindow)}
        for rule in self.rules:
            if isinstance(rule, ExtraSupervisionAbovePractice) and rule.adds_to not in minima:
                raise ValueError(
                    f"rule {rule.id} names adds_to {rule.adds_to}, which is not a "
                    "min_supervision_per_window rule of this version"
                )
        topics = [item.topic for item in self.not_evaluated]
        repeated = sorted({t for t in topics if topics.count(t) > 1})
        if repeated:
            raise ValueError(f"not_evaluated topics must be unique: {', '.join(repeated)}")
        self._session_limits_agree_with_rules()
        return self

    def _session_limits_agree_with_rules(self) -> None:
        """Supervision refuses by the session limits and compliance judges by the rules: where
        both state the same board rule they must say the same, or the two would disagree."""
        limits = self.session_limits
        caps = [r for r in self.rules if isinstance(r, ConcurrentSupervisorsMax)]
        cap = limits.concurrent_supervisors_max
        for rule in caps:
            if rule.supervisors != cap.value:
                raise ValueError(
                    f"rule {rule.id} allows {rule.supervisors} concurrent supervisors but "
                    f"session_limits.concurrent_supervisors_max is {cap.value}"
                )
        if cap.confirmed and cap.value is not None and not caps:
            raise ValueError(
                f"session_limits.concurrent_supervisors_max is the board's {cap.value}: a "
                "concurrent_supervisors_max rule must state it for compliance to judge"
            )
        approval = limits.board_approval_before_hours_count.value
        approvals = [r for r in self.rules if isinstance(r, BoardApprovalBeforeHoursCount)]
        if approval != bool(approvals):
            raise ValueError(
                f"session_limits.board_approval_before_hours_count is {approval} but the "
                f"version has {len(approvals)} board_approval_before_hours_count rule(s)"
            )

    def in_force_on(self, day: dt.date) -> bool:
        ends = self.effective_to
        return self.effective_from <= day and (ends is None or day <= ends)

    def rule(self, rule_id: str) -> RuleKind:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


class RulePack(_Model):
    """Everything Continuum knows of one credential track's board rules, version by version."""

    track: TrackId
    state: str = Field(pattern=r"^[A-Z]{2}$")
    board: str = Field(min_length=2, max_length=200)
    provisional_credential: str = Field(min_length=2, max_length=200)
    target_license: str = Field(min_length=2, max_length=100)
    # Oldest first; no two in force on the same day.
    versions: tuple[PackVersion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _versions_follow_each_other(self) -> Self:
        if not self.track.startswith(f"{self.state}-"):
            raise ValueError(f"track {self.track} is not a track of the state {self.state}")
        for earlier, later in zip(self.versions, self.versions[1:], strict=False):
            if later.effective_from <= earlier.effective_from:
                raise ValueError("versions must be listed oldest first by effective_from")
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                raise ValueError(
                    f"the version in force from {earlier.effective_from} must end before the "
                    f"version in force from {later.effective_from} begins (set effective_to)"
                )
        return self

    def version_on(self, day: dt.date) -> PackVersion | None:
        """The version in force on `day`; None before the first (or in a gap between two)."""
        for version in self.versions:
            if version.in_force_on(day):
                return version
        return None

    def sources(self) -> frozenset[str]:
        """Every source tag the pack cites."""
        tags: set[str] = set()
        for version in self.versions:
            for sourced in _sourced_in(version):
                tags.update(sourced.src)
        return frozenset(tags)


def _sourced_in(model: BaseModel) -> Iterator[Sourced]:
    if isinstance(model, Sourced):
        yield model
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, BaseModel):
                yield from _sourced_in(item)


class OrganizationPolicy(_Model):
    """The organization's own thresholds, which no board sets: when a supervisee is at risk."""

    # A window still running with fewer than this many days left and its minimum not yet met.
    window_days_left_at_risk: int = Field(default=7, ge=0, le=31)
    # A supervisor's license or designation expiring within this many days.
    credential_expiring_within_days: int = Field(default=30, ge=0, le=365)
    # An evaluation falling due within this many days.
    evaluation_due_within_days: int = Field(default=30, ge=0, le=365)
    # How many recent weeks the projected completion date is paced on.
    pace_weeks: int = Field(default=12, ge=1, le=104)
    # The most supervisees one supervisor may have under agreements in force at once; None: no
    # cap of the organization's (no board in the ten packs sets one).
    max_active_supervisees_per_supervisor: int | None = Field(default=None, ge=1, le=200)


class RulePacks(_Model):
    """Every track's pack, and the organization's policy, as loaded and validated at start."""

    packs: Mapping[str, RulePack]
    policy: OrganizationPolicy = OrganizationPolicy()

    @model_validator(mode="after")
    def _keyed_by_track(self) -> Self:
        wrong = sorted(key for key, pack in self.packs.items() if key != pack.track)
        if wrong:
            raise ValueError(f"packs keyed by another track than their own: {', '.join(wrong)}")
        return self

    @property
    def tracks(self) -> frozenset[str]:
        return frozenset(self.packs)

    def pack(self, track: str) -> RulePack:
        """The track's pack; a KeyError naming the known tracks for an unknown one."""
        try:
            return self.packs[track]
        except KeyError:
            known = ", ".join(sorted(self.packs))
            raise KeyError(f"no rule pack for track {track!r} (known: {known})") from None
