"""Use cases of the credential registry: each loads the holder's stream, decides, and records the
events, their outbox messages and the holder's rows of the license table in one transaction.

Finding licenses: a small service-local table (`LicenseIndex`, one row per license) rather than
`read_all`. Three questions need a license without its holder's stream at hand:
- which holder a license id belongs to (every license command names only the license);
- whether a license id or a state, kind and number is already recorded under another holder
  (unique constraints make a race between two holders fail rather than record both);
- which licenses the clock has something to record for today (`next_due_on`, computed by the
  pure domain, indexed).
Reading the whole log every clock tick would grow with the history and still need the first
two answers from somewhere. The table is written in the transaction that appends the events, so
it never disagrees with them; it holds nothing the events do not, and can be refilled from them.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from compliance.domain import credentials
from compliance.domain.credentials import Claims, HolderState, License
from compliance.domain.credentials_commands import (
    LicenseCommand,
    RecordLicense,
    RecordSupervisorDesignation,
)
from compliance.domain.credentials_errors import LicenseMustBeRecorded
from compliance.domain.credentials_events import CREDENTIAL_EVENT_TYPES, LicenseRecorded
from infra.application import CommandContext, Loaded, load
from infra.ddd import DomainEvent
from infra.eventstore import ConcurrencyError, EventMetadata, EventStore, Translator

log = logging.getLogger(__name__)

# Who the clock's events are recorded as.
CLOCK_ACTOR = "compliance-clock"
# How many holders one clock run handles; the rest wait for the next tick.
CLOCK_BATCH = 500
# A decision raced by another writer is made again on the fresh state this many times in all.
ATTEMPTS = 3

_CLOCK_CORRELATION = uuid.UUID("6f1d3c0e-8a4b-5d2e-9c71-0b3e5f7a9d24")


@dataclass(frozen=True, slots=True)
class IndexedLicense:
    """A license's row in the service's license table."""

    license_id: str
    holder_id: str
    state: str
    kind: str
    number: str
    status: str
    expires_on: dt.date
    # The first day the clock has something to record for it; None: nothing will be due.
    next_due_on: dt.date | None


class LicenseIndexConflict(ConcurrencyError):
    """Another transaction recorded the same license id or number first: decide again."""

    def __init__(self, license_id: str) -> None:
        super().__init__(f"license-table/{license_id}", 0, None)


class LicenseIndex(Protocol):
    async def holder_of(self, license_id: str) -> str | None:
        """The holder a license id is recorded under."""
        ...

    async def license_numbered(self, state: str, kind: str, number: str) -> str | None:
        """The license id a state, kind and number is recorded as."""
        ...

    async def holders_due(self, on: dt.date, limit: int) -> list[str]:
        """Holders with a license whose next clock fact is due on or before `on`, most overdue
        first."""
        ...

    async def save(
        self, conn: AsyncConnection, licenses: Sequence[IndexedLicense], *, new: Collection[str]
    ) -> None:
        """Inserts the licenses whose ids are in `new` and updates the others, in the caller's
        transaction; raises LicenseIndexConflict when an insert meets a recorded id or number."""
        ...


Transaction = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
Decision = Callable[[HolderState], Awaitable[list[DomainEvent]]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command recorded (nothing: it was already recorded) and the holder after it."""

    events: tuple[DomainEvent, ...]
    holder: HolderState

    @property
    def recorded(self) -> bool:
        return bool(self.events)


