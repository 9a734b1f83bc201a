"""What the coaching service records. Private to the service; published as contracts.

Free text (goal terms, reasons, homework tasks, note summaries) is recorded here and never
published. No event has a diagnosis, symptom or treatment field: a coach never treats.
"""

from __future__ import annotations

import datetime as dt

from coaching.domain.values import ConcernUrgency, EngagementOutcome, Progress, Recommendation
from infra.ddd import DomainEvent, EventTypes, TypedText


class EngagementOpened(DomainEvent):
    type = "EngagementOpened"

    engagement_id: str
    client_id: str
    coach_id: str
    site_id: str
    opened_on: dt.date
    # Set when therapy's referral to coaching opened the engagement.
    referral_id: str | None = None


class CoachingConcernRaised(DomainEvent):
    """Symptoms resurfaced; carries the client and site so a referral can follow without
    reading the engagement."""

    type = "CoachingConcernRaised"

    engagement_id: str
    concern_id: str
    client_id: str
    site_id: str
    urgency: ConcernUrgency
    raised_on: dt.date


class EngagementPaused(DomainEvent):
    """Coaching stops while the concern is with therapy."""

    type = "EngagementPaused"

    engagement_id: str
    concern_id: str
    paused_on: dt.date


class ConcernSettled(DomainEvent):
    """The referral back to therapy completed; therapy's recommendation decides whether
    coaching resumes (EngagementResumed follows) or the engagement stays paused."""

    type = "ConcernSettled"

    engagement_id: str
    concern_id: str
    referral_id: str
    completed_on: dt.date
    recommendation: Recommendation


class EngagementResumed(DomainEvent):
    """Therapy recommended resuming coaching."""

    type = "EngagementResumed"

    engagement_id: str
    concern_id: str
    referral_id: str
    resumed_on: dt.date


class GoalSet(DomainEvent):
    type = "GoalSet"

    engagement_id: str
    goal_id: str
    specific: TypedText
    measure: TypedText
    achievable: TypedText
    relevant: TypedText
    target_date: dt.date
    set_on: dt.date


class GoalRevised(DomainEvent):
    type = "GoalRevised"

    engagement_id: str
    goal_id: str
    revision_id: str
    specific: TypedText
    measure: TypedText
    achievable: TypedText
    relevant: TypedText
    target_date: dt.date
    reason: TypedText
    revised_on: dt.date


class GoalAchieved(DomainEvent):
    type = "GoalAchieved"

    engagement_id: str
    goal_id: str
    achieved_on: dt.date


class GoalDropped(DomainEvent):
    type = "GoalDropped"

    engagement_id: str
    goal_id: str
    reason: TypedText
    dropped_on: dt.date


class CoachingSessionHeld(DomainEvent):
    type = "CoachingSessionHeld"

    engagement_id: str
    session_id: str
    date: dt.date
    minutes: int
    goal_ids: tuple[str, ...]


class HomeworkAssigned(DomainEvent):
    type = "HomeworkAssigned"

    engagement_id: str
    homework_id: str
    goal_id: str
    task: TypedText
    assigned_on: dt.date
    due_on: dt.date


class HomeworkCompleted(DomainEvent):
    type = "HomeworkCompleted"

    engagement_id: str
    homework_id: str
    completed_on: dt.date
    # Done by its due date.
    on_time: bool


class HomeworkMissed(DomainEvent):
    type = "HomeworkMissed"

    engagement_id: str
    homework_id: str
    due_on: dt.date
    # The day the coach recorded it as missed.
    marked_on: dt.date


class ProgressNoteRecorded(DomainEvent):
    type = "ProgressNoteRecorded"

    engagement_id: str
    note_id: str
    written_on: dt.date
    progress: Progress
    summary: TypedText
    session_id: str | None
    goal_ids: tuple[str, ...]


class EngagementClosed(DomainEvent):
    type = "EngagementClosed"

    engagement_id: str
    outcome: EngagementOutcome
    closed_on: dt.date


EVENT_TYPES = EventTypes(
    [
        EngagementOpened,
        CoachingConcernRaised,
        EngagementPaused,
        ConcernSettled,
        EngagementResumed,
        GoalSet,
        GoalRevised,
        GoalAchieved,
        GoalDropped,
        CoachingSessionHeld,
        HomeworkAssigned,
        HomeworkCompleted,
        HomeworkMissed,
        ProgressNoteRecorded,
        EngagementClosed,
    ]
)
