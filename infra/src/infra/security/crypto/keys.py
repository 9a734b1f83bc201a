"""Keys per subject: the port every store of sealed values reads its keys through, and the
keyring held in memory.

A subject (a client, a supervisee: an id, `contracts.fields.Id`) has data keys: 256 random bits
each, numbered from 1, created on the subject's first use. Only key 1 is made today (a subject
seals far fewer values than one AES-GCM key with random nonces may); the number, which every
sealed value names, leaves room for rotating a subject's key without reading old values anew.

A key is stored only wrapped by a key-encryption key (`kek.KeyEncryptionKey`), the subject and
the key's number bound to it as associated data, so a wrapped key copied to another subject or
number is refused. Destroying a subject's keys (crypto-shredding: the end of retention, or a
consent revoked under 42 CFR Part 2) removes them for good and leaves a tombstone, so that no
key is ever made for that subject again: whatever was sealed for them, in any store or topic
copy, can no longer be read.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from contracts.fields import check_id
from infra.security.crypto.kek import (
    KEY_BYTES,
    KeyEncryptionKey,
    KeyringError,
    LocalKeyEncryptionKey,
)

# Why a subject's keys were destroyed.
ErasureReason = Literal["retention_ended", "consent_revoked"]
FIRST_KEY_ID = 1
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SubjectErased(KeyringError):
    """The subject's keys were destroyed: nothing sealed for them can be read, nothing more can
    be sealed for them."""

    def __init__(self, erasure: Erasure) -> None:
        super().__init__(
            f"the keys of subject {erasure.subject!r} were destroyed on "
            f"{erasure.at.isoformat()} ({erasure.reason})"
        )
        self.erasure = erasure


class UnknownDataKey(KeyringError):
    """The keyring has no such key of the subject, which was never destroyed either: the value
    naming it was not sealed with this keyring, or was altered."""


class KeyEncryptionKeyUnavailable(KeyringError):
    """A data key was wrapped by a KEK this keyring was not given (neither its current one nor
    a retired one)."""


@dataclass(frozen=True, slots=True)
class DataKey:
    """One data key of one subject, unwrapped: held in memory only, never shown."""

    subject: str
    key_id: int
    material: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Erasure:
    """The tombstone of a subject whose keys were destroyed."""

    subject: str
    at: dt.datetime
    reason: ErasureReason


class SubjectKeys(Protocol):
    """The data keys of subjects, stored wrapped; destroying a subject's keys is final."""

    async def current(self, subject: str) -> DataKey:
        """The key to seal the subject's values with, created on first use (one, however many
        keyrings ask at once); SubjectErased once the subject's keys were destroyed."""
        ...

    async def data_key(self, subject: str, key_id: int) -> DataKey:
        """The subject's key `key_id`, to open what it sealed; SubjectErased once destroyed,
        UnknownDataKey when there is no such key."""
        ...

    async def destroy(self, subject: str, reason: ErasureReason) -> Erasure:
        """Destroys every key of the subject and keeps a tombstone, so none is made again;
        destroying again changes nothing and answers the first erasure."""
        ...

    async def destroyed(self, subject: str) -> Erasure | None:
        """The subject's erasure, None while their keys exist (or were never made)."""
        ...

    async def rewrap(self) -> int:
        """Wraps every key not wrapped by the current KEK with it (after a KEK rotation); the
        number of keys rewrapped."""
        ...


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key as stored: wrapped, with the id of the KEK that wrapped it."""

    kek_id: str
    wrapped: bytes


class Wrapping:
    """The current KEK and the retired ones that may still unwrap old keys: how every adapter
    turns a data key into what it stores and back."""

    def __init__(self, kek: KeyEncryptionKey, retired: Sequence[KeyEncryptionKey] = ()) -> None:
        self.current = kek
        self._by_id = {k.id: k for k in retired} | {kek.id: kek}

    async def new_key(self, subject: str, key_id: int) -> tuple[DataKey, WrappedKey]:
        material = os.urandom(KEY_BYTES)
        return DataKey(subject, key_id, material), await self.wrap(subject, key_id, material)

    async def wrap(self, subject: str, key_id: int, material: bytes) -> WrappedKey:
        wrapped = await self.current.wrap(material, wrapping_context(subject, key_id))
        return WrappedKey(self.current.id, wrapped)

    async def unwrap(self, subject: str, key_id: int, stored: WrappedKey) -> DataKey:
        kek = self._by_id.get(stored.kek_id)
        if kek is None:
            raise KeyEncryptionKeyUnavailable(
                f"key {key_id} of subject {subject!r} is wrapped by the key-encryption key "
                f"{stored.kek_id}, which this keyring was not given (it has "
                f"{', '.join(sorted(self._by_id))})"
            )
        material = await kek.unwrap(stored.wrapped, wrapping_context(subject, key_id))
        return DataKey(subject, key_id, material)

    def check_available(self, kek_ids: set[str]) -> None:
        """Refuses (KeyEncryptionKeyUnavailable) when a key is wrapped by an unknown KEK."""
        missing = sorted(kek_ids - self._by_id.keys())
        if missing:
            raise KeyEncryptionKeyUnavailable(
                f"keys are wrapped by the key-encryption keys {', '.join(missing)}, which this "
                "keyring was not given: give them as retired keys to rewrap"
            )


def wrapping_context(subject: str, key_id: int) -> bytes:
    """What a wrapped data key is bound to: its subject and number."""
    return framed(b"continuum data key v1", subject.encode(), str(key_id).encode())


def framed(*parts: bytes) -> bytes:
    """The parts, each preceded by its length: no two lists of parts frame the same bytes."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def check_subject(subject: str) -> str:
    """A subject is an id (`contracts.fields.Id`); ValueError otherwise."""
    try:
        return check_id(subject)
    except ValueError as error:
        raise ValueError(f"a subject {error}") from None


