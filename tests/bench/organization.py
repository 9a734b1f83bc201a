"""A large organization written straight onto the topics compliance reads, for the rebuild and
query phases.

Sending 1M sessions through LogSession would take hours on this machine, and what these phases
measure is compliance alone: how fast a fresh compliance catches up from the log, and how fast
its views answer at that size. So the bench publishes the facts the producers would have
published: valid CloudEvents of the published contracts (`contracts.events`), encoded by the
same binding the outbox relay uses (`infra.messaging.cloudevents`), keyed and sourced as the
producers key and source them: supervisors' licenses and LPC-S designations from the credential
registry, then per supervisee its registration, its agreement and its sessions.

Each fact carries the time it would have been recorded (the CloudEvent's time, which compliance
reads as when it was known): the credentials, registrations and agreements when the history
starts, a session on the evening it was held. Every `late_every`-th supervisee's sessions were
entered `late_days` later, so the organization holds findings (records not contemporaneous) and
supervisees of each status, and a view known at a past moment shows less than today's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from contracts import events as ev
from contracts.topics import event_topic
from infra.eventstore.model import EventMetadata, OutboxMessage
from infra.messaging.authenticity import EventSigner
from infra.messaging.publisher import KafkaPublisher
from tests.bench.workloads import TRACK, history_start, session_date, today

BATCH = 2_000


@dataclass(frozen=True)
class Organization:
    """Sites of supervisees, each under one of a few supervisors, each with sessions."""

    tag: str
    supervisees: int
    sessions_per_supervisee: int
    supervisees_per_site: int = 200
    supervisees_per_supervisor: int = 8
    late_every: int = 10
    late_days: int = 30

    def supervisee_id(self, n: int) -> str:
        return f"{self.tag}-see{n}"

    def supervisor_of(self, n: int) -> str:
        return f"{self.tag}-sup{n // self.supervisees_per_supervisor}"

    def site_of(self, n: int) -> str:
        return f"{self.tag}-site{n // self.supervisees_per_site}"

    @property
    def supervisor_ids(self) -> list[str]:
        return sorted({self.supervisor_of(n) for n in range(self.supervisees)})

    @property
    def site_ids(self) -> list[str]:
        return sorted({self.site_of(n) for n in range(self.supervisees)})

    @property
    def supervisee_ids(self) -> list[str]:
        return [self.supervisee_id(n) for n in range(self.supervisees)]

    @property
    def events(self) -> int:
        return 2 * len(self.supervisor_ids) + self.supervisees * (2 + self.sessions_per_supervisee)

    def recorded_late(self, n: int) -> bool:
        return n % self.late_every == self.late_every - 1

    def session_recorded_at(self, n: int, held_on: dt.date, now: dt.datetime) -> dt.datetime:
        """The evening the session was held, or `late_days` later for a supervisee whose
        records are late; never after now."""
        recorded = _evening(held_on)
        if self.recorded_late(n):
            recorded += dt.timedelta(days=self.late_days)
        return min(recorded, now)

    def messages(self) -> Iterator[OutboxMessage]:
        now = dt.datetime.now(dt.UTC)
        start = history_start()
        at_start = _evening(start)
        for supervisor_id in self.supervisor_ids:
            yield _message(
                ev.LicenseRecorded(
                    holder_id=supervisor_id,
                    license_id=f"lic-{supervisor_id}",
                    kind="LPC",
                    number=f"LPC-{supervisor_id}",
                    state="TX",
                    issued_on=today() - dt.timedelta(days=3650),
                    expires_on=today() + dt.timedelta(days=730),
                ),
                f"credential-holder-{supervisor_id}",
                None,
                at_start,
            )
            yield _message(
                ev.SupervisorDesignationRecorded(
                    holder_id=supervisor_id,
                    designation_id=f"des-{supervisor_id}",
                    designation="LPC-S",
                    state="TX",
                    granted_on=today() - dt.timedelta(days=1825),
                    expires_on=today() + dt.timedelta(days=730),
                    training_hours=40,
                    training_completed_on=today() - dt.timedelta(days=1850),
                ),
                f"credential-holder-{supervisor_id}",
                None,
                at_start,
            )
        for n in range(self.supervisees):
            supervisee_id, site = self.supervisee_id(n), self.site_of(n)
            supervisor_id = self.supervisor_of(n)
            stream = f"supervisee-{supervisee_id}"
            yield _message(
                ev.SuperviseeRegistered(
                    supervisee_id=supervisee_id,
                    credential_track=TRACK,
                    license_number=f"LPC-A-{n:06d}",
                    home_site_id=site,
                    registered_on=start,
                ),
                stream,
                site,
                at_start,
            )
            yield _message(
                ev.AgreementSigned(
                    supervisee_id=supervisee_id,
                    agreement_id=f"agr-{supervisee_id}",
                    supervisor_id=supervisor_id,
                    site_id=site,
                    credential_track=TRACK,
                    start_date=start,
                    end_date=today() + dt.timedelta(days=365),
                    modalities=("in_person", "video"),
                    sessions_per_period=1,
                    period="week",
                ),
                stream,
                site,
                at_start,
            )
            for s in range(self.sessions_per_supervisee):
                session_id = f"{supervisee_id}-s{s}"
                held_on = session_date(s)
                yield _message(
                    ev.SessionLogged(
                        session_id=session_id,
                        kind="clinical",
                        format="individual",
                        modality="in_person",
                        date=held_on,
                        start_time=None,
                        minutes=60,
                        supervisor_id=supervisor_id,
                        supervisee_ids=(supervisee_id,),
                        site_id=site,
                        techniques=("case_review",),
                        focus=("intervention",),
                    ),
                    f"session-{session_id}",
                    site,
                    self.session_recorded_at(n, held_on, now),
                )


def _evening(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(18), tzinfo=dt.UTC)


def _message(
    contract: ev.EventContract, subject: str, site: str | None, at: dt.datetime
) -> OutboxMessage:
    """The message the contract's producer would publish (from its topic's source)."""
    topic = event_topic(contract.topic)
    assert topic is not None and topic.source is not None
    return OutboxMessage(
        event_id=uuid.uuid4(),
        topic=contract.topic,
        key=contract.key(),
        ce_type=contract.ce_type(),
        source=topic.source,
        subject=subject,
        occurred_at=at,
        data=contract.model_dump(mode="json"),
        metadata=EventMetadata(
            correlation_id=str(uuid.uuid4()), actor="bench-organization", site_id=site
        ),
    )


async def publish(bootstrap: str, organization: Organization, signer: EventSigner) -> int:
    """Publishes the organization's events, signed as their producers would, acknowledged by
    the broker; returns how many."""
    sent = 0
    async with KafkaPublisher(
        bootstrap, client_id="bench-organization", signer=signer
    ) as publisher:
        batch: list[OutboxMessage] = []
        for message in organization.messages():
            batch.append(message)
            if len(batch) == BATCH:
                await publisher.publish(batch)
                sent += len(batch)
                batch = []
        if batch:
            await publisher.publish(batch)
            sent += len(batch)
    return sent
