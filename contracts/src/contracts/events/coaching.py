"""Events the coaching service publishes on `continuum.coaching.events`.

Every event is keyed by the engagement id, so an engagement's events stay in order. They carry
ids, dates, statuses and figures only: goal terms, reasons, homework tasks and progress notes
stay inside the coaching service, and nothing here is ever a diagnosis or a treatment.
"""

from __future__ import annotations

from typing import Literal

from contracts.events.base import EventContract, register
from contracts.fields import Date, Id, Int32
from contracts.topics import COACHING_EVENTS

__all__ = [
    "CoachingConcernRaised",
    "CoachingGoalAchieved",
    "CoachingGoalDropped",
    "CoachingGoalRevised",
    "CoachingGoalSet",
    "CoachingHomeworkAssigned",
    "CoachingHomeworkCompleted",
    "CoachingHomeworkMissed",
    "CoachingProgressNoteRecorded",
    "CoachingSessionHeld",
    "EngagementClosed",
    "EngagementOpened",
    "EngagementResumed",
]

ConcernUrgency = Literal["routine", "urgent"]
EngagementOutcome = Literal[
    "goals_met",
    "partially_met",
    "goals_not_met",
    "client_withdrew",
    "lost_contact",
    "referred_to_therapy",
]


class _EngagementEvent(EventContract):
    """An event of one coaching engagement, keyed by its id."""

    topic = COACHING_EVENTS.name
    engagement_id: Id

    def key(self) -> str:
        return self.engagement_id


@register
class EngagementOpened(EventContract):
    """A coaching engagement began for a client (a pseudonymous id)."""

    name = "continuum.coaching.EngagementOpened"
    version = 1
    topic = COACHING_EVENTS.name

    engagement_id: Id
    client_id: Id
    coach_id: Id
    site_id: Id
    opened_on: Date
    # Added compatibly (default). The referral to coaching that opened the engagement, when
    # therapy recommended coaching; None when a coach opened it.
    referral_id: Id | None = None

    def key(self) -> str:
        return self.engagement_id


@register
class CoachingConcernRaised(EventContract):
    """A coach saw symptoms return: the engagement is paused and the client goes back to therapy."""

    name = "continuum.coaching.CoachingConcernRaised"
    version = 1
    topic = COACHING_EVENTS.name

    engagement_id: Id
    concern_id: Id
    client_id: Id
    site_id: Id
    urgency: ConcernUrgency
    raised_on: Date

    def key(self) -> str:
        return self.engagement_id


@register
class EngagementResumed(_EngagementEvent):
    """Therapy completed the referral a concern raised and recommended resuming coaching."""

    name = "continuum.coaching.EngagementResumed"
    version = 1

    concern_id: Id
    referral_id: Id
    resumed_on: Date


@register
class EngagementClosed(_EngagementEvent):
    """The engagement ended with an outcome; it accepts nothing more."""

    name = "continuum.coaching.EngagementClosed"
    version = 1

    outcome: EngagementOutcome
    closed_on: Date


@register
class CoachingGoalSet(_EngagementEvent):
    """A SMART goal was agreed; its terms stay with coaching, the target date is published."""

    name = "continuum.coaching.CoachingGoalSet"
    version = 1

    goal_id: Id
    set_on: Date
    target_date: Date


@register
class CoachingGoalRevised(_EngagementEvent):
    """A goal's terms were revised (the reason stays with coaching)."""

    name = "continuum.coaching.CoachingGoalRevised"
    version = 1

    goal_id: Id
    revision_id: Id
    revised_on: Date
    target_date: Date


@register
class CoachingGoalAchieved(_EngagementEvent):
    """The client reached a goal."""

    name = "continuum.coaching.CoachingGoalAchieved"
    version = 1

    goal_id: Id
    achieved_on: Date


@register
class CoachingGoalDropped(_EngagementEvent):
    """A goal was given up (the reason stays with coaching)."""

    name = "continuum.coaching.CoachingGoalDropped"
    version = 1

    goal_id: Id
    dropped_on: Date


@register
class CoachingSessionHeld(_EngagementEvent):
    """A coaching session took place. It is never supervision and never therapy."""

    name = "continuum.coaching.CoachingSessionHeld"
    version = 1

    session_id: Id
    date: Date
    minutes: Int32
    goal_ids: tuple[Id, ...]


@register
class CoachingHomeworkAssigned(_EngagementEvent):
    """Work between sessions toward a goal (the task stays with coaching)."""

    name = "continuum.coaching.CoachingHomeworkAssigned"
    version = 1

    homework_id: Id
    goal_id: Id
    assigned_on: Date
    due_on: Date


@register
class CoachingHomeworkCompleted(_EngagementEvent):
    """The client did the homework; on_time says whether by its due date."""

    name = "continuum.coaching.CoachingHomeworkCompleted"
    version = 1

    homework_id: Id
    completed_on: Date
    # Done by its due date.
    on_time: bool


@register
class CoachingHomeworkMissed(_EngagementEvent):
    """The homework's due date passed without it done (recorded on marked_on)."""

    name = "continuum.coaching.CoachingHomeworkMissed"
    version = 1

    homework_id: Id
    due_on: Date
    marked_on: Date


@register
class CoachingProgressNoteRecorded(_EngagementEvent):
    """A coach wrote a progress note; only that it exists is published, never its content."""

    name = "continuum.coaching.CoachingProgressNoteRecorded"
    version = 1

    note_id: Id
    written_on: Date
    session_id: Id | None
