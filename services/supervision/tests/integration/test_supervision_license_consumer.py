"""The credential registry's license facts reach supervision on each storage backend: the
supervisor's standing is recorded once, in the consumer's transaction, and the sessions a lapse
covers are marked once, however often a fact is delivered."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from conftest import DatabaseFactory
from contracts.events import (
    EventContract,
    LicenseExpired,
    LicenseRecorded,
    LicenseReinstated,
    LicenseRenewed,
    LicenseRevoked,
    LicenseSuspended,
    SupervisorLapseMarked,
    parse,
)
from contracts.rulepacks.loader import load_rule_packs
from contracts.topics import COMPLIANCE_EVENTS
from infra.application import CommandContext, to_new_events
from infra.commands import CommandRunner, SqlUnitStore
from infra.db import Database
from infra.eventstore import EventMetadata, SqlEventStore, StreamAppend
from infra.inbox import first_delivery
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import PermanentError
from infra.schema import outbox
from infra.security.crypto import memory_keyring
from supervision.adapters.publishing import translate
from supervision.adapters.sessions_index import MIGRATIONS, SqlSessionsIndex
from supervision.application.handlers import SUPERVISEE, SUPERVISOR
from supervision.application.handlers import Supervision as SupervisionUseCases
from supervision.domain import (
    LogSession,
    RegisterSupervisee,
    SessionAmended,
    SessionLogged,
    SignAgreement,
    SupervisedSessionNoted,
    Tracks,
    VoidSession,
    session,
    supervisor,
)
from supervision.entrypoints.consumers import CONSUMER_GROUP, LicenseConsumer

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 4, 20, 12, tzinfo=dt.UTC)
CTX = CommandContext(now=NOW, metadata=EventMetadata(correlation_id="staff-app", actor="c-1"))
D = dt.date.fromisoformat
TRACKS = Tracks(load_rule_packs())


def incoming(contract: EventContract, event_id: uuid.UUID | None = None) -> IncomingEvent:
    return IncomingEvent(
        event_id=event_id or uuid.uuid4(),
        ce_type=contract.ce_type(),
        source=COMPLIANCE_EVENTS.source or "",
        subject=f"license-{contract.key()}",
        key=contract.key(),
        time=NOW,
        data=contract.model_dump(mode="json"),
        metadata=EventMetadata(correlation_id="registry", actor="board-liaison"),
    )


def license_recorded(holder: str = "sup-1") -> LicenseRecorded:
    return LicenseRecorded(
        holder_id=holder,
        license_id="lic-1",
        kind="LPC",
        number="LPC-12345",
        state="TX",
        issued_on=D("2018-05-01"),
        expires_on=D("2027-04-30"),
    )


def suspended(on: str = "2026-03-01") -> LicenseSuspended:
    return LicenseSuspended(
        holder_id="sup-1", license_id="lic-1", effective_on=D(on), reason="board order"
    )


class Supervision:
    """The supervision service's runner, use cases and license consumer on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.store = SqlEventStore(db)
        self.runner = CommandRunner(SqlUnitStore(db, translate), memory_keyring())
        self.index = SqlSessionsIndex(db)
        self.use_cases = SupervisionUseCases(TRACKS, self.index)
        self.consumer = LicenseConsumer(self.runner, self.use_cases, lambda: NOW)

    async def deliver(self, message: IncomingEvent) -> bool:
        """As the subscription does: inbox and handler in one transaction."""
        async with self.db.transaction() as conn:
            if not await first_delivery(conn, CONSUMER_GROUP, message.event_id):
                return False
            await self.consumer.on_license_event(conn, message)
            return True

    async def register_and_sign(self, supervisee_id: str, supervisor_id: str = "sup-1") -> None:
        for command in (
            RegisterSupervisee(
                supervisee_id=supervisee_id,
                credential_track="TX-LPC-ASSOCIATE",
                license_number="LPC-A-1",
                home_site_id="site-a",
                registered_on="2026-01-02",
            ),
            SignAgreement(
                agreement_id=f"agr-{supervisee_id}",
                supervisor_id=supervisor_id,
                supervisee_id=supervisee_id,
                site_id="site-a",
                start_date="2026-01-05",
                end_date="2026-12-31",
                modalities=["in_person"],
                sessions_per_period=1,
                period="week",
            ),
        ):
            await self.runner.run(self.use_cases.for_supervisee, command, CTX)

    async def log(
        self,
        session_id: str,
        day: str,
        supervisee_id: str = "see-1",
        supervisor_id: str = "sup-1",
    ) -> bool:
        ran = await self.runner.run(
            self.use_cases.log_session,
            LogSession(
                session_id=session_id,
                kind="clinical",
                format="individual",
                modality="in_person",
                date=day,
                minutes=60,
                supervisor_id=supervisor_id,
                supervisee_ids=[supervisee_id],
                site_id="site-a",
            ),
            CTX,
        )
        return ran.outcome.lapse_marked

    async def marks(self, session_id: str) -> list[str]:
        return [
            e.type
            for e in await self.store.read(session.stream_id(session_id))
            if e.type == "SupervisorLapseMarked"
        ]

    async def published_marks(self) -> list[SupervisorLapseMarked]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(outbox.c.ce_type, outbox.c.data).where(
                    outbox.c.ce_type == SupervisorLapseMarked.ce_type()
                )
            )
            found = [parse(row.ce_type, row.data) for row in rows]
        return [m for m in found if isinstance(m, SupervisorLapseMarked)]


