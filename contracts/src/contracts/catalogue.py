"""The event catalogue: every published event, who produces it, who consumes it, its key,
version and meaning, rendered to `contracts/docs/events.md` for a newcomer to read.

Each field's type is named by its kind (`contracts.fields`: Id, Label, Text, Date, ...), which
says what values it admits. Who consumes what is declared here, once (`CONSUMERS`); a test
composes each service and checks that its subscriptions handle exactly the events declared for it.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from contracts import events as ev
from contracts.events import EventContract, current_schemas
from contracts.fields import Kind, sensitive_fields
from contracts.topics import EVENT_TOPICS

DOCS = Path(__file__).resolve().parents[2] / "docs"
CATALOGUE = DOCS / "events.md"

# Consumer group -> the events its service handles (a handler written for the newest version
# also takes older versions, upcast on read).
CONSUMERS: Mapping[str, tuple[type[EventContract], ...]] = {
    "continuum.supervision": (
        ev.LicenseRecorded,
        ev.LicenseRenewed,
        ev.LicenseSuspended,
        ev.LicenseReinstated,
        ev.LicenseRevoked,
        ev.LicenseExpired,
    ),
    "continuum.coaching": (ev.ReferralAccepted, ev.ReferralCompleted),
    "continuum.referral": (ev.CoachingConcernRaised,),
    "continuum.compliance": (
        ev.SuperviseeRegistered,
        ev.SuperviseeTransferred,
        ev.AgreementSigned,
        ev.AgreementApproved,
        ev.AgreementAmended,
        ev.AgreementTerminated,
        ev.SessionLogged,
        ev.SessionAmended,
        ev.SessionVoided,
        ev.SupervisorLapseMarked,
        ev.PracticeHoursRecorded,
        ev.MonthSignedOff,
        ev.MonthReopened,
        ev.CompetencyEvaluated,
        ev.EvaluationAcknowledged,
        ev.ReferralRaised,
        ev.ReferralAccepted,
        ev.ReferralDeclined,
        ev.ReferralRedirected,
        ev.ReferralScheduled,
        ev.ReferralCompleted,
        ev.ReferralClosedUnableToEngage,
        ev.ReferralCancelled,
        ev.ReferralServiceLevelBreached,
        ev.LicenseRecorded,
        ev.LicenseRenewed,
        ev.LicenseSuspended,
        ev.LicenseReinstated,
        ev.LicenseRevoked,
        ev.LicenseExpired,
        ev.SupervisorDesignationRecorded,
        ev.VerdictResolved,
        ev.LeaveApproved,
    ),
}


def producer(event: type[EventContract]) -> str:
    """The service that publishes an event: the owner of its topic."""
    return event.topic.split(".")[1]


def consumers(event: type[EventContract]) -> list[str]:
    return sorted(
        group.removeprefix("continuum.")
        for group, handled in CONSUMERS.items()
        if any(h.name == event.name for h in handled)
    )


def meaning(event: type[EventContract]) -> str:
    doc = inspect.getdoc(event) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def key_field(event: type[EventContract]) -> str:
    """The field the Kafka key is read from: asks `key()` of an event whose every field holds
    its own name."""
    values: dict[str, Any] = {name: name for name in event.model_fields}
    return event.model_construct(None, **values).key()


def type_name(annotation: Any, metadata: Iterable[Any] = ()) -> str:
    """How the catalogue names a field's type: the kind of `contracts.fields` it is, if any."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return type_name(args[0], annotation.__metadata__)
    kind = next((item.name for item in metadata if isinstance(item, Kind)), None)
    if kind is not None:
        return kind
    if origin is Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (types.UnionType, typing.Union):
        named = [type_name(a) for a in args if a is not type(None)]
        optional = " (optional)" if type(None) in args else ""
        return " \\| ".join(named) + optional
    if origin is tuple:
        return f"list of {type_name(args[0])}"
    return getattr(annotation, "__name__", str(annotation))


def render() -> str:
    lines = [
        "# Event catalogue",
        "",
        "Generated from `contracts/src/contracts/events/` by `make contracts`; do not edit.",
        "Every event is a CloudEvent (Kafka binary mode) whose `type` is",
        "`<name>.v<version>`, keyed by the field named below so one aggregate's events keep",
        "their order. Consumers ignore fields they do not know; an older version is upcast to",
        "the newest on read. Schema snapshots in `contracts/schemas/` guard compatibility.",
        "The AsyncAPI document of the same events is `asyncapi.json`.",
        "A field's type names its kind (Id, Label, Reference, Month, Text, Date, Instant, Int32),",
        "defined once in `contracts/src/contracts/fields.py`: what it admits is what every",
        "consumer can store. A sensitive field holds free text a person typed, or what",
        "identifies a person (`Sensitive`, in the same file): it is to travel and rest only",
        "sealed under its subject's key (`infra.security.crypto`), which the services do not",
        "do yet.",
        "",
    ]
    schemas = current_schemas()
    for topic in EVENT_TOPICS:
        published = [e for e in schemas if e.topic == topic.name]
        if not published:
            continue
        lines += [
            f"## {topic.name.split('.')[1]} publishes on `{topic.name}`",
            "",
            "| event | version | key | consumed by | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for event in published:
            short = event.name.rsplit(".", 1)[1]
            lines.append(
                f"| [{short}](#{short.lower()}) | {event.version} | `{key_field(event)}` "
                f"| {', '.join(consumers(event)) or '—'} | {meaning(event)} |"
            )
        lines.append("")
        for event in published:
            lines += [f"### {event.name.rsplit('.', 1)[1]}", "", f"`{event.ce_type()}`", ""]
            doc = inspect.getdoc(event) or ""
            rest = doc.split("\n\n", 1)[1] if "\n\n" in doc else ""
            if rest:
                lines += [" ".join(rest.split()), ""]
            lines += ["| field | type |", "| --- | --- |"]
            sensitive = sensitive_fields(event)
            for name, field in event.model_fields.items():
                kind = type_name(field.annotation, field.metadata)
                lines.append(f"| `{name}` | {kind}{', sensitive' if name in sensitive else ''} |")
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="write the event catalogue")
    parser.add_argument("--check", action="store_true", help="fail if it is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not CATALOGUE.exists() or CATALOGUE.read_text() != text:
            print(f"{CATALOGUE} is out of date: run `make contracts`", file=sys.stderr)
            raise SystemExit(1)
        return
    DOCS.mkdir(exist_ok=True)
    CATALOGUE.write_text(text)
    print(f"wrote {CATALOGUE}")


if __name__ == "__main__":
    main()
