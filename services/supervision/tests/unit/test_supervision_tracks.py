"""The credential-track rule table holds what deciding a record needs, per track."""

from __future__ import annotations

import pytest

from supervision.domain import KNOWN_TRACKS, track_rules

pytestmark = pytest.mark.unit

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


def test_every_track_of_the_rule_pack_is_known_and_no_other() -> None:
    assert KNOWN_TRACKS == PACK_TRACKS


def test_texas_lpc_associates_may_have_two_supervisors_at_once() -> None:
    assert track_rules("TX-LPC-ASSOCIATE").concurrent_supervisors_max == 2


@pytest.mark.parametrize("track_id", sorted(PACK_TRACKS - {"TX-LPC-ASSOCIATE"}))
def test_tracks_whose_board_states_no_supervisor_limit_have_none(track_id: str) -> None:
    assert track_rules(track_id).concurrent_supervisors_max is None


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
    rules = track_rules(track_id)
    assert rules.supervisee_range("individual") == (1, 1)
    assert rules.supervisee_range("triadic") == (2, 2)
    assert rules.supervisee_range("group") == group


def test_florida_counts_no_hour_before_the_board_approves_the_agreement() -> None:
    rules = track_rules("FL-RMHCI")
    assert rules.board_approval_before_hours_count
    assert "FL5" in rules.sources


@pytest.mark.parametrize("track_id", sorted(PACK_TRACKS - {"FL-RMHCI"}))
def test_other_tracks_need_no_board_approval_of_agreements(track_id: str) -> None:
    assert not track_rules(track_id).board_approval_before_hours_count


def test_every_track_says_where_its_figures_come_from() -> None:
    assert all(track_rules(track_id).sources for track_id in KNOWN_TRACKS)


def test_an_unknown_track_has_no_rules() -> None:
    with pytest.raises(KeyError):
        track_rules("XX-UNKNOWN")
