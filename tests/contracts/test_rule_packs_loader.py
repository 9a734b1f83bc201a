"""The rule packs load as one validated whole, and a malformed pack is refused with one error
naming the file, the track, the field and the reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from contracts.rulepacks.loader import (
    ORGANIZATION_FILE,
    PACKS_DIR_VARIABLE,
    SOURCES_FILE,
    RulePackError,
    load_rule_packs,
    packaged_directory,
    rule_packs,
)
from contracts.rulepacks.model import MinSupervisionPerWindow
from tests.contracts.rulepacks import PACK_CHANGE_DIR, PACK_CHANGE_TRACK

pytestmark = pytest.mark.unit

TRACK = "TX-LPC-ASSOCIATE"


@pytest.fixture
def packs_dir(tmp_path: Path) -> Path:
    """A copy of the packaged packs, to break."""
    copy = tmp_path / "packs"
    copy.mkdir()
    for entry in packaged_directory().iterdir():
        if entry.is_file():
            (copy / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def edit(directory: Path, name: str, change: Callable[[str], str]) -> Path:
    path = directory / name
    before = path.read_text(encoding="utf-8")
    after = change(before)
    assert after != before, "the edit must change the file"
    path.write_text(after, encoding="utf-8")
    return path


def replace(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


def refused(directory: Path) -> RulePackError:
    with pytest.raises(RulePackError) as error:
        load_rule_packs(directory)
    return error.value


# --- the packaged packs -----------------------------------------------------------------------


def test_the_packaged_packs_load_with_every_track_and_the_organizations_policy() -> None:
    packs = load_rule_packs()
    assert len(packs.tracks) == 10
    assert packs.policy.credential_expiring_within_days == 30
    for track in packs.tracks:
        assert packs.pack(track).version_on(dt.date(2026, 1, 1)) is not None, track


def test_before_a_packs_first_version_no_rules_are_in_force() -> None:
    pack = load_rule_packs().pack(TRACK)
    assert pack.version_on(dt.date(2025, 3, 27)) is None
    assert pack.version_on(dt.date(2025, 3, 28)) is pack.versions[0]


def test_the_packs_are_read_once_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PACKS_DIR_VARIABLE, raising=False)
    assert rule_packs() is rule_packs()
    assert rule_packs().tracks == load_rule_packs().tracks


def test_the_directory_variable_replaces_the_packaged_packs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PACKS_DIR_VARIABLE, str(PACK_CHANGE_DIR))
    assert rule_packs().tracks == {PACK_CHANGE_TRACK}


def test_the_test_pack_changes_its_monthly_minimum_on_a_date() -> None:
    pack = load_rule_packs(PACK_CHANGE_DIR).pack(PACK_CHANGE_TRACK)

    def monthly_minimum(day: dt.date) -> object:
        version = pack.version_on(day)
        assert version is not None
        rule = version.rule("tx-lpc-associate.monthly-minimum")
        assert isinstance(rule, MinSupervisionPerWindow)
        return rule.hours

    assert monthly_minimum(dt.date(2026, 2, 28)) == 4
    assert monthly_minimum(dt.date(2026, 3, 1)) == 6


# --- one error naming the file, the track, the field and the reason -------------------------


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        pytest.param(
            replace("        hours: 4\n", "        hours: -4\n"),
            "versions[0].rules[0].hours",
            "greater than or equal to 0 (given -4)",
            id="a figure out of range",
        ),
        pytest.param(
            replace("kind: group_share_max", "kind: group_share_maximum"),
            "versions[0].rules[1]",
            "'group_share_maximum'",
            id="an unknown rule kind",
        ),
        pytest.param(
            replace("      total_hours: {value: 3000, src: TX1, confidence: primary}\n", ""),
            "versions[0].requirements.total_hours",
            "Field required",
            id="a missing figure",
        ),
        pytest.param(
            replace(
                "total_hours: {value: 3000, src: TX1, confidence: primary}",
                "total_hours: {value: 3000, src: TX1, confidence: sure}",
            ),
            "versions[0].requirements.total_hours.confidence",
            "'primary', 'secondary' or 'unconfirmed' (given 'sure')",
            id="an unknown confidence",
        ),
        pytest.param(
            replace(
                "total_hours: {value: 3000, src: TX1, confidence: primary}",
                "total_hours: {value: 3000, confidence: primary}",
            ),
            "versions[0].requirements.total_hours",
            "a primary figure must name its source (src)",
            id="a sure figure without a source",
        ),
        pytest.param(
            replace(
                "direct_client_hours: {value: 1500, src: TX1, confidence: primary}",
                "direct_client_hours: {value: many, src: TX1, confidence: primary}",
            ),
            "versions[0].requirements.direct_client_hours.value",
            "valid decimal (given 'many')",
            id="a figure that is not a number",
        ),
        pytest.param(
            replace("        months: null\n", "        month: null\n"),
            "versions[0].rules[2].month",
            "Extra inputs are not permitted",
            id="a misspelt field",
        ),
        pytest.param(
            replace("        supervisors: 2\n", "        supervisors: 3\n"),
            "versions[0]",
            "allows 3 concurrent supervisors but session_limits.concurrent_supervisors_max is 2",
            id="session limits and rules that disagree",
        ),
        pytest.param(
            replace(
                "  - effective_from: 2025-03-28",
                "  - effective_from: 2025-03-28\n    effective_to: 2025-01-01",
            ),
            "versions[0]",
            "effective_to 2025-01-01 is before effective_from 2025-03-28",
            id="a version that ends before it begins",
        ),
        pytest.param(
            replace(
                "      total_hours: {value: 3000, src: TX1, confidence: primary}",
                "      total_hours: {value: 3000, src: TX42, confidence: primary}",
            ),
            "versions[0].requirements.total_hours.src",
            f"source tag TX42 is not listed in {SOURCES_FILE}",
            id="a source tag sources.md does not list",
        ),
        pytest.param(
            replace("track: TX-LPC-ASSOCIATE", "track: TX-LPC-INTERN"),
            "track",
            "the pack of track TX-LPC-INTERN must be named TX-LPC-INTERN.yaml",
            id="a file named after another track",
        ),
        pytest.param(
            replace("state: TX", "state: OK"),
            "(top level)",
            "track TX-LPC-ASSOCIATE is not a track of the state OK",
            id="a track of another state",
        ),
        pytest.param(
            replace(
                "      total_hours: {value: 3000, src: TX1, confidence: primary}\n",
                "      total_hours: {value: 3000, src: TX1, confidence: primary}\n"
                "      total_hours: {value: 300, src: TX1, confidence: primary}\n",
            ),
            "line 16, column 7",
            "the key 'total_hours' is given twice",
            id="a key given twice",
        ),
        pytest.param(
            replace("versions:\n", "versions: [\n"),
            "line 9, column 3",
            "not valid YAML",
            id="text that is not YAML",
        ),
    ],
)
def test_a_malformed_pack_is_refused_naming_file_track_field_and_reason(
    packs_dir: Path, change: Callable[[str], str], field: str, reason: str
) -> None:
    broken = edit(packs_dir, f"{TRACK}.yaml", change)
    error = refused(packs_dir)
    assert error.file == str(broken)
    assert error.track in (TRACK, "TX-LPC-INTERN")
    assert any(p.field == field and reason in p.reason for p in error.problems), error.problems
    message = str(error)
    assert str(broken) in message and f"track {error.track}" in message
    assert field in message and reason in message


def test_an_extra_unit_must_add_to_a_minimum_of_its_version(packs_dir: Path) -> None:
    broken = edit(
        packs_dir,
        "CA-AMFT.yaml",
        replace("adds_to: ca-amft.weekly-unit", "adds_to: ca-amft.weekly"),
    )
    error = refused(packs_dir)
    assert (error.file, error.track) == (str(broken), "CA-AMFT")
    assert "rule ca-amft.extra-unit names adds_to ca-amft.weekly, which is not a " in str(error)


def test_every_problem_of_a_pack_is_named_at_once(packs_dir: Path) -> None:
    edit(packs_dir, f"{TRACK}.yaml", replace("        hours: 4\n", "        hours: -4\n"))
    edit(packs_dir, f"{TRACK}.yaml", replace("max_share: 0.50", "max_share: 2"))
    error = refused(packs_dir)
    assert {p.field for p in error.problems} == {
        "versions[0].rules[0].hours",
        "versions[0].rules[1].max_share",
    }


def test_a_pack_that_is_not_a_mapping_is_refused(packs_dir: Path) -> None:
    (packs_dir / f"{TRACK}.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    error = refused(packs_dir)
    assert (error.track, error.problems[0].reason) == (TRACK, "must hold a YAML mapping")


@pytest.mark.parametrize("missing", [SOURCES_FILE, ORGANIZATION_FILE])
def test_the_files_beside_the_packs_are_required(packs_dir: Path, missing: str) -> None:
    (packs_dir / missing).unlink()
    error = refused(packs_dir)
    assert error.file == str(packs_dir / missing)
    assert error.track is None
    assert "is missing" in str(error)


def test_an_organization_threshold_out_of_range_is_refused(packs_dir: Path) -> None:
    broken = edit(packs_dir, ORGANIZATION_FILE, replace("pace_weeks: 12", "pace_weeks: 0"))
    error = refused(packs_dir)
    assert error.file == str(broken)
    assert error.problems[0].field == "pace_weeks"
    assert "greater than or equal to 1 (given 0)" in str(error)


def test_a_directory_without_packs_is_refused(tmp_path: Path) -> None:
    (tmp_path / SOURCES_FILE).write_text("- ORG: the organization\n", encoding="utf-8")
    (tmp_path / ORGANIZATION_FILE).write_text("pace_weeks: 12\n", encoding="utf-8")
    assert "holds no rule pack" in str(refused(tmp_path))


def test_a_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    assert "is not a directory" in str(refused(tmp_path / "nowhere"))
