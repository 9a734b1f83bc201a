"""The credential registry's license table, in SQL: which holder a license belongs to, which
numbers are taken, and what the clock has to do (see `compliance.application.credentials`).

Written only in the transaction that appends the license's events (its rows are staged with them
and committed by the command runner), so it never disagrees with them. The unique constraints
are the registry's guard against two holders recording the same license id or the same state,
kind and number at the same moment: the second is decided again, and refused.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Index,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
)

from compliance.application.credentials import IndexedLicense
from infra.commands import IndexRow
from infra.db import Database, Migration

metadata = MetaData()

licenses = Table(
    "credential_licenses",
    metadata,
    Column("license_id", String(64), primary_key=True),
    Column("holder_id", String(64), nullable=False, index=True),
    Column("state", String(2), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    Column("status", String(20), nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("next_due_on", Date),
    UniqueConstraint("state", "kind", "number", name="uq_credential_licenses_number"),
    Index("ix_credential_licenses_next_due_on", "next_due_on"),
)


def _create_license_table(conn: Connection) -> None:
    metadata.create_all(conn, tables=[licenses])


# A component of its own, so the read model's migrations ("compliance") number independently.
MIGRATIONS = (
    Migration(
        "compliance-credentials", 1, "credential registry license table", _create_license_table
    ),
)


class SqlLicenseIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def holder_of(self, license_id: str) -> str | None:
        async with self._db.read() as conn:
            holder: str | None = await conn.scalar(
                select(licenses.c.holder_id).where(licenses.c.license_id == license_id)
            )
            return holder

    async def license_numbered(self, state: str, kind: str, number: str) -> str | None:
        async with self._db.read() as conn:
            license_id: str | None = await conn.scalar(
                select(licenses.c.license_id).where(
                    licenses.c.state == state,
                    licenses.c.kind == kind,
                    licenses.c.number == number,
                )
            )
            return license_id

    async def holders_due(self, on: dt.date, limit: int) -> list[str]:
        due = func.min(licenses.c.next_due_on)
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(licenses.c.holder_id)
                .where(licenses.c.next_due_on <= on)
                .group_by(licenses.c.holder_id)
                .order_by(due, licenses.c.holder_id)
                .limit(limit)
            )
            return [row.holder_id for row in rows]

    def row(self, license: IndexedLicense, *, new: bool) -> IndexRow:
        values = {
            "license_id": license.license_id,
            "holder_id": license.holder_id,
            "state": license.state,
            "kind": license.kind,
            "number": license.number,
            "status": license.status,
            "expires_on": license.expires_on,
            "next_due_on": license.next_due_on,
        }
        return IndexRow(licenses, values, "insert" if new else "update")
