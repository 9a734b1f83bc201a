"""The Engagement aggregate: one stream per coaching engagement (`engagement-<id>`).

Lifecycle: opened (active) -> paused while a concern is with therapy -> active again when the
referral completes with therapy's recommendation to resume -> ... -> closed with an outcome.
A closed engagement accepts nothing more.

Pauses: coaching work (sessions, new or revised goals, achievements, homework given, progress
notes) is never dated inside a pause, that is after the day the concern was raised and before
the day coaching resumed. The edges are coaching days: the session in which the coach saw
symptoms return may be logged after the concern was raised, and work may be dated the day
coaching resumes. Recording how earlier work turned out (homework completed or missed, a goal
dropped) and closing the engagement remain possible while it is paused.

Retries: a command whose id is already recorded with the same content records nothing; the same
id with other content is refused. That is checked before any rule about the current state, so a
retry succeeds even after the engagement moved on (for example was closed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from coaching.domain.commands import (
    AchieveGoal,
    AssignHomework,
    CloseEngagement,
    CompleteHomework,
    DropGoal,
    LogCoachingSession,
    MarkHomeworkMissed,
    OpenEngagement,
    OpenEngagementForReferral,
    RaiseConcern,
    RecordProgressNote,
    ReviseGoal,
    SetGoal,
    SettleConcern,
)
from coaching.domain.errors import (
    ClosedEngagementAcceptsNothingMore,
    CoachingSessionIdMustNotBeReused,
    CoachingSessionMustExist,
    CoachingWaitsWhileTheEngagementIsPaused,
    ConcernIdMustNotBeReused,
    ConcernMustNotPrecedeTheLastResumption,
    DateMustNotBeInTheFuture,
    DateMustNotPrecedeTheEngagement,
    DateMustNotPrecedeTheGoal,
    EngagementIdMustNotBeReused,
    EngagementMustExist,
    EngagementMustNotCloseBeforeItsLastActivity,
    EngagementMustNotOpenInTheFuture,
    GoalIdMustNotBeReused,
    GoalMustBeOpen,
    GoalMustExist,
    GoalRevisionIdMustNotBeReused,
    GoalsMetMeansEveryGoalIsSettledAndOneAchieved,
    HomeworkIdMustNotBeReused,
    HomeworkIsMissedOnlyAfterItIsDue,
    HomeworkMustBeAssigned,
    HomeworkMustExist,
    HomeworkMustNotBeCompletedBeforeItIsAssigned,
    OnlyOneConcernMayBeOpenAtATime,
    ProgressNoteIdMustNotBeReused,
    ProgressNoteMustNotPrecedeItsSession,
    TherapyOutcomeNeedsAnOpenConcern,
)
from coaching.domain.events import (
    CoachingConcernRaised,
    CoachingSessionHeld,
    ConcernSettled,
    EngagementClosed,
    EngagementOpened,
    EngagementPaused,
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
from coaching.domain.values import (
    ConcernStatus,
    ConcernUrgency,
    EngagementOutcome,
    EngagementStatus,
    GoalStatus,
    HomeworkStatus,
    Progress,
    Recommendation,
)
from infra.ddd import DomainEvent


def stream_id(engagement_id: str) -> str:
    return f"engagement-{engagement_id}"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class Engagement(_Value):
    engagement_id: str
    client_id: str
    coach_id: str
    site_id: str
    opened_on: dt.date
    referral_id: str | None = None


class Concern(_Value):
    concern_id: str
    urgency: ConcernUrgency
    raised_on: dt.date
    status: ConcernStatus = "open"
    # Set when the referral back to therapy completed.
    referral_id: str | None = None
    recommendation: Recommendation | None = None
    settled_on: dt.date | None = None


class Pause(_Value):
    concern_id: str
    paused_on: dt.date
    resumed_on: dt.date | None = None

    def covers(self, date: dt.date) -> bool:
        """Whether coaching work dated `date` would fall inside the pause (edges excluded)."""
        return self.paused_on < date and (self.resumed_on is None or date < self.resumed_on)


class GoalTerms(_Value):
    specific: str
    measure: str
    achievable: str
    relevant: str
    target_date: dt.date


class GoalRevision(_Value):
    revision_id: str
    terms: GoalTerms
    reason: str
    revised_on: dt.date


class Goal(_Value):
    goal_id: str
    original: GoalTerms
    set_on: dt.date
    revisions: tuple[GoalRevision, ...] = ()
    status: GoalStatus = "open"
    settled_on: dt.date | None = None
    drop_reason: str | None = None

    @property
    def terms(self) -> GoalTerms:
        """The terms in force: the last revision's, or the original ones."""
        return self.revisions[-1].terms if self.revisions else self.original

    @property
    def agreed_on(self) -> dt.date:
        """When the terms in force were agreed."""
        return self.revisions[-1].revised_on if self.revisions else self.set_on

    def revision(self, revision_id: str) -> GoalRevision | None:
        return next((r for r in self.revisions if r.revision_id == revision_id), None)

    def describe(self) -> str:
        return self.status if self.settled_on is None else f"{self.status} on {self.settled_on}"


