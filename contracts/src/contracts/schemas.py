"""Event schema snapshots: the compatibility promise to consumers, checked on every change.

`contracts/schemas/<type>.json` holds the JSON schema of every published event version as it
was last released. A change to an event is compatible when a consumer built on the snapshot
still reads what the producer now writes, and a consumer built on the new schema still reads
what the producer wrote before (the log is replayed):

- no field is removed, and a required field stays required;
- a new field has a default (is optional);
- a field keeps its type, format and, for enumerations, exactly its set of values (a new value
  would be refused by a consumer that validates against the old set);
- a bound (a string's length or pattern, a number's range, a list's length) may be added or
  tightened, never removed or loosened: a consumer built on the old schema must still accept
  what the producer writes. A bound is what every consumer could store all along (a text
  column refuses NUL, a `VARCHAR(64)` a longer id), so an old event outside a new bound was
  one its consumers could not apply in the first place: they set it aside, as they still do.

One change is not held to these rules: a field marked sensitive (`contracts.fields.Sensitive`)
may come to admit its sealed envelope besides its plain value (`contracts.fields.sealable`: an
`anyOf` of the field's schema as it was and `SEALED_ENVELOPE_SCHEMA`). A consumer built on the
old schema would refuse an envelope, and one that took it could not read it without the
keyring: that is the point of sealing, and every consumer of these fields is a service of this
platform, deployed with the keyring. Its plain alternative is still held to the rules above.

Anything else needs a new version of the event with an upcaster from the old one
(`contracts.events.base.register_upcaster`), which gets a snapshot of its own.

`python -m contracts.schemas` writes the snapshots of new event versions and of compatible
changes, and refuses an incompatible one; `--check` only reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts.events import REGISTRY, EventContract
from contracts.fields import SEALED_ENVELOPE_SCHEMA

SNAPSHOTS = Path(__file__).resolve().parents[2] / "schemas"

Schema = Mapping[str, Any]
_IGNORED_KEYS = frozenset({"title", "description", "default", "examples"})
# Bound keyword -> which way is tighter: an upper bound may fall, a lower one rise; a pattern may
# only appear.
_UPPER_BOUNDS = frozenset({"maxLength", "maximum", "exclusiveMaximum", "maxItems"})
_LOWER_BOUNDS = frozenset({"minLength", "minimum", "exclusiveMinimum", "minItems"})
_BOUNDS = _UPPER_BOUNDS | _LOWER_BOUNDS | {"pattern"}


def schema_of(event: type[EventContract]) -> dict[str, Any]:
    return event.model_json_schema(mode="serialization")


def snapshot_path(ce_type: str, root: Path = SNAPSHOTS) -> Path:
    return root / f"{ce_type}.json"


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What in `new` breaks a consumer of `old`, one sentence per break; [] when compatible."""
    problems: list[str] = []
    old_props: Mapping[str, Any] = old.get("properties", {})
    new_props: Mapping[str, Any] = new.get("properties", {})
    old_required = set(old.get("required", ()))
    new_required = set(new.get("required", ()))
    for field in sorted(old_props):
        if field not in new_props:
            problems.append(f"field {field!r} was removed")
            continue
        new_field = _resolved(new_props[field], new)
        if not _sealable(_resolved(old_props[field], old)):
            new_field = _without_envelope(new_field)
        before = _shape(old_props[field], old)
        after = _shape(new_field, new)
        if before != after:
            problems.append(f"field {field!r} changed from {before} to {after}")
        else:
            problems.extend(
                f"field {field!r}{where}: {problem}"
                for where, problem in _loosened(
                    _bounds(old_props[field], old), _bounds(new_field, new)
                )
            )
        if field in old_required and field not in new_required:
            problems.append(f"field {field!r} is no longer required")
    for field in sorted(new_required - old_required):
        if field not in old_props:
            problems.append(f"new field {field!r} is required (give it a default)")
        else:
            problems.append(f"field {field!r} became required")
    return problems


def _resolved(schema: Schema, root: Schema) -> Schema:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _resolved(root.get("$defs", {})[ref.rsplit("/", 1)[-1]], root)
    return schema


def _sealable(schema: Schema) -> bool:
    """Whether a field's schema admits a sealed envelope among its alternatives."""
    alternatives = schema.get("anyOf", ())
    return any(_resolved(item, schema) == SEALED_ENVELOPE_SCHEMA for item in alternatives) or any(
        _sealable(item) for item in alternatives
    )


def _without_envelope(schema: Schema) -> Schema:
    """A field's schema with the sealed envelope taken from its alternatives (the one widening
    a sensitive field may make, see the module's docstring); a lone alternative left stands
    for the whole."""
    alternatives = schema.get("anyOf")
    if not isinstance(alternatives, list):
        return schema
    kept: list[Any] = []
    for item in alternatives:
        if item == SEALED_ENVELOPE_SCHEMA:
            continue
        inner = _without_envelope(item)
        kept.extend(inner["anyOf"] if list(inner) == ["anyOf"] else [inner])
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(kept) == 1:
        return {**rest, **kept[0]}
    return {**rest, "anyOf": kept}


