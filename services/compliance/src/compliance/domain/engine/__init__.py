"""The compliance engine: a supervisee's record judged by the rules of their licensing board.

Pure: the standard library, pydantic, the rule pack model (`contracts.rulepacks.model`) and the
compliance domain's facts. No I/O, no clock: the view's date is an argument.

    evaluate_supervisee(facts, credentials, packs, as_of, leaves=, resolutions=)
        -> SuperviseeEvaluation: status, progress, verdicts, outcomes, windows, sessions

How it is built, module by module:
- `record`: the facts read once, as they stood at the end of `as_of`, into lean values;
- `supervisors`: each supervisor's licenses and designations on any day;
- `windows`: calendar weeks (Monday to Sunday), fortnights from registration, calendar months
  and quarters;
- `tallies`: what a window (at a site) holds and what of it counts;
- `rules/`: one named pure function per rule kind, by the stage it runs in: `sessions`,
  `caps`, `cadence`, `program`;
- `verdicts`: voids (hours that do not count) and findings (for review), with stable ids, and
  the outcome of every rule in every window;
- `inputs`: approved leave and resolutions of verdicts;
- `status` and `progress`: the standing on the date, and the way to the license;
- `evaluate`: the three stages, in order, so that what is voided feeds what is counted;
- `evaluation`: what it says, the standing at once and the detail when read.

Made to be kept up incrementally. Every rule function is pure over (rule, tally or session,
context) and returns a judgement; it reads nothing else. A materialized projection can therefore
keep a tally per (supervisee, window, site) and, when an event touches a date, re-run only the
rules of the windows holding that date (for each kind of window: the caps first, then what the
window must hold), then the program rules, which read the program's tally. The windows of a
kind are independent of each other; a cap of one kind changes what the windows of another kind
count, which is why every cap runs before every minimum.
"""

from compliance.domain.engine.evaluate import evaluate_supervisee
from compliance.domain.engine.evaluation import (
    JudgedPracticeWeek,
    JudgedSession,
    SuperviseeEvaluation,
)
from compliance.domain.engine.inputs import ApprovedLeave, Resolution, ResolutionKind
from compliance.domain.engine.progress import DurationProgress, HoursProgress, Progress
from compliance.domain.engine.record import FactsDisagree
from compliance.domain.engine.status import (
    ReasonKind,
    StatusLevel,
    StatusReason,
    SuperviseeStatus,
)
from compliance.domain.engine.tallies import FormatModalityMinutes, WindowTally
from compliance.domain.engine.verdicts import (
    Measure,
    NotCounted,
    OutcomeStatus,
    Risk,
    RuleOutcome,
    Verdict,
    WindowRef,
    verdict_id,
)

__all__ = [
    "ApprovedLeave",
    "DurationProgress",
    "FactsDisagree",
    "FormatModalityMinutes",
    "HoursProgress",
    "JudgedPracticeWeek",
    "JudgedSession",
    "Measure",
    "NotCounted",
    "OutcomeStatus",
    "Progress",
    "ReasonKind",
    "Resolution",
    "ResolutionKind",
    "Risk",
    "RuleOutcome",
    "StatusLevel",
    "StatusReason",
    "SuperviseeEvaluation",
    "SuperviseeStatus",
    "Verdict",
    "WindowRef",
    "WindowTally",
    "evaluate_supervisee",
    "verdict_id",
]
