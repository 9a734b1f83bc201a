"""The Consultation aggregate: one stream per case consultation, `consultation-<id>`.

A clinician consulted a peer or an expert about a case: collaborative, voluntary and
non-hierarchical (seed 004), logged for the record. It is not supervision and never counts toward
licensure, so it has no supervisor, no supervisee, no format and no agreement, and it is never
recorded on a supervisee's stream. Nothing about the case or the client is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, model_validator

from infra.ddd import (
    AlreadyRecorded,
    Command,
    DomainEvent,
    EventTypes,
    Id,
    InvalidInput,
    NotFound,
)

ConsultantKind = Literal["peer", "expert"]

# Sanity bounds on one consultation's length, not a board rule: a short corridor consultation
# still counts as one, and more than half a working day is not one consultation.
MIN_CONSULTATION_MINUTES = 5
MAX_CONSULTATION_MINUTES = 240


def stream_id(consultation_id: str) -> str:
    return f"consultation-{consultation_id}"


# Commands: malformed requests (gRPC INVALID_ARGUMENT).


class ClinicianMustNotConsultThemself(InvalidInput):
    def __init__(self, person_id: str) -> None:
        super().__init__("consultant_id", f"{person_id} is the clinician who consulted")
        self.person_id = person_id


class ConsultationLengthMustBeWithinBounds(InvalidInput):
    def __init__(self, minutes: int, lowest: int, highest: int) -> None:
        super().__init__("minutes", f"{minutes} is outside {lowest}..{highest}")
        self.minutes = minutes


class ConsultationMustNotBeDatedInTheFuture(InvalidInput):
    def __init__(self, date: dt.date, today: dt.date) -> None:
        super().__init__("date", f"{date} is after today ({today})")
        self.date = date


# Records that must exist (gRPC NOT_FOUND).


class ConsultationMustBeLogged(NotFound):
    def __init__(self, consultation_id: str) -> None:
        super().__init__(f"consultation {consultation_id} is not logged")
        self.consultation_id = consultation_id


# Client-chosen ids (gRPC ALREADY_EXISTS): a retry with the same content is not an error.


class ConsultationIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, consultation_id: str) -> None:
        super().__init__(f"consultation {consultation_id} is already recorded with other content")
        self.consultation_id = consultation_id


class LogConsultation(Command):
    key_fields: ClassVar[tuple[str, ...]] = ("consultation_id",)
    consultation_id: Id
    # Who sought the consultation, and who gave it.
    clinician_id: Id
    consultant_id: Id
    consultant_kind: ConsultantKind
    site_id: Id
    date: dt.date
    minutes: int

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.consultant_id == self.clinician_id:
            raise ClinicianMustNotConsultThemself(self.clinician_id)
        if not MIN_CONSULTATION_MINUTES <= self.minutes <= MAX_CONSULTATION_MINUTES:
            raise ConsultationLengthMustBeWithinBounds(
                self.minutes, MIN_CONSULTATION_MINUTES, MAX_CONSULTATION_MINUTES
            )
        return self


class ConsultationLogged(DomainEvent):
    """A clinician consulted a peer or an expert about a case (consultation stream)."""

    type = "ConsultationLogged"

    consultation_id: str
    clinician_id: str
    consultant_id: str
    consultant_kind: ConsultantKind
    site_id: str
    date: dt.date
    minutes: int


CONSULTATION_EVENTS: tuple[type[DomainEvent], ...] = (ConsultationLogged,)
CONSULTATION_EVENT_TYPES = EventTypes(CONSULTATION_EVENTS)


class ConsultationState(BaseModel):
    model_config = ConfigDict(frozen=True)

    logged: ConsultationLogged | None = None


INITIAL = ConsultationState()


def decide(state: ConsultationState, command: LogConsultation, today: dt.date) -> list[DomainEvent]:
    """The events logging a consultation records; [] when the same one is already logged."""
    proposed = ConsultationLogged(**command.model_dump())
    if state.logged is not None:
        if state.logged == proposed:
            return []
        raise ConsultationIdMustNotBeReused(command.consultation_id)
    if command.date > today:
        raise ConsultationMustNotBeDatedInTheFuture(command.date, today)
    return [proposed]


def evolve(state: ConsultationState, event: DomainEvent) -> ConsultationState:
    match event:
        case ConsultationLogged():
            return ConsultationState(logged=event)
        case _:
            raise TypeError(f"a consultation stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: ConsultationState = INITIAL) -> ConsultationState:
    for event in events:
        state = evolve(state, event)
    return state