def _loosened(
    old: Mapping[tuple[str, str], Any], new: Mapping[tuple[str, str], Any]
) -> list[tuple[str, str]]:
    """(where, what) for every bound of `old` that `new` removed or loosened."""
    problems: list[tuple[str, str]] = []
    for where, key in sorted(old.keys() | new.keys()):
        before, after = old.get((where, key)), new.get((where, key))
        if before == after or before is None:
            continue  # unchanged, or added: tighter
        if after is None:
            problems.append((where, f"{key} {before!r} was removed"))
        elif key == "pattern":
            problems.append((where, f"pattern changed from {before!r} to {after!r}"))
        elif (key in _UPPER_BOUNDS and after > before) or (key in _LOWER_BOUNDS and after < before):
            problems.append((where, f"{key} loosened from {before!r} to {after!r}"))
    return problems


def _bounds(schema: Schema, root: Schema, where: str = "") -> dict[tuple[str, str], Any]:
    """Every bound of a field's schema, by where it sits (alternatives in `_shape`'s order)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _bounds(root.get("$defs", {})[ref.rsplit("/", 1)[-1]], root, where)
    found = {(where, key): value for key, value in schema.items() if key in _BOUNDS}
    for key, value in schema.items():
        if key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            ordered = sorted(value, key=lambda item: repr(_shape(item, root)))
            for index, item in enumerate(ordered):
                found |= _bounds(item, root, f"{where} {key}[{index}]")
        elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
            found |= _bounds(value, root, f"{where} {key}")
        elif key == "properties":
            for name, prop in value.items():
                found |= _bounds(prop, root, f"{where}.{name}")
    return found


def _shape(schema: Schema, root: Schema) -> Any:
    """A field's type with names, prose and bounds stripped and references resolved: what a
    consumer's validation depends on, bounds apart (`_bounds`)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return _shape(root.get("$defs", {})[name], root)
    shape: dict[str, Any] = {}
    for key, value in sorted(schema.items()):
        if key in _IGNORED_KEYS or key in _BOUNDS:
            continue
        if key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            shape[key] = sorted((_shape(item, root) for item in value), key=repr)
        elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
            shape[key] = _shape(value, root)
        elif key == "properties":
            shape[key] = {name: _shape(prop, root) for name, prop in sorted(value.items())}
        elif key == "enum":
            shape[key] = sorted(value, key=repr)
        elif key == "required":
            shape[key] = sorted(value)
        else:
            shape[key] = value
    return shape


def _render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def review(root: Path = SNAPSHOTS) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """(breaks per type, types without a snapshot, snapshots whose type is gone), comparing
    every registered event with its snapshot under `root`."""
    breaks: dict[str, list[str]] = {}
    missing: list[str] = []
    for ce_type, event in sorted(REGISTRY.items()):
        path = snapshot_path(ce_type, root)
        if not path.exists():
            missing.append(ce_type)
            continue
        problems = breaking_changes(json.loads(path.read_text()), schema_of(event))
        if problems:
            breaks[ce_type] = problems
    gone = sorted(path.stem for path in root.glob("*.json") if path.stem not in REGISTRY)
    return breaks, missing, gone


def stale(root: Path = SNAPSHOTS) -> list[str]:
    """Types whose snapshot differs from the schema (compatibly or not)."""
    return [
        ce_type
        for ce_type, event in sorted(REGISTRY.items())
        if not snapshot_path(ce_type, root).exists()
        or snapshot_path(ce_type, root).read_text() != _render(schema_of(event))
    ]


def write(root: Path = SNAPSHOTS) -> list[str]:
    """Writes the snapshots of new and compatibly changed events; refuses any break."""
    breaks, _, gone = review(root)
    if breaks or gone:
        raise SystemExit(_explain(breaks, gone))
    root.mkdir(parents=True, exist_ok=True)
    written = stale(root)
    for ce_type in written:
        snapshot_path(ce_type, root).write_text(_render(schema_of(REGISTRY[ce_type])))
    return written


def _explain(breaks: Mapping[str, list[str]], gone: list[str]) -> str:
    lines = [f"{ce_type}: {problem}" for ce_type, found in breaks.items() for problem in found]
    lines += [f"{ce_type}: a released event version was removed" for ce_type in gone]
    lines.append(
        "publish a new version with an upcaster from the old one instead "
        "(contracts.events.base.register_upcaster)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, write nothing")
    args = parser.parse_args()
    if args.check:
        breaks, missing, gone = review()
        drift = stale()
        if breaks or gone or drift:
            print(_explain(breaks, gone) if breaks or gone else "", file=sys.stderr)
            print(f"snapshots to write (make contracts): {missing or drift}", file=sys.stderr)
            raise SystemExit(1)
        return
    written = write()
    print(f"{len(written)} event schema snapshots written to {SNAPSHOTS}")


if __name__ == "__main__":
    main()
