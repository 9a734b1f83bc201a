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
two answers from somewhere. The table's rows are staged with the events and committed in their
transaction by the command runner, so it never disagrees with them; it holds nothing the events
do not, and can be refilled from them. A row that clashes with another holder's (the unique
license id and number) makes the command a conflict, decided again on the table as it now is.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from compliance.domain.credentials import holder as credentials
from compliance.domain.credentials.commands import (
    LicenseCommand,
    RecordLicense,
    RecordSupervisorDesignation,
)
from compliance.domain.credentials.errors import LicenseMustBeRecorded
from compliance.domain.credentials.events import CREDENTIAL_EVENT_TYPES, LicenseRecorded
from compliance.domain.credentials.holder import Claims, HolderState, License, LicenseStatus
from infra.application import CommandContext
from infra.commands import Aggregate, CommandRunner, IndexRow, Ran, UnitOfWork, UseCase
from infra.ddd import Command, DomainEvent, Id
from infra.eventstore import ConcurrencyError, EventMetadata

log = logging.getLogger(__name__)

# Who the clock's events are recorded as.
CLOCK_ACTOR = "compliance-clock"
# How many holders one clock run handles; the rest wait for the next tick.
CLOCK_BATCH = 500

_CLOCK_CORRELATION = uuid.UUID("6f1d3c0e-8a4b-5d2e-9c71-0b3e5f7a9d24")

HOLDER = Aggregate(
    "credential-holder",
    credentials.INITIAL,
    credentials.fold,
    CREDENTIAL_EVENT_TYPES,
    subject=lambda state: state.holder_id,
)

# A license is recorded once under its id; its later changes can each happen more than once
# (renewed every cycle, suspended again after a reinstatement), so each is known by what it
# asks (a client id of its own, when the API carries one).
_LICENSE_CHANGE_KEY = ("license_id", "command_id")


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

    async def row(self, license: IndexedLicense, *, new: bool) -> IndexRow:
        """The license's row, to write with its events: a new one (which must not clash with
        a recorded id or number) or a change of one recorded."""
        ...


class LicenseStanding(BaseModel):
    """A license as a command left it: what the API answers."""

    model_config = ConfigDict(frozen=True)

    license_id: str
    status: LicenseStatus
    expires_on: dt.date
    status_since: dt.date


class CredentialOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    # The license the command was about (none for a designation).
    license: LicenseStanding | None = None


class FactsRecorded(BaseModel):
    model_config = ConfigDict(frozen=True)

    recorded: int


