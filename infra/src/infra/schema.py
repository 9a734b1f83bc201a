"""The tables every service database has: its event store, its outbox, its inbox and the
commands it recorded.

These definitions are the current shape. Migration 1 creates them as they are; a later change of
shape is a new migration with explicit DDL, written when the change is made.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from infra.db import Migration, UtcDateTime
from infra.security import access_log

metadata = MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(200), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Column("metadata", JSON, nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("message_key", String(200), nullable=False),
    Column("ce_type", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # A relay replica holds a row while it publishes it; an expired claim may be taken over.
    Column("claimed_by", String(100)),
    Column("claimed_until", UtcDateTime),
    Column("published_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_outbox_pending", "published_at", "id"),
    Index("ix_outbox_stream", "stream_id", "id"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(200), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("processed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("consumer", "event_id"),
)


# Every command recorded, by its type and the client-chosen ids it names itself with, written in
# the transaction of its events: a retry (same ids, same fingerprint) is answered with the first
# outcome; the same ids with other content are refused.
commands = Table(
    "commands",
    metadata,
    Column("command_type", String(100), nullable=False),
    Column("command_key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    # The outcome the command answered with, as the use case returned it.
    Column("outcome", JSON, nullable=False),
    # Whether it recorded any event (a command that changed nothing answers already_recorded).
    Column("changed", Boolean, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("command_type", "command_key"),
)


def _create_core_tables(conn: Connection) -> None:
    metadata.create_all(conn, tables=[events, outbox, inbox])


def _create_commands_table(conn: Connection) -> None:
    metadata.create_all(conn, tables=[commands])


INFRA_MIGRATIONS: tuple[Migration, ...] = (
    Migration("infra", 1, "event store, outbox and inbox", _create_core_tables),
    Migration(
        "infra", 2, "commands: each command's id, fingerprint and outcome", _create_commands_table
    ),
    access_log.MIGRATION,
)
