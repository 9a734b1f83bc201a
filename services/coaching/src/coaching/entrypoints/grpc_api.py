"""The coaching gRPC API: wire messages in, commands to the handler, replies out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc

from coaching.application.handlers import RECORD, EngagementLookup, get_engagement
from coaching.domain import (
    AchieveGoal,
    AssignHomework,
    CloseEngagement,
    CompleteHomework,
    DropGoal,
    EngagementCommand,
    EngagementState,
    LogCoachingSession,
    MarkHomeworkMissed,
    OpenEngagement,
    RaiseConcern,
    RecordProgressNote,
    ReviseGoal,
    SetGoal,
)
from continuum.coaching.v1 import coaching_service_pb2 as pb
from continuum.coaching.v1 import coaching_service_pb2_grpc as pb_grpc
from infra.commands import CommandRunner
from infra.grpc.fields import date_field, enum_field
from infra.grpc.metadata import call_context
from infra.runtime import command_context

URGENCIES = {pb.CONCERN_URGENCY_ROUTINE: "routine", pb.CONCERN_URGENCY_URGENT: "urgent"}
OUTCOMES = {
    pb.ENGAGEMENT_OUTCOME_GOALS_MET: "goals_met",
    pb.ENGAGEMENT_OUTCOME_PARTIALLY_MET: "partially_met",
    pb.ENGAGEMENT_OUTCOME_GOALS_NOT_MET: "goals_not_met",
    pb.ENGAGEMENT_OUTCOME_CLIENT_WITHDREW: "client_withdrew",
    pb.ENGAGEMENT_OUTCOME_LOST_CONTACT: "lost_contact",
    pb.ENGAGEMENT_OUTCOME_REFERRED_TO_THERAPY: "referred_to_therapy",
}
PROGRESS = {
    pb.PROGRESS_SETBACK: "setback",
    pb.PROGRESS_NO_CHANGE: "no_change",
    pb.PROGRESS_SOME_PROGRESS: "some_progress",
    pb.PROGRESS_STRONG_PROGRESS: "strong_progress",
}


def _iso(date: dt.date | None) -> str:
    return "" if date is None else date.isoformat()


class CoachingApi(pb_grpc.CoachingServiceServicer):
    def __init__(self, runner: CommandRunner, clock: Callable[[], dt.datetime]) -> None:
        self._runner = runner
        self._clock = clock

    async def _record(self, command: EngagementCommand, context: grpc.aio.ServicerContext) -> bool:
        """Records the command; False when it had been recorded (or changed nothing)."""
        ctx = command_context(call_context(context), self._clock())
        return not (await self._runner.run(RECORD, command, ctx)).already_recorded

    async def OpenEngagement(
        self, request: pb.OpenEngagementRequest, context: grpc.aio.ServicerContext
    ) -> pb.OpenEngagementResponse:
        command = OpenEngagement(
            engagement_id=request.engagement_id,
            client_id=request.client_id,
            coach_id=request.coach_id,
            site_id=request.site_id,
            opened_on=date_field(request.opened_on, "opened_on"),
        )
        recorded = await self._record(command, context)
        return pb.OpenEngagementResponse(
            engagement_id=command.engagement_id, already_recorded=not recorded
        )

    async def RaiseConcern(
        self, request: pb.RaiseConcernRequest, context: grpc.aio.ServicerContext
    ) -> pb.RaiseConcernResponse:
        command = RaiseConcern(
            engagement_id=request.engagement_id,
            concern_id=request.concern_id,
            urgency=enum_field(request.urgency, "urgency", URGENCIES),
            raised_on=date_field(request.raised_on, "raised_on"),
        )
        recorded = await self._record(command, context)
        return pb.RaiseConcernResponse(concern_id=command.concern_id, already_recorded=not recorded)

    async def SetGoal(
        self, request: pb.SetGoalRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetGoalResponse:
        command = SetGoal(
            engagement_id=request.engagement_id,
            goal_id=request.goal_id,
            specific=request.specific,
            measure=request.measure,
            achievable=request.achievable,
            relevant=request.relevant,
            target_date=date_field(request.target_date, "target_date"),
            set_on=date_field(request.set_on, "set_on"),
        )
        recorded = await self._record(command, context)
        return pb.SetGoalResponse(goal_id=command.goal_id, already_recorded=not recorded)

    async def ReviseGoal(
        self, request: pb.ReviseGoalRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReviseGoalResponse:
        command = ReviseGoal(
            engagement_id=request.engagement_id,
            goal_id=request.goal_id,
            revision_id=request.revision_id,
            specific=request.specific,
            measure=request.measure,
            achievable=request.achievable,
            relevant=request.relevant,
            target_date=date_field(request.target_date, "target_date"),
            reason=request.reason,
            revised_on=date_field(request.revised_on, "revised_on"),
        )
        recorded = await self._record(command, context)
        return pb.ReviseGoalResponse(revision_id=command.revision_id, already_recorded=not recorded)

    async def AchieveGoal(
        self, request: pb.AchieveGoalRequest, context: grpc.aio.ServicerContext
    ) -> pb.AchieveGoalResponse:
        command = AchieveGoal(
            engagement_id=request.engagement_id,
            goal_id=request.goal_id,
            achieved_on=date_field(request.achieved_on, "achieved_on"),
        )
        recorded = await self._record(command, context)
        return pb.AchieveGoalResponse(goal_id=command.goal_id, already_recorded=not recorded)

    async def DropGoal(
        self, request: pb.DropGoalRequest, context: grpc.aio.ServicerContext
    ) -> pb.DropGoalResponse:
        command = DropGoal(
            engagement_id=request.engagement_id,
            goal_id=request.goal_id,
            reason=request.reason,
            dropped_on=date_field(request.dropped_on, "dropped_on"),
        )
        recorded = await self._record(command, context)
        return pb.DropGoalResponse(goal_id=command.goal_id, already_recorded=not recorded)

    async def LogCoachingSession(
        self, request: pb.LogCoachingSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.LogCoachingSessionResponse:
        command = LogCoachingSession(
            engagement_id=request.engagement_id,
            session_id=request.session_id,
            date=date_field(request.date, "date"),
            minutes=request.minutes,
            goal_ids=tuple(request.goal_ids),
        )
        recorded = await self._record(command, context)
        return pb.LogCoachingSessionResponse(
            session_id=command.session_id, already_recorded=not recorded
        )

    async def AssignHomework(
        self, request: pb.AssignHomeworkRequest, context: grpc.aio.ServicerContext
    ) -> pb.AssignHomeworkResponse:
        command = AssignHomework(
            engagement_id=request.engagement_id,
            homework_id=request.homework_id,
            goal_id=request.goal_id,
            task=request.task,
            assigned_on=date_field(request.assigned_on, "assigned_on"),
            due_on=date_field(request.due_on, "due_on"),
        )
        recorded = await self._record(command, context)
        return pb.AssignHomeworkResponse(
            homework_id=command.homework_id, already_recorded=not recorded
        )

    async def CompleteHomework(
        self, request: pb.CompleteHomeworkRequest, context: grpc.aio.ServicerContext
    ) -> pb.CompleteHomeworkResponse:
        command = CompleteHomework(
            engagement_id=request.engagement_id,
            homework_id=request.homework_id,
            completed_on=date_field(request.completed_on, "completed_on"),
        )
        recorded = await self._record(command, context)
        return pb.CompleteHomeworkResponse(
            homework_id=command.homework_id, already_recorded=not recorded
        )

    async def MarkHomeworkMissed(
        self, request: pb.MarkHomeworkMissedRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkHomeworkMissedResponse:
        command = MarkHomeworkMissed(
            engagement_id=request.engagement_id, homework_id=request.homework_id
        )
        recorded = await self._record(command, context)
        return pb.MarkHomeworkMissedResponse(
            homework_id=command.homework_id, already_recorded=not recorded
        )

    async def RecordProgressNote(
        self, request: pb.RecordProgressNoteRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordProgressNoteResponse:
        command = RecordProgressNote(
            engagement_id=request.engagement_id,
            note_id=request.note_id,
            written_on=date_field(request.written_on, "written_on"),
            progress=enum_field(request.progress, "progress", PROGRESS),
            summary=request.summary,
            session_id=request.session_id or None,
            goal_ids=tuple(request.goal_ids),
        )
        recorded = await self._record(command, context)
        return pb.RecordProgressNoteResponse(note_id=command.note_id, already_recorded=not recorded)

    async def CloseEngagement(
        self, request: pb.CloseEngagementRequest, context: grpc.aio.ServicerContext
    ) -> pb.CloseEngagementResponse:
        command = CloseEngagement(
            engagement_id=request.engagement_id,
            outcome=enum_field(request.outcome, "outcome", OUTCOMES),
            closed_on=date_field(request.closed_on, "closed_on"),
        )
        recorded = await self._record(command, context)
        return pb.CloseEngagementResponse(
            engagement_id=command.engagement_id, already_recorded=not recorded
        )

    async def GetEngagement(
        self, request: pb.GetEngagementRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetEngagementResponse:
        state = await get_engagement(
            EngagementLookup(engagement_id=request.engagement_id), self._runner
        )
        return _view(state)


def _view(state: EngagementState) -> pb.GetEngagementResponse:
    engagement = state.engagement
    assert engagement is not None  # get_engagement answers for opened engagements only
    return pb.GetEngagementResponse(
        engagement_id=engagement.engagement_id,
        client_id=engagement.client_id,
        coach_id=engagement.coach_id,
        site_id=engagement.site_id,
        opened_on=engagement.opened_on.isoformat(),
        status=state.status,
        referral_id=engagement.referral_id or "",
        outcome=state.closure.outcome if state.closure else "",
        closed_on=_iso(state.closure.closed_on if state.closure else None),
        goals=[
            pb.Goal(
                goal_id=goal.goal_id,
                status=goal.status,
                set_on=goal.set_on.isoformat(),
                target_date=goal.terms.target_date.isoformat(),
                revisions=len(goal.revisions),
                settled_on=_iso(goal.settled_on),
            )
            for goal in state.goals
        ],
        homework=[
            pb.Homework(
                homework_id=homework.homework_id,
                goal_id=homework.goal_id,
                status=homework.status,
                assigned_on=homework.assigned_on.isoformat(),
                due_on=homework.due_on.isoformat(),
                completed_on=_iso(homework.completed_on),
            )
            for homework in state.homework
        ],
        sessions=[
            pb.CoachingSession(
                session_id=session.session_id,
                date=session.date.isoformat(),
                minutes=session.minutes,
                goal_ids=list(session.goal_ids),
            )
            for session in state.sessions
        ],
        concerns=[
            pb.Concern(
                concern_id=concern.concern_id,
                urgency=concern.urgency,
                raised_on=concern.raised_on.isoformat(),
                status=concern.status,
                referral_id=concern.referral_id or "",
                recommendation=concern.recommendation or "",
            )
            for concern in state.concerns
        ],
        progress_notes=len(state.notes),
    )
