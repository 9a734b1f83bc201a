"""End to end: every CoachingService RPC over a real socket, and the referral loop's answers
(published to Kafka here as the referral service would) resuming and opening engagements."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from coaching.domain.policy import engagement_id_for_referral
from continuum.coaching.v1 import coaching_service_pb2 as pb
from contracts.events import EventContract, ReferralAccepted, ReferralCompleted
from contracts.topics import COACHING_EVENTS
from infra.devstack import Stack
from infra.eventstore import OutboxMessage
from infra.messaging.cloudevents import decode
from tests.e2e.support import Stubs, as_published, eventually, invalid_field, unique
from tests.e2e.support import publish as publish_as_producer

pytestmark = pytest.mark.e2e

SITE = "site-austin"
TODAY = dt.datetime.now(dt.UTC).date()


def day(offset: int) -> str:
    """An ISO date `offset` days from today (negative: in the past)."""
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def refused(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


class Coach:
    """A coach's app: one engagement at a time, unique ids, dates relative to today."""

    def __init__(self, stubs: Stubs) -> None:
        self.api = stubs.coaching

    def open(self, engagement_id: str | None = None, opened_on: str = day(-60)) -> str:
        engagement_id = engagement_id or unique("eng")
        self.api.OpenEngagement(
            pb.OpenEngagementRequest(
                engagement_id=engagement_id,
                client_id=unique("client"),
                coach_id="coach-e2e",
                site_id=SITE,
                opened_on=opened_on,
            ),
            timeout=10,
        )
        return engagement_id

    def goal(self, engagement_id: str, goal_id: str = "g-1", **fields: Any) -> pb.SetGoalResponse:
        request = {
            "engagement_id": engagement_id,
            "goal_id": goal_id,
            "specific": "Apply to three jobs a week",
            "measure": "applications sent, counted each Friday",
            "achievable": "CV ready; library computers",
            "relevant": "wants to move out by autumn",
            "target_date": day(60),
            "set_on": day(-50),
        }
        return self.api.SetGoal(pb.SetGoalRequest(**(request | fields)), timeout=10)

    def session(
        self, engagement_id: str, session_id: str = "s-1", **fields: Any
    ) -> pb.LogCoachingSessionResponse:
        request: dict[str, Any] = {
            "engagement_id": engagement_id,
            "session_id": session_id,
            "date": day(-40),
            "minutes": 50,
            "goal_ids": ["g-1"],
        }
        return self.api.LogCoachingSession(
            pb.LogCoachingSessionRequest(**(request | fields)), timeout=10
        )

    def homework(
        self, engagement_id: str, homework_id: str = "h-1", **fields: Any
    ) -> pb.AssignHomeworkResponse:
        request = {
            "engagement_id": engagement_id,
            "homework_id": homework_id,
            "goal_id": "g-1",
            "task": "draft two cover letters",
            "assigned_on": day(-40),
            "due_on": day(-33),
        }
        return self.api.AssignHomework(pb.AssignHomeworkRequest(**(request | fields)), timeout=10)

    def concern(self, engagement_id: str, raised_on: str = day(-20)) -> pb.RaiseConcernResponse:
        return self.api.RaiseConcern(
            pb.RaiseConcernRequest(
                engagement_id=engagement_id,
                concern_id=unique("concern"),
                urgency=pb.CONCERN_URGENCY_URGENT,
                raised_on=raised_on,
            ),
            timeout=10,
        )

    def view(self, engagement_id: str) -> pb.GetEngagementResponse:
        return self.api.GetEngagement(
            pb.GetEngagementRequest(engagement_id=engagement_id), timeout=10
        )


@pytest.fixture
def coach(stubs: Stubs) -> Coach:
    return Coach(stubs)


# Engagements


def test_open_engagement_records_it_once_and_refuses_a_reused_id(coach: Coach) -> None:
    engagement_id = unique("eng")
    request = pb.OpenEngagementRequest(
        engagement_id=engagement_id,
        client_id="client-e2e-1",
        coach_id="coach-e2e",
        site_id=SITE,
        opened_on=day(-1),
    )

    assert not coach.api.OpenEngagement(request, timeout=10).already_recorded
    assert coach.api.OpenEngagement(request, timeout=10).already_recorded
    other = pb.OpenEngagementRequest(
        engagement_id=engagement_id,
        client_id="client-e2e-2",
        coach_id="coach-e2e",
        site_id=SITE,
        opened_on=day(-1),
    )
    assert refused(lambda: coach.api.OpenEngagement(other)).code() == (
        grpc.StatusCode.ALREADY_EXISTS
    )
    view = coach.view(engagement_id)
    assert (view.status, view.client_id, view.opened_on) == ("active", "client-e2e-1", day(-1))


