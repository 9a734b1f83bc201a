"""What the materialized standing's tests share: a supervisee enrolled under a credentialed
supervisor, events as the consumer receives them, and a clock the test moves."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from compliance.application.standing import (
    ListedVerdict,
    SiteSummaries,
    StandingSource,
    VerdictFilters,
)
from contracts import events as ev
from infra.eventstore import EventMetadata, OutboxMessage
from infra.messaging.cloudevents import IncomingEvent, decode, encode

D = dt.date.fromisoformat
SITE = "site-austin"
SUPERVISOR = "sup-standing"
TRACK = "TX-LPC-ASSOCIATE"


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


@dataclass
class Clock:
    """The service's clock, moved by the test."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


def registered(supervisee_id: str, site_id: str = SITE) -> ev.SuperviseeRegistered:
    return ev.SuperviseeRegistered(
        supervisee_id=supervisee_id,
        credential_track=TRACK,
        license_number=f"LPC-A {supervisee_id}",
        home_site_id=site_id,
        registered_on=D("2026-01-05"),
    )


def signed(supervisee_id: str, site_id: str = SITE) -> ev.AgreementSigned:
    return ev.AgreementSigned(
        supervisee_id=supervisee_id,
        agreement_id=f"agr-{supervisee_id}",
        supervisor_id=SUPERVISOR,
        site_id=site_id,
        credential_track=TRACK,
        start_date=D("2026-01-05"),
        end_date=D("2027-12-31"),
    )


def logged(supervisee_id: str, session_id: str, day: str, minutes: int = 60) -> ev.SessionLogged:
    return ev.SessionLogged(
        session_id=session_id,
        kind="clinical",
        format="individual",
        modality="in_person",
        date=D(day),
        start_time=dt.time(10),
        minutes=minutes,
        supervisor_id=SUPERVISOR,
        supervisee_ids=(supervisee_id,),
        site_id=SITE,
        techniques=(),
        focus=(),
    )


LICENSED = ev.LicenseRecorded(
    holder_id=SUPERVISOR,
    license_id="lic-standing",
    kind="LPC",
    number="LPC 77",
    state="TX",
    issued_on=D("2015-01-01"),
    expires_on=D("2028-12-31"),
)
DESIGNATED = ev.SupervisorDesignationRecorded(
    holder_id=SUPERVISOR,
    designation_id="des-standing",
    designation="LPC-S",
    state="TX",
    granted_on=D("2016-01-01"),
    expires_on=None,
    training_hours=40,
    training_completed_on=D("2015-12-01"),
)

CREDENTIALS: list[tuple[ev.EventContract, str]] = [
    (LICENSED, "2015-01-02"),
    (DESIGNATED, "2016-01-02"),
]


def enrolled(supervisee_id: str, site_id: str = SITE) -> list[tuple[ev.EventContract, str]]:
    """A supervisee at a site under the licensed supervisor, with a session in each of two
    months (each recorded the day it was held)."""
    return [
        (registered(supervisee_id, site_id), "2026-01-05"),
        (signed(supervisee_id, site_id), "2026-01-05"),
        (logged(supervisee_id, f"{supervisee_id}-jan", "2026-01-20"), "2026-01-20"),
        (logged(supervisee_id, f"{supervisee_id}-feb", "2026-02-17", 90), "2026-02-17"),
    ]


@dataclass
class Record:
    """Where a message sat on its topic (its value is the event's data)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes | None = None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)


def message(event: ev.EventContract, recorded_at: dt.datetime) -> IncomingEvent:
    """The event as a consumer receives it from Kafka, recorded at `recorded_at`."""
    outgoing = OutboxMessage(
        event_id=uuid.uuid4(),
        topic=event.topic,
        key=event.key(),
        ce_type=event.ce_type(),
        source="/continuum/test",
        subject=event.key(),
        occurred_at=recorded_at,
        data=event.model_dump(mode="json"),
        metadata=EventMetadata(correlation_id="test"),
    )
    return decode(*encode(outgoing))


# The filters the lists' reads are checked under: none, each one, the overview's overdue
# evaluations (open verdicts of the evaluation cadence).
VERDICT_FILTERS = (
    VerdictFilters(),
    VerdictFilters(severity="finding"),
    VerdictFilters(severity="void", resolved=False),
    VerdictFilters(tracks=(TRACK,), resolved=True),
    VerdictFilters(rule_kinds=("evaluation_cadence",), resolved=False),
)


async def summary_pages(
    source: StandingSource, site_id: str, as_of: dt.date, known_at: dt.datetime, **filters: Any
) -> list[SiteSummaries]:
    """Every page of a site's summaries, one supervisee a page, their verdicts left out."""
    pages: list[SiteSummaries] = []
    after: str | None = None
    while True:
        page = await source.summaries_at_site(
            site_id, as_of, known_at, after=after, limit=1, **filters
        )
        pages.append(
            replace(page, standings=tuple(replace(s, verdicts=()) for s in page.standings))
        )
        if page.next_after is None:
            return pages
        after = page.next_after


async def verdict_pages(
    source: StandingSource, as_of: dt.date, known_at: dt.datetime, filters: VerdictFilters
) -> list[tuple[ListedVerdict, ...]]:
    """Every page of the verdicts the filters keep, two a page."""
    pages = []
    after = None
    while True:
        page = await source.verdicts(as_of, known_at, filters=filters, after=after, limit=2)
        pages.append(page.verdicts)
        if page.next_after is None:
            return pages
        after = page.next_after


async def assert_lists_agree(
    materialized: StandingSource,
    live: StandingSource,
    sites: tuple[str, ...],
    as_of: dt.date,
    known_at: dt.datetime,
) -> None:
    """The lists' three reads answer the same from both sources, page by page."""
    assert await materialized.organization(as_of, known_at) == await live.organization(
        as_of, known_at
    )
    for site_id in sites:
        for filters in ({}, {"statuses": ("compliant",)}, {"tracks": (TRACK,)}):
            assert await summary_pages(
                materialized, site_id, as_of, known_at, **filters
            ) == await summary_pages(live, site_id, as_of, known_at, **filters)
    for site_id in (None, *sites):
        for chosen in VERDICT_FILTERS:
            filters = replace(chosen, site_id=site_id)
            assert await verdict_pages(
                materialized, as_of, known_at, filters
            ) == await verdict_pages(live, as_of, known_at, filters)
