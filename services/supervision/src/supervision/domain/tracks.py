"""What the domain needs to know about each credential track, as a small rule table.

Figures come from the rule pack (shared/domain/rule-pack-research.yaml); the source tags resolve
in its sources.md. Where the pack is silent, a documented default applies (see `_DEFAULT_*`).
The full rule pack (hours, cadence, caps, effective dates) belongs to compliance; this table
holds only what deciding a supervision record needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from supervision.domain.values import SessionFormat

# Individual supervision is one supervisee; a session with two is triadic. Every track in the
# pack that defines individual supervision admits two supervisees to it (TX1, FL1, IL3; CA counts
# triadic supervision as individual, CA5), so a triadic session is exactly two everywhere.
INDIVIDUAL_SUPERVISEES = 1
TRIADIC_SUPERVISEES = 2
# Every track in the pack that defines a group, except TX-LMSW (two), starts it at three.
_DEFAULT_GROUP_MIN = 3
# The two tracks in the pack that cap a group (TX6 for TX-LMSW, FL1/FL2 for FL-RMHCI) cap it at
# six; the conservative choice where a board's cap is not in the pack. Verify with each board.
_DEFAULT_GROUP_MAX = 6
# California caps group supervision at eight supervisees (BBS regulations). Not in the pack yet:
# an assumption to confirm against the BBS text before enforcement.
_CA_GROUP_MAX = 8


@dataclass(frozen=True, slots=True)
class TrackRules:
    """The per-track facts that decide whether an agreement or a session can be recorded."""

    track_id: str
    group_min_supervisees: int = _DEFAULT_GROUP_MIN
    group_max_supervisees: int = _DEFAULT_GROUP_MAX
    # How many supervisors a supervisee may have at the same time; None where the pack states
    # no limit. Boards such as NC require one contract per supervisor and setting, so several
    # supervisors are normal and refusing them on a guess would block real agreements.
    concurrent_supervisors_max: int | None = None
    # Whether the board must approve a supervision agreement before any hour under it counts.
    # The supervision service records the approval; the compliance service withholds the hours.
    board_approval_before_hours_count: bool = False
    sources: str = "pack silent: defaults"

    def supervisee_range(self, session_format: SessionFormat) -> tuple[int, int]:
        """The smallest and largest number of supervisees a session of this format may have."""
        match session_format:
            case "individual":
                return INDIVIDUAL_SUPERVISEES, INDIVIDUAL_SUPERVISEES
            case "triadic":
                return TRIADIC_SUPERVISEES, TRIADIC_SUPERVISEES
            case "group":
                return self.group_min_supervisees, self.group_max_supervisees


TRACKS: dict[str, TrackRules] = {
    rules.track_id: rules
    for rules in (
        TrackRules(
            "TX-LPC-ASSOCIATE",
            group_min_supervisees=3,
            concurrent_supervisors_max=2,
            sources="TX1 (individual, group min), TX2 (concurrent supervisors); group max default",
        ),
        TrackRules(
            "TX-LMSW-TO-LCSW",
            group_min_supervisees=2,
            group_max_supervisees=6,
            sources="TX6 (group size); individual max default",
        ),
        TrackRules(
            "CA-AMFT",
            group_max_supervisees=_CA_GROUP_MAX,
            sources="CA5 (triadic counts as individual); group max: BBS cap of eight, unconfirmed",
        ),
        TrackRules(
            "CA-ASW",
            group_max_supervisees=_CA_GROUP_MAX,
            sources="as CA-AMFT; group max: BBS cap of eight, unconfirmed",
        ),
        TrackRules("NY-LMHC-LIMITED-PERMIT"),
        TrackRules(
            "FL-RMHCI",
            group_min_supervisees=3,
            group_max_supervisees=6,
            board_approval_before_hours_count=True,
            sources="FL1;FL2 (individual max, group size); FL5 (board approval before hours count)",
        ),
        TrackRules("IL-LPC-TO-LCPC", sources="IL3 (individual max); group size defaults"),
        TrackRules("OH-LPC-TO-LPCC"),
        # NC wants the supervision contract approved before practice (NC1;NC5): a condition of
        # practising, not of counting hours, so it is not board_approval_before_hours_count.
        TrackRules("NC-LCMHCA"),
        TrackRules("IL-LCSW"),
    )
}

KNOWN_TRACKS: frozenset[str] = frozenset(TRACKS)


def track_rules(track_id: str) -> TrackRules:
    """The rules of a known track; a KeyError for an unknown one (commands refuse those first)."""
    return TRACKS[track_id]
