"""What the access policy asks referral about the referrals a request names by id: the site it
was raised at and the people party to it (who raised it, who took each step, the clinician who
accepted it)."""

from __future__ import annotations

from infra.commands import CommandRunner
from infra.security.relations import RecordFacts
from referral.application.handlers import REFERRAL


class ReferralRelations:
    """The Relations port, answered from the referrals' streams (through the runner's cache)."""

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    async def facts(self, kind: str, record_id: str) -> RecordFacts | None:
        if kind != "referral":
            return None
        state, _ = await self._runner.state(REFERRAL, record_id)
        if state.referral is None:
            return None
        raised_by = {state.referral.raised_by} if state.referral.raised_by else set()
        return RecordFacts(
            state.referral.site_id, frozenset({*raised_by, *(step.by for step in state.history)})
        )
