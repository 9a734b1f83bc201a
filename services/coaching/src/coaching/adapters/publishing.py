"""Translation of coaching's private events into the contracts it publishes.

Minimum necessary: ids, dates, statuses and figures. Goal terms, reasons, homework tasks and
progress-note summaries and ratings stay inside the service. EngagementPaused and
ConcernSettled stay private too: CoachingConcernRaised already says the engagement paused, and
EngagementResumed says when therapy sent the client back to coaching.
"""

from __future__ import annotations

from coaching.domain import (
    EVENT_TYPES,
    CoachingConcernRaised,
    CoachingSessionHeld,
    EngagementClosed,
    EngagementOpened,
    EngagementResumed,
    GoalAchieved,
    GoalDropped,
    GoalRevised,
    GoalSet,
    HomeworkAssigned,
    HomeworkCompleted,
    HomeworkMissed,
    ProgressNoteRecorded,
)
from contracts import events as contract
from infra.application import published
from infra.eventstore import OutboxMessage, RecordedEvent


def translate(recorded: RecordedEvent) -> OutboxMessage | None:
    """The message a recorded event publishes; None for what stays inside the service."""
    event = EVENT_TYPES.load(recorded.type, recorded.data)
    public: contract.EventContract
    match event:
        case EngagementOpened():
            public = contract.EngagementOpened(**event.to_data())
        case CoachingConcernRaised():
            public = contract.CoachingConcernRaised(**event.to_data())
        case EngagementResumed():
            public = contract.EngagementResumed(**event.to_data())
        case EngagementClosed():
            public = contract.EngagementClosed(**event.to_data())
        case GoalSet():
            public = contract.CoachingGoalSet(
                engagement_id=event.engagement_id,
                goal_id=event.goal_id,
                set_on=event.set_on,
                target_date=event.target_date,
            )
        case GoalRevised():
            public = contract.CoachingGoalRevised(
                engagement_id=event.engagement_id,
                goal_id=event.goal_id,
                revision_id=event.revision_id,
                revised_on=event.revised_on,
                target_date=event.target_date,
            )
        case GoalAchieved():
            public = contract.CoachingGoalAchieved(**event.to_data())
        case GoalDropped():
            public = contract.CoachingGoalDropped(
                engagement_id=event.engagement_id,
                goal_id=event.goal_id,
                dropped_on=event.dropped_on,
            )
        case CoachingSessionHeld():
            public = contract.CoachingSessionHeld(**event.to_data())
        case HomeworkAssigned():
            public = contract.CoachingHomeworkAssigned(
                engagement_id=event.engagement_id,
                homework_id=event.homework_id,
                goal_id=event.goal_id,
                assigned_on=event.assigned_on,
                due_on=event.due_on,
            )
        case HomeworkCompleted():
            public = contract.CoachingHomeworkCompleted(**event.to_data())
        case HomeworkMissed():
            public = contract.CoachingHomeworkMissed(**event.to_data())
        case ProgressNoteRecorded():
            public = contract.CoachingProgressNoteRecorded(
                engagement_id=event.engagement_id,
                note_id=event.note_id,
                written_on=event.written_on,
                session_id=event.session_id,
            )
        case _:
            return None
    return published(recorded, public)
