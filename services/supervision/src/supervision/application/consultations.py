"""Consultation handlers: load the consultation's stream, decide, append."""

from __future__ import annotations

from infra.application import CommandContext, load
from infra.eventstore import EventStore, Translator
from supervision.domain import consultation
from supervision.domain.consultation import (
    CONSULTATION_EVENT_TYPES,
    ConsultationLogged,
    ConsultationMustBeLogged,
    LogConsultation,
)


async def log_consultation(
    command: LogConsultation, ctx: CommandContext, store: EventStore, publish: Translator
) -> bool:
    """Logs a consultation; False when it was already logged."""
    loaded = await load(
        store,
        consultation.stream_id(command.consultation_id),
        consultation.fold,
        CONSULTATION_EVENT_TYPES,
    )
    events = consultation.decide(loaded.state, command, ctx.today)
    if events:
        await store.append([loaded.append(events, ctx.now)], ctx.metadata, outbox=publish)
    return bool(events)


async def get_consultation(store: EventStore, consultation_id: str) -> ConsultationLogged:
    """A logged consultation; NotFound when there is none."""
    loaded = await load(
        store, consultation.stream_id(consultation_id), consultation.fold, CONSULTATION_EVENT_TYPES
    )
    if loaded.state.logged is None:
        raise ConsultationMustBeLogged(consultation_id)
    return loaded.state.logged
