"""The coaching rules, each named as a sentence and raised with what was wrong."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from infra.ddd import AlreadyRecorded, InvalidInput, NotFound, RuleViolated

# Commands: malformed requests (gRPC INVALID_ARGUMENT).


class EngagementMustNotOpenInTheFuture(InvalidInput):
    def __init__(self, opened_on: dt.date, today: dt.date) -> None:
        super().__init__("opened_on", f"{opened_on} is after today ({today})")
        self.opened_on = opened_on


class DateMustNotBeInTheFuture(InvalidInput):
    """A coach records what happened, not what is planned (a goal's target date aside)."""

    def __init__(self, field: str, date: dt.date, today: dt.date) -> None:
        super().__init__(field, f"{date} is after today ({today})")
        self.date = date


class DateMustNotPrecedeTheEngagement(InvalidInput):
    def __init__(self, field: str, date: dt.date, opened_on: dt.date) -> None:
        super().__init__(field, f"{date} is before the engagement opened ({opened_on})")
        self.date = date


class DateMustNotPrecedeTheGoal(InvalidInput):
    def __init__(self, field: str, date: dt.date, goal_id: str, since: dt.date) -> None:
        super().__init__(
            field, f"{date} is before goal {goal_id} was set or last revised ({since})"
        )
        self.date = date
        self.goal_id = goal_id


class ConcernMustNotPrecedeTheLastResumption(InvalidInput):
    """A concern dated before coaching last resumed would pause time already accounted for."""

    def __init__(self, raised_on: dt.date, resumed_on: dt.date) -> None:
        super().__init__("raised_on", f"{raised_on} is before coaching last resumed ({resumed_on})")
        self.raised_on = raised_on


class GoalMustBeTimeBound(InvalidInput):
    """SMART goals are time-bound: the target date lies after the day the terms were agreed."""

    def __init__(self, target_date: dt.date, agreed_on: dt.date) -> None:
        super().__init__("target_date", f"{target_date} is not after {agreed_on}")
        self.target_date = target_date


class CoachingSessionLengthMustBeWithinBounds(InvalidInput):
    def __init__(self, minutes: int, lowest: int, highest: int) -> None:
        super().__init__("minutes", f"{minutes} is outside {lowest}..{highest}")
        self.minutes = minutes


class GoalsMustBeListedOnce(InvalidInput):
    def __init__(self, duplicates: Iterable[str]) -> None:
        self.duplicates = tuple(sorted(duplicates))
        super().__init__("goal_ids", f"listed more than once: {', '.join(self.duplicates)}")


class HomeworkMustNotBeDueBeforeItIsAssigned(InvalidInput):
    def __init__(self, due_on: dt.date, assigned_on: dt.date) -> None:
        super().__init__("due_on", f"{due_on} is before assigned_on ({assigned_on})")
        self.due_on = due_on


class HomeworkMustNotBeCompletedBeforeItIsAssigned(InvalidInput):
    def __init__(self, completed_on: dt.date, assigned_on: dt.date) -> None:
        super().__init__(
            "completed_on", f"{completed_on} is before it was assigned ({assigned_on})"
        )
        self.completed_on = completed_on


class ProgressNoteMustNotPrecedeItsSession(InvalidInput):
    def __init__(self, written_on: dt.date, session_id: str, held_on: dt.date) -> None:
        super().__init__("written_on", f"{written_on} is before session {session_id} ({held_on})")
        self.written_on = written_on


class EngagementMustNotCloseBeforeItsLastActivity(InvalidInput):
    def __init__(self, closed_on: dt.date, last_activity_on: dt.date) -> None:
        super().__init__(
            "closed_on", f"{closed_on} is before the last recorded activity ({last_activity_on})"
        )
        self.closed_on = closed_on


# What a command names and does not exist (gRPC NOT_FOUND).


class EngagementMustExist(NotFound):
    def __init__(self, engagement_id: str) -> None:
        super().__init__(f"engagement {engagement_id} does not exist")
        self.engagement_id = engagement_id


class GoalMustExist(NotFound):
    def __init__(self, engagement_id: str, goal_id: str) -> None:
        super().__init__(f"goal {goal_id} does not exist in engagement {engagement_id}")
        self.engagement_id = engagement_id
        self.goal_id = goal_id


class HomeworkMustExist(NotFound):
    def __init__(self, engagement_id: str, homework_id: str) -> None:
        super().__init__(f"homework {homework_id} does not exist in engagement {engagement_id}")
        self.engagement_id = engagement_id
        self.homework_id = homework_id


class CoachingSessionMustExist(NotFound):
    def __init__(self, engagement_id: str, session_id: str) -> None:
        super().__init__(f"session {session_id} does not exist in engagement {engagement_id}")
        self.engagement_id = engagement_id
        self.session_id = session_id


# Rules about the record as it stands (gRPC FAILED_PRECONDITION). Each message names the state.


class ClosedEngagementAcceptsNothingMore(RuleViolated):
    """A closed engagement is a finished record; coaching again is a new engagement."""

    def __init__(self, engagement_id: str, outcome: str, closed_on: dt.date) -> None:
        super().__init__(
            f"engagement {engagement_id} is closed ({outcome} on {closed_on});"
            " a closed engagement accepts nothing more"
        )
        self.engagement_id = engagement_id
        self.outcome = outcome


class CoachingWaitsWhileTheEngagementIsPaused(RuleViolated):
    """While a concern is with therapy the client is in therapy's care: no session, no new goal,
    no homework, no progress note is dated inside a pause. The day the concern was raised is
    still coaching (the session where the coach saw symptoms return), and so is the day coaching
    resumed."""

    def __init__(
        self,
        engagement_id: str,
        concern_id: str,
        paused_on: dt.date,
        resumed_on: dt.date | None,
        activity: str,
        date: dt.date,
    ) -> None:
        if resumed_on is None:
            state = (
                f"engagement {engagement_id} is paused since {paused_on} (concern {concern_id});"
                f" no {activity} dated {date} until therapy recommends resuming coaching"
            )
        else:
            state = (
                f"engagement {engagement_id} was paused from {paused_on} to {resumed_on}"
                f" (concern {concern_id}); no {activity} dated {date}, inside that pause"
            )
        super().__init__(state)
        self.engagement_id = engagement_id
        self.concern_id = concern_id
        self.activity = activity


class OnlyOneConcernMayBeOpenAtATime(RuleViolated):
    """While a concern is open the client is back with therapy; coaching waits for therapy to
    say it may resume, so a second concern adds nothing to act on."""

    def __init__(self, engagement_id: str, open_concern_id: str) -> None:
        super().__init__(
            f"a concern is already open on engagement {engagement_id}: {open_concern_id}"
        )
        self.engagement_id = engagement_id
        self.open_concern_id = open_concern_id


class GoalMustBeOpen(RuleViolated):
    def __init__(self, goal_id: str, state: str, action: str) -> None:
        super().__init__(f"goal {goal_id} is {state}; only an open goal can {action}")
        self.goal_id = goal_id
        self.state = state


class HomeworkMustBeAssigned(RuleViolated):
    def __init__(self, homework_id: str, status: str, action: str) -> None:
        super().__init__(f"homework {homework_id} is {status}; only assigned homework can {action}")
        self.homework_id = homework_id
        self.status = status


class HomeworkIsMissedOnlyAfterItIsDue(RuleViolated):
    def __init__(self, homework_id: str, due_on: dt.date, today: dt.date) -> None:
        super().__init__(
            f"homework {homework_id} is assigned and due on {due_on} (today is {today});"
            " it can be marked missed only after its due date"
        )
        self.homework_id = homework_id
        self.due_on = due_on


class GoalsMetMeansEveryGoalIsSettledAndOneAchieved(RuleViolated):
    def __init__(self, engagement_id: str, open_goal_ids: Iterable[str], achieved: int) -> None:
        self.open_goal_ids = tuple(sorted(open_goal_ids))
        state = (
            f"has open goals ({', '.join(self.open_goal_ids)})"
            if self.open_goal_ids
            else f"has {achieved} achieved goals"
        )
        super().__init__(
            f"engagement {engagement_id} {state}; it closes as goals_met only when every goal is"
            " achieved or dropped and at least one is achieved"
        )
        self.engagement_id = engagement_id


class TherapyOutcomeNeedsAnOpenConcern(RuleViolated):
    """A referral back to therapy answers a concern; one that finds no open concern on the
    engagement it names has nothing to settle (it is set aside, not applied to the wrong one)."""

    def __init__(self, engagement_id: str, status: str, referral_id: str) -> None:
        super().__init__(
            f"engagement {engagement_id} is {status} with no open concern;"
            f" the outcome of referral {referral_id} has nothing to settle"
        )
        self.engagement_id = engagement_id
        self.referral_id = referral_id


# A client-chosen id already names other content (gRPC ALREADY_EXISTS).


class _IdMustNotBeReused(AlreadyRecorded):
    kind = "record"

    def __init__(self, record_id: str) -> None:
        super().__init__(f"{self.kind} {record_id} is already recorded with other content")
        self.record_id = record_id


class EngagementIdMustNotBeReused(_IdMustNotBeReused):
    kind = "engagement"

    def __init__(self, engagement_id: str) -> None:
        super().__init__(engagement_id)
        self.engagement_id = engagement_id


class ConcernIdMustNotBeReused(_IdMustNotBeReused):
    kind = "concern"

    def __init__(self, concern_id: str) -> None:
        super().__init__(concern_id)
        self.concern_id = concern_id


class GoalIdMustNotBeReused(_IdMustNotBeReused):
    kind = "goal"


class GoalRevisionIdMustNotBeReused(_IdMustNotBeReused):
    kind = "goal revision"


class CoachingSessionIdMustNotBeReused(_IdMustNotBeReused):
    kind = "session"


class HomeworkIdMustNotBeReused(_IdMustNotBeReused):
    kind = "homework"


class ProgressNoteIdMustNotBeReused(_IdMustNotBeReused):
    kind = "progress note"
