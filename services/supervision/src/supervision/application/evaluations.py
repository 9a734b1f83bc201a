"""Competency evaluation use cases: read the streams a decision needs, decide, record."""

from __future__ import annotations

from infra.commands import Aggregate, CommandRunner, Done, UnitOfWork, UseCase
from supervision.application.handlers import SUPERVISEE
from supervision.domain import evaluation
from supervision.domain.evaluation import EvaluationState
from supervision.domain.evaluation_commands import AcknowledgeEvaluation, RecordEvaluation
from supervision.domain.evaluation_errors import EvaluationMustBeRecorded
from supervision.domain.evaluation_events import EVALUATION_EVENT_TYPES

EVALUATION = Aggregate(
    "evaluation",
    evaluation.INITIAL,
    evaluation.fold,
    EVALUATION_EVENT_TYPES,
    subject=lambda state: state.signed.supervisee_id if state.signed else None,
)


async def _record_evaluation(uow: UnitOfWork, command: RecordEvaluation) -> Done:
    """Records the supervisor's signed evaluation."""
    state = await uow.get(EVALUATION, command.evaluation_id, new=True)
    # Read, never written: the supervisee's agreements and the supervision they received.
    record = await uow.get(SUPERVISEE, command.supervisee_id)
    events = evaluation.decide_record(state, record, command, uow.today)
    uow.record(EVALUATION, command.evaluation_id, events)
    return Done()


async def _acknowledge_evaluation(uow: UnitOfWork, command: AcknowledgeEvaluation) -> Done:
    """Records the supervisee's acknowledgement."""
    state = await uow.get(EVALUATION, command.evaluation_id)
    events = evaluation.decide_acknowledge(state, command, uow.today)
    uow.record(EVALUATION, command.evaluation_id, events)
    return Done()


RECORD_EVALUATION = UseCase(Done, _record_evaluation)
ACKNOWLEDGE_EVALUATION = UseCase(Done, _acknowledge_evaluation)


async def get_evaluation(runner: CommandRunner, evaluation_id: str) -> EvaluationState:
    """A recorded evaluation as it stands; NotFound when there is none."""
    state, _ = await runner.state(EVALUATION, evaluation_id)
    if state.signed is None:
        raise EvaluationMustBeRecorded(evaluation_id)
    return state
