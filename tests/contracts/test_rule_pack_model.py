"""What a pack version must say for supervision and compliance to read it the same way."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contracts.rulepacks.model import NotEvaluated, PackVersion, SessionLimits

pytestmark = pytest.mark.unit


def limits(**overrides: Any) -> dict[str, Any]:
    org = {"src": "ORG", "confidence": "unconfirmed"}
    return {
        "group_min_supervisees": {"value": 3, **org},
        "group_max_supervisees": {"value": 6, **org},
        "concurrent_supervisors_max": {"value": None, **org},
        "board_approval_before_hours_count": {"value": False, **org},
        **overrides,
    }


def version(rules: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    unknown = {"value": None, "confidence": "unconfirmed"}
    return {
        "effective_from": "2026-01-01",
        "basis": "a board's text read 2026-01-01",
        "requirements": {
            "total_hours": unknown,
            "direct_client_hours": unknown,
            "supervision_hours": unknown,
        },
        "session_limits": limits(),
        "rules": rules or [],
        **overrides,
    }


APPROVAL_RULE = {
    "id": "fl.approval",
    "kind": "board_approval_before_hours_count",
    "title": "No hour counts before the board approved the agreement",
    "severity": "void",
    "src": "FL5",
    "confidence": "primary",
}


def test_a_version_with_consistent_limits_and_rules_is_accepted() -> None:
    approved = limits(
        board_approval_before_hours_count={"value": True, "src": "FL5", "confidence": "primary"}
    )
    accepted = PackVersion.model_validate(version([APPROVAL_RULE], session_limits=approved))
    assert accepted.session_limits.board_approval_before_hours_count.value


def test_board_approval_needs_both_the_session_limit_and_the_rule() -> None:
    with pytest.raises(ValidationError, match="board_approval_before_hours_count is False"):
        PackVersion.model_validate(version([APPROVAL_RULE]))


def test_a_boards_limit_on_supervisors_is_also_a_rule_compliance_judges() -> None:
    board = limits(concurrent_supervisors_max={"value": 2, "src": "TX2", "confidence": "primary"})
    with pytest.raises(ValidationError, match="a concurrent_supervisors_max rule must state it"):
        PackVersion.model_validate(version(session_limits=board))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"group_min_supervisees": {"value": 7, "src": "ORG", "confidence": "unconfirmed"}},
            "group_min_supervisees 7 exceeds group_max_supervisees 6",
        ),
        ({"group_max_supervisees": {"value": None, "confidence": "unconfirmed"}}, "need a value"),
    ],
)
def test_supervision_needs_both_bounds_of_a_group(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        SessionLimits.model_validate(limits(**overrides))


def test_a_figure_no_rule_judges_keeps_its_value_source_and_confidence() -> None:
    item = NotEvaluated.model_validate(
        {
            "topic": "renewal.ce_hours",
            "value": 24,
            "src": "TX4",
            "confidence": "secondary",
            "why": "Continuing education after licensure",
        }
    )
    assert (item.value, item.src, item.confidence) == (24, ("TX4",), "secondary")


def test_a_figure_is_recorded_once_per_version() -> None:
    item = {
        "topic": "renewal.ce_hours",
        "value": 24,
        "src": "TX4",
        "confidence": "secondary",
        "why": "after licensure",
    }
    with pytest.raises(ValidationError, match="not_evaluated topics must be unique"):
        PackVersion.model_validate(version(not_evaluated=[item, item]))


@pytest.mark.parametrize("topic", ["Renewal", "renewal..ce", "renewal[x]", ""])
def test_a_topic_is_a_path_of_the_research(topic: str) -> None:
    with pytest.raises(ValidationError):
        NotEvaluated(topic=topic, value=None, confidence="unconfirmed", why="not known")
