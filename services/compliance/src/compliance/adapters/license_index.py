"""The credential registry's license table, in SQL: which holder a license belongs to, which
numbers are taken, and what the clock has to do (see `compliance.application.credentials`).

Written only in the transaction that appends the license's events (its rows are staged with them
and committed by the command runner), so it never disagrees with them. The unique constraints
are the registry's guard against two holders recording the same license id or the same state,
kind and number at the same moment: the second is decided again, and refused.

A license number identifies its holder, so the table holds no number: it holds a keyed digest of
the state, kind and number (HMAC-SHA-256 under a key of the keyring kept for this index,
`NUMBER_INDEX_KEY`, truncated to 128 bits), which finds a number already taken and says nothing
without the key. The number itself rests sealed in the holder's stream only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

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
from infra.security.crypto import SubjectKeys

# The keyring entry whose key digests license numbers for this table; never erased (it belongs to
# no person: erasing a holder leaves a digest that only this key could ever match).
NUMBER_INDEX_KEY = "index.compliance.license-numbers"

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
    def __init__(self, db: Database, keys: SubjectKeys) -> None:
        self._db = db
        self._keys = keys

    async def _digest(self, state: str, kind: str, number: str) -> str:
        key = await self._keys.current(NUMBER_INDEX_KEY)
        message = "\x00".join((state, kind, number)).encode()
        return hmac.new(key.material, message, hashlib.sha256).hexdigest()[:32]

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
                    licenses.c.number == await self._digest(state, kind, number),
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

    async def row(self, license: IndexedLicense, *, new: bool) -> IndexRow:
        values = {
            "license_id": license.license_id,
            "holder_id": license.holder_id,
            "state": license.state,
            "kind": license.kind,
            "number": await self._digest(license.state, license.kind, license.number),
            "status": license.status,
            "expires_on": license.expires_on,
            "next_due_on": license.next_due_on,
        }
        return IndexRow(licenses, values, "insert" if new else "update")
