"""What the domain needs to know about each credential track, as a small rule table.

Figures come from the rule pack (shared/domain/rule-pack-research.yaml); the source tags resolve
in its sources.md. Where the pack is silent, a documented default applies (see `_DEFAULT_*`).
The full rule pack (hours, cadence, caps, effective dates) belongs to compliance; this table
holds only what deciding a supervision record needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from supervision.domain.values import SessionFormat

# Every track in the pack that defines individual supervision caps it at two supervisees
# (TX1, FL1, IL3; CA counts triadic supervision as individual, CA5).
_DEFAULT_INDIVIDUAL_MAX = 2
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
    individual_max_supervisees: int = _DEFAULT_INDIVIDUAL_MAX
    group_min_supervisees: int = _DEFAULT_GROUP_MIN
    group_max_supervisees: int = _DEFAULT_GROUP_MAX
    # How many supervisors a supervisee may have at the same time; None where the pack states
    # no limit. Boards such as NC require one contract per supervisor and setting, so several
    # supervisors are normal and refusing them on a guess would block real agreements.
    concurrent_supervisors_max: int | None = None
    sources: str = "pack silent: defaults"

    def supervisee_range(self, session_format: SessionFormat) -> tuple[int, int]:
        """The smallest and largest number of supervisees a session of this format may have."""
        if session_format == "individual":
            return 1, self.individual_max_supervisees
        return self.group_min_supervisees, self.group_max_supervisees


TRACKS: dict[str, TrackRules] = {
    rules.track_id: rules
    for rules in (
        TrackRules(
            "TX-LPC-ASSOCIATE",
            individual_max_supervisees=2,
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
            individual_max_supervisees=2,
            group_max_supervisees=_CA_GROUP_MAX,
            sources="CA5 (triadic counts as individual); group max: BBS cap of eight, unconfirmed",
        ),
        TrackRules(
            "CA-ASW",
            individual_max_supervisees=2,
            group_max_supervisees=_CA_GROUP_MAX,
            sources="as CA-AMFT; group max: BBS cap of eight, unconfirmed",
        ),
        TrackRules("NY-LMHC-LIMITED-PERMIT"),
        TrackRules(
            "FL-RMHCI",
            individual_max_supervisees=2,
            group_min_supervisees=3,
            group_max_supervisees=6,
            sources="FL1;FL2 (individual max, group size)",
        ),
        TrackRules(
            "IL-LPC-TO-LCPC",
            individual_max_supervisees=2,
            sources="IL3 (individual max); group size defaults",
        ),
        TrackRules("OH-LPC-TO-LPCC"),
        TrackRules("NC-LCMHCA"),
        TrackRules("IL-LCSW"),
    )
}

KNOWN_TRACKS: frozenset[str] = frozenset(TRACKS)


def track_rules(track_id: str) -> TrackRules:
    """The rules of a known track; a KeyError for an unknown one (commands refuse those first)."""
    return TRACKS[track_id]