@pytest.mark.parametrize(
    ("change", "field"),
    [({"opened_on": day(1)}, "opened_on"), ({"client_id": "Jane Doe"}, "client_id")],
)
def test_open_engagement_with_a_bad_field_is_invalid_argument_naming_it(
    coach: Coach, change: dict[str, str], field: str
) -> None:
    request = {
        "engagement_id": unique("eng"),
        "client_id": "client-e2e",
        "coach_id": "coach-e2e",
        "site_id": SITE,
        "opened_on": day(-1),
    }
    error = refused(
        lambda: coach.api.OpenEngagement(pb.OpenEngagementRequest(**(request | change)))
    )
    assert invalid_field(error) == field


def test_get_engagement_of_an_unknown_or_malformed_id(coach: Coach) -> None:
    unknown = refused(lambda: coach.view(unique("eng")))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    assert invalid_field(refused(lambda: coach.view("has spaces"))) == "engagement_id"


# Goals


def test_set_goal_records_a_smart_goal_and_refuses_one_not_time_bound(coach: Coach) -> None:
    engagement_id = coach.open()

    assert not coach.goal(engagement_id).already_recorded
    assert coach.goal(engagement_id).already_recorded
    late = refused(lambda: coach.goal(engagement_id, "g-2", target_date=day(-50)))
    assert invalid_field(late) == "target_date"
    (goal,) = coach.view(engagement_id).goals
    assert (goal.goal_id, goal.status, goal.target_date) == ("g-1", "open", day(60))


def test_revise_goal_replaces_the_terms_and_an_unknown_goal_is_not_found(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)
    revision = {
        "engagement_id": engagement_id,
        "goal_id": "g-1",
        "revision_id": "rev-1",
        "specific": "Apply to two jobs a week",
        "measure": "applications sent",
        "achievable": "CV ready",
        "relevant": "move out by autumn",
        "target_date": day(90),
        "reason": "three a week left no time for interviews",
        "revised_on": day(-45),
    }

    reply = coach.api.ReviseGoal(pb.ReviseGoalRequest(**revision), timeout=10)
    assert (reply.revision_id, reply.already_recorded) == ("rev-1", False)
    assert coach.api.ReviseGoal(pb.ReviseGoalRequest(**revision), timeout=10).already_recorded
    unknown = refused(
        lambda: coach.api.ReviseGoal(pb.ReviseGoalRequest(**(revision | {"goal_id": "g-9"})))
    )
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    (goal,) = coach.view(engagement_id).goals
    assert (goal.revisions, goal.target_date) == (1, day(90))


def test_achieve_goal_settles_it_and_it_then_cannot_be_dropped(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)
    achieve = pb.AchieveGoalRequest(engagement_id=engagement_id, goal_id="g-1", achieved_on=day(-5))

    assert not coach.api.AchieveGoal(achieve, timeout=10).already_recorded
    assert coach.api.AchieveGoal(achieve, timeout=10).already_recorded
    drop = pb.DropGoalRequest(
        engagement_id=engagement_id, goal_id="g-1", reason="changed plans", dropped_on=day(-4)
    )
    error = refused(lambda: coach.api.DropGoal(drop))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"goal g-1 is achieved on {day(-5)}" in str(error.details())
    (goal,) = coach.view(engagement_id).goals
    assert (goal.status, goal.settled_on) == ("achieved", day(-5))


def test_drop_goal_needs_a_reason(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)
    drop = {"engagement_id": engagement_id, "goal_id": "g-1", "dropped_on": day(-4)}

    error = refused(lambda: coach.api.DropGoal(pb.DropGoalRequest(**drop, reason="")))
    assert invalid_field(error) == "reason"
    reply = coach.api.DropGoal(pb.DropGoalRequest(**drop, reason="client chose college"))
    assert not reply.already_recorded
    assert coach.view(engagement_id).goals[0].status == "dropped"


# Sessions, homework, notes


def test_log_coaching_session_records_it_and_checks_its_length(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)

    assert not coach.session(engagement_id).already_recorded
    assert coach.session(engagement_id).already_recorded
    assert invalid_field(refused(lambda: coach.session(engagement_id, "s-2", minutes=1))) == (
        "minutes"
    )
    (session,) = coach.view(engagement_id).sessions
    assert (session.date, session.minutes, list(session.goal_ids)) == (day(-40), 50, ["g-1"])


def test_assign_homework_records_it_and_refuses_a_due_date_before_it(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)

    assert not coach.homework(engagement_id).already_recorded
    error = refused(lambda: coach.homework(engagement_id, "h-2", due_on=day(-41)))
    assert invalid_field(error) == "due_on"
    (homework,) = coach.view(engagement_id).homework
    assert (homework.status, homework.due_on) == ("assigned", day(-33))


