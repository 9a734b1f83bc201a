"""Command handlers: each loads the streams a decision needs, decides, and appends atomically."""

from __future__ import annotations

from dataclasses import dataclass

from infra.application import CommandContext, load
from infra.eventstore import EventStore, Translator
from supervision.domain import EVENT_TYPES, LogSession, SignAgreement, session, supervisee


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command did: False when it had already been recorded and changed nothing."""

    recorded: bool


async def sign_agreement(
    command: SignAgreement, ctx: CommandContext, store: EventStore, publish: Translator
) -> Outcome:
    record = await load(
        store, supervisee.stream_id(command.supervisee_id), supervisee.fold, EVENT_TYPES
    )
    events = supervisee.decide(record.state, command)
    if events:
        await store.append([record.append(events, ctx.now)], ctx.metadata, outbox=publish)
    return Outcome(recorded=bool(events))


async def log_session(
    command: LogSession, ctx: CommandContext, store: EventStore, publish: Translator
) -> Outcome:
    logged = await load(store, session.stream_id(command.session_id), session.fold, EVENT_TYPES)
    records = {
        supervisee_id: await load(
            store, supervisee.stream_id(supervisee_id), supervisee.fold, EVENT_TYPES
        )
        for supervisee_id in command.supervisee_ids
    }
    decision = session.decide_log_session(
        logged.state, {sid: r.state for sid, r in records.items()}, command, ctx.today
    )
    # Every stream read is appended to with the version it was read at: a concurrent change to
    # a supervisee's agreements makes this append fail rather than record a stale decision.
    loaded_by_stream = {logged.stream_id: logged} | {r.stream_id: r for r in records.values()}
    appends = [
        loaded_by_stream[stream].append(events, ctx.now)
        for stream, events in decision.events_by_stream.items()
    ]
    if appends:
        await store.append(appends, ctx.metadata, outbox=publish)
    return Outcome(recorded=not decision.already_recorded)