class CoachingSession(_Value):
    session_id: str
    date: dt.date
    minutes: int
    goal_ids: tuple[str, ...]


class Homework(_Value):
    homework_id: str
    goal_id: str
    task: str
    assigned_on: dt.date
    due_on: dt.date
    status: HomeworkStatus = "assigned"
    completed_on: dt.date | None = None
    on_time: bool | None = None
    marked_missed_on: dt.date | None = None


class ProgressNote(_Value):
    note_id: str
    written_on: dt.date
    progress: Progress
    summary: str
    session_id: str | None
    goal_ids: tuple[str, ...]


class Closure(_Value):
    outcome: EngagementOutcome
    closed_on: dt.date


class EngagementState(_Value):
    status: EngagementStatus = "not_opened"
    engagement: Engagement | None = None
    concerns: tuple[Concern, ...] = ()
    pauses: tuple[Pause, ...] = ()
    goals: tuple[Goal, ...] = ()
    sessions: tuple[CoachingSession, ...] = ()
    homework: tuple[Homework, ...] = ()
    notes: tuple[ProgressNote, ...] = ()
    closure: Closure | None = None
    # The latest date of anything coaching recorded; an engagement does not close before it.
    last_activity_on: dt.date | None = None

    def concern(self, concern_id: str) -> Concern | None:
        return next((c for c in self.concerns if c.concern_id == concern_id), None)

    @property
    def open_concern(self) -> Concern | None:
        return next((c for c in self.concerns if c.status == "open"), None)

    @property
    def current_pause(self) -> Pause | None:
        return next((p for p in self.pauses if p.resumed_on is None), None)

    def goal(self, goal_id: str) -> Goal | None:
        return next((g for g in self.goals if g.goal_id == goal_id), None)

    def session(self, session_id: str) -> CoachingSession | None:
        return next((s for s in self.sessions if s.session_id == session_id), None)

    def assignment(self, homework_id: str) -> Homework | None:
        return next((h for h in self.homework if h.homework_id == homework_id), None)

    def note(self, note_id: str) -> ProgressNote | None:
        return next((n for n in self.notes if n.note_id == note_id), None)


INITIAL = EngagementState()

EngagementCommand = (
    OpenEngagement
    | OpenEngagementForReferral
    | RaiseConcern
    | SettleConcern
    | SetGoal
    | ReviseGoal
    | AchieveGoal
    | DropGoal
    | LogCoachingSession
    | AssignHomework
    | CompleteHomework
    | MarkHomeworkMissed
    | RecordProgressNote
    | CloseEngagement
)


def decide(state: EngagementState, command: EngagementCommand, today: dt.date) -> list[DomainEvent]:
    """The events a command records; [] when the same command was already recorded."""
    match command:
        case OpenEngagement():
            return _open(state, command, today)
        case OpenEngagementForReferral():
            return _open_for_referral(state, command)
        case RaiseConcern():
            return _raise_concern(state, command, today)
        case SettleConcern():
            return _settle_concern(state, command)
        case SetGoal():
            return _set_goal(state, command, today)
        case ReviseGoal():
            return _revise_goal(state, command, today)
        case AchieveGoal():
            return _achieve_goal(state, command, today)
        case DropGoal():
            return _drop_goal(state, command, today)
        case LogCoachingSession():
            return _log_session(state, command, today)
        case AssignHomework():
            return _assign_homework(state, command, today)
        case CompleteHomework():
            return _complete_homework(state, command, today)
        case MarkHomeworkMissed():
            return _mark_homework_missed(state, command, today)
        case RecordProgressNote():
            return _record_progress_note(state, command, today)
        case CloseEngagement():
            return _close(state, command, today)


# Opening


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