def test_complete_homework_records_it_once(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)
    coach.homework(engagement_id)
    done = pb.CompleteHomeworkRequest(
        engagement_id=engagement_id, homework_id="h-1", completed_on=day(-35)
    )

    assert not coach.api.CompleteHomework(done, timeout=10).already_recorded
    assert coach.api.CompleteHomework(done, timeout=10).already_recorded
    homework = coach.view(engagement_id).homework[0]
    assert (homework.status, homework.completed_on) == ("completed", day(-35))
    unknown = pb.CompleteHomeworkRequest(
        engagement_id=engagement_id, homework_id="h-9", completed_on=day(-35)
    )
    assert refused(lambda: coach.api.CompleteHomework(unknown)).code() == (
        grpc.StatusCode.NOT_FOUND
    )


def test_mark_homework_missed_only_once_it_is_past_due(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)
    coach.homework(engagement_id)
    coach.homework(engagement_id, "h-2", assigned_on=day(-2), due_on=day(5))

    past_due = pb.MarkHomeworkMissedRequest(engagement_id=engagement_id, homework_id="h-1")
    assert not coach.api.MarkHomeworkMissed(past_due, timeout=10).already_recorded
    assert coach.api.MarkHomeworkMissed(past_due, timeout=10).already_recorded
    not_yet = pb.MarkHomeworkMissedRequest(engagement_id=engagement_id, homework_id="h-2")
    error = refused(lambda: coach.api.MarkHomeworkMissed(not_yet))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "only after its due date" in str(error.details())
    assert [h.status for h in coach.view(engagement_id).homework] == ["missed", "assigned"]


def test_record_progress_note_records_it_and_requires_a_progress_reading(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)
    coach.session(engagement_id)
    note: dict[str, Any] = {
        "engagement_id": engagement_id,
        "note_id": "n-1",
        "written_on": day(-40),
        "summary": "Sent two applications; practising the interview opening.",
        "session_id": "s-1",
        "goal_ids": ["g-1"],
    }

    reply = coach.api.RecordProgressNote(
        pb.RecordProgressNoteRequest(**note, progress=pb.PROGRESS_SOME_PROGRESS), timeout=10
    )
    assert (reply.note_id, reply.already_recorded) == ("n-1", False)
    error = refused(
        lambda: coach.api.RecordProgressNote(
            pb.RecordProgressNoteRequest(**(note | {"note_id": "n-2"}))
        )
    )
    assert invalid_field(error) == "progress"
    assert coach.view(engagement_id).progress_notes == 1


# Concerns, pauses, closing


