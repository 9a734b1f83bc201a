"""What deciding a supervision record needs of each credential track, read from the rule packs.

The rule packs (`contracts.rulepacks`: one file per track, every figure with its source) are the
one source of the boards' figures; compliance judges by the same data, so the two cannot
disagree. The domain never reads them: the service loads the packs when it starts and hands the
decisions a `Tracks` built from them.

A record is checked by the pack version in force on its date: a session by the session's date,
an agreement by its start date. Before a track's first version (the day the board's text was
read and known in force), the first version's limits apply: supervision must still accept or
refuse the record, while compliance reports those windows as not evaluated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contracts.rulepacks.model import Count, Flag, PackVersion, RulePack, RulePacks
from supervision.domain.errors import CredentialTrackMustBeKnown
from supervision.domain.values import SessionFormat

# Individual supervision is one supervisee; a session with two is triadic. Every track that
# defines individual supervision admits two supervisees to it (TX1, FL1, IL3; CA counts triadic
# supervision as individual, CA5), so a triadic session is exactly two everywhere.
INDIVIDUAL_SUPERVISEES = 1
TRIADIC_SUPERVISEES = 2


@dataclass(frozen=True, slots=True)
class TrackRules:
    """The per-track facts that decide whether an agreement or a session can be recorded."""

    track_id: str
    group_min_supervisees: int
    group_max_supervisees: int
    # How many supervisors a supervisee may have at the same time; None where the board states
    # no limit. Boards such as NC require one contract per supervisor and setting, so several
    # supervisors are normal and refusing them on a guess would block real agreements.
    concurrent_supervisors_max: int | None
    # Whether the board must approve a supervision agreement before any hour under it counts.
    # The supervision service records the approval; the compliance service withholds the hours.
    board_approval_before_hours_count: bool
    # The source tags of these figures ("TX1;TX2;ORG"), resolved in the packs' sources.md.
    sources: str

    @classmethod
    def of(cls, track_id: str, version: PackVersion) -> TrackRules:
        limits = version.session_limits
        lowest, highest = limits.group_min_supervisees.value, limits.group_max_supervisees.value
        # The pack model refuses a version without both bounds of a group.
        assert lowest is not None and highest is not None
        figures: tuple[Count | Flag, ...] = (
            limits.group_min_supervisees,
            limits.group_max_supervisees,
            limits.concurrent_supervisors_max,
            limits.board_approval_before_hours_count,
        )
        return cls(
            track_id=track_id,
            group_min_supervisees=lowest,
            group_max_supervisees=highest,
            concurrent_supervisors_max=limits.concurrent_supervisors_max.value,
            board_approval_before_hours_count=limits.board_approval_before_hours_count.value,
            sources=";".join(dict.fromkeys(tag for figure in figures for tag in figure.src)),
        )

    def supervisee_range(self, session_format: SessionFormat) -> tuple[int, int]:
        """The smallest and largest number of supervisees a session of this format may have."""
        match session_format:
            case "individual":
                return INDIVIDUAL_SUPERVISEES, INDIVIDUAL_SUPERVISEES
            case "triadic":
                return TRIADIC_SUPERVISEES, TRIADIC_SUPERVISEES
            case "group":
                return self.group_min_supervisees, self.group_max_supervisees


@dataclass(frozen=True, slots=True)
class _Track:
    # Oldest first, each with the first day it is in force.
    versions: tuple[tuple[dt.date, TrackRules], ...]

    @classmethod
    def of(cls, pack: RulePack) -> _Track:
        return cls(tuple((v.effective_from, TrackRules.of(pack.track, v)) for v in pack.versions))

    def on(self, day: dt.date) -> TrackRules:
        """The rules of the latest version begun by `day` (in force on it, or the last before a
        gap); the first version's before any began."""
        begun = [rules for since, rules in self.versions if since <= day]
        return begun[-1] if begun else self.versions[0][1]


class Tracks:
    """The credential tracks supervision knows, and their rules on each date."""

    __slots__ = ("_tracks",)

    def __init__(self, packs: RulePacks) -> None:
        self._tracks = {track: _Track.of(pack) for track, pack in packs.packs.items()}

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self._tracks)

    def check_known(self, track_id: str) -> None:
        """Raises CredentialTrackMustBeKnown, naming the known tracks, for one without a pack."""
        if track_id not in self._tracks:
            raise CredentialTrackMustBeKnown(track_id, self.known)

    def on(self, track_id: str, day: dt.date) -> TrackRules:
        """The rules of a known track on `day`; CredentialTrackMustBeKnown for another."""
        self.check_known(track_id)
        return self._tracks[track_id].on(day)
