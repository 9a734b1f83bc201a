"""What coaching publishes (ids, dates, statuses; never free text) and how its API maps the wire
onto the domain."""

from __future__ import annotations

import datetime as dt
from typing import Any, get_args

import pytest

from coaching.adapters.publishing import translate
from coaching.application.handlers import RECORD, EngagementLookup, get_engagement
from coaching.domain import (
    AchieveGoal,
    AssignHomework,
    CloseEngagement,
    CompleteHomework,
    DropGoal,
    LogCoachingSession,
    MarkHomeworkMissed,
    OpenEngagement,
    RaiseConcern,
    RecordProgressNote,
    ReviseGoal,
    SetGoal,
    SettleConcern,
)
from coaching.domain.engagement import EngagementCommand
from coaching.domain.errors import EngagementMustExist
from coaching.domain.values import EngagementOutcome, Progress
from coaching.entrypoints.grpc_api import OUTCOMES, PROGRESS, URGENCIES
from continuum.coaching.v1 import coaching_service_pb2 as pb
from contracts.events import REGISTRY
from contracts.topics import COACHING_EVENTS
from infra.application import CommandContext
from infra.commands import CommandRunner, InMemoryUnitStore
from infra.ddd import InvalidInput
from infra.eventstore import EventMetadata
from infra.security.crypto import memory_keyring

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC)
CTX = CommandContext(now=NOW, metadata=EventMetadata(correlation_id="test", actor="coach-1"))
E = "eng-1"

# Free text a coach wrote, each word unique so a leak is easy to spot.
SECRETS = {
    "specific": "Specificzebra",
    "measure": "Measureyak",
    "achievable": "Achievablewombat",
    "relevant": "Relevantvole",
    "reason": "Reasonquokka",
    "task": "Taskmarmot",
    "summary": "Summaryokapi",
}

STORY: list[EngagementCommand] = [
    OpenEngagement(
        engagement_id=E,
        client_id="client-7f3a",
        coach_id="coach-1",
        site_id="site-a",
        opened_on=dt.date(2026, 4, 1),
    ),
    SetGoal(
        engagement_id=E,
        goal_id="g-1",
        specific=SECRETS["specific"],
        measure=SECRETS["measure"],
        achievable=SECRETS["achievable"],
        relevant=SECRETS["relevant"],
        target_date=dt.date(2026, 7, 1),
        set_on=dt.date(2026, 4, 8),
    ),
    ReviseGoal(
        engagement_id=E,
        goal_id="g-1",
        revision_id="rev-1",
        specific=SECRETS["specific"],
        measure=SECRETS["measure"],
        achievable=SECRETS["achievable"],
        relevant=SECRETS["relevant"],
        target_date=dt.date(2026, 8, 1),
        reason=SECRETS["reason"],
        revised_on=dt.date(2026, 4, 10),
    ),
    LogCoachingSession(
        engagement_id=E, session_id="s-1", date=dt.date(2026, 4, 15), minutes=50, goal_ids=("g-1",)
    ),
    AssignHomework(
        engagement_id=E,
        homework_id="h-1",
        goal_id="g-1",
        task=SECRETS["task"],
        assigned_on=dt.date(2026, 4, 15),
        due_on=dt.date(2026, 4, 22),
    ),
    CompleteHomework(engagement_id=E, homework_id="h-1", completed_on=dt.date(2026, 4, 20)),
    AssignHomework(
        engagement_id=E,
        homework_id="h-2",
        goal_id="g-1",
        task=SECRETS["task"],
        assigned_on=dt.date(2026, 4, 15),
        due_on=dt.date(2026, 4, 22),
    ),
    MarkHomeworkMissed(engagement_id=E, homework_id="h-2"),
    RecordProgressNote(
        engagement_id=E,
        note_id="n-1",
        written_on=dt.date(2026, 4, 15),
        progress="some_progress",
        summary=SECRETS["summary"],
        session_id="s-1",
    ),
    SetGoal(
        engagement_id=E,
        goal_id="g-2",
        specific=SECRETS["specific"],
        measure=SECRETS["measure"],
        achievable=SECRETS["achievable"],
        relevant=SECRETS["relevant"],
        target_date=dt.date(2026, 7, 1),
        set_on=dt.date(2026, 4, 8),
    ),
    DropGoal(
        engagement_id=E, goal_id="g-2", reason=SECRETS["reason"], dropped_on=dt.date(2026, 4, 29)
    ),
    AchieveGoal(engagement_id=E, goal_id="g-1", achieved_on=dt.date(2026, 5, 1)),
    RaiseConcern(
        engagement_id=E, concern_id="con-1", urgency="urgent", raised_on=dt.date(2026, 5, 2)
    ),
    SettleConcern(
        engagement_id=E,
        referral_id="ref-1",
        completed_on=dt.date(2026, 5, 9),
        recommendation="resume_coaching",
    ),
    CloseEngagement(engagement_id=E, outcome="goals_met", closed_on=dt.date(2026, 5, 19)),
]


