"""Every figure of the research (contracts/research/rule-pack-research.yaml) appears in the
packaged rule packs with the same value, source and confidence: as a requirement, a session
limit, a rule, or an item recorded as not evaluated. Nothing the research found is dropped, and
nothing a pack holds is invented, except the organization's own choices (source ORG).

The research is walked figure by figure (`research_figures`). A figure that the packs carry as a
rule, a requirement or a session limit is listed in `CARRIED` with where it is and how the
research's value reads there (a window "2 weeks" is `two_weeks`; a unit of 2 hours of group
supervision is a weight of 0.5). Every other figure must be a `not_evaluated` item whose topic is
the figure's path in the research. Both tables were reviewed against the research by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.rulepacks.loader import load_rule_packs
from contracts.rulepacks.model import Count, Figure, Flag, PackVersion, RulePacks, Sourced

pytestmark = pytest.mark.unit

RESEARCH = Path(__file__).parents[2] / "contracts" / "research" / "rule-pack-research.yaml"

# A track's own name and reading date are the pack's metadata and basis, not figures.
_TRACK_METADATA = {"id", "state", "provisional_credential", "target_license", "board", "as_of"}
# Texts the research attaches to the figures of their mapping: found in the carrier's note.
_ANNOTATIONS = ("note", "conflict")


@dataclass(frozen=True)
class ResearchFigure:
    path: str
    value: Any
    # None: the research names no source (or no confidence) for this figure.
    src: tuple[str, ...] | None
    confidence: str | None
    annotations: tuple[str, ...]


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(tag.strip() for tag in str(value).split(";") if tag.strip())


def research_figures(
    node: dict[str, Any],
    path: str = "",
    src: tuple[str, ...] | None = None,
    confidence: str | None = None,
) -> Iterator[ResearchFigure]:
    """Each figure with the source and confidence of the innermost mapping that states them; a
    `<name>_src` key gives the source of its sibling `<name>...`."""
    src = _tags(node["src"]) if "src" in node else src
    confidence = node.get("confidence", confidence)
    notes = tuple(str(node[key]) for key in _ANNOTATIONS if key in node)
    sibling_src = {k.removesuffix("_src"): _tags(v) for k, v in node.items() if k.endswith("_src")}
    for key, value in node.items():
        if key in ("src", "confidence", *_ANNOTATIONS) or key.endswith("_src"):
            continue
        if not path and key in _TRACK_METADATA:
            continue
        here = path if key == "value" else (f"{path}.{key}" if path else key)
        own = next((tags for name, tags in sibling_src.items() if key.startswith(name)), src)
        if isinstance(value, dict):
            yield from research_figures(value, here, own, confidence)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for index, item in enumerate(value):
                yield from research_figures(item, f"{here}[{index}]", own, confidence)
        elif isinstance(value, list):
            if value:  # an empty list (NY's cadence) states nothing
                yield ResearchFigure(here, tuple(value), own, confidence, notes)
        else:
            yield ResearchFigure(here, value, own, confidence, notes)


# --- where the packs carry a figure, and how its value reads there ---------------------------


@dataclass(frozen=True)
class Within:
    """The research's text appears in the pack's (a note)."""

    text: str


def _same(value: Any) -> Any:
    return value


def _const(pack_value: Any) -> Callable[[Any], Any]:
    return lambda _research_value: pack_value


def _within(value: Any) -> Within:
    return Within(str(value))


@dataclass(frozen=True)
class At:
    # A path in the track's version: attributes, and rules by id (`rules[<id>].hours`).
    where: str
    expect: Callable[[Any], Any] = _same
    # Where the figure's source and confidence are held, when not on the path itself.
    sourced_by: str | None = None


_WEEK = _const("calendar_week")
# NC3's raw data, recorded as the techniques a session used.
_RAW_DATA_TECHNIQUES = {
    "live_observation": "direct_observation",
    "co_therapy": "direct_observation",
    "live_supervision": "direct_observation",
    "audio_recording": "recording_review",
    "video_recording": "recording_review",
}
# IL1/IL2's license names, as the credential registry's license kinds.
_LICENSE_KINDS = {
    "LCPC": "LCPC",
    "LCSW": "LCSW",
    "licensed clinical psychologist": "LCP",
    "psychiatrist": "PSYCHIATRIST",
    "LMFT": "LMFT",
}


def _credential(rule: str, designation: str) -> tuple[At, ...]:
    """A supervisor credential: the designation the registry records, and the research's words."""
    return (
        At(f"rules[{rule}].designations", _const((designation,))),
        At(f"rules[{rule}].note", _within),
    )


