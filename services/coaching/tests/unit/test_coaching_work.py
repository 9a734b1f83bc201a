"""Goals, sessions, homework, progress notes and closing: given commands recorded, when a
command, then events or the named rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from coaching.domain import (
    EVENT_TYPES,
    AchieveGoal,
    AssignHomework,
    CloseEngagement,
    CoachingSessionHeld,
    CompleteHomework,
    DropGoal,
    EngagementClosed,
    EngagementOpened,
    GoalAchieved,
    GoalDropped,
    GoalRevised,
    GoalSet,
    HomeworkAssigned,
    HomeworkCompleted,
    HomeworkMissed,
    LogCoachingSession,
    MarkHomeworkMissed,
    ProgressNoteRecorded,
    RaiseConcern,
    RecordProgressNote,
    ReviseGoal,
    SetGoal,
    SettleConcern,
    decide,
    events,
    fold,
)
from coaching.domain.commands import MAX_SESSION_MINUTES, MIN_SESSION_MINUTES
from coaching.domain.engagement import EngagementCommand, EngagementState
from coaching.domain.errors import (
    ClosedEngagementAcceptsNothingMore,
    CoachingSessionIdMustNotBeReused,
    CoachingSessionLengthMustBeWithinBounds,
    CoachingSessionMustExist,
    CoachingWaitsWhileTheEngagementIsPaused,
    DateMustNotBeInTheFuture,
    DateMustNotPrecedeTheEngagement,
    DateMustNotPrecedeTheGoal,
    EngagementMustNotCloseBeforeItsLastActivity,
    GoalIdMustNotBeReused,
    GoalMustBeOpen,
    GoalMustBeTimeBound,
    GoalMustExist,
    GoalRevisionIdMustNotBeReused,
    GoalsMetMeansEveryGoalIsSettledAndOneAchieved,
    GoalsMustBeListedOnce,
    HomeworkIdMustNotBeReused,
    HomeworkIsMissedOnlyAfterItIsDue,
    HomeworkMustBeAssigned,
    HomeworkMustExist,
    HomeworkMustNotBeCompletedBeforeItIsAssigned,
    HomeworkMustNotBeDueBeforeItIsAssigned,
    ProgressNoteIdMustNotBeReused,
    ProgressNoteMustNotPrecedeItsSession,
)
from infra.ddd import AlreadyRecorded, DomainEvent, InvalidInput, NotFound, RuleViolated

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
TODAY = D("2026-05-20")
ENGAGEMENT = "eng-1"

OPENED = EngagementOpened(
    engagement_id=ENGAGEMENT,
    client_id="client-7f3a",
    coach_id="coach-1",
    site_id="site-a",
    opened_on=D("2026-04-01"),
)


def _command(kind: type[Any], defaults: dict[str, Any]) -> Callable[..., Any]:
    def make(**overrides: Any) -> Any:
        return kind(**({"engagement_id": ENGAGEMENT} | defaults | overrides))

    return make


set_goal = _command(
    SetGoal,
    {
        "goal_id": "g-1",
        "specific": "Apply to three jobs a week",
        "measure": "applications sent, counted each Friday",
        "achievable": "CV is ready; the library has computers",
        "relevant": "wants to move out by autumn",
        "target_date": "2026-07-01",
        "set_on": "2026-04-08",
    },
)
revise_goal = _command(
    ReviseGoal,
    {
        "goal_id": "g-1",
        "revision_id": "rev-1",
        "specific": "Apply to two jobs a week",
        "measure": "applications sent, counted each Friday",
        "achievable": "CV is ready; the library has computers",
        "relevant": "wants to move out by autumn",
        "target_date": "2026-08-01",
        "reason": "three a week left no time for interviews",
        "revised_on": "2026-04-22",
    },
)
achieve_goal = _command(AchieveGoal, {"goal_id": "g-1", "achieved_on": "2026-05-06"})
drop_goal = _command(
    DropGoal, {"goal_id": "g-1", "reason": "client chose another path", "dropped_on": "2026-05-06"}
)
log_session = _command(
    LogCoachingSession,
    {"session_id": "s-1", "date": "2026-04-15", "minutes": 50, "goal_ids": ("g-1",)},
)
assign = _command(
    AssignHomework,
    {
        "homework_id": "h-1",
        "goal_id": "g-1",
        "task": "draft two cover letters",
        "assigned_on": "2026-04-15",
        "due_on": "2026-04-22",
    },
)
complete = _command(CompleteHomework, {"homework_id": "h-1", "completed_on": "2026-04-21"})
missed = _command(MarkHomeworkMissed, {"homework_id": "h-1"})
note = _command(
    RecordProgressNote,
    {
        "note_id": "n-1",
        "written_on": "2026-04-15",
        "progress": "some_progress",
        "summary": "Sent two applications; practising the interview opening.",
        "session_id": "s-1",
        "goal_ids": ("g-1",),
    },
)
close = _command(CloseEngagement, {"outcome": "partially_met", "closed_on": "2026-05-19"})
raise_concern = _command(
    RaiseConcern, {"concern_id": "con-1", "urgency": "routine", "raised_on": "2026-05-10"}
)
settle = _command(
    SettleConcern,
    {"referral_id": "ref-1", "completed_on": "2026-05-15", "recommendation": "resume_coaching"},
)


def given(*commands: EngagementCommand, today: dt.date = TODAY) -> EngagementState:
    """The state after each command was decided and recorded in turn."""
    state = fold([OPENED])
    for command in commands:
        state = fold(decide(state, command, today), state)
    return state


def when(state: EngagementState, command: EngagementCommand) -> list[DomainEvent]:
    return decide(state, command, TODAY)


# Goals


def test_setting_a_smart_goal_records_its_terms_and_target_date() -> None:
    recorded = when(given(), set_goal())

    assert recorded == [GoalSet(**set_goal().model_dump())]
    goal = fold(recorded, given()).goal("g-1")
    assert goal is not None
    assert (goal.status, goal.terms.target_date) == ("open", D("2026-07-01"))


def test_setting_the_same_goal_again_records_nothing() -> None:
    assert when(given(set_goal()), set_goal()) == []


def test_reusing_a_goal_id_with_other_terms_is_refused() -> None:
    with pytest.raises(GoalIdMustNotBeReused) as refused:
        when(given(set_goal()), set_goal(measure="something else"))
    assert isinstance(refused.value, AlreadyRecorded)


@pytest.mark.parametrize("target_date", ["2026-04-08", "2026-04-01"])
def test_a_goal_must_be_time_bound_after_the_day_it_is_set(target_date: str) -> None:
    with pytest.raises(GoalMustBeTimeBound) as refused:
        set_goal(target_date=target_date)
    assert refused.value.field == "target_date"


@pytest.mark.parametrize(
    ("set_on", "error"),
    [("2026-03-31", DateMustNotPrecedeTheEngagement), ("2026-05-21", DateMustNotBeInTheFuture)],
)
def test_a_goal_is_set_within_the_engagement_and_not_after_today(
    set_on: str, error: type[InvalidInput]
) -> None:
    with pytest.raises(error) as refused:
        when(given(), set_goal(set_on=set_on, target_date="2026-09-01"))
    assert refused.value.field == "set_on"


@pytest.mark.parametrize("field", ["specific", "measure", "achievable", "relevant"])
def test_every_smart_term_is_required_and_short(field: str) -> None:
    for value in ("", "   ", "x" * 201):
        with pytest.raises(InvalidInput) as refused:
            set_goal(**{field: value})
        assert refused.value.field == field


def test_revising_a_goal_records_the_new_terms_and_the_reason() -> None:
    state = given(set_goal())

    recorded = when(state, revise_goal())

    assert recorded == [GoalRevised(**revise_goal().model_dump())]
    goal = fold(recorded, state).goal("g-1")
    assert goal is not None
    assert goal.terms.specific == "Apply to two jobs a week"
    assert goal.original.specific == "Apply to three jobs a week"
    assert goal.agreed_on == D("2026-04-22")


def test_revising_again_with_the_same_revision_records_nothing() -> None:
    assert when(given(set_goal(), revise_goal()), revise_goal()) == []


def test_reusing_a_revision_id_with_other_terms_is_refused() -> None:
    with pytest.raises(GoalRevisionIdMustNotBeReused):
        when(given(set_goal(), revise_goal()), revise_goal(reason="another reason"))


def test_revising_a_goal_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(GoalMustExist) as refused:
        when(given(), revise_goal())
    assert isinstance(refused.value, NotFound)


def test_an_achieved_goal_cannot_be_revised_naming_its_state() -> None:
    with pytest.raises(GoalMustBeOpen) as refused:
        when(given(set_goal(), achieve_goal()), revise_goal(revised_on="2026-05-07"))
    assert isinstance(refused.value, RuleViolated)
    assert str(refused.value) == (
        "goal g-1 is achieved on 2026-05-06; only an open goal can be revised"
    )


def test_a_revision_cannot_precede_the_terms_it_replaces() -> None:
    with pytest.raises(DateMustNotPrecedeTheGoal) as refused:
        when(given(set_goal()), revise_goal(revised_on="2026-04-07"))
    assert refused.value.field == "revised_on"


def test_revised_terms_are_time_bound_too() -> None:
    with pytest.raises(GoalMustBeTimeBound):
        revise_goal(target_date="2026-04-22")


def test_a_revision_needs_a_reason() -> None:
    with pytest.raises(InvalidInput) as refused:
        revise_goal(reason="")
    assert refused.value.field == "reason"


def test_achieving_a_goal_records_it() -> None:
    state = given(set_goal())

    recorded = when(state, achieve_goal())

    assert recorded == [
        GoalAchieved(engagement_id=ENGAGEMENT, goal_id="g-1", achieved_on=D("2026-05-06"))
    ]
    assert fold(recorded, state).goal("g-1").status == "achieved"  # type: ignore[union-attr]


def test_achieving_it_again_on_the_same_day_records_nothing() -> None:
    assert when(given(set_goal(), achieve_goal()), achieve_goal()) == []


def test_achieving_it_again_on_another_day_is_refused_naming_its_state() -> None:
    with pytest.raises(GoalMustBeOpen, match="goal g-1 is achieved on 2026-05-06"):
        when(given(set_goal(), achieve_goal()), achieve_goal(achieved_on="2026-05-07"))


def test_a_dropped_goal_cannot_be_achieved() -> None:
    with pytest.raises(GoalMustBeOpen, match="is dropped on 2026-05-06; only an open goal can be"):
        when(given(set_goal(), drop_goal()), achieve_goal())


def test_a_goal_cannot_be_achieved_before_its_terms_were_agreed() -> None:
    with pytest.raises(DateMustNotPrecedeTheGoal) as refused:
        when(given(set_goal(), revise_goal()), achieve_goal(achieved_on="2026-04-21"))
    assert refused.value.field == "achieved_on"


def test_a_goal_cannot_be_achieved_after_today() -> None:
    with pytest.raises(DateMustNotBeInTheFuture):
        when(given(set_goal()), achieve_goal(achieved_on="2026-05-21"))


def test_dropping_a_goal_records_it_with_the_reason() -> None:
    recorded = when(given(set_goal()), drop_goal())

    assert recorded == [GoalDropped(**drop_goal().model_dump())]


def test_dropping_it_again_records_nothing() -> None:
    assert when(given(set_goal(), drop_goal()), drop_goal()) == []


def test_an_achieved_goal_cannot_be_dropped() -> None:
    with pytest.raises(GoalMustBeOpen, match="only an open goal can be dropped"):
        when(given(set_goal(), achieve_goal()), drop_goal())


def test_dropping_needs_a_reason() -> None:
    with pytest.raises(InvalidInput) as refused:
        drop_goal(reason=" ")
    assert refused.value.field == "reason"


def test_a_goal_cannot_be_dropped_before_it_was_set() -> None:
    with pytest.raises(DateMustNotPrecedeTheGoal):
        when(given(set_goal()), drop_goal(dropped_on="2026-04-07"))


# Sessions


def test_logging_a_session_records_it_with_the_goals_worked_on() -> None:
    recorded = when(given(set_goal()), log_session())

    assert recorded == [
        CoachingSessionHeld(
            engagement_id=ENGAGEMENT,
            session_id="s-1",
            date=D("2026-04-15"),
            minutes=50,
            goal_ids=("g-1",),
        )
    ]


def test_logging_the_same_session_again_records_nothing() -> None:
    assert when(given(set_goal(), log_session()), log_session()) == []


def test_reusing_a_session_id_with_other_content_is_refused() -> None:
    with pytest.raises(CoachingSessionIdMustNotBeReused):
        when(given(set_goal(), log_session()), log_session(minutes=60))


@pytest.mark.parametrize("minutes", [MIN_SESSION_MINUTES - 1, MAX_SESSION_MINUTES + 1])
def test_a_session_length_must_be_within_bounds(minutes: int) -> None:
    with pytest.raises(CoachingSessionLengthMustBeWithinBounds) as refused:
        log_session(minutes=minutes)
    assert refused.value.field == "minutes"


def test_a_session_lists_each_goal_once() -> None:
    with pytest.raises(GoalsMustBeListedOnce) as refused:
        log_session(goal_ids=("g-1", "g-1"))
    assert refused.value.field == "goal_ids"


def test_a_session_without_goals_is_recorded() -> None:
    assert len(when(given(), log_session(goal_ids=()))) == 1


def test_a_session_on_a_goal_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(GoalMustExist, match="goal g-9 does not exist in engagement eng-1"):
        when(given(set_goal()), log_session(goal_ids=("g-9",)))


def test_a_session_cannot_work_on_a_goal_after_it_was_achieved() -> None:
    with pytest.raises(GoalMustBeOpen, match="only an open goal can be worked on in a session"):
        when(given(set_goal(), achieve_goal()), log_session(date="2026-05-07"))


def test_a_session_on_the_day_a_goal_was_achieved_may_work_on_it() -> None:
    assert len(when(given(set_goal(), achieve_goal()), log_session(date="2026-05-06"))) == 1


def test_a_session_cannot_work_on_a_goal_before_it_was_set() -> None:
    with pytest.raises(GoalMustBeOpen, match="not yet set on 2026-04-02"):
        when(given(set_goal()), log_session(date="2026-04-02"))


@pytest.mark.parametrize(
    ("date", "error"),
    [("2026-03-31", DateMustNotPrecedeTheEngagement), ("2026-05-21", DateMustNotBeInTheFuture)],
)
def test_a_session_is_dated_within_the_engagement_and_not_after_today(
    date: str, error: type[InvalidInput]
) -> None:
    with pytest.raises(error) as refused:
        when(given(), log_session(date=date, goal_ids=()))
    assert refused.value.field == "date"


# Homework


def test_assigning_homework_records_it_for_its_goal() -> None:
    recorded = when(given(set_goal()), assign())

    assert recorded == [HomeworkAssigned(**assign().model_dump())]
    homework = fold(recorded, given(set_goal())).assignment("h-1")
    assert homework is not None
    assert homework.status == "assigned"


def test_assigning_the_same_homework_again_records_nothing() -> None:
    assert when(given(set_goal(), assign()), assign()) == []


def test_reusing_a_homework_id_with_other_content_is_refused() -> None:
    with pytest.raises(HomeworkIdMustNotBeReused):
        when(given(set_goal(), assign()), assign(due_on="2026-04-29"))


def test_homework_cannot_be_due_before_it_is_assigned() -> None:
    with pytest.raises(HomeworkMustNotBeDueBeforeItIsAssigned) as refused:
        assign(due_on="2026-04-14")
    assert refused.value.field == "due_on"


def test_homework_for_a_goal_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(GoalMustExist):
        when(given(), assign())


def test_homework_for_a_dropped_goal_is_refused() -> None:
    with pytest.raises(GoalMustBeOpen, match="only an open goal can be given homework"):
        when(given(set_goal(), drop_goal()), assign(assigned_on="2026-05-07", due_on="2026-05-14"))


def test_homework_needs_a_task() -> None:
    with pytest.raises(InvalidInput) as refused:
        assign(task="")
    assert refused.value.field == "task"


def test_completing_homework_by_its_due_date_records_it_on_time() -> None:
    recorded = when(given(set_goal(), assign()), complete())

    assert recorded == [
        HomeworkCompleted(
            engagement_id=ENGAGEMENT, homework_id="h-1", completed_on=D("2026-04-21"), on_time=True
        )
    ]


def test_completing_homework_after_its_due_date_records_it_late() -> None:
    (completed,) = when(given(set_goal(), assign()), complete(completed_on="2026-04-25"))

    assert isinstance(completed, HomeworkCompleted)
    assert completed.on_time is False


def test_completing_it_again_records_nothing() -> None:
    assert when(given(set_goal(), assign(), complete()), complete()) == []


def test_missed_homework_cannot_be_completed_naming_its_state() -> None:
    state = given(set_goal(), assign(), missed())

    with pytest.raises(HomeworkMustBeAssigned) as refused:
        when(state, complete())
    assert str(refused.value) == ("homework h-1 is missed; only assigned homework can be completed")


def test_homework_cannot_be_completed_before_it_was_assigned() -> None:
    with pytest.raises(HomeworkMustNotBeCompletedBeforeItIsAssigned) as refused:
        when(given(set_goal(), assign()), complete(completed_on="2026-04-14"))
    assert refused.value.field == "completed_on"


def test_homework_cannot_be_completed_after_today() -> None:
    with pytest.raises(DateMustNotBeInTheFuture):
        when(given(set_goal(), assign()), complete(completed_on="2026-05-21"))


def test_completing_homework_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(HomeworkMustExist):
        when(given(), complete())


def test_homework_past_its_due_date_is_marked_missed_as_of_today() -> None:
    recorded = when(given(set_goal(), assign()), missed())

    assert recorded == [
        HomeworkMissed(
            engagement_id=ENGAGEMENT, homework_id="h-1", due_on=D("2026-04-22"), marked_on=TODAY
        )
    ]


def test_marking_it_missed_again_records_nothing() -> None:
    assert when(given(set_goal(), assign(), missed()), missed()) == []


@pytest.mark.parametrize("due_on", ["2026-05-20", "2026-05-30"])
def test_homework_is_missed_only_after_its_due_date(due_on: str) -> None:
    state = given(set_goal(), assign(due_on=due_on))

    with pytest.raises(HomeworkIsMissedOnlyAfterItIsDue, match=f"due on {due_on}"):
        when(state, missed())


def test_completed_homework_cannot_be_missed() -> None:
    with pytest.raises(HomeworkMustBeAssigned, match="is completed; only assigned homework"):
        when(given(set_goal(), assign(), complete()), missed())


# Progress notes: no diagnosis, no treatment


def test_recording_a_progress_note_records_it() -> None:
    state = given(set_goal(), log_session())

    recorded = when(state, note())

    assert recorded == [ProgressNoteRecorded(**note().model_dump())]
    assert len(fold(recorded, state).notes) == 1


def test_recording_the_same_note_again_records_nothing() -> None:
    assert when(given(set_goal(), log_session(), note()), note()) == []


def test_reusing_a_note_id_with_other_content_is_refused() -> None:
    with pytest.raises(ProgressNoteIdMustNotBeReused):
        when(given(set_goal(), log_session(), note()), note(progress="setback"))


def test_a_note_following_a_session_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(CoachingSessionMustExist):
        when(given(set_goal()), note())


def test_a_note_cannot_precede_the_session_it_follows() -> None:
    with pytest.raises(ProgressNoteMustNotPrecedeItsSession) as refused:
        when(given(set_goal(), log_session()), note(written_on="2026-04-14"))
    assert refused.value.field == "written_on"


def test_a_note_on_a_goal_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(GoalMustExist):
        when(given(set_goal(), log_session()), note(goal_ids=("g-9",)))


def test_a_note_following_no_session_is_recorded() -> None:
    assert len(when(given(set_goal()), note(session_id=None))) == 1


@pytest.mark.parametrize(
    "field", ["diagnosis", "treatment", "symptoms", "treatment_plan", "icd10_code"]
)
def test_a_progress_note_refuses_any_clinical_field(field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        note(**{field: "anything"})
    assert refused.value.field == field


def test_a_progress_note_needs_a_progress_reading_and_a_summary() -> None:
    with pytest.raises(InvalidInput, match="progress"):
        note(progress="remission")
    with pytest.raises(InvalidInput, match="summary"):
        note(summary="x" * 2001)


def test_no_coaching_command_or_event_has_a_diagnosis_or_treatment_field() -> None:
    from coaching.domain import commands

    classes = [
        cls
        for module in (commands, events)
        for cls in vars(module).values()
        if isinstance(cls, type) and hasattr(cls, "model_fields")
    ]
    assert RecordProgressNote in classes and ProgressNoteRecorded in classes
    for cls in classes:
        names = " ".join(cls.model_fields)
        assert "diagnos" not in names, cls
        assert "treat" not in names, cls
        assert "symptom" not in names, cls


# Pauses: what waits for therapy and what does not


PAUSED_AFTER = "2026-05-12"


@pytest.mark.parametrize(
    ("command", "activity"),
    [
        (log_session(session_id="s-2", date=PAUSED_AFTER), "coaching session"),
        (set_goal(goal_id="g-2", set_on=PAUSED_AFTER), "new goal"),
        (revise_goal(revised_on=PAUSED_AFTER), "goal revision"),
        (achieve_goal(achieved_on=PAUSED_AFTER), "goal achievement"),
        (assign(homework_id="h-2", assigned_on=PAUSED_AFTER, due_on="2026-05-19"), "new homework"),
        (note(note_id="n-2", written_on=PAUSED_AFTER), "progress note"),
    ],
)
def test_coaching_work_waits_while_the_engagement_is_paused(
    command: EngagementCommand, activity: str
) -> None:
    state = given(set_goal(), log_session(), raise_concern())

    with pytest.raises(CoachingWaitsWhileTheEngagementIsPaused) as refused:
        when(state, command)
    assert refused.value.activity == activity
    assert "engagement eng-1 is paused since 2026-05-10" in str(refused.value)


@pytest.mark.parametrize(
    "command",
    [
        drop_goal(dropped_on=PAUSED_AFTER),
        complete(completed_on=PAUSED_AFTER),
        missed(),
        close(outcome="referred_to_therapy"),
    ],
)
def test_how_earlier_work_turned_out_and_closing_are_recorded_while_paused(
    command: EngagementCommand,
) -> None:
    state = given(set_goal(), log_session(), assign(), raise_concern())

    assert len(when(state, command)) == 1


# Closing


def test_closing_an_engagement_records_its_outcome() -> None:
    state = given(set_goal(), log_session())

    recorded = when(state, close())

    assert recorded == [
        EngagementClosed(
            engagement_id=ENGAGEMENT, outcome="partially_met", closed_on=D("2026-05-19")
        )
    ]
    assert fold(recorded, state).status == "closed"


def test_closing_it_again_the_same_way_records_nothing() -> None:
    assert when(given(close()), close()) == []


def test_closing_it_again_another_way_is_refused_naming_its_state() -> None:
    with pytest.raises(ClosedEngagementAcceptsNothingMore) as refused:
        when(given(close()), close(outcome="client_withdrew"))
    assert str(refused.value) == (
        "engagement eng-1 is closed (partially_met on 2026-05-19);"
        " a closed engagement accepts nothing more"
    )


@pytest.mark.parametrize(
    "command",
    [
        set_goal(goal_id="g-2"),
        revise_goal(),
        achieve_goal(),
        drop_goal(),
        log_session(session_id="s-2"),
        assign(homework_id="h-2"),
        complete(),
        missed(),
        note(note_id="n-2"),
        raise_concern(),
        settle(),
    ],
)
def test_a_closed_engagement_accepts_nothing_more(command: EngagementCommand) -> None:
    state = given(set_goal(), log_session(), assign(), close(closed_on="2026-04-30"))

    if isinstance(command, SettleConcern):
        # Therapy's answer arriving after the coach closed the engagement resumes nothing.
        assert when(state, command) == []
        return
    with pytest.raises(ClosedEngagementAcceptsNothingMore):
        when(state, command)


def test_a_retry_of_work_recorded_before_closing_still_records_nothing() -> None:
    state = given(set_goal(), log_session(), close())

    assert when(state, log_session()) == []
    assert when(state, set_goal()) == []


def test_an_engagement_cannot_close_before_its_last_activity() -> None:
    with pytest.raises(EngagementMustNotCloseBeforeItsLastActivity) as refused:
        when(given(set_goal(), log_session()), close(closed_on="2026-04-14"))
    assert refused.value.field == "closed_on"


def test_an_engagement_cannot_close_after_today() -> None:
    with pytest.raises(DateMustNotBeInTheFuture):
        when(given(), close(closed_on="2026-05-21"))


def test_goals_met_needs_every_goal_settled() -> None:
    state = given(set_goal(), set_goal(goal_id="g-2"), achieve_goal())

    with pytest.raises(GoalsMetMeansEveryGoalIsSettledAndOneAchieved) as refused:
        when(state, close(outcome="goals_met"))
    assert "engagement eng-1 has open goals (g-2)" in str(refused.value)


def test_goals_met_needs_at_least_one_goal_achieved() -> None:
    with pytest.raises(GoalsMetMeansEveryGoalIsSettledAndOneAchieved, match="0 achieved"):
        when(given(set_goal(), drop_goal()), close(outcome="goals_met"))


def test_goals_met_with_every_goal_achieved_or_dropped_is_recorded() -> None:
    state = given(set_goal(), set_goal(goal_id="g-2"), achieve_goal(), drop_goal(goal_id="g-2"))

    assert len(when(state, close(outcome="goals_met"))) == 1


def test_close_outcomes_are_a_closed_set() -> None:
    with pytest.raises(InvalidInput) as refused:
        close(outcome="cured")
    assert refused.value.field == "outcome"


def test_every_event_of_a_full_engagement_survives_a_round_trip_through_storage() -> None:
    commands: list[EngagementCommand] = [
        set_goal(),
        revise_goal(),
        log_session(),
        assign(),
        complete(),
        assign(homework_id="h-2", due_on="2026-04-16"),
        missed(homework_id="h-2"),
        note(),
        set_goal(goal_id="g-2"),
        drop_goal(goal_id="g-2"),
        achieve_goal(),
        raise_concern(),
        settle(),
        close(),
    ]
    state = fold([OPENED])
    recorded: list[DomainEvent] = []
    for command in commands:
        new = decide(state, command, TODAY)
        assert new, command
        recorded += new
        state = fold(new, state)

    assert fold([OPENED, *recorded]) == state
    for event in recorded:
        assert EVENT_TYPES.load(event.type, event.to_data()) == event