class Played:
    """The story recorded through the command runner, in memory."""

    def __init__(self) -> None:
        self.units = InMemoryUnitStore(translate, now=lambda: NOW)
        self.runner = CommandRunner(self.units, memory_keyring())
        self.store = self.units.events
        self.published = self.store.published

    async def handle(self, command: EngagementCommand) -> bool:
        """Records the command; False when it had been recorded already."""
        return not (await self.runner.run(RECORD, command, CTX)).already_recorded


async def _played() -> Played:
    played = Played()
    for command in STORY:
        assert await played.handle(command), command
    return played


async def test_every_command_of_an_engagement_publishes_ids_dates_and_statuses_only() -> None:
    store = await _played()

    published = [(m.ce_type.split(".")[2], m.key) for m in store.published]
    assert published == [
        ("EngagementOpened", E),
        ("CoachingGoalSet", E),
        ("CoachingGoalRevised", E),
        ("CoachingSessionHeld", E),
        ("CoachingHomeworkAssigned", E),
        ("CoachingHomeworkCompleted", E),
        ("CoachingHomeworkAssigned", E),
        ("CoachingHomeworkMissed", E),
        ("CoachingProgressNoteRecorded", E),
        ("CoachingGoalSet", E),
        ("CoachingGoalDropped", E),
        ("CoachingGoalAchieved", E),
        ("CoachingConcernRaised", E),
        ("EngagementResumed", E),
        ("EngagementClosed", E),
    ]
    for message in store.published:
        assert message.source == COACHING_EVENTS.source
        assert message.topic == "continuum.coaching.events"
        # Every published message parses by its registered schema.
        REGISTRY[message.ce_type].model_validate(message.data)
        text = repr(dict(message.data))
        for secret in SECRETS.values():
            assert secret not in text, (message.ce_type, secret)
        assert "progress" not in message.data


async def test_the_pause_and_therapys_answer_stay_inside_the_service() -> None:
    store = await _played()

    private = [e.type for e in await store.store.read_all() if translate(e) is None]

    assert private == ["EngagementPaused", "ConcernSettled"]


async def test_a_retried_command_records_and_publishes_nothing() -> None:
    store = await _played()
    before = len(store.published)

    for command in STORY:
        assert await store.handle(command) is False

    assert len(store.published) == before


async def test_the_engagement_view_reflects_the_story() -> None:
    store = await _played()

    state = await get_engagement(EngagementLookup(engagement_id=E), store.runner)

    assert state.status == "closed"
    assert [g.status for g in state.goals] == ["achieved", "dropped"]
    assert [h.status for h in state.homework] == ["completed", "missed"]


async def test_an_engagement_never_opened_is_not_found() -> None:
    with pytest.raises(EngagementMustExist):
        await get_engagement(EngagementLookup(engagement_id="nope"), Played().runner)


def test_an_engagement_lookup_names_a_malformed_id() -> None:
    with pytest.raises(InvalidInput) as refused:
        EngagementLookup(engagement_id="")
    assert refused.value.field == "engagement_id"


@pytest.mark.parametrize(
    ("enum", "mapping", "values"),
    [
        (pb.EngagementOutcome, OUTCOMES, get_args(EngagementOutcome)),
        (pb.Progress, PROGRESS, get_args(Progress)),
        (pb.ConcernUrgency, URGENCIES, ("routine", "urgent")),
    ],
)
def test_every_wire_enum_value_but_unspecified_maps_onto_the_domain(
    enum: Any, mapping: dict[int, str], values: tuple[str, ...]
) -> None:
    numbers = {number for name, number in enum.items() if not name.endswith("_UNSPECIFIED")}
    assert set(mapping) == numbers
    assert sorted(mapping.values()) == sorted(values)


def test_the_progress_note_message_has_no_clinical_field() -> None:
    fields = pb.RecordProgressNoteRequest.DESCRIPTOR.fields_by_name
    for name in fields:
        assert "diagnos" not in name
        assert "treat" not in name
        assert "symptom" not in name