@pytest.fixture
async def service(make_database: DatabaseFactory) -> Supervision:
    supervision = Supervision(await make_database(MIGRATIONS))
    await supervision.register_and_sign("see-1")
    return supervision


async def test_a_suspension_learnt_later_marks_the_sessions_held_in_it_once(
    service: Supervision,
) -> None:
    assert await service.deliver(incoming(license_recorded()))
    for session_id, day in [("ses-feb", "2026-02-23"), ("ses-mar-2", "2026-03-02")]:
        assert not await service.log(session_id, day)
    assert not await service.log("ses-mar-9", "2026-03-09")
    message = incoming(suspended())

    assert await service.deliver(message)
    # The same message again (a redelivery), and the same fact under a new id (a re-publication).
    assert not await service.deliver(message)
    assert await service.deliver(incoming(suspended()))

    assert await service.marks("ses-feb") == []
    assert await service.marks("ses-mar-2") == ["SupervisorLapseMarked"]
    assert await service.marks("ses-mar-9") == ["SupervisorLapseMarked"]
    published = await service.published_marks()
    assert sorted((m.session_id, m.lapse, m.lapsed_since) for m in published) == [
        ("ses-mar-2", "suspended", D("2026-03-01")),
        ("ses-mar-9", "suspended", D("2026-03-01")),
    ]
    standing, _ = await service.runner.state(SUPERVISOR, "sup-1")
    assert [c.change for c in standing.licenses["lic-1"].changes] == ["recorded", "suspended"]


async def test_a_session_logged_under_a_known_lapse_is_recorded_and_marked_at_once(
    service: Supervision,
) -> None:
    await service.deliver(incoming(license_recorded()))
    await service.deliver(incoming(suspended()))

    assert await service.log("ses-1", "2026-03-04")

    assert await service.marks("ses-1") == ["SupervisorLapseMarked"]
    events = [e.type for e in await service.store.read(session.stream_id("ses-1"))]
    assert events == ["SessionLogged", "SupervisorLapseMarked"]
    # A retry of the session records nothing and still reports the mark.
    assert await service.log("ses-1", "2026-03-04")
    assert await service.marks("ses-1") == ["SupervisorLapseMarked"]


async def test_a_reinstatement_ends_the_lapse_for_later_sessions(service: Supervision) -> None:
    await service.deliver(incoming(license_recorded()))
    await service.deliver(incoming(suspended()))
    await service.deliver(
        incoming(
            LicenseReinstated(holder_id="sup-1", license_id="lic-1", effective_on=D("2026-03-10"))
        )
    )

    assert await service.log("ses-during", "2026-03-09")
    assert not await service.log("ses-after", "2026-03-10")


async def test_an_expiry_then_a_renewal_and_a_revocation(service: Supervision) -> None:
    await service.deliver(incoming(license_recorded()))
    assert not await service.log("ses-1", "2026-03-16")
    await service.deliver(
        incoming(LicenseExpired(holder_id="sup-1", license_id="lic-1", expired_on=D("2026-03-15")))
    )
    await service.deliver(
        incoming(
            LicenseRenewed(
                holder_id="sup-1",
                license_id="lic-1",
                renewed_on=D("2026-03-20"),
                expires_on=D("2028-03-19"),
            )
        )
    )
    assert not await service.log("ses-2", "2026-03-23")
    await service.deliver(
        incoming(
            LicenseRevoked(
                holder_id="sup-1", license_id="lic-1", effective_on=D("2026-03-22"), reason="x"
            )
        )
    )

    assert await service.marks("ses-1") == ["SupervisorLapseMarked"]
    assert await service.marks("ses-2") == ["SupervisorLapseMarked"]
    assert sorted((m.session_id, m.lapse) for m in await service.published_marks()) == [
        ("ses-1", "expired"),
        ("ses-2", "revoked"),
    ]