def _rule_kind(rule: str, kind: str) -> At:
    return At(f"rules[{rule}].kind", _const(kind))


CARRIED: dict[str, dict[str, At | tuple[At, ...]]] = {
    "TX-LPC-ASSOCIATE": {
        "total_hours": At("requirements.total_hours"),
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "supervision_hours_total": At("requirements.supervision_hours"),
        "supervision_cadence[0].rule": _rule_kind(
            "tx-lpc-associate.monthly-minimum", "min_supervision_per_window"
        ),
        "supervision_cadence[0].hours": At("rules[tx-lpc-associate.monthly-minimum].hours"),
        "supervision_cadence[0].window": At("rules[tx-lpc-associate.monthly-minimum].window"),
        "supervision_cadence[0].applies_when": (
            At("rules[tx-lpc-associate.monthly-minimum].only_while_practising", _const(True)),
            At("rules[tx-lpc-associate.monthly-minimum].note", _within),
        ),
        "supervision_cadence[0].exception": At(
            "rules[tx-lpc-associate.monthly-minimum].note", _within
        ),
        "group_supervision.max_share_of_total": At("rules[tx-lpc-associate.group-share].max_share"),
        "group_supervision.individual_def.max_supervisees": At(
            "session_limits.individual_max_supervisees"
        ),
        "group_supervision.group_def.min_supervisees": At("session_limits.group_min_supervisees"),
        "duration.min_months": At("requirements.min_months"),
        "duration.max_months": At("rules[tx-lpc-associate.duration-max].months"),
        "concurrent_supervisors_max": (
            At("session_limits.concurrent_supervisors_max"),
            At("rules[tx-lpc-associate.concurrent-supervisors].supervisors"),
        ),
        "supervisor_qualification.credential": _credential(
            "tx-lpc-associate.supervisor-designation", "LPC-S"
        ),
        "supervisor_qualification.min_years_licensed": At(
            "rules[tx-lpc-associate.supervisor-years].min_years_licensed"
        ),
        "reporting.evaluation_cadence": At(
            "rules[tx-lpc-associate.evaluation-cadence].every_months"
        ),
    },
    "TX-LMSW-TO-LCSW": {
        "total_hours": At("requirements.total_hours"),
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "supervision_hours_total.min": At("requirements.supervision_hours"),
        "supervision_cadence[1].rule": _rule_kind(
            "tx-lmsw-to-lcsw.monthly-cap", "max_countable_supervision_per_window"
        ),
        "supervision_cadence[1].hours": At("rules[tx-lmsw-to-lcsw.monthly-cap].hours"),
        "supervision_cadence[1].window": (
            At("rules[tx-lmsw-to-lcsw.monthly-cap].window", _const("calendar_month")),
            At("rules[tx-lmsw-to-lcsw.monthly-cap].note", _within),
        ),
        "group_supervision.group_size.min": At("session_limits.group_min_supervisees"),
        "group_supervision.group_size.max": At("session_limits.group_max_supervisees"),
        "group_supervision.max_share_of_total": At("rules[tx-lmsw-to-lcsw.group-share].max_share"),
        "duration.min_months": At("requirements.min_months"),
        "duration.max_months": At("rules[tx-lmsw-to-lcsw.duration-max].months"),
        "duration.lookback_years": At("rules[tx-lmsw-to-lcsw.lookback].years"),
        "supervisor_qualification.credential": _credential(
            "tx-lmsw-to-lcsw.supervisor-designation", "LCSW-S"
        ),
        "supervisor_qualification.min_years_at_license_category": At(
            "rules[tx-lmsw-to-lcsw.supervisor-years].min_years_licensed"
        ),
    },
    "CA-AMFT": {
        "total_hours": At("requirements.total_hours"),
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "weekly_cap_hours": At("rules[ca-amft.practice-cap].hours"),
        "weekly_cap_hours.window": (
            At("rules[ca-amft.practice-cap].window", _WEEK),
            At("rules[ca-amft.practice-cap].note", _within),
        ),
        "supervision_cadence[0].rule": (
            _rule_kind("ca-amft.weekly-unit", "min_supervision_per_window"),
            At("rules[ca-amft.weekly-unit].window", _WEEK),
            At("rules[ca-amft.weekly-unit].per_site", _const(True)),
        ),
        "supervision_cadence[0].units": At("rules[ca-amft.weekly-unit].hours"),
        "supervision_cadence[0].unit_def": At(
            "rules[ca-amft.weekly-unit].weights.group",
            _const(Decimal("0.5")),
            sourced_by="rules[ca-amft.weekly-unit]",
        ),
        "supervision_cadence[1].rule": (
            _rule_kind("ca-amft.extra-unit", "extra_supervision_above_practice"),
            At("rules[ca-amft.extra-unit].adds_to", _const("ca-amft.weekly-unit")),
        ),
        "supervision_cadence[1].threshold_direct_hours_per_week": At(
            "rules[ca-amft.extra-unit].direct_hours_above"
        ),
        "supervision_cadence[1].extra_units": At("rules[ca-amft.extra-unit].extra_hours"),
        "group_supervision.max_share_of_total": At("rules[ca-amft.group-share].max_share"),
        "group_supervision.triadic_counts_as_individual": At(
            "session_limits.triadic_counts_as",
            _const("individual"),
            sourced_by="session_limits.triadic_counts_as_basis",
        ),
        "duration.min_weeks": At("requirements.min_weeks"),
        "duration.hours_expire_after_years": At("rules[ca-amft.lookback].years"),
        "reporting.evaluation_cadence.annual": At(
            "rules[ca-amft.evaluation-cadence].every_months", _const(12)
        ),
        "reporting.evaluation_cadence.at_termination": At(
            "rules[ca-amft.evaluation-cadence].at_termination"
        ),
    },
    "CA-ASW": {
        "total_hours": At("requirements.total_hours"),
        "weekly_cap_hours": At("rules[ca-asw.practice-cap].hours"),
        "supervision_cadence[0].rule": (
            _rule_kind("ca-asw.weekly-unit", "min_supervision_per_window"),
            At("rules[ca-asw.weekly-unit].window", _WEEK),
            At("rules[ca-asw.weekly-unit].per_site", _const(True)),
        ),
        "supervision_cadence[0].units": At("rules[ca-asw.weekly-unit].hours"),
        "supervision_cadence[0].unit_def": At(
            "rules[ca-asw.weekly-unit].weights.group",
            _const(Decimal("0.5")),
            sourced_by="rules[ca-asw.weekly-unit]",
        ),
        "supervision_cadence[1].rule": (
            _rule_kind("ca-asw.extra-unit", "extra_supervision_above_practice"),
            At("rules[ca-asw.extra-unit].adds_to", _const("ca-asw.weekly-unit")),
        ),
        "supervision_cadence[1].threshold_direct_hours_per_week": At(
            "rules[ca-asw.extra-unit].direct_hours_above"
        ),
        "supervision_cadence[1].extra_units": At("rules[ca-asw.extra-unit].extra_hours"),
        "supervision_cadence[2].rule": (
            _rule_kind("ca-asw.week-without-a-unit", "min_supervision_per_window"),
            At("rules[ca-asw.week-without-a-unit].severity", _const("void")),
            At("rules[ca-asw.week-without-a-unit].window", _WEEK),
            At("rules[ca-asw.week-without-a-unit].note", _within),
        ),
        "group_supervision.max_share_of_total": At("rules[ca-asw.group-share].max_share"),
        "duration.min_weeks": At("requirements.min_weeks"),
        "duration.lookback_years": At("rules[ca-asw.lookback].years"),
    },
    "NY-LMHC-LIMITED-PERMIT": {
        "total_hours": At("requirements.total_hours"),
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "supervision_hours_total": At("requirements.supervision_hours"),
        "group_supervision.max_share_of_total": At(
            "rules[ny-lmhc-limited-permit.group-share].max_share"
        ),
        "duration.min_months": At("requirements.min_months"),
        "supervisor_qualification.credential": At(
            "rules[ny-lmhc-limited-permit.supervisor-qualified].note", _within
        ),
        "reporting.evaluation_cadence": At(
            "rules[ny-lmhc-limited-permit.evaluation-cadence].every_months"
        ),
    },
    "FL-RMHCI": {
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "supervision_hours_total.min": At("requirements.supervision_hours"),
        "supervision_cadence[0].rule": _rule_kind(
            "fl-rmhci.fortnightly-minimum", "min_supervision_per_window"
        ),
        "supervision_cadence[0].hours": At("rules[fl-rmhci.fortnightly-minimum].hours"),
        "supervision_cadence[0].window": At(
            "rules[fl-rmhci.fortnightly-minimum].window", _const("two_weeks")
        ),
        "supervision_cadence[1].rule": _rule_kind(
            "fl-rmhci.per-practice-hours", "supervision_per_practice_hours"
        ),
        "supervision_cadence[1].supervision_hours": At(
            "rules[fl-rmhci.per-practice-hours].supervision_hours"
        ),
        "supervision_cadence[1].per_practice_hours": At(
            "rules[fl-rmhci.per-practice-hours].per_practice_hours"
        ),
        "group_supervision.must_alternate_with_individual": _rule_kind(
            "fl-rmhci.group-alternates", "group_alternates_with_individual"
        ),
        "group_supervision.individual_def.max_interns": At(
            "session_limits.individual_max_supervisees"
        ),
        "group_supervision.group_def.min_interns": At("session_limits.group_min_supervisees"),
        "group_supervision.group_def.max_interns": At("session_limits.group_max_supervisees"),
        "group_supervision.group_must_be_in_person": (
            _rule_kind("fl-rmhci.group-in-person", "group_modality_required"),
            At("rules[fl-rmhci.group-in-person].modality", _const("in_person")),
            At("rules[fl-rmhci.group-in-person].severity", _const("void")),
        ),
        "telehealth_supervision.excludes": (
            At("rules[fl-rmhci.no-telephone].modality", _const("phone")),
            At("rules[fl-rmhci.no-telephone].note", _within),
        ),
        "telehealth_supervision.min_in_person_share": At(
            "rules[fl-rmhci.in-person-share].min_share"
        ),
        "telehealth_supervision.first_meeting_in_person": At(
            "rules[fl-rmhci.in-person-share].first_session"
        ),
        "duration.min_weeks": At("requirements.min_weeks"),
        "supervisor_qualification.credential": _credential(
            "fl-rmhci.supervisor-qualified", "QUALIFIED-SUPERVISOR"
        ),
        "supervisor_qualification.board_approval_before_hours_count": (
            At("session_limits.board_approval_before_hours_count"),
            _rule_kind("fl-rmhci.board-approval", "board_approval_before_hours_count"),
            At("rules[fl-rmhci.board-approval].severity", _const("void")),
        ),
    },
    "IL-LPC-TO-LCPC": {
        "total_hours": At("requirements.total_hours"),
        "total_hours.derived": At("requirements.total_hours.note", _within),
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "supervision_cadence[0].rule": _rule_kind(
            "il-lpc-to-lcpc.weekly-minimum", "min_supervision_per_window"
        ),
        "supervision_cadence[0].hours": At("rules[il-lpc-to-lcpc.weekly-minimum].hours"),
        "supervision_cadence[0].window": At("rules[il-lpc-to-lcpc.weekly-minimum].window", _WEEK),
        "group_supervision.individual_def.max_supervisees": At(
            "session_limits.individual_max_supervisees"
        ),
        "group_supervision.max_share_of_total": At("rules[il-lpc-to-lcpc.group-share].max_share"),
        "duration.min_months": At("requirements.min_months"),
        "duration.max_months": At("rules[il-lpc-to-lcpc.duration-max].months"),
        "supervisor_qualification.allowed_licenses": (
            At(
                "rules[il-lpc-to-lcpc.supervisor-license].license_kinds",
                lambda names: tuple(_LICENSE_KINDS[name] for name in names),
            ),
            At(
                "rules[il-lpc-to-lcpc.supervisor-license].note",
                lambda names: Within(", ".join(names[:3])),
            ),
        ),
        "reporting.evaluation_cadence": At("rules[il-lpc-to-lcpc.evaluation-cadence].every_months"),
    },
    "OH-LPC-TO-LPCC": {
        "total_hours": At("requirements.total_hours"),
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "supervision_hours_total": At("requirements.supervision_hours"),
        "supervision_cadence[0].rule": _rule_kind(
            "oh-lpc-to-lpcc.quarterly-sign-off", "sign_off_cadence"
        ),
        "supervision_cadence[0].cadence": At(
            "rules[oh-lpc-to-lpcc.quarterly-sign-off].window", _const("calendar_quarter")
        ),
        "group_supervision.max_share_of_total": At("rules[oh-lpc-to-lpcc.group-share].max_share"),
        "telehealth_supervision.phone_allowed": (
            _rule_kind("oh-lpc-to-lpcc.no-telephone", "modality_not_countable"),
            At("rules[oh-lpc-to-lpcc.no-telephone].modality", _const("phone")),
            At("rules[oh-lpc-to-lpcc.no-telephone].severity", _const("void")),
        ),
        "duration.min_months": At("requirements.min_months"),
        "supervisor_qualification.credential": _credential(
            "oh-lpc-to-lpcc.supervisor-designation", "LPCC-S"
        ),
        "supervisor_qualification.post_license_experience.years": At(
            "rules[oh-lpc-to-lpcc.supervisor-years].min_years_licensed"
        ),
    },
    "NC-LCMHCA": {
        "total_hours": At("requirements.total_hours"),
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "supervision_hours_total.min": At("requirements.supervision_hours"),
        "weekly_cap_hours": At("rules[nc-lcmhca.practice-cap].hours"),
        "supervision_cadence[0].rule": _rule_kind(
            "nc-lcmhca.per-practice-hours", "supervision_per_practice_hours"
        ),
        "supervision_cadence[0].individual_hours": At(
            "rules[nc-lcmhca.per-practice-hours].supervision_hours"
        ),
        "supervision_cadence[0].or_group_hours": At(
            "rules[nc-lcmhca.per-practice-hours].weights.group", lambda hours: 1 / Decimal(hours)
        ),
        "supervision_cadence[0].per_practice_hours": At(
            "rules[nc-lcmhca.per-practice-hours].per_practice_hours"
        ),
        "supervision_cadence[0].individual_sup_excluded_from_practice_hours": At(
            "rules[nc-lcmhca.per-practice-hours].exclude_individual_supervision_from_practice"
        ),
        "group_supervision.min_individual_share": At("rules[nc-lcmhca.individual-share].min_share"),
        "supervision_modality_requirement.raw_data_required": _rule_kind(
            "nc-lcmhca.raw-data", "raw_data_required"
        ),
        "supervision_modality_requirement.modalities": At(
            "rules[nc-lcmhca.raw-data].techniques",
            lambda names: tuple(sorted({_RAW_DATA_TECHNIQUES[name] for name in names})),
        ),
        "supervision_modality_requirement.self_report_not_sole_basis": At(
            "rules[nc-lcmhca.raw-data].note", _const(Within("self-report not the sole basis"))
        ),
        "duration.min_months": At("requirements.min_months"),
        "supervisor_qualification.credential": _credential(
            "nc-lcmhca.supervisor-designation", "LCMHCS"
        ),
        "reporting.supervisor_report_cadence": At(
            "rules[nc-lcmhca.evaluation-cadence].every_months", _const(3)
        ),
        "reporting.final_report_per_supervisor": At(
            "rules[nc-lcmhca.evaluation-cadence].at_termination"
        ),
    },
    "IL-LCSW": {
        "total_hours": At("requirements.total_hours"),
        "direct_client_hours.min": At("requirements.direct_client_hours"),
        "supervision_cadence[0].rule": (
            _rule_kind("il-lcsw.monthly-average", "min_supervision_per_window"),
            At("rules[il-lcsw.monthly-average].averaged", _const(True)),
        ),
        "supervision_cadence[0].hours": At("rules[il-lcsw.monthly-average].hours"),
        "supervision_cadence[0].window": At("rules[il-lcsw.monthly-average].window"),
    },
}

