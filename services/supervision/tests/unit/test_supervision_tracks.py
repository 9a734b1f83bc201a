"""What deciding a record needs of each credential track, read from the rule packs."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.rulepacks.loader import load_rule_packs
from supervision.domain import Tracks
from supervision.domain.errors import CredentialTrackMustBeKnown
from tests.contracts.rulepacks import PACK_CHANGE_DIR, PACK_CHANGE_TRACK

pytestmark = pytest.mark.unit

PACKS = load_rule_packs()
TRACKS = Tracks(PACKS)
# A day every packaged pack is in force.
DAY = dt.date(2026, 1, 15)

PACK_TRACKS = {
    "TX-LPC-ASSOCIATE",
    "TX-LMSW-TO-LCSW",
    "CA-AMFT",
    "CA-ASW",
    "NY-LMHC-LIMITED-PERMIT",
    "FL-RMHCI",
    "IL-LPC-TO-LCPC",
    "OH-LPC-TO-LPCC",
    "NC-LCMHCA",
    "IL-LCSW",
}


def test_every_track_of_the_rule_packs_is_known_and_no_other() -> None:
    assert TRACKS.known == PACK_TRACKS == PACKS.tracks


def test_texas_lpc_associates_may_have_two_supervisors_at_once() -> None:
    assert TRACKS.on("TX-LPC-ASSOCIATE", DAY).concurrent_supervisors_max == 2


@pytest.mark.parametrize("track_id", sorted(PACK_TRACKS - {"TX-LPC-ASSOCIATE"}))
def test_tracks_whose_board_states_no_supervisor_limit_have_none(track_id: str) -> None:
    assert TRACKS.on(track_id, DAY).concurrent_supervisors_max is None


@pytest.mark.parametrize(
    ("track_id", "group"),
    [
        ("TX-LPC-ASSOCIATE", (3, 6)),
        ("TX-LMSW-TO-LCSW", (2, 6)),
        ("FL-RMHCI", (3, 6)),
        ("CA-AMFT", (3, 8)),
        ("CA-ASW", (3, 8)),
        ("IL-LPC-TO-LCPC", (3, 6)),
        ("NY-LMHC-LIMITED-PERMIT", (3, 6)),
    ],
)
def test_each_track_defines_its_session_sizes(track_id: str, group: tuple[int, int]) -> None:
    rules = TRACKS.on(track_id, DAY)
    assert rules.supervisee_range("individual") == (1, 1)
    assert rules.supervisee_range("triadic") == (2, 2)
    assert rules.supervisee_range("group") == group


@pytest.mark.parametrize("track_id", sorted(PACK_TRACKS))
def test_the_limits_are_the_packs_session_limits(track_id: str) -> None:
    version = PACKS.pack(track_id).version_on(DAY)
    assert version is not None
    limits = version.session_limits
    rules = TRACKS.on(track_id, DAY)
    assert (
        rules.group_min_supervisees,
        rules.group_max_supervisees,
        rules.concurrent_supervisors_max,
        rules.board_approval_before_hours_count,
    ) == (
        limits.group_min_supervisees.value,
        limits.group_max_supervisees.value,
        limits.concurrent_supervisors_max.value,
        limits.board_approval_before_hours_count.value,
    )


def test_florida_counts_no_hour_before_the_board_approves_the_agreement() -> None:
    rules = TRACKS.on("FL-RMHCI", DAY)
    assert rules.board_approval_before_hours_count
    assert "FL5" in rules.sources.split(";")


@pytest.mark.parametrize("track_id", sorted(PACK_TRACKS - {"FL-RMHCI"}))
def test_other_tracks_need_no_board_approval_of_agreements(track_id: str) -> None:
    assert not TRACKS.on(track_id, DAY).board_approval_before_hours_count


def test_every_track_says_where_its_figures_come_from() -> None:
    assert all(TRACKS.on(track_id, DAY).sources for track_id in TRACKS.known)


def test_an_unknown_track_is_refused_naming_the_field_and_the_known_tracks() -> None:
    with pytest.raises(CredentialTrackMustBeKnown) as refused:
        TRACKS.on("XX-UNKNOWN", DAY)
    assert refused.value.field == "credential_track"
    assert "TX-LPC-ASSOCIATE" in refused.value.reason


def test_a_record_is_checked_by_the_version_in_force_on_its_date() -> None:
    changing = Tracks(load_rule_packs(PACK_CHANGE_DIR))
    before = changing.on(PACK_CHANGE_TRACK, dt.date(2026, 2, 28))
    after = changing.on(PACK_CHANGE_TRACK, dt.date(2026, 3, 1))
    assert before.supervisee_range("group") == (3, 6)
    assert after.supervisee_range("group") == (3, 4)


def test_before_a_tracks_first_version_its_first_limits_apply() -> None:
    first = PACKS.pack("TX-LPC-ASSOCIATE").versions[0].effective_from
    earlier = TRACKS.on("TX-LPC-ASSOCIATE", first - dt.timedelta(days=400))
    assert earlier == TRACKS.on("TX-LPC-ASSOCIATE", first)
