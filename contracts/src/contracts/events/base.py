"""The base of every published event schema, and the registry consumers parse with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from contracts.fields import sensitive_fields

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    """A message carries an event type this consumer has no schema for."""


class EventContract(BaseModel):
    """A published fact. Consumers ignore fields they do not know, so adding one is compatible."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: ClassVar[str]
    version: ClassVar[int]
    # The topic this event is published to, and what its Kafka key (the aggregate id) is.
    topic: ClassVar[str]

    @classmethod
    def ce_type(cls) -> str:
        return f"{cls.name}.v{cls.version}"

    def key(self) -> str:
        """The aggregate id: events with the same key keep their order on the topic."""
        raise NotImplementedError


REGISTRY: dict[str, type[EventContract]] = {}
# An older type upcasts to the data of the next version; applied in a chain to the newest.
UPCASTERS: dict[str, tuple[str, Upcaster]] = {}


def register(cls: type[EventContract]) -> type[EventContract]:
    """Class decorator: makes a schema known to consumers under its CloudEvents type."""
    REGISTRY[cls.ce_type()] = cls
    return cls


def register_upcaster(
    older: type[EventContract], newer: type[EventContract], upcast: Upcaster
) -> None:
    """Declares how data of `older` becomes data of `newer` (the next version of the same event)."""
    if older.name != newer.name or newer.version != older.version + 1:
        raise ValueError(f"{newer.ce_type()} is not the version after {older.ce_type()}")
    UPCASTERS[older.ce_type()] = (newer.ce_type(), upcast)


def current_schemas() -> list[type[EventContract]]:
    """The newest version of every published event, sorted by name: what producers publish."""
    newest: dict[str, type[EventContract]] = {}
    for schema in REGISTRY.values():
        if schema.name not in newest or schema.version > newest[schema.name].version:
            newest[schema.name] = schema
    return [newest[name] for name in sorted(newest)]


def current_type(ce_type: str) -> str:
    """The newest version an event type upcasts to (itself when it is the newest)."""
    while ce_type in UPCASTERS:
        ce_type = UPCASTERS[ce_type][0]
    return ce_type


def parse(ce_type: str, data: Mapping[str, Any]) -> EventContract:
    """Parses event data of a known type, upcasting older versions; raises on unknown types."""
    payload = dict(data)
    while ce_type in UPCASTERS:
        ce_type, upcast = UPCASTERS[ce_type]
        payload = upcast(payload)
    schema = REGISTRY.get(ce_type)
    if schema is None:
        raise UnknownEventType(ce_type)
    return schema.model_validate(payload)


def sensitive_event_fields() -> dict[str, tuple[str, ...]]:
    """The sensitive fields (`contracts.fields.Sensitive`) of every registered event type that
    has any, by type: what a producer is to seal before publishing."""
    found = {ce_type: tuple(sensitive_fields(schema)) for ce_type, schema in REGISTRY.items()}
    return {ce_type: paths for ce_type, paths in sorted(found.items()) if paths}