class CredentialRegistry:
    def __init__(
        self,
        store: EventStore,
        publish: Translator,
        index: LicenseIndex,
        transaction: Transaction,
    ) -> None:
        self._store = store
        self._publish = publish
        self._index = index
        self._transaction = transaction

    async def record_license(self, command: RecordLicense, ctx: CommandContext) -> Outcome:
        async def decide(state: HolderState) -> list[DomainEvent]:
            claims = Claims(
                license_holder_id=await self._index.holder_of(command.license_id),
                number_license_id=await self._index.license_numbered(
                    command.state, command.kind, command.number
                ),
            )
            return credentials.decide(state, command, ctx.today, claims)

        return await self._record(command.holder_id, decide, ctx)

    async def change_license(self, command: LicenseCommand, ctx: CommandContext) -> Outcome:
        """Renews, suspends, reinstates, revokes or expires a license."""
        holder_id = await self._index.holder_of(command.license_id)
        if holder_id is None:
            raise LicenseMustBeRecorded(command.license_id)

        async def decide(state: HolderState) -> list[DomainEvent]:
            return credentials.decide(state, command, ctx.today)

        return await self._record(holder_id, decide, ctx)

    async def record_designation(
        self, command: RecordSupervisorDesignation, ctx: CommandContext
    ) -> Outcome:
        async def decide(state: HolderState) -> list[DomainEvent]:
            return credentials.decide(state, command, ctx.today)

        return await self._record(command.holder_id, decide, ctx)

    async def credentials_of(self, holder_id: str) -> HolderState:
        return (await self._load(holder_id)).state

    async def send_due_reminders(self, now: dt.datetime) -> int:
        """The clock's job: records the expiry reminders and expiries due on `now`'s day (see
        `credentials.due_facts`), once each however often it runs. Returns how many facts it
        recorded. A holder whose record moved meanwhile is tried again at the next tick."""
        today = now.date()
        recorded = 0
        for holder_id in await self._index.holders_due(today, CLOCK_BATCH):
            ctx = CommandContext(
                now=now,
                metadata=EventMetadata(
                    correlation_id=str(
                        uuid.uuid5(_CLOCK_CORRELATION, f"{holder_id}/{today.isoformat()}")
                    ),
                    actor=CLOCK_ACTOR,
                ),
            )

            async def decide(state: HolderState) -> list[DomainEvent]:
                return credentials.due_facts(state, today)

            try:
                outcome = await self._record(holder_id, decide, ctx, refresh=True)
            except ConcurrencyError:
                log.info("credentials of %s changed while the clock ran; next tick", holder_id)
                continue
            recorded += len(outcome.events)
        return recorded

    async def _load(self, holder_id: str) -> Loaded[HolderState]:
        return await load(
            self._store,
            credentials.stream_id(holder_id),
            credentials.fold,
            CREDENTIAL_EVENT_TYPES,
        )

    async def _record(
        self, holder_id: str, decide: Decision, ctx: CommandContext, *, refresh: bool = False
    ) -> Outcome:
        """Decides on the holder's current state and records the events with the license table
        in one transaction; decides again on the fresh state when another writer got in first.
        With refresh, the holder's rows are rewritten even when nothing is recorded (the clock
        found an index row that promised a fact the state does not hold)."""
        for attempt in range(1, ATTEMPTS + 1):
            loaded = await self._load(holder_id)
            events = await decide(loaded.state)
            after = credentials.fold(events, loaded.state)
            if not events and not refresh:
                return Outcome(events=(), holder=after)
            touched = (
                {lid for e in events if isinstance(lid := getattr(e, "license_id", None), str)}
                if events
                else {lic.license_id for lic in after.licenses}
            )
            new = {e.license_id for e in events if isinstance(e, LicenseRecorded)}
            rows = [_indexed(holder_id, lic) for lic in after.licenses if lic.license_id in touched]
            try:
                async with self._transaction() as conn:
                    if events:
                        await self._store.append(
                            [loaded.append(events, ctx.now)],
                            ctx.metadata,
                            outbox=self._publish,
                            conn=conn,
                        )
                    await self._index.save(conn, rows, new=new)
            except ConcurrencyError:
                if attempt == ATTEMPTS:
                    raise
                continue
            return Outcome(events=tuple(events), holder=after)
        raise AssertionError("unreachable")


def _indexed(holder_id: str, lic: License) -> IndexedLicense:
    return IndexedLicense(
        license_id=lic.license_id,
        holder_id=holder_id,
        state=lic.state,
        kind=lic.kind,
        number=lic.number,
        status=lic.status,
        expires_on=lic.expires_on,
        next_due_on=lic.next_due_on(),
    )
