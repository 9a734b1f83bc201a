"""Reads the rule packs: one YAML file per credential track, with `sources.md` (every source tag
the packs cite, and where it points) and `organization.yaml` (the organization's own thresholds)
beside them.

The packaged packs (`contracts/rulepacks/packs/`) are the default; `CONTINUUM_RULE_PACKS_DIR`
names another directory of the same shape. Services load them once at start, before serving, so
that a malformed pack refuses the start instead of judging records by a rule it misread.

A pack is valid when the model accepts it (`contracts.rulepacks.model`), its file is named after
its track (`TX-LPC-ASSOCIATE.yaml`), and every source tag it cites resolves in `sources.md`. What is
wrong is raised as one `RulePackError` naming the file, the track, the field and the reason.
"""

from __future__ import annotations

import functools
import os
import re
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from contracts.rulepacks.model import OrganizationPolicy, RuleKind, RulePack, RulePacks, Sourced

PACKS_DIR_VARIABLE = "CONTINUUM_RULE_PACKS_DIR"
SOURCES_FILE = "sources.md"
ORGANIZATION_FILE = "organization.yaml"
PACK_SUFFIX = ".yaml"

# "- TX4 (secondary): https://..." or "- ORG: the organization's own policy".
_SOURCE_LINE = re.compile(r"^- (?P<tag>[A-Z][A-Z0-9-]*)(?=[ :(])", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file: where (a field path such as `versions[0].rules[2].hours`) and
    why."""

    field: str
    reason: str


class RulePackError(ValueError):
    """A rule pack, or a file beside the packs, that cannot be used as it stands."""

    def __init__(self, file: str, track: str | None, problems: Sequence[Problem]) -> None:
        self.file = file
        self.track = track
        self.problems = tuple(problems)
        what = f"The rule pack {file} of track {track}" if track else f"The rule pack file {file}"
        details = "; ".join(f"{p.field}: {p.reason}" for p in self.problems)
        super().__init__(f"{what} is malformed: {details}")


def packaged_directory() -> Traversable:
    """The rule packs that ship with Continuum."""
    return files("contracts.rulepacks") / "packs"


def load_rule_packs(directory: Path | None = None) -> RulePacks:
    """Every pack of `directory` (the packaged packs by default), validated as a whole."""
    root: Traversable = directory if directory is not None else packaged_directory()
    if not root.is_dir():
        raise RulePackError(str(root), None, [Problem("(directory)", "is not a directory")])
    tags = _source_tags(root / SOURCES_FILE)
    policy = _organization_policy(root / ORGANIZATION_FILE)
    packs: dict[str, RulePack] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name == ORGANIZATION_FILE or not entry.name.endswith(PACK_SUFFIX):
            continue
        pack = _pack(entry, tags)
        packs[pack.track] = pack
    if not packs:
        raise RulePackError(
            str(root), None, [Problem("(directory)", f"holds no rule pack (*{PACK_SUFFIX})")]
        )
    return RulePacks(packs=packs, policy=policy)


def rule_packs() -> RulePacks:
    """The packs services run with: those of `CONTINUUM_RULE_PACKS_DIR` when it is set, else
    the packaged ones; read once per directory and kept."""
    return _cached(os.environ.get(PACKS_DIR_VARIABLE) or None)


@functools.cache
def _cached(directory: str | None) -> RulePacks:
    return load_rule_packs(Path(directory) if directory is not None else None)


# --- the files -------------------------------------------------------------------------------


def _source_tags(entry: Traversable) -> frozenset[str]:
    if not entry.is_file():
        raise RulePackError(
            str(entry), None, [Problem("(file)", "is missing: every source tag resolves in it")]
        )
    tags = frozenset(m["tag"] for m in _SOURCE_LINE.finditer(entry.read_text(encoding="utf-8")))
    if not tags:
        raise RulePackError(
            str(entry), None, [Problem("(file)", "lists no source ('- TAG: where it points')")]
        )
    return tags


def _organization_policy(entry: Traversable) -> OrganizationPolicy:
    if not entry.is_file():
        raise RulePackError(
            str(entry), None, [Problem("(file)", "is missing: the organization's thresholds")]
        )
    data = _yaml(entry, None)
    try:
        return OrganizationPolicy.model_validate(data)
    except ValidationError as error:
        raise RulePackError(str(entry), None, _problems(error)) from None


def _pack(entry: Traversable, tags: frozenset[str]) -> RulePack:
    stem = entry.name.removesuffix(PACK_SUFFIX)
    data = _yaml(entry, stem)
    named = data.get("track") if isinstance(data, dict) else None
    track = named if isinstance(named, str) and named else stem
    try:
        pack = RulePack.model_validate(data)
    except ValidationError as error:
        raise RulePackError(str(entry), track, _problems(error)) from None
    if entry.name != f"{pack.track}{PACK_SUFFIX}":
        reason = f"the pack of track {pack.track} must be named {pack.track}{PACK_SUFFIX}"
        raise RulePackError(str(entry), track, [Problem("track", reason)])
    unknown = [
        Problem(f"{path}.src", f"source tag {tag} is not listed in {SOURCES_FILE}")
        for path, sourced in _sourced_with_paths(pack, "")
        for tag in sourced.src
        if tag not in tags
    ]
    if unknown:
        raise RulePackError(str(entry), track, unknown)
    return pack


class _PackYamlLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML itself keeps the last
    silently, which would hide a figure typed twice)."""


def _mapping_without_repeated_keys(loader: _PackYamlLoader, node: yaml.MappingNode) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_PackYamlLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_repeated_keys
)


