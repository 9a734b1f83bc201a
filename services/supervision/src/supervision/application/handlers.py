"""Command handlers: each loads the streams a decision needs, decides, and appends atomically.

Every stream read is appended to with the version it was read at, so a concurrent change makes
the append fail (ConcurrencyError) rather than record a stale decision. A staff command then
reads and decides again, a few times, before giving up (gRPC ABORTED); so does a consumed
license fact, inside the consumer's transaction (which the consumer itself retries as a whole if
that transaction can no longer be used).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from infra.application import CommandContext, Loaded, load
from infra.eventstore import ConcurrencyError, EventStore, Translator
from supervision.domain import (
    EVENT_TYPES,
    AmendSession,
    Decision,
    LicenseChange,
    LogSession,
    SessionState,
    SuperviseeCommand,
    SuperviseeState,
    SupervisorState,
    Tracks,
    VoidSession,
    session,
    standing,
    supervisee,
    supervisor,
)
from supervision.domain.errors import SuperviseeMustBeOnRecord

T = TypeVar("T")

# How often a staff command is decided again when another command changed a stream it read.
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command did: False when it had already been recorded and changed nothing."""

    recorded: bool
    # For session commands: whether the session is marked for a supervisor lapse.
    lapse_marked: bool = False


async def _retrying(attempt: Callable[[], Awaitable[T]]) -> T:
    for remaining in reversed(range(ATTEMPTS)):
        try:
            return await attempt()
        except ConcurrencyError:
            if not remaining:
                raise
    raise AssertionError("unreachable")


async def _load_supervisee(store: EventStore, supervisee_id: str) -> Loaded[SuperviseeState]:
    return await load(store, supervisee.stream_id(supervisee_id), supervisee.fold, EVENT_TYPES)


async def _load_session(store: EventStore, session_id: str) -> Loaded[SessionState]:
    return await load(store, session.stream_id(session_id), session.fold, EVENT_TYPES)


async def _load_supervisor(store: EventStore, supervisor_id: str) -> Loaded[SupervisorState]:
    return await load(store, supervisor.stream_id(supervisor_id), supervisor.fold, EVENT_TYPES)


async def _record(
    decision: Decision,
    loaded: Mapping[str, Loaded[Any]],
    ctx: CommandContext,
    store: EventStore,
    publish: Translator,
    conn: AsyncConnection | None = None,
) -> None:
    appends = [
        loaded[stream].append(events, ctx.now)
        for stream, events in decision.events_by_stream.items()
        if events
    ]
    if appends:
        await store.append(appends, ctx.metadata, outbox=publish, conn=conn)


async def decide_for_supervisee(
    command: SuperviseeCommand,
    ctx: CommandContext,
    store: EventStore,
    publish: Translator,
    tracks: Tracks,
) -> Outcome:
    """Registration, transfers, agreements, practice hours and month sign-offs: each decided on
    the supervisee's own stream."""

    async def attempt() -> Outcome:
        record = await _load_supervisee(store, command.supervisee_id)
        events = supervisee.decide(record.state, command, ctx.today, tracks)
        if events:
            await store.append([record.append(events, ctx.now)], ctx.metadata, outbox=publish)
        return Outcome(recorded=bool(events))

    return await _retrying(attempt)


async def _load_session_parts(
    store: EventStore, supervisee_ids: tuple[str, ...], supervisor_id: str
) -> tuple[dict[str, Loaded[SuperviseeState]], Loaded[SupervisorState]]:
    records = {sid: await _load_supervisee(store, sid) for sid in supervisee_ids}
    return records, await _load_supervisor(store, supervisor_id)


def _streams(
    logged: Loaded[SessionState],
    records: Mapping[str, Loaded[SuperviseeState]],
    lead: Loaded[SupervisorState],
) -> dict[str, Loaded[Any]]:
    streams: dict[str, Loaded[Any]] = {logged.stream_id: logged, lead.stream_id: lead}
    return streams | {r.stream_id: r for r in records.values()}


