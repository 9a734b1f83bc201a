"""What a supervisor designation requires, from the rule pack's `supervisor_qualification` of each
track (contracts/research/rule-pack-research.yaml; source tags resolve in
contracts/src/contracts/rulepacks/packs/sources.md).

The registry records what a board granted; it refuses only what the board's own text
(confidence `primary`) says cannot be:
- TX LPC-S: a full LPC, and the 40-hour supervisor course (TX3, primary);
- OH LPCC-S: a full LPCC, and 24 hours of supervision training (OH3, primary);
- TX LCSW-S: a full LCSW (TX6, primary; the pack gives no training figure).

Every designation, known or not, requires an active license of the holder in the designation's
state, issued by the day the designation was granted (see
`SupervisorDesignationRequiresAnActiveLicense`). Not enforced, on purpose:
- years licensed (TX LPC-S five years, TX4 secondary; OH one year and 1,500 hours, OH3): the
  registry may hold only the holder's current license record, not when they were first
  licensed, and the board checked it when it granted the designation;
- TX3's `completed_within_days: 90` for the course: the pack does not say from which day;
- secondary or unconfirmed figures (FL qualified supervisor 12 hours, NC LCMHCS 45 hours,
  CA 15 hours of initial training, which is not a designation).
Verify each with the board before adding it here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DesignationRequirement:
    state: str
    designation: str
    # The license kinds the designation sits on; empty: any license in the state.
    base_license_kinds: tuple[str, ...] = ()
    min_training_hours: int | None = None
    source: str = "pack silent"


REQUIREMENTS: dict[tuple[str, str], DesignationRequirement] = {
    (r.state, r.designation): r
    for r in (
        DesignationRequirement("TX", "LPC-S", ("LPC",), 40, "TX3, primary"),
        DesignationRequirement("OH", "LPCC-S", ("LPCC",), 24, "OH3, primary"),
        DesignationRequirement("TX", "LCSW-S", ("LCSW",), None, "TX6, primary"),
    )
}


def requirement(state: str, designation: str) -> DesignationRequirement:
    """What the designation requires; for one the pack does not know, a license in the state."""
    return REQUIREMENTS.get((state, designation), DesignationRequirement(state, designation))
