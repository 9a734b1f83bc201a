"""A supervisee's oversight: what compliance officers record of one supervisee beside the facts,
the resolutions of their verdicts and their approved leaves. One stream per supervisee,
`oversight-<supervisee_id>`. Pure decisions.

Why one stream per supervisee: a verdict is resolved once, and a leave must not overlap another
leave of the same supervisee. Both checks read every decision recorded of the supervisee, and one
stream makes the check and the append atomic: two officers resolving the same finding at once
record one resolution, and the other is refused naming it.

The verdicts are not in this stream: the engine computes them from the facts (see
`compliance.domain.engine`). To resolve one, the application evaluates the supervisee on the
resolution's day and hands `decide` the verdicts that evaluation shows (`ShownVerdicts`).

Ids: a resolution's and a leave's ids are derived from the command's id, so a retry names the
same record and the published events are the same however often the command is sent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from compliance.domain.oversight.commands import (
    OversightCommand,
    RecordApprovedLeave,
    ResolveVerdict,
)
from compliance.domain.oversight.errors import (
    LeaveIdMustNotBeReused,
    LeavesMustNotOverlap,
    ResolutionIdMustNotBeReused,
    ResolutionMustNotBeInTheFuture,
    VerdictMustBeResolvedOnce,
    VerdictMustBeShownForTheSupervisee,
)
from compliance.domain.oversight.events import LeaveApproved, ResolutionKind, VerdictResolved
from infra.ddd import DomainEvent

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://continuum/compliance/oversight")


def resolution_id_of(command_id: str) -> str:
    """The id of the resolution a ResolveVerdict command records."""
    return str(uuid.uuid5(_NAMESPACE, f"resolution/{command_id}"))


def leave_id_of(command_id: str) -> str:
    """The id of the leave a RecordApprovedLeave command records."""
    return str(uuid.uuid5(_NAMESPACE, f"leave/{command_id}"))


def resolution_day(command: ResolveVerdict, today: dt.date) -> dt.date:
    """The day a resolution stands from: the one it names, or today."""
    return command.on if command.on is not None else today


class Resolution(BaseModel):
    model_config = ConfigDict(frozen=True)

    resolution_id: str
    verdict_id: str
    kind: ResolutionKind
    reason: str
    resolved_by: str
    on: dt.date


class Leave(BaseModel):
    model_config = ConfigDict(frozen=True)

    leave_id: str
    start: dt.date
    end: dt.date
    approved_by: str
    reason: str
    recorded_by: str

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return self.start <= end and start <= self.end


class OversightState(BaseModel):
    model_config = ConfigDict(frozen=True)

    # None until the first event.
    supervisee_id: str | None = None
    resolutions: tuple[Resolution, ...] = ()
    leaves: tuple[Leave, ...] = ()

    def resolution(self, resolution_id: str) -> Resolution | None:
        return next((r for r in self.resolutions if r.resolution_id == resolution_id), None)

    def resolution_of(self, verdict_id: str) -> Resolution | None:
        return next((r for r in self.resolutions if r.verdict_id == verdict_id), None)

    def leave(self, leave_id: str) -> Leave | None:
        return next((lv for lv in self.leaves if lv.leave_id == leave_id), None)


INITIAL = OversightState()


class ShownVerdicts(BaseModel):
    """The verdicts the supervisee's evaluation shows on a day (resolved or not), and how many
    events that evaluation lacks because compliance could not apply them."""

    model_config = ConfigDict(frozen=True)

    on: dt.date
    verdict_ids: frozenset[str]
    lacking: int = 0


def decide(
    state: OversightState,
    command: OversightCommand,
    today: dt.date,
    shown: ShownVerdicts | None = None,
) -> list[DomainEvent]:
    """The events a command records; [] when the same command is already recorded.
    `shown`: for a resolution, the verdicts of the supervisee on its day."""
    match command:
        case ResolveVerdict():
            if shown is None:
                raise ValueError("a resolution is decided on the verdicts of its day")
            return _resolve(state, command, today, shown)
        case RecordApprovedLeave():
            return _record_leave(state, command)


def evolve(state: OversightState, event: DomainEvent) -> OversightState:
    match event:
        case VerdictResolved():
            resolution = Resolution(
                resolution_id=event.resolution_id,
                verdict_id=event.verdict_id,
                kind=event.kind,
                reason=event.reason,
                resolved_by=event.resolved_by,
                on=event.on,
            )
            return state.model_copy(
                update={
                    "supervisee_id": event.supervisee_id,
                    "resolutions": (*state.resolutions, resolution),
                }
            )
        case LeaveApproved():
            leave = Leave(
                leave_id=event.leave_id,
                start=event.start,
                end=event.end,
                approved_by=event.approved_by,
                reason=event.reason,
                recorded_by=event.recorded_by,
            )
            return state.model_copy(
                update={"supervisee_id": event.supervisee_id, "leaves": (*state.leaves, leave)}
            )
        case _:
            raise TypeError(f"a supervisee's oversight stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: OversightState = INITIAL) -> OversightState:
    for event in events:
        state = evolve(state, event)
    return state


# Deciding each command.


def _resolve(
    state: OversightState, command: ResolveVerdict, today: dt.date, shown: ShownVerdicts
) -> list[DomainEvent]:
    _check_supervisee(state, command.supervisee_id)
    on = resolution_day(command, today)
    resolved = VerdictResolved(
        supervisee_id=command.supervisee_id,
        resolution_id=resolution_id_of(command.command_id),
        verdict_id=command.verdict_id,
        kind=command.kind,
        reason=command.reason,
        resolved_by=command.resolved_by,
        on=on,
    )
    existing = state.resolution(resolved.resolution_id)
    if existing is not None:
        if existing == _resolution_of(resolved):
            return []
        raise ResolutionIdMustNotBeReused(resolved.resolution_id)
    if on > today:
        raise ResolutionMustNotBeInTheFuture(on, today)
    earlier = state.resolution_of(command.verdict_id)
    if earlier is not None:
        raise VerdictMustBeResolvedOnce(
            command.verdict_id, earlier.resolution_id, earlier.resolved_by, earlier.on
        )
    if shown.on != on:
        raise ValueError(f"a resolution on {on} decided on the verdicts of {shown.on}")
    if command.verdict_id not in shown.verdict_ids:
        raise VerdictMustBeShownForTheSupervisee(
            command.verdict_id, command.supervisee_id, on, shown.lacking
        )
    return [resolved]


def _record_leave(state: OversightState, command: RecordApprovedLeave) -> list[DomainEvent]:
    _check_supervisee(state, command.supervisee_id)
    approved = LeaveApproved(
        supervisee_id=command.supervisee_id,
        leave_id=leave_id_of(command.command_id),
        start=command.start,
        end=command.end,
        approved_by=command.approved_by,
        reason=command.reason,
        recorded_by=command.recorded_by,
    )
    existing = state.leave(approved.leave_id)
    if existing is not None:
        if existing == _leave_of(approved):
            return []
        raise LeaveIdMustNotBeReused(approved.leave_id)
    other = next((lv for lv in state.leaves if lv.overlaps(command.start, command.end)), None)
    if other is not None:
        raise LeavesMustNotOverlap(
            command.supervisee_id, other.leave_id, other.start, other.end, other.recorded_by
        )
    return [approved]


def _check_supervisee(state: OversightState, supervisee_id: str) -> None:
    if state.supervisee_id is not None and state.supervisee_id != supervisee_id:
        raise ValueError(f"{supervisee_id}'s decision decided on {state.supervisee_id}'s stream")


def _resolution_of(event: VerdictResolved) -> Resolution:
    return evolve(INITIAL, event).resolutions[0]


def _leave_of(event: LeaveApproved) -> Leave:
    return evolve(INITIAL, event).leaves[0]