def test_raise_concern_pauses_coaching_until_therapy_answers(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)

    assert not coach.concern(engagement_id).already_recorded

    view = coach.view(engagement_id)
    assert view.status == "paused"
    assert [c.status for c in view.concerns] == ["open"]
    error = refused(lambda: coach.session(engagement_id, date=day(-10)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"is paused since {day(-20)}" in str(error.details())
    again = refused(lambda: coach.concern(engagement_id, raised_on=day(-10)))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused(lambda: coach.concern(unique("eng"))).code() == grpc.StatusCode.NOT_FOUND


def test_close_engagement_records_the_outcome_and_then_accepts_nothing_more(coach: Coach) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)
    coach.session(engagement_id)
    close = pb.CloseEngagementRequest(
        engagement_id=engagement_id,
        outcome=pb.ENGAGEMENT_OUTCOME_PARTIALLY_MET,
        closed_on=day(-1),
    )
    unspecified = pb.CloseEngagementRequest(engagement_id=engagement_id, closed_on=day(-1))
    assert invalid_field(refused(lambda: coach.api.CloseEngagement(unspecified))) == "outcome"
    goals_met = pb.CloseEngagementRequest(
        engagement_id=engagement_id, outcome=pb.ENGAGEMENT_OUTCOME_GOALS_MET, closed_on=day(-1)
    )
    assert refused(lambda: coach.api.CloseEngagement(goals_met)).code() == (
        grpc.StatusCode.FAILED_PRECONDITION
    )

    assert not coach.api.CloseEngagement(close, timeout=10).already_recorded
    assert coach.api.CloseEngagement(close, timeout=10).already_recorded

    error = refused(lambda: coach.session(engagement_id, "s-2", date=day(-1)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"is closed (partially_met on {day(-1)})" in str(error.details())
    view = coach.view(engagement_id)
    assert (view.status, view.outcome, view.closed_on) == ("closed", "partially_met", day(-1))


# The referral loop's answers, as the referral service publishes them


def _message(event: EventContract) -> OutboxMessage:
    return as_published(
        event,
        subject=f"referral-{event.key()}",
        correlation_id="e2e-coaching",
        actor="therapist-e2e",
    )


def publish(stack: Stack, *events: EventContract, times: int = 1) -> None:
    """Publishes each event `times` times, each under a new event id (a re-published log)."""
    publish_as_producer(stack, *(_message(event) for event in events for _ in range(times)))


async def _published_by_coaching(bootstrap: str, key: str, seconds: float) -> list[str]:
    """The types coaching published for one engagement, read from its topic for `seconds`."""
    consumer = AIOKafkaConsumer(
        COACHING_EVENTS.name,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[str] = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key == key.encode():
                        event = decode(record.key, record.value, record.headers)
                        found.append(event.ce_type.split(".")[2])
    finally:
        await consumer.stop()
    return found


def published_by_coaching(stack: Stack, engagement_id: str, seconds: float = 5) -> list[str]:
    assert stack.bootstrap_servers is not None
    return asyncio.run(_published_by_coaching(stack.bootstrap_servers, engagement_id, seconds))


def completion(engagement_id: str, recommendation: str) -> ReferralCompleted:
    return ReferralCompleted(
        referral_id=unique("ref"),
        client_id="client-e2e",
        from_service="coaching",
        to_service="therapy",
        source=f"coaching-concern/{unique('concern')}",
        origin=f"coaching-engagement/{engagement_id}",
        completed_by="therapist-e2e",
        completed_on=dt.date.fromisoformat(day(-5)),
        outcome="stabilised",
        feedback="ready for coaching again",
        recommendation=recommendation,
    )


def test_a_referral_completed_with_resume_coaching_resumes_the_engagement_once(
    stack: Stack, coach: Coach
) -> None:
    engagement_id = coach.open()
    coach.goal(engagement_id)
    coach.concern(engagement_id)

    publish(stack, completion(engagement_id, "resume_coaching"), times=2)

    view = eventually(lambda: coach.view(engagement_id), lambda v: v.status == "active")
    assert [(c.status, c.recommendation) for c in view.concerns] == [("settled", "resume_coaching")]
    # Coaching goes on from the day it resumed; the pause stays closed to sessions.
    assert not coach.session(engagement_id, "s-after", date=day(-5)).already_recorded
    inside = refused(lambda: coach.session(engagement_id, "s-inside", date=day(-10)))
    assert inside.code() == grpc.StatusCode.FAILED_PRECONDITION
    published = published_by_coaching(stack, engagement_id)
    assert published.count("EngagementResumed") == 1


def test_a_referral_completed_without_resume_leaves_it_paused_until_closed(
    stack: Stack, coach: Coach
) -> None:
    engagement_id = coach.open()
    coach.concern(engagement_id)

    publish(stack, completion(engagement_id, "continue_in_therapy"))

    view = eventually(
        lambda: coach.view(engagement_id), lambda v: v.concerns[0].status == "settled"
    )
    assert (view.status, view.concerns[0].recommendation) == ("paused", "continue_in_therapy")
    close = pb.CloseEngagementRequest(
        engagement_id=engagement_id,
        outcome=pb.ENGAGEMENT_OUTCOME_REFERRED_TO_THERAPY,
        closed_on=day(-1),
    )
    assert not coach.api.CloseEngagement(close, timeout=10).already_recorded


def test_a_referral_to_coaching_accepted_opens_an_engagement_once(
    stack: Stack, coach: Coach
) -> None:
    referral_id = unique("ref")
    accepted = ReferralAccepted(
        referral_id=referral_id,
        client_id="client-e2e-therapy",
        site_id=SITE,
        from_service="therapy",
        to_service="coaching",
        accepted_by="coach-e2e-2",
        accepted_on=dt.date.fromisoformat(day(-2)),
        source="therapy-case/t-e2e",
        origin=None,
    )
    engagement_id = engagement_id_for_referral(referral_id)

    publish(stack, accepted, times=2)

    view = eventually(
        lambda: _view_or_none(coach, engagement_id), lambda v: v is not None, timeout=60
    )
    assert view is not None
    assert (view.status, view.referral_id, view.coach_id, view.client_id, view.opened_on) == (
        "active",
        referral_id,
        "coach-e2e-2",
        "client-e2e-therapy",
        day(-2),
    )
    # The coach takes it from there like any engagement.
    assert not coach.goal(engagement_id, set_on=day(-1)).already_recorded
    assert published_by_coaching(stack, engagement_id).count("EngagementOpened") == 1


def _view_or_none(coach: Coach, engagement_id: str) -> pb.GetEngagementResponse | None:
    try:
        return coach.view(engagement_id)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
