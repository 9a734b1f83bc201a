"""Sealing at the event store's boundary, on every unit store (in memory, SQLite, PostgreSQL):
the fields a domain event marks sensitive are stored and published sealed for the stream's
subject, and read back plain; once the subject is erased they read `[erased]`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from conftest import STORAGE_BACKENDS, database_factory
from contracts.fields import Id
from infra.application import CommandContext
from infra.commands import (
    Aggregate,
    CommandRunner,
    Done,
    InMemoryUnitStore,
    SqlUnitStore,
    UnitOfWork,
    UnitStore,
    UseCase,
)
from infra.commands.sealing import SubjectMustBeKnownToSeal, SubjectRecordsErased
from infra.ddd import Command, DomainEvent, EventTypes, LicenseNumberText, TypedText
from infra.eventstore import EventMetadata, OutboxMessage, RecordedEvent
from infra.schema import outbox
from infra.security.crypto import is_sealed, memory_keyring
from infra.security.crypto.fields import open_field

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 14, 15, 0, tzinfo=dt.UTC)
CTX = CommandContext(now=NOW, metadata=EventMetadata(correlation_id="corr-1", actor="clerk-1"))
REASON = "told me about her divorce"
LICENSE = "LPC-77031"


class Note(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: TypedText
    minutes: int


class Registered(DomainEvent):
    type: ClassVar[str] = "Registered"
    person_id: str
    license_number: LicenseNumberText


class Noted(DomainEvent):
    type: ClassVar[str] = "Noted"
    note_id: str
    reason: TypedText
    correction: TypedText | None = None
    notes: tuple[Note, ...] = ()
    minutes: int


class File(BaseModel):
    model_config = ConfigDict(frozen=True)
    person_id: str | None = None
    license_number: str | None = None
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    minutes: int = 0


def fold(events: Iterable[DomainEvent], state: File) -> File:
    for event in events:
        match event:
            case Registered():
                state = state.model_copy(
                    update={"person_id": event.person_id, "license_number": event.license_number}
                )
            case Noted():
                state = state.model_copy(
                    update={
                        "reasons": (*state.reasons, event.reason),
                        "notes": (*state.notes, *(n.text for n in event.notes)),
                        "minutes": state.minutes + event.minutes,
                    }
                )
    return state


TYPES = EventTypes([Registered, Noted])
FILE = Aggregate("file", File(), fold, TYPES, subject=lambda state: state.person_id)
ANONYMOUS = Aggregate("anonymous", File(), fold, TYPES)


class Register(Command):
    key_fields = ("person_id",)
    person_id: Id
    license_number: str


class AddNote(Command):
    key_fields = ("note_id",)
    person_id: Id
    note_id: Id
    reason: str
    minutes: int


class Recorded(BaseModel):
    minutes: int


async def _register(uow: UnitOfWork, command: Register) -> Done:
    state = await uow.get(FILE, command.person_id, new=True)
    if state.person_id is None:
        uow.record(
            FILE,
            command.person_id,
            [Registered(person_id=command.person_id, license_number=command.license_number)],
        )
    return Done()


async def _note(uow: UnitOfWork, command: AddNote) -> Recorded:
    state = await uow.get(FILE, command.person_id)
    if command.reason in state.reasons:
        return Recorded(minutes=state.minutes)  # recorded already: nothing to change
    state = uow.record(
        FILE,
        command.person_id,
        [
            Noted(
                note_id=command.note_id,
                reason=command.reason,
                correction=None,
                notes=(Note(text=f"{command.reason}, again", minutes=5),),
                minutes=command.minutes,
            )
        ],
    )
    return Recorded(minutes=state.minutes)


async def _anonymous(uow: UnitOfWork, command: AddNote) -> Done:
    await uow.get(ANONYMOUS, command.note_id, new=True)
    uow.record(
        ANONYMOUS,
        command.note_id,
        [Noted(note_id=command.note_id, reason=command.reason, minutes=command.minutes)],
    )
    return Done()


REGISTER = UseCase(Done, _register)
NOTE = UseCase(Recorded, _note)
ANONYMOUS_NOTE = UseCase(Done, _anonymous)


def translate(event: RecordedEvent) -> OutboxMessage | None:
    """Publishes the stored data as it is, as the services' translators copy sealed values."""
    return OutboxMessage(
        event_id=event.event_id,
        topic="test.files",
        key=event.stream_id,
        ce_type=f"test.{event.type}.v1",
        source="/test",
        subject=event.stream_id,
        occurred_at=event.occurred_at,
        data=dict(event.data),
        metadata=event.metadata,
    )


@pytest.fixture(params=["memory", *STORAGE_BACKENDS])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UnitStore]:
    if request.param == "memory":
        yield InMemoryUnitStore(translate, now=lambda: NOW)
        return
    async with database_factory(request.param, request, tmp_path) as make:
        db = await make(())
        yield SqlUnitStore(db, translate, now=lambda: NOW)


