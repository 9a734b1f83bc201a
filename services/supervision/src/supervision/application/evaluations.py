"""Competency evaluation handlers: load the streams a decision needs, decide, append."""

from __future__ import annotations

from infra.application import CommandContext, load
from infra.eventstore import EventStore, Translator
from supervision.domain import evaluation, supervisee
from supervision.domain.evaluation import EvaluationState
from supervision.domain.evaluation_commands import AcknowledgeEvaluation, RecordEvaluation
from supervision.domain.evaluation_errors import EvaluationMustBeRecorded
from supervision.domain.evaluation_events import EVALUATION_EVENT_TYPES
from supervision.domain.events import EVENT_TYPES as SUPERVISEE_EVENT_TYPES


async def record_evaluation(
    command: RecordEvaluation, ctx: CommandContext, store: EventStore, publish: Translator
) -> bool:
    """Records the supervisor's signed evaluation; False when it was already recorded."""
    loaded = await load(
        store, evaluation.stream_id(command.evaluation_id), evaluation.fold, EVALUATION_EVENT_TYPES
    )
    # Read, never written: the supervisee's agreements and the supervision they received.
    record = await load(
        store, supervisee.stream_id(command.supervisee_id), supervisee.fold, SUPERVISEE_EVENT_TYPES
    )
    events = evaluation.decide_record(loaded.state, record.state, command, ctx.today)
    if events:
        await store.append([loaded.append(events, ctx.now)], ctx.metadata, outbox=publish)
    return bool(events)


async def acknowledge_evaluation(
    command: AcknowledgeEvaluation, ctx: CommandContext, store: EventStore, publish: Translator
) -> bool:
    """Records the supervisee's acknowledgement; False when it was already recorded."""
    loaded = await load(
        store, evaluation.stream_id(command.evaluation_id), evaluation.fold, EVALUATION_EVENT_TYPES
    )
    events = evaluation.decide_acknowledge(loaded.state, command, ctx.today)
    if events:
        await store.append([loaded.append(events, ctx.now)], ctx.metadata, outbox=publish)
    return bool(events)


async def get_evaluation(store: EventStore, evaluation_id: str) -> EvaluationState:
    """A recorded evaluation as it stands; NotFound when there is none."""
    loaded = await load(
        store, evaluation.stream_id(evaluation_id), evaluation.fold, EVALUATION_EVENT_TYPES
    )
    if loaded.state.signed is None:
        raise EvaluationMustBeRecorded(evaluation_id)
    return loaded.state
