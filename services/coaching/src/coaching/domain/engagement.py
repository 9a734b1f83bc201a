"""The Engagement aggregate: one stream per coaching engagement (`engagement-<id>`).

Status: active once opened; paused while a concern is open (the client is back with therapy).
Resuming when therapy says so comes later and closes the open concern.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from coaching.domain.commands import OpenEngagement, RaiseConcern
from coaching.domain.errors import (
    ConcernIdMustNotBeReused,
    ConcernMustNotBeRaisedInTheFuture,
    ConcernMustNotPrecedeTheEngagement,
    EngagementIdMustNotBeReused,
    EngagementMustExist,
    EngagementMustNotOpenInTheFuture,
    OnlyOneConcernMayBeOpenAtATime,
)
from coaching.domain.events import CoachingConcernRaised, EngagementOpened, EngagementPaused
from coaching.domain.values import ConcernUrgency
from infra.ddd import DomainEvent


def stream_id(engagement_id: str) -> str:
    return f"engagement-{engagement_id}"


class Engagement(BaseModel):
    model_config = ConfigDict(frozen=True)

    engagement_id: str
    client_id: str
    coach_id: str
    site_id: str
    opened_on: dt.date


class Concern(BaseModel):
    model_config = ConfigDict(frozen=True)

    concern_id: str
    urgency: ConcernUrgency
    raised_on: dt.date
    status: Literal["open"] = "open"


class EngagementState(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["not_opened", "active", "paused"] = "not_opened"
    engagement: Engagement | None = None
    concerns: tuple[Concern, ...] = ()

    def concern(self, concern_id: str) -> Concern | None:
        return next((c for c in self.concerns if c.concern_id == concern_id), None)

    @property
    def open_concern(self) -> Concern | None:
        return next((c for c in self.concerns if c.status == "open"), None)


INITIAL = EngagementState()

EngagementCommand = OpenEngagement | RaiseConcern


def decide(state: EngagementState, command: EngagementCommand, today: dt.date) -> list[DomainEvent]:
    """The events a command records; [] when the same command was already recorded."""
    match command:
        case OpenEngagement():
            return _open(state, command, today)
        case RaiseConcern():
            return _raise_concern(state, command, today)


def _open(state: EngagementState, command: OpenEngagement, today: dt.date) -> list[DomainEvent]:
    proposed = Engagement(
        engagement_id=command.engagement_id,
        client_id=command.client_id,
        coach_id=command.coach_id,
        site_id=command.site_id,
        opened_on=command.opened_on,
    )
    if state.engagement is not None:
        if state.engagement == proposed:
            return []
        raise EngagementIdMustNotBeReused(command.engagement_id)
    if command.opened_on > today:
        raise EngagementMustNotOpenInTheFuture(command.opened_on, today)
    return [EngagementOpened(**proposed.model_dump())]


def _raise_concern(
    state: EngagementState, command: RaiseConcern, today: dt.date
) -> list[DomainEvent]:
    engagement = state.engagement
    if engagement is None or engagement.engagement_id != command.engagement_id:
        raise EngagementMustExist(command.engagement_id)
    known = state.concern(command.concern_id)
    if known is not None:
        if (known.urgency, known.raised_on) == (command.urgency, command.raised_on):
            return []
        raise ConcernIdMustNotBeReused(command.concern_id)
    if command.raised_on < engagement.opened_on:
        raise ConcernMustNotPrecedeTheEngagement(command.raised_on, engagement.opened_on)
    if command.raised_on > today:
        raise ConcernMustNotBeRaisedInTheFuture(command.raised_on, today)
    if state.open_concern is not None:
        raise OnlyOneConcernMayBeOpenAtATime(command.engagement_id, state.open_concern.concern_id)
    return [
        CoachingConcernRaised(
            engagement_id=engagement.engagement_id,
            concern_id=command.concern_id,
            client_id=engagement.client_id,
            site_id=engagement.site_id,
            urgency=command.urgency,
            raised_on=command.raised_on,
        ),
        EngagementPaused(
            engagement_id=engagement.engagement_id,
            concern_id=command.concern_id,
            paused_on=command.raised_on,
        ),
    ]


def evolve(state: EngagementState, event: DomainEvent) -> EngagementState:
    match event:
        case EngagementOpened():
            return EngagementState(
                status="active",
                engagement=Engagement(
                    engagement_id=event.engagement_id,
                    client_id=event.client_id,
                    coach_id=event.coach_id,
                    site_id=event.site_id,
                    opened_on=event.opened_on,
                ),
            )
        case CoachingConcernRaised():
            concern = Concern(
                concern_id=event.concern_id, urgency=event.urgency, raised_on=event.raised_on
            )
            return state.model_copy(update={"concerns": (*state.concerns, concern)})
        case EngagementPaused():
            return state.model_copy(update={"status": "paused"})
        case _:
            raise TypeError(f"an engagement stream holds no {event.type} events")


def fold(events: Iterable[DomainEvent], state: EngagementState = INITIAL) -> EngagementState:
    for event in events:
        state = evolve(state, event)
    return state