# Figures for which the research names no source or no confidence: what the pack gives them,
# reviewed. A credential heading a supervisor qualification takes the tags of the figures under
# it, at the lowest of their confidences; a tag without a confidence takes the one that tag has
# elsewhere in the track, or `secondary` for a source that restates the board's text.
INFERRED: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("TX-LPC-ASSOCIATE", "group_supervision.individual_def.max_supervisees"): (("TX1",), "primary"),
    ("TX-LPC-ASSOCIATE", "group_supervision.group_def.min_supervisees"): (("TX1",), "primary"),
    ("TX-LPC-ASSOCIATE", "supervisor_qualification.credential"): (("TX3", "TX4"), "secondary"),
    ("TX-LMSW-TO-LCSW", "supervisor_qualification.credential"): (("TX6",), "primary"),
    ("CA-AMFT", "reporting.hours_void_without"): (("TYH4",), "secondary"),
    ("CA-ASW", "supervisor_qualification.inherits"): (("CA3", "TYH5", "CA6"), "secondary"),
    ("FL-RMHCI", "supervisor_qualification.credential"): (("FL3", "FL4", "FL5"), "secondary"),
    ("FL-RMHCI", "extra_requirements"): (("FL7",), "secondary"),
    ("OH-LPC-TO-LPCC", "supervisor_qualification.credential"): (("OH3",), "primary"),
    ("OH-LPC-TO-LPCC", "supervisor_approval_required_for"): (("OH4",), "primary"),
}