class MemoryKeyStore:
    """What memory keyrings share: several keyrings over one store behave as several processes
    over one keyring database."""

    def __init__(self) -> None:
        self.keys: dict[str, dict[int, WrappedKey]] = {}
        self.erasures: dict[str, Erasure] = {}


class MemorySubjectKeys:
    """The keyring held in memory (tests), wrapping as the SQL keyring does."""

    def __init__(
        self,
        kek: KeyEncryptionKey,
        *,
        retired: Sequence[KeyEncryptionKey] = (),
        store: MemoryKeyStore | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._wrapping = Wrapping(kek, retired)
        self._store = store or MemoryKeyStore()
        self._clock = clock

    async def current(self, subject: str) -> DataKey:
        check_subject(subject)
        self._refuse_erased(subject)
        keys = self._store.keys.get(subject)
        if keys:
            newest = max(keys)
            return await self._wrapping.unwrap(subject, newest, keys[newest])
        key, wrapped = await self._wrapping.new_key(subject, FIRST_KEY_ID)
        # Another keyring of the store may have made one, or destroyed them, meanwhile.
        self._refuse_erased(subject)
        keys = self._store.keys.setdefault(subject, {})
        if keys:
            return await self.current(subject)
        keys[FIRST_KEY_ID] = wrapped
        return key

    async def data_key(self, subject: str, key_id: int) -> DataKey:
        self._refuse_erased(subject)
        stored = self._store.keys.get(subject, {}).get(key_id)
        if stored is None:
            raise UnknownDataKey(f"subject {subject!r} has no key {key_id}")
        return await self._wrapping.unwrap(subject, key_id, stored)

    async def destroy(self, subject: str, reason: ErasureReason) -> Erasure:
        check_subject(subject)
        erasure = self._store.erasures.setdefault(subject, Erasure(subject, self._clock(), reason))
        self._store.keys.pop(subject, None)
        return erasure

    async def destroyed(self, subject: str) -> Erasure | None:
        return self._store.erasures.get(subject)

    async def rewrap(self) -> int:
        current = self._wrapping.current.id
        stale = [
            (subject, key_id, stored)
            for subject, keys in self._store.keys.items()
            for key_id, stored in keys.items()
            if stored.kek_id != current
        ]
        self._wrapping.check_available({stored.kek_id for _, _, stored in stale})
        for subject, key_id, stored in stale:
            key = await self._wrapping.unwrap(subject, key_id, stored)
            keys = self._store.keys.get(subject)
            if keys is not None and key_id in keys:
                keys[key_id] = await self._wrapping.wrap(subject, key_id, key.material)
        return len(stale)

    def _refuse_erased(self, subject: str) -> None:
        erasure = self._store.erasures.get(subject)
        if erasure is not None:
            raise SubjectErased(erasure)


def memory_keyring() -> MemorySubjectKeys:
    """A keyring in memory under a KEK made for it (tests, services run on in-memory stores):
    sealing works as in production; nothing sealed outlives the process."""
    return MemorySubjectKeys(LocalKeyEncryptionKey.generate())
