"""The facts a relationship check needs about a record a request names only by its id: the
site it belongs to and the people party to it. Each service answers from its own state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RecordFacts:
    site_id: str | None
    parties: frozenset[str]
    """Everyone the record concerns: a session's supervisor and supervisees, a supervisee
    and the supervisors of their agreements, ..."""


class Relations(Protocol):
    """A service's port to the records it owns."""

    async def facts(self, kind: str, record_id: str) -> RecordFacts | None:
        """What the policy needs of the `kind` record `record_id`; None when there is none
        (the servicer then answers NOT_FOUND)."""
        ...