def _open_for_referral(
    state: EngagementState, command: OpenEngagementForReferral
) -> list[DomainEvent]:
    # The acceptance is a fact the referral service recorded: its date is not held against
    # this service's clock.
    proposed = Engagement(
        engagement_id=command.engagement_id,
        client_id=command.client_id,
        coach_id=command.coach_id,
        site_id=command.site_id,
        opened_on=command.accepted_on,
        referral_id=command.referral_id,
    )
    if state.engagement is not None:
        if state.engagement == proposed:
            return []
        raise EngagementIdMustNotBeReused(command.engagement_id)
    return [EngagementOpened(**proposed.model_dump())]


# Concerns and therapy's answer


def _raise_concern(
    state: EngagementState, command: RaiseConcern, today: dt.date
) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    known = state.concern(command.concern_id)
    if known is not None:
        if (known.urgency, known.raised_on) == (command.urgency, command.raised_on):
            return []
        raise ConcernIdMustNotBeReused(command.concern_id)
    _still_open(state)
    _dated(engagement, "raised_on", command.raised_on, today)
    if state.open_concern is not None:
        raise OnlyOneConcernMayBeOpenAtATime(command.engagement_id, state.open_concern.concern_id)
    pause = state.current_pause
    if pause is not None:
        # Therapy answered the last concern without recommending coaching resume.
        raise CoachingWaitsWhileTheEngagementIsPaused(
            engagement.engagement_id,
            pause.concern_id,
            pause.paused_on,
            None,
            "concern",
            command.raised_on,
        )
    _not_paused(state, command.raised_on, "concern")
    last_resumed = max((p.resumed_on for p in state.pauses if p.resumed_on), default=None)
    if last_resumed is not None and command.raised_on < last_resumed:
        raise ConcernMustNotPrecedeTheLastResumption(command.raised_on, last_resumed)
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


def _settle_concern(state: EngagementState, command: SettleConcern) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    if any(c.referral_id == command.referral_id for c in state.concerns):
        return []  # this referral's outcome is recorded already
    if state.closure is not None:
        # The coach closed the engagement while the client was with therapy: nothing resumes.
        return []
    concern = state.open_concern
    if concern is None:
        raise TherapyOutcomeNeedsAnOpenConcern(
            engagement.engagement_id, state.status, command.referral_id
        )
    events: list[DomainEvent] = [
        ConcernSettled(
            engagement_id=engagement.engagement_id,
            concern_id=concern.concern_id,
            referral_id=command.referral_id,
            completed_on=command.completed_on,
            recommendation=command.recommendation,
        )
    ]
    if command.recommendation == "resume_coaching":
        events.append(
            EngagementResumed(
                engagement_id=engagement.engagement_id,
                concern_id=concern.concern_id,
                referral_id=command.referral_id,
                # A pause never ends before it began, whatever the other service's dates.
                resumed_on=max(command.completed_on, concern.raised_on),
            )
        )
    return events


# Goals


def _terms(command: SetGoal | ReviseGoal) -> GoalTerms:
    return GoalTerms(
        specific=command.specific,
        measure=command.measure,
        achievable=command.achievable,
        relevant=command.relevant,
        target_date=command.target_date,
    )


def _set_goal(state: EngagementState, command: SetGoal, today: dt.date) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    known = state.goal(command.goal_id)
    if known is not None:
        if (known.original, known.set_on) == (_terms(command), command.set_on):
            return []
        raise GoalIdMustNotBeReused(command.goal_id)
    _still_open(state)
    _dated(engagement, "set_on", command.set_on, today)
    _not_paused(state, command.set_on, "new goal")
    return [GoalSet(**command.model_dump())]


def _revise_goal(state: EngagementState, command: ReviseGoal, today: dt.date) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    goal = _goal(state, engagement, command.goal_id)
    known = goal.revision(command.revision_id)
    if known is not None:
        proposed = (_terms(command), command.reason, command.revised_on)
        if (known.terms, known.reason, known.revised_on) == proposed:
            return []
        raise GoalRevisionIdMustNotBeReused(command.revision_id)
    _still_open(state)
    if goal.status != "open":
        raise GoalMustBeOpen(goal.goal_id, goal.describe(), "be revised")
    _dated(engagement, "revised_on", command.revised_on, today)
    _not_before_terms(goal, "revised_on", command.revised_on)
    _not_paused(state, command.revised_on, "goal revision")
    return [GoalRevised(**command.model_dump())]