# Rules a track's research does not state, assumed from another track's and so never enforced:
# the BBS's 2022 changes (CA3) apply to every associate, but the research read them for AMFTs.
ASSUMED: dict[tuple[str, str], tuple[str, str]] = {
    ("CA-ASW", "ca-asw.evaluation-cadence"): ("CA-AMFT", "ca-amft.evaluation-cadence"),
}


# --- reading the packs --------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    value: Any
    carrier: Sourced


def locate(version: PackVersion, where: str, sourced_by: str | None = None) -> Found:
    here: Any = version
    carrier: Sourced | None = None
    for name, key in re.findall(r"([a-z_]+)(?:\[([^\]]+)\])?", where):
        here = getattr(here, name)
        if key:
            here = next(item for item in here if item.id == key)
        if isinstance(here, Sourced):
            carrier = here
    if sourced_by is not None:
        carrier = locate(version, sourced_by).carrier
    assert carrier is not None, f"{where} is held by nothing sourced"
    value = here.value if isinstance(here, Figure | Count | Flag) else here
    return Found(value, carrier)


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    if isinstance(value, list | tuple):
        return tuple(_normal(item) for item in value)
    return value


@pytest.fixture(scope="module")
def packs() -> RulePacks:
    return load_rule_packs()


@pytest.fixture(scope="module")
def research() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(RESEARCH.read_text(encoding="utf-8"))["rule_pack"]
    return loaded