async def test_a_voided_session_is_not_marked(service: Supervision) -> None:
    await service.deliver(incoming(license_recorded()))
    await service.log("ses-1", "2026-03-02")
    await service.runner.run(
        service.use_cases.void_session,
        VoidSession(session_id="ses-1", reason="logged twice", actor="c-1"),
        CTX,
    )

    await service.deliver(incoming(suspended()))

    assert await service.marks("ses-1") == []


async def test_a_supervisor_with_no_license_on_record_is_never_marked(
    service: Supervision,
) -> None:
    assert not await service.log("ses-1", "2026-03-02")
    assert await service.marks("ses-1") == []


async def test_a_message_that_is_not_a_license_fact_is_permanent(service: Supervision) -> None:
    not_a_license = incoming(
        SupervisorLapseMarked(
            session_id="ses-1",
            supervisor_id="sup-1",
            date=D("2026-03-02"),
            license_id="lic-1",
            lapse="revoked",
            lapsed_since=D("2026-03-01"),
        )
    )

    with pytest.raises(PermanentError):
        await service.deliver(not_a_license)


async def test_two_sessions_of_one_supervisor_logged_at_once_are_both_recorded(
    service: Supervision,
) -> None:
    await service.register_and_sign("see-2")

    await asyncio.gather(
        service.log("ses-a", "2026-03-02", "see-1"), service.log("ses-b", "2026-03-02", "see-2")
    )

    assert set(await service.index.sessions_of("sup-1")) == {"ses-a", "ses-b"}
    # Neither touched the supervisor's stream: two sessions of one supervisor never conflict.
    assert await service.store.read(supervisor.stream_id("sup-1")) == []


async def test_eight_supervisors_logging_at_once_see_no_conflict(service: Supervision) -> None:
    supervisors = [f"sup-{n}" for n in range(8)]
    for n, supervisor_id in enumerate(supervisors):
        for k in range(3):
            await service.register_and_sign(f"see-{n}-{k}", supervisor_id)

    # Each supervisor logs for their supervisees at once, several sessions each: sessions of
    # one supervisee contend for the supervisee's stream and are decided again inside.
    await asyncio.gather(
        *(
            service.log(f"ses-{n}-{k}-{day}", f"2026-03-{day:02}", f"see-{n}-{k}", sup)
            for n, sup in enumerate(supervisors)
            for k in range(3)
            for day in (2, 3, 4)
        )
    )

    for n, supervisor_id in enumerate(supervisors):
        assert len(await service.index.sessions_of(supervisor_id)) == 9
        for k in range(3):
            record, _ = await service.runner.state(SUPERVISEE, f"see-{n}-{k}")
            assert len(record.supervision) == 3


async def test_a_lapse_racing_the_sessions_it_covers_marks_every_one(service: Supervision) -> None:
    """However a license fact and sessions on its days interleave, each session ends up marked:
    logged before the fact, the fact marks it; after, it is marked when logged; in between,
    one of them finds the other moved and decides again."""
    await service.deliver(incoming(license_recorded()))
    days = [f"2026-03-{day:02}" for day in range(2, 14)]

    await asyncio.gather(
        service.deliver(incoming(suspended("2026-03-01"))),
        *(service.log(f"ses-{day}", day) for day in days),
    )

    for day in days:
        assert await service.marks(f"ses-{day}") == ["SupervisorLapseMarked"], day


async def test_the_sessions_index_is_filled_from_the_sessions_already_in_the_log(
    make_database: DatabaseFactory,
) -> None:
    db = await make_database(())  # a database from before the index existed
    # As an earlier version recorded it: the session, and a note on the supervisor's stream.
    logged = SessionLogged(
        session_id="ses-1",
        format="individual",
        modality="in_person",
        date=D("2026-03-02"),
        minutes=60,
        supervisor_id="sup-1",
        supervisee_ids=("see-1",),
        site_id="site-a",
    )
    moved = SessionAmended(
        session_id="ses-1",
        supervisee_ids=("see-1",),
        kind="clinical",
        format="individual",
        modality="in_person",
        date=D("2026-03-03"),
        start_time=None,
        minutes=60,
        techniques=(),
        focus=(),
        reason="wrong day",
        amended_by="c-1",
    )
    note = SupervisedSessionNoted(supervisor_id="sup-1", session_id="ses-1", date=D("2026-03-02"))
    await SqlEventStore(db).append(
        [
            StreamAppend("session-ses-1", 0, to_new_events([logged, moved], NOW)),
            StreamAppend("supervisor-sup-1", 0, to_new_events([note], NOW)),
        ],
        CTX.metadata,
    )

    async with db.transaction() as conn:
        await conn.run_sync(MIGRATIONS[0].apply)

    assert await SqlSessionsIndex(db).sessions_of("sup-1") == {"ses-1": D("2026-03-03")}
