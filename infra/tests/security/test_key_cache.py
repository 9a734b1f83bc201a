"""Data keys cached in front of a keyring: asked once within their lifetime, dropped at once
by a destruction made through the cache, by one made elsewhere once they expire, and least
recently used first when the cache is full."""

from __future__ import annotations

import pytest

from infra.security.crypto import (
    CachedSubjectKeys,
    DataKey,
    Erased,
    LocalKeyEncryptionKey,
    MemoryKeyStore,
    MemorySubjectKeys,
    SubjectErased,
    seal,
    unseal,
)

pytestmark = pytest.mark.unit

CONTEXT = "continuum.compliance.LicenseSuspended/reason"


class CountingKeys(MemorySubjectKeys):
    """The memory keyring, counting what it was asked."""

    def __init__(self, store: MemoryKeyStore) -> None:
        super().__init__(LocalKeyEncryptionKey.generate(), store=store)
        self.asked = 0

    async def current(self, subject: str) -> DataKey:
        self.asked += 1
        return await super().current(subject)

    async def data_key(self, subject: str, key_id: int) -> DataKey:
        self.asked += 1
        return await super().data_key(subject, key_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryKeyStore:
    return MemoryKeyStore()


async def test_a_key_is_asked_of_the_keyring_once_within_its_lifetime(
    store: MemoryKeyStore, clock: Clock
) -> None:
    # given
    keyring = CountingKeys(store)
    cached = CachedSubjectKeys(keyring, ttl=60, monotonic=clock)
    # when sealing and opening many values of one subject
    sealed = [await seal(cached, "se-1", f"reason {n}", CONTEXT) for n in range(10)]
    opened = [await unseal(cached, value, CONTEXT) for value in sealed]
    # then
    assert opened == [f"reason {n}" for n in range(10)]
    assert keyring.asked == 1
    # and after its lifetime it is asked again
    clock.now += 60
    await cached.current("se-1")
    assert keyring.asked == 2


async def test_a_destruction_through_the_cache_applies_at_once(
    store: MemoryKeyStore, clock: Clock
) -> None:
    # given
    cached = CachedSubjectKeys(CountingKeys(store), ttl=60, monotonic=clock)
    sealed = await seal(cached, "se-1", "a reason", CONTEXT)
    kept = await seal(cached, "se-2", "another", CONTEXT)
    # when
    await cached.destroy("se-1", "consent_revoked")
    # then
    assert await unseal(cached, sealed, CONTEXT) == Erased("se-1")
    with pytest.raises(SubjectErased):
        await cached.current("se-1")
    assert await unseal(cached, kept, CONTEXT) == "another"
    assert (await cached.destroyed("se-1")) is not None


async def test_a_destruction_elsewhere_applies_once_the_cached_keys_expire(
    store: MemoryKeyStore, clock: Clock
) -> None:
    # given a value opened through the cache, then the subject destroyed by another process
    cached = CachedSubjectKeys(CountingKeys(store), ttl=60, monotonic=clock)
    sealed = await seal(cached, "se-1", "a reason", CONTEXT)
    await MemorySubjectKeys(LocalKeyEncryptionKey.generate(), store=store).destroy(
        "se-1", "retention_ended"
    )
    # when / then: within the lifetime, still read; after it, erased
    clock.now += 59
    assert await unseal(cached, sealed, CONTEXT) == "a reason"
    clock.now += 1
    assert await unseal(cached, sealed, CONTEXT) == Erased("se-1")


async def test_a_full_cache_lets_the_least_recently_used_key_go(
    store: MemoryKeyStore, clock: Clock
) -> None:
    # given room for two entries: a subject's current key and that key by its id
    keyring = CountingKeys(store)
    cached = CachedSubjectKeys(keyring, ttl=60, max_keys=2, monotonic=clock)
    await cached.current("se-1")
    # when another subject's key comes in
    await cached.current("se-2")
    await cached.current("se-2")
    await cached.current("se-1")
    # then se-1's went, se-2's stayed
    assert keyring.asked == 3


def test_a_cache_needs_a_lifetime_and_room() -> None:
    keyring = MemorySubjectKeys(LocalKeyEncryptionKey.generate())
    with pytest.raises(ValueError, match="positive ttl"):
        CachedSubjectKeys(keyring, ttl=0)
    with pytest.raises(ValueError, match="at least one key"):
        CachedSubjectKeys(keyring, max_keys=0)