def _achieve_goal(
    state: EngagementState, command: AchieveGoal, today: dt.date
) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    goal = _goal(state, engagement, command.goal_id)
    if goal.status == "achieved" and goal.settled_on == command.achieved_on:
        return []
    _still_open(state)
    if goal.status != "open":
        raise GoalMustBeOpen(goal.goal_id, goal.describe(), "be achieved")
    _dated(engagement, "achieved_on", command.achieved_on, today)
    _not_before_terms(goal, "achieved_on", command.achieved_on)
    _not_paused(state, command.achieved_on, "goal achievement")
    return [GoalAchieved(**command.model_dump())]


def _drop_goal(state: EngagementState, command: DropGoal, today: dt.date) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    goal = _goal(state, engagement, command.goal_id)
    if (goal.status, goal.settled_on, goal.drop_reason) == (
        "dropped",
        command.dropped_on,
        command.reason,
    ):
        return []
    _still_open(state)
    if goal.status != "open":
        raise GoalMustBeOpen(goal.goal_id, goal.describe(), "be dropped")
    _dated(engagement, "dropped_on", command.dropped_on, today)
    _not_before_terms(goal, "dropped_on", command.dropped_on)
    return [GoalDropped(**command.model_dump())]


# Sessions, homework, notes


def _log_session(
    state: EngagementState, command: LogCoachingSession, today: dt.date
) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    proposed = CoachingSession(
        session_id=command.session_id,
        date=command.date,
        minutes=command.minutes,
        goal_ids=command.goal_ids,
    )
    known = state.session(command.session_id)
    if known is not None:
        if known == proposed:
            return []
        raise CoachingSessionIdMustNotBeReused(command.session_id)
    _still_open(state)
    _dated(engagement, "date", command.date, today)
    _not_paused(state, command.date, "coaching session")
    for goal_id in command.goal_ids:
        _open_on(_goal(state, engagement, goal_id), command.date, "be worked on in a session")
    return [CoachingSessionHeld(engagement_id=engagement.engagement_id, **proposed.model_dump())]


def _assign_homework(
    state: EngagementState, command: AssignHomework, today: dt.date
) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    known = state.assignment(command.homework_id)
    if known is not None:
        proposed = (command.goal_id, command.task, command.assigned_on, command.due_on)
        if (known.goal_id, known.task, known.assigned_on, known.due_on) == proposed:
            return []
        raise HomeworkIdMustNotBeReused(command.homework_id)
    _still_open(state)
    _dated(engagement, "assigned_on", command.assigned_on, today)
    _not_paused(state, command.assigned_on, "new homework")
    _open_on(_goal(state, engagement, command.goal_id), command.assigned_on, "be given homework")
    return [HomeworkAssigned(**command.model_dump())]


def _complete_homework(
    state: EngagementState, command: CompleteHomework, today: dt.date
) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    homework = _homework(state, engagement, command.homework_id)
    if homework.status == "completed" and homework.completed_on == command.completed_on:
        return []
    _still_open(state)
    if homework.status != "assigned":
        raise HomeworkMustBeAssigned(homework.homework_id, homework.status, "be completed")
    if command.completed_on < homework.assigned_on:
        raise HomeworkMustNotBeCompletedBeforeItIsAssigned(
            command.completed_on, homework.assigned_on
        )
    if command.completed_on > today:
        raise DateMustNotBeInTheFuture("completed_on", command.completed_on, today)
    return [
        HomeworkCompleted(
            engagement_id=engagement.engagement_id,
            homework_id=homework.homework_id,
            completed_on=command.completed_on,
            on_time=command.completed_on <= homework.due_on,
        )
    ]


def _mark_homework_missed(
    state: EngagementState, command: MarkHomeworkMissed, today: dt.date
) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    homework = _homework(state, engagement, command.homework_id)
    if homework.status == "missed":
        return []
    _still_open(state)
    if homework.status != "assigned":
        raise HomeworkMustBeAssigned(homework.homework_id, homework.status, "be marked missed")
    if today <= homework.due_on:
        raise HomeworkIsMissedOnlyAfterItIsDue(homework.homework_id, homework.due_on, today)
    return [
        HomeworkMissed(
            engagement_id=engagement.engagement_id,
            homework_id=homework.homework_id,
            due_on=homework.due_on,
            marked_on=today,
        )
    ]


