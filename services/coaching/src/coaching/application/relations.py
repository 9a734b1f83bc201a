"""What the access policy asks coaching about an engagement a request names by id: its site
and its coach."""

from __future__ import annotations

from coaching.application.handlers import ENGAGEMENT
from infra.commands import CommandRunner
from infra.security.relations import RecordFacts


class CoachingRelations:
    """The Relations port, answered from the engagements' streams."""

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    async def facts(self, kind: str, record_id: str) -> RecordFacts | None:
        if kind != "engagement":
            return None
        state, _ = await self._runner.state(ENGAGEMENT, record_id)
        if state.engagement is None:
            return None
        return RecordFacts(state.engagement.site_id, frozenset({state.engagement.coach_id}))
