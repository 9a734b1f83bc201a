"""Data keys kept in memory for a short while, in front of a keyring that reads a database.

Without it every sealed value costs a round trip to the keyring database (a millisecond or two,
against some microseconds for the sealing itself). The price is stated: a destruction made
through this keyring applies here at once, but one made by another process is honoured here
only once the keys it cached have expired (`ttl`, a minute by default), as key services'
own data-key caches do. A cached key is dropped on expiry or when the cache is full, least
recently used first, and is never written anywhere.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from infra.security.crypto.keys import DataKey, Erasure, ErasureReason, SubjectKeys

DEFAULT_TTL_SECONDS = 60.0
DEFAULT_MAX_KEYS = 10_000


class CachedSubjectKeys:
    """`keys`, with the data keys it answered kept in memory for `ttl` seconds."""

    def __init__(
        self,
        keys: SubjectKeys,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_keys: int = DEFAULT_MAX_KEYS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0 or max_keys <= 0:
            raise ValueError("a key cache needs a positive ttl and room for at least one key")
        self._keys = keys
        self._ttl = ttl
        self._max = max_keys
        self._now = monotonic
        # (subject, key id), or (subject, None) for the subject's current key -> (expiry, key).
        self._cached: OrderedDict[tuple[str, int | None], tuple[float, DataKey]] = OrderedDict()

    async def current(self, subject: str) -> DataKey:
        found = self._get((subject, None))
        if found is None:
            found = await self._keys.current(subject)
            self._put((subject, None), found)
            self._put((subject, found.key_id), found)
        return found

    async def data_key(self, subject: str, key_id: int) -> DataKey:
        found = self._get((subject, key_id))
        if found is None:
            found = await self._keys.data_key(subject, key_id)
            self._put((subject, key_id), found)
        return found

    async def destroy(self, subject: str, reason: ErasureReason) -> Erasure:
        for entry in [entry for entry in self._cached if entry[0] == subject]:
            del self._cached[entry]
        return await self._keys.destroy(subject, reason)

    async def destroyed(self, subject: str) -> Erasure | None:
        return await self._keys.destroyed(subject)

    async def rewrap(self) -> int:
        return await self._keys.rewrap()  # a rewrapped key is the same key: the cache holds

    def _get(self, entry: tuple[str, int | None]) -> DataKey | None:
        cached = self._cached.get(entry)
        if cached is None:
            return None
        expires, key = cached
        if self._now() >= expires:
            del self._cached[entry]
            return None
        self._cached.move_to_end(entry)
        return key

    def _put(self, entry: tuple[str, int | None], key: DataKey) -> None:
        self._cached[entry] = (self._now() + self._ttl, key)
        self._cached.move_to_end(entry)
        while len(self._cached) > self._max:
            self._cached.popitem(last=False)