def _record_progress_note(
    state: EngagementState, command: RecordProgressNote, today: dt.date
) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    proposed = ProgressNote(**command.model_dump(exclude={"engagement_id"}))
    known = state.note(command.note_id)
    if known is not None:
        if known == proposed:
            return []
        raise ProgressNoteIdMustNotBeReused(command.note_id)
    _still_open(state)
    _dated(engagement, "written_on", command.written_on, today)
    _not_paused(state, command.written_on, "progress note")
    if command.session_id is not None:
        session = state.session(command.session_id)
        if session is None:
            raise CoachingSessionMustExist(engagement.engagement_id, command.session_id)
        if command.written_on < session.date:
            raise ProgressNoteMustNotPrecedeItsSession(
                command.written_on, session.session_id, session.date
            )
    for goal_id in command.goal_ids:
        _goal(state, engagement, goal_id)
    return [ProgressNoteRecorded(**command.model_dump())]


# Closing


def _close(state: EngagementState, command: CloseEngagement, today: dt.date) -> list[DomainEvent]:
    engagement = _engagement(state, command.engagement_id)
    if state.closure == Closure(outcome=command.outcome, closed_on=command.closed_on):
        return []
    _still_open(state)
    _dated(engagement, "closed_on", command.closed_on, today)
    if state.last_activity_on is not None and command.closed_on < state.last_activity_on:
        raise EngagementMustNotCloseBeforeItsLastActivity(command.closed_on, state.last_activity_on)
    if command.outcome == "goals_met":
        open_goals = [g.goal_id for g in state.goals if g.status == "open"]
        achieved = sum(1 for g in state.goals if g.status == "achieved")
        if open_goals or achieved == 0:
            raise GoalsMetMeansEveryGoalIsSettledAndOneAchieved(
                engagement.engagement_id, open_goals, achieved
            )
    return [EngagementClosed(**command.model_dump())]


# Shared checks


def _engagement(state: EngagementState, engagement_id: str) -> Engagement:
    engagement = state.engagement
    if engagement is None or engagement.engagement_id != engagement_id:
        raise EngagementMustExist(engagement_id)
    return engagement


def _goal(state: EngagementState, engagement: Engagement, goal_id: str) -> Goal:
    goal = state.goal(goal_id)
    if goal is None:
        raise GoalMustExist(engagement.engagement_id, goal_id)
    return goal


def _homework(state: EngagementState, engagement: Engagement, homework_id: str) -> Homework:
    homework = state.assignment(homework_id)
    if homework is None:
        raise HomeworkMustExist(engagement.engagement_id, homework_id)
    return homework


def _still_open(state: EngagementState) -> None:
    if state.closure is not None and state.engagement is not None:
        raise ClosedEngagementAcceptsNothingMore(
            state.engagement.engagement_id, state.closure.outcome, state.closure.closed_on
        )


def _dated(engagement: Engagement, field: str, date: dt.date, today: dt.date) -> None:
    if date < engagement.opened_on:
        raise DateMustNotPrecedeTheEngagement(field, date, engagement.opened_on)
    if date > today:
        raise DateMustNotBeInTheFuture(field, date, today)


def _not_before_terms(goal: Goal, field: str, date: dt.date) -> None:
    if date < goal.agreed_on:
        raise DateMustNotPrecedeTheGoal(field, date, goal.goal_id, goal.agreed_on)


def _not_paused(state: EngagementState, date: dt.date, activity: str) -> None:
    assert state.engagement is not None
    for pause in state.pauses:
        if pause.covers(date):
            raise CoachingWaitsWhileTheEngagementIsPaused(
                state.engagement.engagement_id,
                pause.concern_id,
                pause.paused_on,
                pause.resumed_on,
                activity,
                date,
            )


def _open_on(goal: Goal, date: dt.date, action: str) -> None:
    """A goal is open from the day it was set to the day it was achieved or dropped."""
    if date < goal.set_on:
        raise GoalMustBeOpen(goal.goal_id, f"not yet set on {date} (set on {goal.set_on})", action)
    if goal.settled_on is not None and date > goal.settled_on:
        raise GoalMustBeOpen(goal.goal_id, goal.describe(), action)


# Evolution


def _later(current: dt.date | None, date: dt.date) -> dt.date:
    return date if current is None else max(current, date)


def _replace_goal(state: EngagementState, goal: Goal) -> EngagementState:
    goals = tuple(goal if g.goal_id == goal.goal_id else g for g in state.goals)
    return state.model_copy(update={"goals": goals})


def _replace_homework(state: EngagementState, homework: Homework) -> EngagementState:
    items = tuple(homework if h.homework_id == homework.homework_id else h for h in state.homework)
    return state.model_copy(update={"homework": items})


def _active_on(state: EngagementState, date: dt.date) -> EngagementState:
    return state.model_copy(update={"last_activity_on": _later(state.last_activity_on, date)})