class RecordDueFacts(Command):
    """The clock's look at one holder's licenses; not recorded (each fact is recorded once by
    the decision itself)."""

    holder_id: Id


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command recorded (nothing: it was already recorded) and the license after it."""

    recorded: bool
    license: LicenseStanding | None

    @classmethod
    def of(cls, ran: Ran[CredentialOutcome]) -> Outcome:
        return cls(recorded=not ran.already_recorded, license=ran.outcome.license)


class CredentialRegistry:
    def __init__(self, runner: CommandRunner, index: LicenseIndex) -> None:
        self._runner = runner
        self._index = index
        self._record_license = UseCase(CredentialOutcome, self._decide_record_license)
        self._change_license = UseCase(
            CredentialOutcome, self._decide_change_license, key_fields=_LICENSE_CHANGE_KEY
        )
        self._record_designation = UseCase(CredentialOutcome, self._decide_designation)
        self._due_facts = UseCase(FactsRecorded, self._decide_due_facts)

    async def record_license(self, command: RecordLicense, ctx: CommandContext) -> Outcome:
        return Outcome.of(await self._runner.run(self._record_license, command, ctx))

    async def change_license(self, command: LicenseCommand, ctx: CommandContext) -> Outcome:
        """Renews, suspends, reinstates, revokes or expires a license."""
        return Outcome.of(await self._runner.run(self._change_license, command, ctx))

    async def record_designation(
        self, command: RecordSupervisorDesignation, ctx: CommandContext
    ) -> Outcome:
        return Outcome.of(await self._runner.run(self._record_designation, command, ctx))

    async def credentials_of(self, holder_id: str) -> HolderState:
        state, _ = await self._runner.state(HOLDER, holder_id)
        return state

    async def send_due_reminders(self, now: dt.datetime) -> int:
        """The clock's job: records the expiry reminders and expiries due on `now`'s day (see
        `credentials.due_facts`), once each however often it runs. Returns how many facts it
        recorded. A holder whose record keeps moving meanwhile is tried again at the next tick."""
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
            try:
                ran = await self._runner.run(
                    self._due_facts, RecordDueFacts(holder_id=holder_id), ctx
                )
            except ConcurrencyError:
                log.info("credentials of %s changed while the clock ran; next tick", holder_id)
                continue
            recorded += ran.outcome.recorded
        return recorded

    # --- the use cases ---------------------------------------------------------------------

    async def _decide_record_license(
        self, uow: UnitOfWork, command: RecordLicense
    ) -> CredentialOutcome:
        state = await uow.get(HOLDER, command.holder_id)
        claims = Claims(
            license_holder_id=await self._index.holder_of(command.license_id),
            number_license_id=await self._index.license_numbered(
                command.state, command.kind, command.number
            ),
        )
        events = credentials.decide(state, command, uow.today, claims)
        return await self._recorded(uow, command.holder_id, state, events, command.license_id)

    async def _decide_change_license(
        self, uow: UnitOfWork, command: LicenseCommand
    ) -> CredentialOutcome:
        holder_id = await self._index.holder_of(command.license_id)
        if holder_id is None:
            raise LicenseMustBeRecorded(command.license_id)
        state = await uow.get(HOLDER, holder_id)
        events = credentials.decide(state, command, uow.today)
        return await self._recorded(uow, holder_id, state, events, command.license_id)

    async def _decide_designation(
        self, uow: UnitOfWork, command: RecordSupervisorDesignation
    ) -> CredentialOutcome:
        state = await uow.get(HOLDER, command.holder_id)
        events = credentials.decide(state, command, uow.today)
        await self._recorded(uow, command.holder_id, state, events, None)
        return CredentialOutcome()

    async def _decide_due_facts(self, uow: UnitOfWork, command: RecordDueFacts) -> FactsRecorded:
        state = await uow.get(HOLDER, command.holder_id)
        events = credentials.due_facts(state, uow.today)
        # Also when nothing is due: the clock found a row that promised a fact the state does
        # not hold, and the holder's rows are written again from the state.
        await self._recorded(uow, command.holder_id, state, events, None, refresh=True)
        return FactsRecorded(recorded=len(events))

    async def _recorded(
        self,
        uow: UnitOfWork,
        holder_id: str,
        state: HolderState,
        events: list[DomainEvent],
        license_id: str | None,
        *,
        refresh: bool = False,
    ) -> CredentialOutcome:
        """Stages the events and the holder's rows of the license table they change."""
        after = uow.record(HOLDER, holder_id, events)
        if events or refresh:
            touched = (
                {lid for e in events if isinstance(lid := getattr(e, "license_id", None), str)}
                if events
                else {lic.license_id for lic in after.licenses}
            )
            new = {e.license_id for e in events if isinstance(e, LicenseRecorded)}
            for held in after.licenses:
                if held.license_id in touched:
                    row = _indexed(holder_id, held)
                    uow.write(await self._index.row(row, new=held.license_id in new))
        if license_id is None:
            return CredentialOutcome()
        lic = after.license(license_id)
        if lic is None:
            raise AssertionError(f"license {license_id} missing from its holder after a command")
        return CredentialOutcome(license=_standing(lic))


def _standing(lic: License) -> LicenseStanding:
    return LicenseStanding(
        license_id=lic.license_id,
        status=lic.status,
        expires_on=lic.expires_on,
        status_since=lic.status_since,
    )


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
