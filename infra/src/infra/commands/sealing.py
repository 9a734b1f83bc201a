"""Sealing at the event store's boundary: the fields a domain event marks sensitive
(`infra.ddd.TypedText`, `LicenseNumberText`...) are sealed for the stream's subject before the
event is stored, and opened when the stream is read, so that the domain decides on plain values
and nothing it typed rests in clear.

Whose values they are is declared once per kind of stream (`Aggregate.subject`: read from the
stream's state, so that events which do not name the person, a goal set on an engagement, are
sealed for the person the stream is about). A session concerns its supervisees: its values are
sealed for the first supervisee listed (see each service's aggregates), and erasing another
supervisee of a group session leaves them readable.

The outbox translators copy the sealed values into the published contracts as they are: nothing
is sealed twice, and no plain value leaves the service. Once a subject's keys are destroyed, its
values read as `[erased]`; a new sensitive value for them is refused (`SubjectRecordsErased`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from infra.ddd import DomainEvent, RuleViolated
from infra.security.crypto.fields import open_field, seal_field
from infra.security.crypto.keys import SubjectErased, SubjectKeys

Transform = Callable[[str, str], Awaitable[str]]


class SubjectRecordsErased(RuleViolated):
    def __init__(self, erased: SubjectErased) -> None:
        super().__init__(
            f"the records of subject {erased.erasure.subject!r} were erased "
            f"({erased.erasure.reason}): nothing more they wrote or that identifies them can be "
            "recorded"
        )
        self.subject = erased.erasure.subject


class SubjectMustBeKnownToSeal(RuntimeError):
    """A stream's events carry sensitive values but its aggregate names no subject for them."""


class EventSealing:
    """Seals and opens the sensitive fields of a service's own events, with `keys`."""

    def __init__(self, keys: SubjectKeys) -> None:
        self.keys = keys

    async def sealed_data(self, event: DomainEvent, subject: str | None) -> dict[str, Any]:
        """The event's data as it is stored: its sensitive fields sealed for `subject`."""
        data = event.to_data()
        paths = type(event).sealed_fields()
        if not paths:
            return data

        async def sealed(path: str, value: str) -> str:
            if not value:
                return value
            if subject is None:
                raise SubjectMustBeKnownToSeal(
                    f"{event.type} holds {path}, a sensitive value, but its stream names no "
                    "subject to seal it for (declare Aggregate.subject)"
                )
            try:
                return await seal_field(self.keys, subject, value)
            except SubjectErased as erased:
                raise SubjectRecordsErased(erased) from None

        for path in paths:
            data = await _apply(data, path.split("."), path, sealed)
        return data

    async def opened_data(
        self, event_class: type[DomainEvent], data: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """A stored event's data with its sensitive fields opened (`[erased]` once erased)."""
        paths = event_class.sealed_fields()
        if not paths:
            return data

        async def opened(path: str, value: str) -> str:
            return await open_field(self.keys, value)

        result = dict(data)
        for path in paths:
            result = await _apply(result, path.split("."), path, opened)
        return result


async def _apply(data: dict[str, Any], steps: list[str], path: str, change: Transform) -> Any:
    """`data` with `change` applied to the string at `steps` (`a`, `a[].b`, `a.b`)."""
    name, rest = steps[0], steps[1:]
    listed = name.endswith("[]")
    key = name.removesuffix("[]")
    value = data.get(key)
    if value is None:
        return data
    if listed:
        items = []
        for item in value:
            items.append(await _at(item, rest, path, change))
        return {**data, key: items}
    return {**data, key: await _at(value, rest, path, change)}


async def _at(value: Any, rest: list[str], path: str, change: Transform) -> Any:
    if not rest:
        return await change(path, value) if isinstance(value, str) else value
    if isinstance(value, dict):
        return await _apply(value, rest, path, change)
    return value
