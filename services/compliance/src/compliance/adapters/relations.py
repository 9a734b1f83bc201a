"""What the access policy asks compliance about the supervisees its views name: their current
site (the home site, or the last transfer's) and their supervisors, as the read model knows
them from supervision's events. The read model follows the log, so an agreement signed a
moment ago may not make its supervisor a party yet: the policy refuses until it does."""

from __future__ import annotations

from sqlalchemy import select

from compliance.adapters.read_model import agreements, supervisee_transfers, supervisees
from infra.db import Database
from infra.security.relations import RecordFacts


class SqlComplianceRelations:
    """The Relations port, answered from the compliance read model."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def facts(self, kind: str, record_id: str) -> RecordFacts | None:
        if kind != "supervisee":
            return None
        async with self._db.read(snapshot=True) as conn:
            home = (
                await conn.execute(
                    select(supervisees.c.home_site_id).where(
                        supervisees.c.supervisee_id == record_id
                    )
                )
            ).scalar_one_or_none()
            if home is None:
                return None
            moved = (
                await conn.execute(
                    select(supervisee_transfers.c.to_site_id)
                    .where(supervisee_transfers.c.supervisee_id == record_id)
                    .order_by(
                        supervisee_transfers.c.effective_on.desc(),
                        supervisee_transfers.c.recorded_at.desc(),
                    )
                    .limit(1)
                )
            ).scalar_one_or_none()
            supervisors = (
                await conn.execute(
                    select(agreements.c.supervisor_id).where(
                        agreements.c.supervisee_id == record_id
                    )
                )
            ).scalars()
            return RecordFacts(moved or home, frozenset({record_id, *supervisors}))