def _tracks(research: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {track["id"]: track for track in research["tracks"]}


def _research_tracks() -> list[str]:
    loaded = yaml.safe_load(RESEARCH.read_text(encoding="utf-8"))["rule_pack"]
    return [track["id"] for track in loaded["tracks"]]


def _expected_source(track: str, figure: ResearchFigure) -> tuple[set[str], str]:
    if figure.src is None and figure.confidence == "unconfirmed":
        return set(), "unconfirmed"  # not found: nothing to cite
    if figure.src is None or figure.confidence is None:
        assert (track, figure.path) in INFERRED, f"{track} {figure.path}: no source in research"
        tags, confidence = INFERRED[(track, figure.path)]
        return set(figure.src or tags), figure.confidence or confidence
    return set(figure.src), figure.confidence


def _check(track: str, figure: ResearchFigure, found: Found, expected: Any) -> None:
    where = f"{track} {figure.path}"
    if isinstance(expected, Within):
        assert expected.text in str(found.value), f"{where}: {expected.text!r} not in the note"
    else:
        assert _normal(found.value) == _normal(expected), f"{where}: value"
    tags, confidence = _expected_source(track, figure)
    # Only the organization's own tag may join a board's: where ORG completes a rule.
    assert tags <= set(found.carrier.src), f"{where}: src {found.carrier.src}, research {tags}"
    assert set(found.carrier.src) - tags <= {"ORG"}, f"{where}: src {found.carrier.src}"
    assert found.carrier.confidence == confidence, f"{where}: confidence"
    for text in figure.annotations:
        assert text in (found.carrier.note or ""), f"{where}: {text!r} not in the note"


@pytest.mark.parametrize("track", _research_tracks())
def test_every_figure_of_the_research_is_in_the_pack_with_its_source_and_confidence(
    track: str, packs: RulePacks, research: dict[str, Any]
) -> None:
    version = packs.pack(track).versions[-1]
    not_evaluated = {item.topic: item for item in version.not_evaluated}
    carried = CARRIED[track]
    figures = list(research_figures(_tracks(research)[track]))
    for figure in figures:
        if figure.path in carried:
            entry = carried[figure.path]
            for at in entry if isinstance(entry, tuple) else (entry,):
                _check(
                    track, figure, locate(version, at.where, at.sourced_by), at.expect(figure.value)
                )
        else:
            item = not_evaluated.get(figure.path)
            assert item is not None, f"{track} {figure.path} is neither carried nor recorded"
            _check(track, figure, Found(item.value, item), figure.value)
    assert set(carried) <= {figure.path for figure in figures}, "the table names no figure twice"


def test_the_ca_bbs_unit_weighs_every_californian_rule_measured_in_units(
    packs: RulePacks, research: dict[str, Any]
) -> None:
    unit = research["supervision_unit_defs"]["ca_bbs_unit"]
    weighed = 0
    for track in ("CA-AMFT", "CA-ASW"):
        for rule in packs.pack(track).versions[-1].rules:
            weights = getattr(rule, "weights", None)
            if weights is None:
                continue
            assert weights.source is not None, rule.id
            assert (weights.individual, weights.triadic, weights.group) == (
                1 / Decimal(unit["individual_hours"]),
                1 / Decimal(unit["triadic_hours"]),
                1 / Decimal(unit["group_hours"]),
            ), rule.id
            assert set(weights.source.src) == set(_tags(unit["src"])), rule.id
            assert weights.source.confidence == unit["confidence"], rule.id
            weighed += 1
    assert weighed == 5  # AMFT: weekly unit, extra unit; ASW: those and the week without a unit


def test_ca_asw_records_the_supervisor_qualification_it_inherits_from_ca_amft(
    packs: RulePacks, research: dict[str, Any]
) -> None:
    amft = _tracks(research)["CA-AMFT"]["supervisor_qualification"]
    asw = {item.topic: item for item in packs.pack("CA-ASW").versions[-1].not_evaluated}
    for figure in research_figures(amft, "supervisor_qualification"):
        item = asw[figure.path]
        assert _normal(item.value) == _normal(figure.value), figure.path
        assert (set(item.src), item.confidence) == (set(figure.src or ()), figure.confidence)


@pytest.mark.parametrize("track", _research_tracks())
def test_a_pack_holds_nothing_the_research_does_not_say_but_the_organizations_choices(
    track: str, packs: RulePacks, research: dict[str, Any]
) -> None:
    version = packs.pack(track).versions[-1]
    figures = {figure.path for figure in research_figures(_tracks(research)[track])}
    if track == "CA-ASW":
        amft = _tracks(research)["CA-AMFT"]["supervisor_qualification"]
        figures |= {f.path for f in research_figures(amft, "supervisor_qualification")}
    assert {item.topic for item in version.not_evaluated} <= figures
    entries = [
        at
        for entry in CARRIED[track].values()
        for at in (entry if isinstance(entry, tuple) else (entry,))
    ]
    mapped = {at.where.split("].")[0].removeprefix("rules[") for at in entries}
    for rule in version.rules:
        if (track, rule.id) in ASSUMED:
            other_track, other_id = ASSUMED[(track, rule.id)]
            other = packs.pack(other_track).versions[-1].rule(other_id)
            assert rule.confidence == "unconfirmed", f"{rule.id} is assumed, so unconfirmed"
            assert rule.model_dump(exclude={"id", "title", "confidence", "note"}) == (
                other.model_dump(exclude={"id", "title", "confidence", "note"})
            )
            continue
        assert rule.id in mapped or "ORG" in rule.src, f"{rule.id} comes from nowhere"
    places = {at.where for at in entries}
    limits = version.session_limits
    for name in ("group_min_supervisees", "group_max_supervisees", "concurrent_supervisors_max"):
        limit = getattr(limits, name)
        if f"session_limits.{name}" not in places:
            assert (limit.src, limit.confidence) == (("ORG",), "unconfirmed"), name
            assert limit.note, f"{name}: the organization's choice says why"
    approval = limits.board_approval_before_hours_count
    if "session_limits.board_approval_before_hours_count" not in places:
        assert (approval.src, approval.confidence) == (("ORG",), "unconfirmed")
    for name in type(version.requirements).model_fields:
        figure = getattr(version.requirements, name)
        if figure is not None and f"requirements.{name}" not in places:
            assert figure.value is None and not figure.confirmed, f"requirements.{name}"


def test_every_track_of_the_research_has_a_pack_and_no_other(
    packs: RulePacks, research: dict[str, Any]
) -> None:
    assert packs.tracks == set(_tracks(research))


@pytest.mark.parametrize("track", _research_tracks())
def test_a_pack_is_in_force_from_the_day_the_research_read_its_text(
    track: str, packs: RulePacks, research: dict[str, Any]
) -> None:
    as_of = _tracks(research)[track]["as_of"]
    first = packs.pack(track).versions[0].effective_from
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(as_of)):
        assert first.isoformat() == str(as_of)
    else:
        # CA-ASW's statute text is undated: the pack rests on the BBS rules of 2022-01-01.
        assert (track, first.isoformat()) == ("CA-ASW", "2022-01-01")
