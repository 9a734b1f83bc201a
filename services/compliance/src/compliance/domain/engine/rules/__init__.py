"""Every rule kind of the packs, each a named pure function, grouped by the stage it runs in:

- `sessions`: each session on its own (stage one);
- `caps`: caps and shares, which decide what of a window counts (stage two, first);
- `cadence`: what each window must hold (stage two, then);
- `program`: the program so far (stage three).

The tables below say which function judges which kind; `evaluate` runs them in this order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compliance.domain.engine.record import SessionEntry
from compliance.domain.engine.rules.cadence import (
    extra_supervision_above_practice,
    min_supervision_per_window,
    raw_data_required,
    sign_off_cadence,
    supervision_per_practice_hours,
)
from compliance.domain.engine.rules.caps import (
    group_share_max,
    individual_share_min,
    max_countable_supervision_per_window,
    modality_share_min,
    practice_cap_per_window,
)
from compliance.domain.engine.rules.context import RuleContext
from compliance.domain.engine.rules.program import (
    concurrent_supervisors_max,
    duration_max,
    evaluation_cadence,
    group_alternates_with_individual,
    hours_lookback,
    min_supervision_averaged,
)
from compliance.domain.engine.rules.sessions import (
    SessionContext,
    board_approval_before_hours_count,
    contemporaneous_record,
    group_modality_required,
    modality_not_countable,
    supervisor_qualified,
)
from compliance.domain.engine.tallies import Tally
from compliance.domain.engine.verdicts import Breach, Judgement
from contracts.rulepacks.model import (
    BoardApprovalBeforeHoursCount,
    ContemporaneousRecord,
    GroupModalityRequired,
    GroupShareMax,
    IndividualShareMin,
    MaxCountableSupervisionPerWindow,
    ModalityNotCountable,
    ModalityShareMin,
    PracticeCapPerWindow,
    RawDataRequired,
    SignOffCadence,
    SupervisionPerPracticeHours,
    SupervisorQualified,
)

SessionRule = Callable[[Any, SessionEntry, SessionContext], Breach | None]
TallyRule = Callable[[Any, Tally, RuleContext], Judgement]

# Stage one, in this order for each session.
SESSION_RULES: dict[type, SessionRule] = {
    ModalityNotCountable: modality_not_countable,
    GroupModalityRequired: group_modality_required,
    SupervisorQualified: supervisor_qualified,
    BoardApprovalBeforeHoursCount: board_approval_before_hours_count,
    ContemporaneousRecord: contemporaneous_record,
}

# Stage two, first: what counts. Practice first (the ratios read it), then supervision.
CAP_RULES: dict[type, TallyRule] = {
    PracticeCapPerWindow: practice_cap_per_window,
    MaxCountableSupervisionPerWindow: max_countable_supervision_per_window,
    GroupShareMax: group_share_max,
    IndividualShareMin: individual_share_min,
    ModalityShareMin: modality_share_min,
}

# Stage two, then: what each window must hold (the extra unit, which reads the minimum it adds
# to, is dispatched by `evaluate`). Judged on the tallies as the caps left them; their voids
# are applied once all are judged, so none of them depends on another.
CADENCE_RULES: dict[type, TallyRule] = {
    SupervisionPerPracticeHours: supervision_per_practice_hours,
    RawDataRequired: raw_data_required,
    SignOffCadence: sign_off_cadence,
}

__all__ = [
    "CADENCE_RULES",
    "CAP_RULES",
    "SESSION_RULES",
    "RuleContext",
    "SessionContext",
    "concurrent_supervisors_max",
    "duration_max",
    "evaluation_cadence",
    "extra_supervision_above_practice",
    "group_alternates_with_individual",
    "hours_lookback",
    "min_supervision_averaged",
    "min_supervision_per_window",
]
