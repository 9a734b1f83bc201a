"""The credential registry on each storage backend: the clock job with chosen `now` values (no
sleeps), the license table written with the events, and the outbox messages they publish."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from compliance.adapters import license_index
from compliance.adapters.license_index import SqlLicenseIndex, licenses
from compliance.adapters.publishing import translate
from compliance.application.credentials import CLOCK_ACTOR, CredentialRegistry
from compliance.domain.credentials.commands import (
    RecordLicense,
    RenewLicense,
    RevokeLicense,
    SuspendLicense,
)
from compliance.domain.credentials.errors import (
    LicenseIdMustNotBeReused,
    LicenseMustBeRecorded,
    LicenseNumberMustBeRecordedOnce,
)
from conftest import DatabaseFactory
from contracts.events import LicenseExpired, LicenseExpiryReminderDue, parse
from infra.application import CommandContext
from infra.commands import CommandRunner, SqlUnitStore
from infra.db import Database
from infra.eventstore import EventMetadata
from infra.schema import events as events_table
from infra.schema import outbox
from infra.security.crypto import memory_keyring

# The keyring the service's processes share (one per test module: a process's keys are
# everyone's, as over the keyring database).
KEYRING = memory_keyring()

pytestmark = pytest.mark.integration

D = dt.date.fromisoformat


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


def staff(day: str = "2026-10-01") -> CommandContext:
    return CommandContext(
        now=at(day), metadata=EventMetadata(correlation_id="c-1", actor="staff-1")
    )


def record(license_id: str, holder_id: str = "sup-1", **overrides: Any) -> RecordLicense:
    fields: dict[str, Any] = {
        "license_id": license_id,
        "holder_id": holder_id,
        "kind": "LPC",
        "number": f"N-{license_id}",
        "state": "TX",
        "issued_on": "2025-01-31",
        "expires_on": "2027-01-31",
    }
    return RecordLicense(**(fields | overrides))


async def registry_on(make_database: DatabaseFactory) -> tuple[CredentialRegistry, Database]:
    db = await make_database(license_index.MIGRATIONS)
    registry = CredentialRegistry(
        CommandRunner(SqlUnitStore(db, translate), KEYRING), SqlLicenseIndex(db, KEYRING)
    )
    return registry, db


async def published(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    async with db.read() as conn:
        rows = await conn.execute(select(outbox).order_by(outbox.c.id))
        return [(row.ce_type, row.message_key, row.data) for row in rows]


async def reminders(registry: CredentialRegistry, holder_id: str = "sup-1") -> list[int]:
    holder = await registry.credentials_of(holder_id)
    return [r.days_before for lic in holder.licenses for r in lic.reminders]


async def test_the_clock_records_each_reminder_once_on_its_day_and_then_the_expiry(
    make_database: DatabaseFactory,
) -> None:
    registry, db = await registry_on(make_database)
    await registry.record_license(record("lic-1"), staff())

    runs = [
        (now, await registry.send_due_reminders(now))
        for now in [
            at("2026-11-01", 23),
            at("2026-11-02", 0),
            at("2026-11-02", 12),  # the same day again: nothing more
            at("2026-12-02"),
            at("2027-01-01"),
            at("2027-01-31"),
            at("2027-02-01"),
            at("2027-02-02"),
        ]
    ]

    assert [(now.date().isoformat(), n) for now, n in runs] == [
        ("2026-11-01", 0),
        ("2026-11-02", 1),
        ("2026-11-02", 0),
        ("2026-12-02", 1),
        ("2027-01-01", 1),
        ("2027-01-31", 1),
        ("2027-02-01", 1),
        ("2027-02-02", 0),
    ]
    assert await reminders(registry) == [90, 60, 30, 0]
    holder = await registry.credentials_of("sup-1")
    assert (holder.licenses[0].status, holder.licenses[0].status_since) == (
        "expired",
        D("2027-02-01"),
    )
    messages = await published(db)
    clock_messages = [parse(ce_type, data) for ce_type, _, data in messages[1:]]
    assert [type(m) for m in clock_messages] == [LicenseExpiryReminderDue] * 4 + [LicenseExpired]
    assert {key for _, key, _ in messages} == {"sup-1"}
    expired = clock_messages[-1]
    assert isinstance(expired, LicenseExpired) and expired.expired_on == D("2027-02-01")
    # Nothing is left for the clock: the license table holds no due day for an expired license.
    assert await SqlLicenseIndex(db, KEYRING).holders_due(D("2030-01-01"), 10) == []


async def test_the_clock_records_as_the_clock_with_the_now_it_was_given(
    make_database: DatabaseFactory,
) -> None:
    registry, db = await registry_on(make_database)
    await registry.record_license(record("lic-1"), staff())

    assert await registry.send_due_reminders(at("2026-11-02")) == 1

    async with db.read() as conn:
        row = (
            await conn.execute(
                select(events_table).where(events_table.c.type == "LicenseExpiryReminderDue")
            )
        ).one()
    assert row.metadata["actor"] == CLOCK_ACTOR
    assert row.occurred_at == at("2026-11-02")


async def test_after_downtime_only_the_most_recent_due_threshold_is_recorded(
    make_database: DatabaseFactory,
) -> None:
    registry, _ = await registry_on(make_database)
    await registry.record_license(record("lic-1"), staff())

    # The service was down from before the 90-day threshold until after the 60-day one.
    assert await registry.send_due_reminders(at("2026-12-10")) == 1
    assert await registry.send_due_reminders(at("2026-12-11")) == 0
    assert await reminders(registry) == [60]


async def test_a_license_whose_last_valid_day_was_yesterday_is_expired_by_the_clock(
    make_database: DatabaseFactory,
) -> None:
    registry, _ = await registry_on(make_database)
    await registry.record_license(
        record("lic-1", issued_on="2024-11-01", expires_on="2026-10-31"), staff("2026-11-01")
    )

    assert await registry.send_due_reminders(at("2026-11-01")) == 1

    holder = await registry.credentials_of("sup-1")
    assert holder.licenses[0].status == "expired"
    assert [c.effective_on for c in holder.licenses[0].changes] == [D("2026-11-01")]
    assert await reminders(registry) == []


async def test_a_renewal_moves_the_expiry_and_the_reminders_start_again(
    make_database: DatabaseFactory,
) -> None:
    registry, _ = await registry_on(make_database)
    await registry.record_license(record("lic-1"), staff())
    await registry.send_due_reminders(at("2027-01-01"))  # the 30-day reminder
    await registry.change_license(
        RenewLicense(license_id="lic-1", renewed_on="2027-01-10", expires_on="2029-01-31"),
        staff("2027-01-10"),
    )

    assert await registry.send_due_reminders(at("2027-01-31")) == 0  # the old expiry: nothing
    assert await registry.send_due_reminders(at("2027-02-01")) == 0  # and no expiry
    assert await registry.send_due_reminders(at("2028-11-02")) == 1

    holder = await registry.credentials_of("sup-1")
    assert [(r.expires_on, r.days_before) for r in holder.licenses[0].reminders] == [
        (D("2027-01-31"), 30),
        (D("2029-01-31"), 90),
    ]


async def test_suspended_and_revoked_licenses_are_left_alone_by_the_clock(
    make_database: DatabaseFactory,
) -> None:
    registry, db = await registry_on(make_database)
    await registry.record_license(record("lic-1"), staff())
    await registry.record_license(record("lic-2", holder_id="sup-2"), staff())
    await registry.change_license(
        SuspendLicense(license_id="lic-1", effective_on="2026-10-01", reason="order 1"), staff()
    )
    await registry.change_license(
        RevokeLicense(license_id="lic-2", effective_on="2026-10-01", reason="order 2"), staff()
    )

    # The commands cleared their licenses' due days in the license table, with their events.
    assert await SqlLicenseIndex(db, KEYRING).holders_due(D("2030-01-01"), 10) == []
    assert await registry.send_due_reminders(at("2027-06-01")) == 0
    assert await reminders(registry, "sup-1") == await reminders(registry, "sup-2") == []


async def test_the_clock_handles_every_holder_due(make_database: DatabaseFactory) -> None:
    registry, _ = await registry_on(make_database)
    for n in range(5):
        await registry.record_license(record(f"lic-{n}", holder_id=f"sup-{n}"), staff())
    await registry.record_license(
        record("lic-late", holder_id="sup-0", expires_on="2028-01-31"), staff()
    )

    assert await registry.send_due_reminders(at("2026-11-02")) == 5
    assert [await reminders(registry, f"sup-{n}") for n in range(5)] == [[90]] * 5


async def test_a_license_id_or_number_is_recorded_once_across_holders(
    make_database: DatabaseFactory,
) -> None:
    registry, _ = await registry_on(make_database)
    assert (await registry.record_license(record("lic-1"), staff())).recorded
    assert not (await registry.record_license(record("lic-1"), staff())).recorded

    with pytest.raises(LicenseIdMustNotBeReused):
        await registry.record_license(record("lic-1", holder_id="sup-2"), staff())
    with pytest.raises(LicenseNumberMustBeRecordedOnce):
        await registry.record_license(record("lic-2", holder_id="sup-2", number="N-lic-1"), staff())
    with pytest.raises(LicenseMustBeRecorded):
        await registry.change_license(
            SuspendLicense(license_id="lic-9", effective_on="2026-10-01", reason="x"), staff()
        )


async def test_two_holders_racing_for_one_license_id_record_it_once(
    make_database: DatabaseFactory,
) -> None:
    registry, db = await registry_on(make_database)

    results = await asyncio.gather(
        registry.record_license(record("lic-1", holder_id="sup-1"), staff()),
        registry.record_license(record("lic-1", holder_id="sup-2"), staff()),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], LicenseIdMustNotBeReused), results
    async with db.read() as conn:
        rows = (await conn.execute(select(licenses.c.license_id, licenses.c.holder_id))).all()
        recorded = (
            await conn.execute(
                select(events_table.c.stream_id).where(events_table.c.type == "LicenseRecorded")
            )
        ).all()
    assert len(rows) == 1 and len(recorded) == 1
    assert recorded[0].stream_id == f"credential-holder-{rows[0].holder_id}"


class StaleIndex(SqlLicenseIndex):
    """Answers its first lookups as if nothing were recorded yet: what a writer that read just
    before another one committed sees."""

    def __init__(self, db: Database) -> None:
        super().__init__(db, KEYRING)
        self.stale = 2

    async def holder_of(self, license_id: str) -> str | None:
        if self.stale:
            self.stale -= 1
            return None
        return await super().holder_of(license_id)

    async def license_numbered(self, state: str, kind: str, number: str) -> str | None:
        if self.stale:
            self.stale -= 1
            return None
        return await super().license_numbered(state, kind, number)


@pytest.mark.parametrize(
    ("second", "error"),
    [
        ({"license_id": "lic-1", "holder_id": "sup-2"}, LicenseIdMustNotBeReused),
        (
            {"license_id": "lic-2", "holder_id": "sup-2", "number": "N-lic-1"},
            LicenseNumberMustBeRecordedOnce,
        ),
    ],
    ids=["license id", "number"],
)
async def test_a_decision_on_a_stale_license_table_is_refused_by_its_constraints_and_made_again(
    make_database: DatabaseFactory, second: dict[str, Any], error: type[Exception]
) -> None:
    registry, db = await registry_on(make_database)
    await registry.record_license(record("lic-1"), staff())
    stale = CredentialRegistry(CommandRunner(SqlUnitStore(db, translate), KEYRING), StaleIndex(db))

    with pytest.raises(error):
        await stale.record_license(record(**second), staff())

    assert (await stale.credentials_of("sup-2")).licenses == ()
    async with db.read() as conn:
        assert len((await conn.execute(select(licenses))).all()) == 1
        assert len((await conn.execute(select(outbox))).all()) == 1


async def test_license_commands_retried_after_later_ones_record_nothing(
    make_database: DatabaseFactory,
) -> None:
    registry, db = await registry_on(make_database)
    recording = record("lic-1")
    renewal = RenewLicense(license_id="lic-1", renewed_on="2026-10-01", expires_on="2029-01-31")
    suspension = SuspendLicense(license_id="lic-1", effective_on="2026-10-01", reason="order 7")
    for command in (recording, renewal, suspension):
        assert (
            await (
                registry.record_license(command, staff())
                if isinstance(command, RecordLicense)
                else registry.change_license(command, staff())
            )
        ).recorded

    assert not (await registry.record_license(recording, staff("2026-11-01"))).recorded
    assert not (await registry.change_license(renewal, staff("2026-11-01"))).recorded

    holder = await registry.credentials_of("sup-1")
    assert holder.licenses[0].status == "suspended"
    assert len(await published(db)) == 3
