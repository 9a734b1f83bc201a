"""What people record beside the facts: a supervisee's approved leave, and a compliance officer's
resolution of a verdict. Pure values here; each names the event it will come from.

Both stand from their own date (valid time): a leave from its first day, a resolution from the
day it was made. Which of them a view sees at all (`known_at`) is decided where the facts are
read, like every other fact.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A waiver: the rule is set aside for this verdict (for instance by the board). A documented
# exception: the rule's own exception applies and is on file (TX1: an extended leave of at least
# one month approved in writing by the supervisor).
ResolutionKind = Literal["waiver", "documented_exception"]


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ApprovedLeave(_Input):
    """A supervisee's leave, approved in writing, from `start` to `end` (inclusive).

    It suspends the cadence rules (minimum supervision per window, the extra unit, supervision
    per practice hours per window, raw data) for the windows it covers: a window is on leave
    when approved leave covers at least half of its days. A window less covered is judged in
    full, since a few days away do not lower a board's minimum. A rule may ask for a longer leave
    (`min_leave_days`, TX1: one month) before any window is suspended. Evaluation due dates move
    later by the days of leave before them. A log with entries still needs its sign-off.
    """

    start: dt.date
    end: dt.date
    approved_by: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    recorded_at: dt.datetime
    source_event_id: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"the leave ends on {self.end}, before it starts on {self.start}")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class Resolution(_Input):
    """A compliance officer's decision on one verdict, from `on`.

    A resolved verdict stays listed with who resolved it, when and why; it no longer makes the
    supervisee out of compliance. It changes the standing, not the figures: hours a void does not
    count still do not count (a board that restores hours does so by a correction of the record
    or a new version of its rules).
    """

    verdict_id: str = Field(min_length=1)
    kind: ResolutionKind
    reason: str = Field(min_length=1)
    by: str = Field(min_length=1)
    on: dt.date
    recorded_at: dt.datetime
    source_event_id: str = Field(min_length=1)


class Decisions(_Input):
    """What compliance officers recorded of one supervisee: approved leaves and resolutions."""

    leaves: tuple[ApprovedLeave, ...] = ()
    resolutions: tuple[Resolution, ...] = ()
