"""Consultation use cases: read the consultation's stream, decide, record."""

from __future__ import annotations

from infra.commands import Aggregate, CommandRunner, Done, UnitOfWork, UseCase
from supervision.domain import consultation
from supervision.domain.consultation import (
    CONSULTATION_EVENT_TYPES,
    ConsultationLogged,
    ConsultationMustBeLogged,
    LogConsultation,
)

CONSULTATION = Aggregate(
    "consultation", consultation.INITIAL, consultation.fold, CONSULTATION_EVENT_TYPES
)


async def _log_consultation(uow: UnitOfWork, command: LogConsultation) -> Done:
    """Logs a consultation (which never counts toward licensure)."""
    state = await uow.get(CONSULTATION, command.consultation_id, new=True)
    events = consultation.decide(state, command, uow.today)
    uow.record(CONSULTATION, command.consultation_id, events)
    return Done()


LOG_CONSULTATION = UseCase(Done, _log_consultation)


async def get_consultation(runner: CommandRunner, consultation_id: str) -> ConsultationLogged:
    """A logged consultation; NotFound when there is none."""
    state, _ = await runner.state(CONSULTATION, consultation_id)
    if state.logged is None:
        raise ConsultationMustBeLogged(consultation_id)
    return state.logged