def _yaml(entry: Traversable, track: str | None) -> Any:
    try:
        data = yaml.load(entry.read_text(encoding="utf-8"), Loader=_PackYamlLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
        reason = getattr(error, "problem", None) or str(error)
        raise RulePackError(
            str(entry), track, [Problem(where, f"not valid YAML: {reason}")]
        ) from None
    if not isinstance(data, dict):
        raise RulePackError(str(entry), track, [Problem("(file)", "must hold a YAML mapping")])
    return data


# --- pydantic's errors, as field paths and reasons -------------------------------------------


def _rule_kinds() -> frozenset[str]:
    union = typing.get_args(RuleKind)[0]
    return frozenset(
        value
        for member in typing.get_args(union)
        for value in typing.get_args(member.model_fields["kind"].annotation)
    )


def _field_names(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for nested in _models_in(field.annotation):
            names |= _field_names(nested, seen)
    return names


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


_RULE_KINDS = _rule_kinds()
_FIELDS = frozenset(_field_names(RulePack, set()) | _field_names(OrganizationPolicy, set()))


def _path(loc: tuple[int | str, ...], unknown_key: bool) -> str:
    """`('versions', 0, 'rules', 2, 'min_supervision_per_window', 'hours')` reads
    `versions[0].rules[2].hours`: the rule kind and pydantic's union members are not fields. A
    key that is not a field (`unknown_key`) ends the path."""
    path = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif (part in _FIELDS and part not in _RULE_KINDS) or (
            unknown_key and index == len(loc) - 1
        ):
            path += f".{part}" if path else part
    return path or "(top level)"


def _reason(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    if error["type"] != "missing" and isinstance(given, str | int | float | bool):
        message += f" (given {given!r})"
    return message


def _problems(error: ValidationError) -> list[Problem]:
    """One problem per field: a union reports each of its members, and these are joined. A list
    whose items failed is also reported too short (the failed items are left out of its count):
    that echo is dropped, the items' own errors say what is wrong."""
    details = [
        (_path(tuple(d["loc"]), d["type"] == "extra_forbidden"), d)
        for d in error.errors(include_url=False)
    ]
    reasons: dict[str, list[str]] = {}
    for path, detail in details:
        if detail["type"] == "too_short" and any(
            other.startswith(f"{path}[") for other, _ in details
        ):
            continue
        found = reasons.setdefault(path, [])
        reason = _reason(detail)
        if reason not in found:
            found.append(reason)
    return [Problem(field, ", or ".join(why)) for field, why in reasons.items()]


def _sourced_with_paths(model: BaseModel, path: str) -> Iterator[tuple[str, Sourced]]:
    if isinstance(model, Sourced):
        yield path or "(top level)", model
    for name in type(model).model_fields:
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        if isinstance(value, BaseModel):
            yield from _sourced_with_paths(value, here)
        elif isinstance(value, tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _sourced_with_paths(item, f"{here}[{index}]")