def evolve(state: EngagementState, event: DomainEvent) -> EngagementState:
    match event:
        case EngagementOpened():
            engagement = Engagement(**event.model_dump())
            return EngagementState(
                status="active", engagement=engagement, last_activity_on=event.opened_on
            )
        case CoachingConcernRaised():
            concern = Concern(
                concern_id=event.concern_id, urgency=event.urgency, raised_on=event.raised_on
            )
            state = state.model_copy(update={"concerns": (*state.concerns, concern)})
            return _active_on(state, event.raised_on)
        case EngagementPaused():
            pause = Pause(concern_id=event.concern_id, paused_on=event.paused_on)
            return state.model_copy(update={"status": "paused", "pauses": (*state.pauses, pause)})
        case ConcernSettled():
            settled = {
                "status": "settled",
                "referral_id": event.referral_id,
                "recommendation": event.recommendation,
                "settled_on": event.completed_on,
            }
            concerns = tuple(
                c.model_copy(update=settled) if c.concern_id == event.concern_id else c
                for c in state.concerns
            )
            return state.model_copy(update={"concerns": concerns})
        case EngagementResumed():
            pauses = tuple(
                p.model_copy(update={"resumed_on": event.resumed_on}) if p.resumed_on is None else p
                for p in state.pauses
            )
            state = state.model_copy(update={"status": "active", "pauses": pauses})
            return _active_on(state, event.resumed_on)
        case GoalSet():
            goal = Goal(
                goal_id=event.goal_id,
                original=GoalTerms(**event.model_dump()),
                set_on=event.set_on,
            )
            return _active_on(
                state.model_copy(update={"goals": (*state.goals, goal)}), event.set_on
            )
        case GoalRevised():
            goal = _existing_goal(state, event.goal_id)
            revision = GoalRevision(
                revision_id=event.revision_id,
                terms=GoalTerms(**event.model_dump()),
                reason=event.reason,
                revised_on=event.revised_on,
            )
            goal = goal.model_copy(update={"revisions": (*goal.revisions, revision)})
            return _active_on(_replace_goal(state, goal), event.revised_on)
        case GoalAchieved():
            goal = _existing_goal(state, event.goal_id).model_copy(
                update={"status": "achieved", "settled_on": event.achieved_on}
            )
            return _active_on(_replace_goal(state, goal), event.achieved_on)
        case GoalDropped():
            goal = _existing_goal(state, event.goal_id).model_copy(
                update={
                    "status": "dropped",
                    "settled_on": event.dropped_on,
                    "drop_reason": event.reason,
                }
            )
            return _active_on(_replace_goal(state, goal), event.dropped_on)
        case CoachingSessionHeld():
            session = CoachingSession(**event.model_dump())
            state = state.model_copy(update={"sessions": (*state.sessions, session)})
            return _active_on(state, event.date)
        case HomeworkAssigned():
            homework = Homework(**event.model_dump())
            state = state.model_copy(update={"homework": (*state.homework, homework)})
            return _active_on(state, event.assigned_on)
        case HomeworkCompleted():
            homework = _existing_homework(state, event.homework_id).model_copy(
                update={
                    "status": "completed",
                    "completed_on": event.completed_on,
                    "on_time": event.on_time,
                }
            )
            return _active_on(_replace_homework(state, homework), event.completed_on)
        case HomeworkMissed():
            homework = _existing_homework(state, event.homework_id).model_copy(
                update={"status": "missed", "marked_missed_on": event.marked_on}
            )
            return _replace_homework(state, homework)
        case ProgressNoteRecorded():
            note = ProgressNote(**event.model_dump())
            state = state.model_copy(update={"notes": (*state.notes, note)})
            return _active_on(state, event.written_on)
        case EngagementClosed():
            closure = Closure(outcome=event.outcome, closed_on=event.closed_on)
            return state.model_copy(update={"status": "closed", "closure": closure})
        case _:
            raise TypeError(f"an engagement stream holds no {event.type} events")


def _existing_goal(state: EngagementState, goal_id: str) -> Goal:
    goal = state.goal(goal_id)
    if goal is None:
        raise ValueError(f"the stream refers to goal {goal_id} before it was set")
    return goal


def _existing_homework(state: EngagementState, homework_id: str) -> Homework:
    homework = state.assignment(homework_id)
    if homework is None:
        raise ValueError(f"the stream refers to homework {homework_id} before it was assigned")
    return homework


def fold(events: Iterable[DomainEvent], state: EngagementState = INITIAL) -> EngagementState:
    for event in events:
        state = evolve(state, event)
    return state
