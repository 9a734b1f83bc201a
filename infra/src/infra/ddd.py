"""Pure building blocks for service domains: domain events, errors and the clock's interface.

Domains import this module and the standard library and pydantic, nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar, Protocol, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)

from contracts.fields import (
    IDENTIFIES_LICENSE_HOLDER,
    IDENTIFIES_PERSON_APPROVED,
    LEADS_TO_CONSENT,
    TYPED_BY_A_PERSON,
    sensitive_fields,
)

# The kinds of field (ids, labels, free text, dates, moments) are defined once, with the
# published contracts, so that a command accepts only what the events it causes can carry.
from contracts.fields import Id as Id
from contracts.fields import check_id as check_id

# The fields of a domain event that must not rest in clear: the runner seals them under the
# subject's key before they are stored, and opens them when the stream is read (see
# `infra.commands.sealing`). The domain itself only ever sees the plain value.
TypedText = Annotated[str, TYPED_BY_A_PERSON]
LicenseNumberText = Annotated[str, IDENTIFIES_LICENSE_HOLDER]
ApprovalReferenceText = Annotated[str, IDENTIFIES_PERSON_APPROVED]
ConsentReferenceText = Annotated[str, LEADS_TO_CONSENT]


class DomainError(Exception):
    """A command was refused. Subclasses name the broken rule as a sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """A field of the command is malformed or out of range (gRPC INVALID_ARGUMENT)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(DomainError):
    """The command names something that does not exist (gRPC NOT_FOUND)."""


class AlreadyRecorded(DomainError):
    """The client-chosen id is taken by a different record (gRPC ALREADY_EXISTS).

    A retry of the *same* command is not this error: it succeeds and changes nothing.
    """


class RuleViolated(DomainError):
    """The command is well formed but the record's state or a rule forbids it
    (gRPC FAILED_PRECONDITION)."""


class Command(BaseModel):
    """A request to change a record. A malformed field is refused as InvalidInput naming the field
    as the API request names it, so a client can point at what to fix.

    Identity: a command names itself with the client-chosen ids in `key_fields` (a session's id,
    an agreement's id, or a `command_id` for a command that can be repeated); a retry carries the
    same ids and the same content, and is answered with the first outcome. A command without key
    fields is not recorded: its decision is idempotent by itself (a clock's job)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_fields: ClassVar[tuple[str, ...]] = ()
    # Fields whose order carries no meaning (sets written as lists): sorted before fingerprinting.
    unordered_fields: ClassVar[frozenset[str]] = frozenset()
    # Fields a retry may carry otherwise and still be the same command (who sent it, say).
    unfingerprinted_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def command_type(cls) -> str:
        return cls.__name__

    def command_key(self, key_fields: tuple[str, ...] | None = None) -> str | None:
        """The ids this command is known by among commands of its type; None: not recorded.

        An id left empty (a client written before the command had an id of its own) makes the
        content itself the identity, so that client's retries are still recognised.
        `key_fields` overrides the class's own (a use case may name a command's identity)."""
        fields = self.key_fields if key_fields is None else key_fields
        if not fields:
            return None
        values = [getattr(self, name, None) for name in fields]
        if any(value is None for value in values):
            return f"={self.fingerprint()}"
        return "/".join(str(value) for value in values)

    def fingerprint(self) -> str:
        """A digest of what the command asks for: a retry must match it exactly."""
        data = self.model_dump(mode="json", exclude=set(self.unfingerprinted_fields))
        for name in self.unordered_fields:
            if isinstance(data.get(name), list):
                data[name] = sorted(data[name], key=lambda item: json.dumps(item, sort_keys=True))
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    @model_validator(mode="wrap")
    @classmethod
    def _refuse_as_invalid_input(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else "request"
            cause = (error.get("ctx") or {}).get("error")
            reason = str(cause) if isinstance(cause, ValueError) else error["msg"]
            raise InvalidInput(field, reason) from None


_SEALED_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}


class DomainEvent(BaseModel):
    """A fact a service records in its own event store. Private to the service: what it publishes
    is translated into a contract from `contracts.events`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    @classmethod
    def sealed_fields(cls) -> tuple[str, ...]:
        """The paths of the fields marked sensitive (`TypedText`...), sealed when stored."""
        found = _SEALED_FIELDS.get(cls)
        if found is None:
            found = _SEALED_FIELDS[cls] = tuple(sensitive_fields(cls))
        return found

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        return cls.model_validate(data)


class EventTypes:
    """Maps stored type names back to a service's domain event classes."""

    def __init__(self, classes: Iterable[type[DomainEvent]]) -> None:
        self._by_type: dict[str, type[DomainEvent]] = {}
        for cls in classes:
            if cls.type in self._by_type:
                raise ValueError(f"event type {cls.type} registered twice")
            self._by_type[cls.type] = cls

    def event_class(self, type_name: str) -> type[DomainEvent]:
        try:
            return self._by_type[type_name]
        except KeyError:
            raise LookupError(f"unknown event type {type_name}") from None

    def load(self, type_name: str, data: Mapping[str, Any]) -> DomainEvent:
        return self.event_class(type_name).from_data(data)


class Clock(Protocol):
    """Where a service reads the time; tests pass a fixed one."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""
        ...