async def log_session(
    command: LogSession,
    ctx: CommandContext,
    store: EventStore,
    publish: Translator,
    tracks: Tracks,
) -> Outcome:
    async def attempt() -> Outcome:
        logged = await _load_session(store, command.session_id)
        records, lead = await _load_session_parts(
            store, command.supervisee_ids, command.supervisor_id
        )
        decision = session.decide_log_session(
            logged.state,
            {sid: r.state for sid, r in records.items()},
            lead.state,
            command,
            ctx.today,
            tracks,
        )
        await _record(decision, _streams(logged, records, lead), ctx, store, publish)
        return Outcome(recorded=not decision.already_recorded, lapse_marked=decision.lapse_marked)

    return await _retrying(attempt)


async def amend_session(
    command: AmendSession,
    ctx: CommandContext,
    store: EventStore,
    publish: Translator,
    tracks: Tracks,
) -> Outcome:
    async def attempt() -> Outcome:
        logged = await _load_session(store, command.session_id)
        current = logged.state.session
        supervisee_ids = current.supervisee_ids if current is not None else ()
        supervisor_id = current.supervisor_id if current is not None else ""
        records, lead = await _load_session_parts(store, supervisee_ids, supervisor_id)
        decision = session.decide_amend_session(
            logged.state,
            {sid: r.state for sid, r in records.items()},
            lead.state,
            command,
            ctx.today,
            tracks,
        )
        await _record(decision, _streams(logged, records, lead), ctx, store, publish)
        return Outcome(recorded=not decision.already_recorded, lapse_marked=decision.lapse_marked)

    return await _retrying(attempt)


async def void_session(
    command: VoidSession, ctx: CommandContext, store: EventStore, publish: Translator
) -> Outcome:
    async def attempt() -> Outcome:
        logged = await _load_session(store, command.session_id)
        current = logged.state.session
        supervisee_ids = current.supervisee_ids if current is not None else ()
        records = {sid: await _load_supervisee(store, sid) for sid in supervisee_ids}
        decision = session.decide_void_session(
            logged.state, {sid: r.state for sid, r in records.items()}, command
        )
        loaded: dict[str, Loaded[Any]] = {logged.stream_id: logged} | {
            r.stream_id: r for r in records.values()
        }
        await _record(decision, loaded, ctx, store, publish)
        return Outcome(recorded=not decision.already_recorded, lapse_marked=decision.lapse_marked)

    return await _retrying(attempt)


async def record_license_change(
    change: LicenseChange,
    ctx: CommandContext,
    store: EventStore,
    publish: Translator,
    conn: AsyncConnection | None = None,
) -> Decision:
    """A fact from the credential registry: recorded on the supervisor's stream once, and every
    session it puts in lapse marked once, all in one transaction (the consumer's, with conn).

    A session logged under the same supervisor meanwhile moves their stream: the fact is then
    decided again here rather than left to the consumer's few retries, so that contention on a
    busy supervisor does not send a lapse to the dead-letter topic."""

    async def attempt() -> Decision:
        lead = await _load_supervisor(store, change.supervisor_id)
        sessions = {
            session_id: await _load_session(store, session_id)
            for session_id in standing.sessions_to_review(lead.state, change)
        }
        decision = standing.decide(
            lead.state, change, {sid: loaded.state for sid, loaded in sessions.items()}
        )
        loaded: dict[str, Loaded[Any]] = {lead.stream_id: lead} | {
            s.stream_id: s for s in sessions.values()
        }
        await _record(decision, loaded, ctx, store, publish, conn)
        return decision

    return await _retrying(attempt)


async def get_supervisee(supervisee_id: str, store: EventStore) -> SuperviseeState:
    state = (await _load_supervisee(store, supervisee_id)).state
    if state.supervisee_id is None:
        raise SuperviseeMustBeOnRecord(supervisee_id)
    return state