async def _published(store: UnitStore) -> list[dict[str, Any]]:
    if isinstance(store, InMemoryUnitStore):
        return [dict(m.data) for m in store.events.published]
    assert isinstance(store, SqlUnitStore)
    async with store._db.read() as conn:
        return [dict(row.data) for row in await conn.execute(select(outbox.c.data))]


async def _registered_and_noted(runner: CommandRunner) -> None:
    await runner.run(REGISTER, Register(person_id="see-1", license_number=LICENSE), CTX)
    await runner.run(
        NOTE, AddNote(person_id="see-1", note_id="n-1", reason=REASON, minutes=50), CTX
    )


async def test_sensitive_fields_are_stored_and_published_sealed_for_the_streams_subject(
    store: UnitStore,
) -> None:
    # given
    keys = memory_keyring()
    runner = CommandRunner(store, keys)
    # when
    await _registered_and_noted(runner)
    # then: what rests holds envelopes for see-1, and the figures in clear
    registered, noted = await store.read("file-see-1")
    assert registered.data["person_id"] == "see-1"
    assert registered.data["license_number"].startswith("sealed:1:see-1:1:")
    assert noted.data["reason"].startswith("sealed:1:see-1:1:")
    assert noted.data["notes"][0]["text"].startswith("sealed:1:see-1:1:")
    assert noted.data["notes"][0]["minutes"] == 5
    assert (noted.data["correction"], noted.data["minutes"]) == (None, 50)
    stored = f"{registered.data}{noted.data}"
    assert REASON not in stored and LICENSE not in stored
    # and what is published is the same envelope, sealed once
    published = await _published(store)
    assert [p.get("reason") for p in published] == [None, noted.data["reason"]]
    assert await open_field(keys, published[1]["reason"]) == REASON


async def test_loading_a_stream_opens_its_sealed_values_for_the_domain(store: UnitStore) -> None:
    # given: recorded by one process
    keys = memory_keyring()
    await _registered_and_noted(CommandRunner(store, keys))
    # when: read by another (no cached state), sharing the keyring
    state, version = await CommandRunner(store, keys).state(FILE, "see-1")
    # then
    assert version == 2
    assert state.license_number == LICENSE
    assert state.reasons == (REASON,)
    assert state.notes == (f"{REASON}, again",)


async def test_a_retry_of_the_same_command_is_still_already_recorded(store: UnitStore) -> None:
    # given
    keys = memory_keyring()
    await _registered_and_noted(CommandRunner(store, keys))
    command = AddNote(person_id="see-1", note_id="n-1", reason=REASON, minutes=50)
    # when: retried by the same process and by another
    again = await CommandRunner(store, keys).run(NOTE, command, CTX)
    # then
    assert again.already_recorded and again.outcome == Recorded(minutes=50)
    assert len(await store.read("file-see-1")) == 2


async def test_once_the_subject_is_erased_its_values_read_erased_and_the_figures_stay(
    store: UnitStore,
) -> None:
    # given
    keys = memory_keyring()
    await _registered_and_noted(CommandRunner(store, keys))
    # when
    await keys.destroy("see-1", "consent_revoked")
    state, _ = await CommandRunner(store, keys).state(FILE, "see-1")
    # then
    assert state.license_number == "[erased]"
    assert state.reasons == ("[erased]",)
    assert state.notes == ("[erased]",)
    assert state.minutes == 50


async def test_a_new_sensitive_value_for_an_erased_subject_is_refused(store: UnitStore) -> None:
    # given
    keys = memory_keyring()
    runner = CommandRunner(store, keys)
    await _registered_and_noted(runner)
    await keys.destroy("see-1", "retention_ended")
    # when / then
    with pytest.raises(SubjectRecordsErased, match=r"see-1.*retention_ended"):
        await CommandRunner(store, keys).run(
            NOTE, AddNote(person_id="see-1", note_id="n-2", reason="more", minutes=10), CTX
        )
    assert len(await store.read("file-see-1")) == 2


async def test_a_stream_without_a_subject_refuses_to_store_a_sensitive_value(
    store: UnitStore,
) -> None:
    runner = CommandRunner(store, memory_keyring())
    with pytest.raises(SubjectMustBeKnownToSeal, match="Noted holds reason"):
        await runner.run(
            ANONYMOUS_NOTE, AddNote(person_id="p", note_id="n-1", reason="x", minutes=1), CTX
        )
    assert await store.read("anonymous-n-1") == []


def test_the_sealed_fields_of_an_event_are_read_from_its_annotations() -> None:
    assert Registered.sealed_fields() == ("license_number",)
    assert Noted.sealed_fields() == ("reason", "correction", "notes[].text")


def test_a_sealed_value_is_recognised_as_such() -> None:
    assert is_sealed("sealed:1:see-1:1:AAAA")
    assert not is_sealed(REASON)
