"""What the engine says of a supervisee: verdicts, and the outcome of every rule in every window.

Two severities (the pack's `severity` of each rule):
- a **void**: hours that do not count. It names the minutes it withdrew (supervision, direct and
  indirect practice), so that recorded = counted + what the voids withdrew, always;
- a **finding**: something a person must review; nothing is withdrawn.

Each verdict has a stable id, derived from the rule, the supervisee and what the verdict is about
(a window and site, a session, a due date), so that a compliance officer's resolution of it
holds however often the view is computed, and whatever else is recorded later.

Every rule of the version in force is reported for every window it judges, with one of:
met, violated (with its verdicts), running (a window not over yet: on track or at risk),
not applicable (no practice in the window, approved leave) or not evaluated (no version in force,
an unconfirmed rule, a figure the board's text did not give), never silently skipped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal, overload

from pydantic import BaseModel, ConfigDict

from compliance.domain.engine.inputs import Resolution
from compliance.domain.engine.record import SessionEntry
from contracts.rulepacks.model import Confidence, Severity, Window

OutcomeStatus = Literal["met", "violated", "running", "not_applicable", "not_evaluated"]
Risk = Literal["on_track", "at_risk"]
# What `measured` and `required` are counted in: minutes; minutes weighted by format (CA units:
# 60 weighted minutes = one unit); a share between 0 and 1; sessions; supervisors; months.
Measure = Literal["minutes", "weighted_minutes", "share", "sessions", "supervisors", "months"]

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://continuum/compliance/verdicts")


def verdict_id(rule_id: str, supervisee_id: str, scope: str) -> str:
    """The verdict's stable id: the same rule, supervisee and scope always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, f"{rule_id}|{supervisee_id}|{scope}"))


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WindowRef(_Out):
    kind: Window
    start: dt.date
    end: dt.date


class NotCounted(_Out):
    """What a void withdrew: supervision minutes, and practice minutes (a window's share of a
    week's record can be a fraction of a minute, hence decimals to the hundredth)."""

    supervision_minutes: int = 0
    direct_minutes: Decimal = Decimal(0)
    indirect_minutes: Decimal = Decimal(0)

    @property
    def nothing(self) -> bool:
        return not (self.supervision_minutes or self.direct_minutes or self.indirect_minutes)


NOTHING = NotCounted()


class Verdict(_Out):
    verdict_id: str
    severity: Severity
    rule_id: str
    rule_kind: str
    # The rule as the officer reads it ("At least 4 hours of supervision in each calendar month
    # of practice"), and why it applies here, as a sentence.
    title: str
    reason: str
    src: tuple[str, ...]
    confidence: Confidence
    track: str
    # The pack version that judged it.
    pack_effective_from: dt.date
    # What it is about: a window (and a site, where the rule judges per site), a session, or the
    # program (neither).
    window: WindowRef | None
    site_id: str | None
    session_id: str | None
    # The day it concerns: a session's date, the last day of a window, a due date.
    on: dt.date
    not_counted: NotCounted
    evidence_event_ids: tuple[str, ...]
    resolution: Resolution | None = None

    @property
    def resolved(self) -> bool:
        return self.resolution is not None


class RuleOutcome(_Out):
    """One rule judged over one window (and site), or over the program (`window` None)."""

    rule_id: str | None
    rule_kind: str | None
    track: str
    pack_effective_from: dt.date | None
    window: WindowRef | None
    site_id: str | None
    status: OutcomeStatus
    risk: Risk | None
    reason: str
    measured: Decimal | None
    required: Decimal | None
    measure: Measure | None
    verdict_ids: tuple[str, ...]


# --- what rule functions return (internal, lean) -------------------------------------------


# Internal values are slotted dataclasses, not frozen: they are built by the thousand, and
# freezing costs more than the rest of their construction.


@dataclass(slots=True)
class SessionCut:
    """Minutes of a session a void stops counting."""

    session: SessionEntry
    minutes: int


@dataclass(slots=True)
class PracticeCut:
    """Practice a void stops counting: all of it in the span, or `excess` minutes of it."""

    start: dt.date
    end: dt.date
    site_id: str | None
    excess: Fraction | None = None


@dataclass(slots=True)
class Breach:
    """A rule not met: what it is about (`scope`, for the verdict's id), the day it concerns,
    why, the events it rests on, and what would stop counting if the rule voids."""

    scope: str
    on: dt.date
    reason: str
    evidence: tuple[str, ...]
    session_id: str | None = None
    session_cuts: tuple[SessionCut, ...] = ()
    practice_cuts: tuple[PracticeCut, ...] = ()


Number = Fraction | int
Reason = str | Callable[[], str]


@dataclass(slots=True)
class Judgement:
    """A rule's outcome over one tally, before it is turned into output.

    Its reason may be given as a function of nothing, worded only when someone reads it: most
    outcomes are met, and are read only in the detail of one supervisee's view.
    """

    status: OutcomeStatus
    reason: Reason
    measured: Number | None = None
    required: Number | None = None
    measure: Measure | None = None
    risk: Risk | None = None
    breaches: tuple[Breach, ...] = ()

    def said(self) -> str:
        reason = self.reason
        return reason if isinstance(reason, str) else reason()


def met(
    reason: Reason,
    measured: Number | None = None,
    required: Number | None = None,
    measure: Measure | None = None,
) -> Judgement:
    return Judgement("met", reason, measured, required, measure)


def not_applicable(reason: Reason) -> Judgement:
    return Judgement("not_applicable", reason)


@overload
def to_decimal(value: Number, measure: Measure | None) -> Decimal: ...
@overload
def to_decimal(value: None, measure: Measure | None) -> None: ...
@overload
def to_decimal(value: Number | None, measure: Measure | None) -> Decimal | None: ...
def to_decimal(value: Number | None, measure: Measure | None) -> Decimal | None:
    """Exact figures to a readable decimal: whole numbers as they are, shares to four places,
    other fractions to hundredths."""
    if value is None:
        return None
    if value.denominator == 1:
        return Decimal(value.numerator)
    places = _SHARE_PLACES if measure == "share" else _PLACES
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places)


_PLACES = Decimal("0.01")
_SHARE_PLACES = Decimal("0.0001")
