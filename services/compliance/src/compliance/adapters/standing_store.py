"""The materialized standing: each supervisee's standing for the current date in SQL, marked
out of date in the projector's transaction and kept up by the keeper
(`compliance.application.standing_keeper`, which says why it is asynchronous).

Three tables:
- `standing_marks`: one row per supervisee compliance heard of, with a counter every batch that
  touches them raises, in the projector's own transaction (a supervisor's credential change
  raises it for everyone they supervise; a dead-lettered event for everyone it names);
- `supervisee_standing`: the standing per supervisee and date, with the mark it was evaluated at
  and when (the `known_at` of its evaluation);
- `standing_verdicts`: its verdicts, a row each, for the verdict lists' filters.

A stored standing answers a view of its date known at or after its evaluation, while its mark is
still the one it was evaluated at: then no fact about the supervisee was applied since, and the
facts as known at the view's moment are those it was evaluated from. Every other supervisee of
the view is evaluated live, in the same snapshot the rows are read from; a past date or a past
moment is therefore answered from the facts, as the live source answers it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    Text,
    and_,
    cast,
    delete,
    func,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from compliance.adapters import read_model as rm
from compliance.application.queries import evaluation_in
from compliance.application.standing import (
    ListedVerdict,
    OrganizationTotals,
    SiteSummaries,
    SiteTotals,
    Standing,
    VerdictFilters,
    VerdictKey,
    VerdictPage,
    count_by_status,
    lacking,
    page_of,
    standing_of,
    verdicts_of,
)
from compliance.domain.engine import StatusLevel, Verdict
from compliance.domain.facts import Concern, UnappliedEvent, concerns
from compliance.domain.record import (
    SuperviseeFact,
    TransferFact,
    UnknownSupervisee,
    supervisee_as_of,
)
from contracts.rulepacks.model import RulePacks
from infra.bulk import InsertOnce
from infra.db import Database, Migration, UtcDateTime
from infra.messaging.cloudevents import IncomingEvent
from infra.messaging.consumer import KafkaRecord, record_payload

metadata = MetaData()
ID = String(64)

standing_marks = Table(
    "standing_marks",
    metadata,
    Column("supervisee_id", ID, primary_key=True),
    Column("mark", Integer, nullable=False),
)

supervisee_standing = Table(
    "supervisee_standing",
    metadata,
    Column("supervisee_id", ID, nullable=False),
    Column("as_of", Date, nullable=False),
    # The mark it was evaluated at, and the moment whose record it was evaluated from.
    Column("mark", Integer, nullable=False),
    Column("evaluated_at", UtcDateTime, nullable=False),
    # The home site at the end of as_of; NULL when not registered by then (at no site).
    Column("site_id", ID),
    Column("track", ID),
    Column("level", String(20), nullable=False),
    Column("open_voids", Integer, nullable=False),
    Column("open_findings", Integer, nullable=False),
    Column("resolved_verdicts", Integer, nullable=False),
    # A decimal, as a string: exact on every backend.
    Column("supervision_counted_minutes", String(40), nullable=False),
    Column("supervision_required_minutes", Integer),
    Column("projected_completion", Date),
    Column("unapplied", JSON, nullable=False),
    # Every verdict, as the engine lists them: JSON read back in one pass (see `_VERDICTS`).
    Column("verdicts", Text, nullable=False),
    PrimaryKeyConstraint("supervisee_id", "as_of"),
    # A site's list, and the organization's counts per site and status.
    Index("ix_supervisee_standing_site", "as_of", "site_id", "level", "supervisee_id"),
)

standing_verdicts = Table(
    "standing_verdicts",
    metadata,
    Column("supervisee_id", ID, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("verdict_id", String(36), nullable=False),
    # The supervisee's home site (the verdict's own site, if any, is in `verdict`).
    Column("site_id", ID),
    Column("track", ID, nullable=False),
    Column("severity", String(20), nullable=False),
    Column("rule_id", String(200), nullable=False),
    Column("rule_kind", String(64), nullable=False),
    Column("on", Date, nullable=False),
    Column("resolved", Boolean, nullable=False),
    # The order the engine lists them in (by the day they concern).
    Column("position", Integer, nullable=False),
    # The verdict as JSON, read back by its model in one pass.
    Column("verdict", Text, nullable=False),
    PrimaryKeyConstraint("supervisee_id", "as_of", "verdict_id"),
    Index("ix_standing_verdicts_site", "as_of", "site_id", "supervisee_id", "position"),
    Index("ix_standing_verdicts_rule", "as_of", "rule_kind", "resolved"),
)
# The verdict lists' order (supervisee, day concerned, rule, verdict), across sites and at one:
# a page is read off the index instead of sorting every verdict of the date.
_VERDICT_ORDER = (
    Index(
        "ix_standing_verdicts_listed",
        standing_verdicts.c.as_of,
        standing_verdicts.c.supervisee_id,
        standing_verdicts.c.on,
        standing_verdicts.c.rule_id,
        standing_verdicts.c.verdict_id,
    ),
    Index(
        "ix_standing_verdicts_site_listed",
        standing_verdicts.c.as_of,
        standing_verdicts.c.site_id,
        standing_verdicts.c.supervisee_id,
        standing_verdicts.c.on,
        standing_verdicts.c.rule_id,
        standing_verdicts.c.verdict_id,
    ),
)


def _create(conn: Connection) -> None:
    metadata.create_all(conn, tables=[standing_marks, supervisee_standing, standing_verdicts])


def _index_verdict_order(conn: Connection) -> None:
    for index in _VERDICT_ORDER:
        index.create(conn, checkfirst=True)


MIGRATIONS = (
    Migration(
        "compliance-standing",
        1,
        "the materialized standing: marks, each supervisee's standing per date, its verdicts",
        _create,
    ),
    Migration(
        "compliance-standing",
        2,
        "the verdicts indexed in the lists' order",
        _index_verdict_order,
    ),
)

# --- marking, in the projector's transaction ---------------------------------------------


async def mark(conn: AsyncConnection, supervisee_ids: Iterable[str]) -> None:
    """Raises the mark of each of these supervisees (first mark: 1), in one statement."""
    ids = sorted(set(supervisee_ids))
    if not ids:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    for start in range(0, len(ids), 500):
        statement = insert(standing_marks).values(
            [{"supervisee_id": i, "mark": 1} for i in ids[start : start + 500]]
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[standing_marks.c.supervisee_id],
                set_={"mark": standing_marks.c.mark + 1},
            )
        )


def _supervised_by(holders: Collection[str]) -> Select[Any]:
    """Everyone whose record reads these holders' credentials: under an agreement with them, or
    with a session they held."""
    ids = sorted(holders)
    return (
        union(
            select(rm.agreements.c.supervisee_id).where(rm.agreements.c.supervisor_id.in_(ids)),
            select(rm.supervision_sessions.c.supervisee_id).where(
                rm.supervision_sessions.c.supervisor_id.in_(ids)
            ),
        )
        .subquery()
        .select()
    )


async def _holders_supervisees(conn: AsyncConnection, holders: Collection[str]) -> set[str]:
    if not holders:
        return set()
    return set(await conn.scalars(_supervised_by(holders)))


async def mark_touched(conn: AsyncConnection, touched: rm.Touched) -> None:
    """The projector's `after_apply`: marks every supervisee whose standing the batch may have
    changed (the facts and the marks commit, or roll back, together)."""
    await mark(conn, touched.supervisees | await _holders_supervisees(conn, touched.holders))


async def _named_supervisees(conn: AsyncConnection, named: Iterable[Concern]) -> set[str]:
    """The supervisees whose view an event naming these lacks."""
    by_kind: dict[str, set[str]] = {}
    for kind, subject in named:
        by_kind.setdefault(kind, set()).add(subject)
    found = set(by_kind.get("supervisee", ()))
    for kind, table, key in (
        ("session", rm.supervision_sessions, "session_id"),
        ("agreement", rm.agreements, "agreement_id"),
        ("evaluation", rm.evaluations, "evaluation_id"),
    ):
        if kind in by_kind:
            found.update(
                await conn.scalars(
                    select(table.c.supervisee_id).where(table.c[key].in_(sorted(by_kind[kind])))
                )
            )
    return found | await _holders_supervisees(conn, by_kind.get("holder", set()))


async def record_unapplied(
    conn: AsyncConnection, event: IncomingEvent | None, record: KafkaRecord, error: Exception
) -> None:
    """The consumer's dead-letter hook: the read model records the event it could not apply,
    and everyone it names is marked, since their views now lack it."""
    await rm.record_unapplied(conn, event, record, error)
    await mark(conn, await _named_supervisees(conn, concerns(record_payload(event, record))))


# --- the stored standing -----------------------------------------------------------------


def _fresh(as_of: dt.date, known_at: dt.datetime) -> ColumnElement[bool]:
    """A stored standing that answers a view of `as_of` known at `known_at`."""
    s, m = supervisee_standing.c, standing_marks.c
    return and_(s.as_of == as_of, s.mark == m.mark, s.evaluated_at <= known_at)


def _with_marks() -> Any:
    s, m = supervisee_standing.c, standing_marks.c
    return supervisee_standing.join(standing_marks, m.supervisee_id == s.supervisee_id)


def _not_fresh(as_of: dt.date, known_at: dt.datetime) -> Select[Any]:
    """Supervisees marked whose standing for `as_of` is missing or not fresh."""
    s, m = supervisee_standing.c, standing_marks.c
    return (
        select(m.supervisee_id)
        .select_from(
            standing_marks.outerjoin(
                supervisee_standing,
                and_(s.supervisee_id == m.supervisee_id, s.as_of == as_of),
            )
        )
        .where(or_(s.supervisee_id.is_(None), s.mark != m.mark, s.evaluated_at > known_at))
    )


# A site's verdicts are thousands: parsed from the JSON text by the model in one pass, which
# costs a fifth of decoding the JSON and then validating the objects.
_VERDICTS = TypeAdapter(tuple[Verdict, ...])
# What a list shows of a standing: everything but its verdicts.
_SUMMARY = tuple(c for c in supervisee_standing.c if c.name != "verdicts")


def _standing(row: Row[Any], verdicts: tuple[Verdict, ...]) -> Standing:
    return Standing(
        supervisee_id=row.supervisee_id,
        site_id=row.site_id,
        track=row.track,
        level=row.level,
        open_voids=row.open_voids,
        open_findings=row.open_findings,
        resolved_verdicts=row.resolved_verdicts,
        supervision_counted_minutes=Decimal(row.supervision_counted_minutes),
        supervision_required_minutes=row.supervision_required_minutes,
        projected_completion=row.projected_completion,
        verdicts=verdicts,
        unapplied=tuple(UnappliedEvent.model_validate(u) for u in row.unapplied),
    )


def _rows_of(standing: Standing, as_of: dt.date, mark: int, evaluated_at: dt.datetime) -> Any:
    return {
        "supervisee_id": standing.supervisee_id,
        "as_of": as_of,
        "mark": mark,
        "evaluated_at": evaluated_at,
        "site_id": standing.site_id,
        "track": standing.track,
        "level": standing.level,
        "open_voids": standing.open_voids,
        "open_findings": standing.open_findings,
        "resolved_verdicts": standing.resolved_verdicts,
        "supervision_counted_minutes": str(standing.supervision_counted_minutes),
        "supervision_required_minutes": standing.supervision_required_minutes,
        "projected_completion": standing.projected_completion,
        "unapplied": [u.model_dump(mode="json") for u in standing.unapplied],
        "verdicts": _VERDICTS.dump_json(standing.verdicts).decode(),
    }


def _verdict_rows(standing: Standing, as_of: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "supervisee_id": standing.supervisee_id,
            "as_of": as_of,
            "verdict_id": v.verdict_id,
            "site_id": standing.site_id,
            "track": v.track,
            "severity": v.severity,
            "rule_id": v.rule_id,
            "rule_kind": v.rule_kind,
            "on": v.on,
            "resolved": v.resolved,
            "position": n,
            "verdict": v.model_dump_json(),
        }
        for n, v in enumerate(standing.verdicts)
    ]


async def evaluate_standing(
    read: rm.SqlFactsReader,
    packs: RulePacks,
    supervisee_id: str,
    as_of: dt.date,
    known_at: dt.datetime,
) -> Standing | None:
    """One supervisee's standing from the facts (None: compliance had not heard of them)."""
    try:
        view = await evaluation_in(read, packs, supervisee_id, as_of, known_at)
    except UnknownSupervisee:
        return None
    registration = view.shown.record.registration
    site_id = registration.home_site_id if registration is not None else None
    return standing_of(view.shown, site_id, view.unapplied)


def _verdicts_where(filters: VerdictFilters) -> list[ColumnElement[bool]]:
    """The filters over the stored verdicts (a verdict of a supervisee at no site is in no list)."""
    v = standing_verdicts.c
    return [
        v.site_id == filters.site_id if filters.site_id is not None else v.site_id.is_not(None),
        *([v.track.in_(filters.tracks)] if filters.tracks else []),
        *([v.rule_id.in_(filters.rule_ids)] if filters.rule_ids else []),
        *([v.rule_kind.in_(filters.rule_kinds)] if filters.rule_kinds else []),
        *([v.severity == filters.severity] if filters.severity is not None else []),
        *([v.resolved.is_(filters.resolved)] if filters.resolved is not None else []),
    ]


async def _unapplied_of(conn: AsyncConnection, where: ColumnElement[bool]) -> list[UnappliedEvent]:
    """What the stored standings `where` selects lack: only the rows that lack anything read."""
    s = supervisee_standing.c
    rows = await conn.scalars(
        select(s.unapplied).select_from(_with_marks()).where(where, cast(s.unapplied, Text) != "[]")
    )
    return [UnappliedEvent.model_validate(u) for found in rows for u in found]


class SqlStandingStore:
    """The keeper's store (`StandingStore`) and the materialized `StandingSource`."""

    def __init__(self, db: Database, packs: RulePacks, clock: Callable[[], dt.datetime]) -> None:
        self._db = db
        self._packs = packs
        self._now = clock
        self._write_standing = InsertOnce(supervisee_standing)
        self._write_verdicts = InsertOnce(standing_verdicts)

    # -- the keeper's side

    async def stale(self, as_of: dt.date, limit: int) -> tuple[str, ...]:
        """Those never kept first, then those kept longest ago: a supervisee marked again and
        again never holds the others back."""
        s, m = supervisee_standing.c, standing_marks.c
        query = _not_fresh(as_of, self._now()).order_by(
            s.evaluated_at.asc().nulls_first(), m.supervisee_id
        )
        async with self._db.read() as conn:
            return tuple(await conn.scalars(query.limit(limit)))

    async def refresh(self, supervisee_ids: tuple[str, ...], as_of: dt.date) -> int:
        async with self._db.read(snapshot=True) as conn:
            # The moment the snapshot sees: everything applied by then is in it.
            known_at = self._now()
            marks = await _marks(conn, supervisee_ids)
            read = rm.SqlFactsReader(conn)
            found = [
                (await evaluate_standing(read, self._packs, i, as_of, known_at), i)
                for i in supervisee_ids
                if i in marks
            ]
        kept = [(standing or _unheard_of(i), marks[i]) for standing, i in found]
        await self._keep(kept, as_of, known_at)
        return len(kept)

    async def _keep(
        self, kept: Sequence[tuple[Standing, int]], as_of: dt.date, evaluated_at: dt.datetime
    ) -> None:
        ids = [standing.supervisee_id for standing, _ in kept]
        async with self._db.transaction() as conn:
            for table in (standing_verdicts, supervisee_standing):
                await conn.execute(
                    delete(table).where(table.c.as_of == as_of, table.c.supervisee_id.in_(ids))
                )
            await self._write_standing(conn, [_rows_of(s, as_of, m, evaluated_at) for s, m in kept])
            await self._write_verdicts(
                conn, [row for s, _ in kept for row in _verdict_rows(s, as_of)]
            )

    async def forget_before(self, as_of: dt.date) -> int:
        async with self._db.transaction() as conn:
            await conn.execute(delete(standing_verdicts).where(standing_verdicts.c.as_of < as_of))
            result = await conn.execute(
                delete(supervisee_standing).where(supervisee_standing.c.as_of < as_of)
            )
        return result.rowcount or 0

    # -- the views' side (StandingSource)

    @asynccontextmanager
    async def _view(self) -> AsyncIterator[AsyncConnection]:
        async with self._db.read(snapshot=True) as conn:
            yield conn

    async def _live(
        self,
        conn: AsyncConnection,
        query: Select[Any],
        as_of: dt.date,
        known_at: dt.datetime,
    ) -> list[Standing]:
        """The standings of the supervisees `query` selects, evaluated from the facts."""
        read = rm.SqlFactsReader(conn)
        evaluated = []
        for supervisee_id in await conn.scalars(query.order_by("supervisee_id")):
            standing = await evaluate_standing(read, self._packs, supervisee_id, as_of, known_at)
            if standing is not None:
                evaluated.append(standing)
        return evaluated

    async def sites(self, as_of: dt.date, known_at: dt.datetime) -> tuple[str, ...]:
        s = supervisee_standing.c
        async with self._view() as conn:
            stored = set(
                await conn.scalars(
                    select(s.site_id)
                    .select_from(_with_marks())
                    .where(_fresh(as_of, known_at), s.site_id.is_not(None))
                    .distinct()
                )
            )
            others = await _home_sites(conn, _not_fresh(as_of, known_at), as_of, known_at)
        return tuple(sorted(stored | others))

    async def at_site(
        self, site_id: str, as_of: dt.date, known_at: dt.datetime
    ) -> tuple[Standing, ...]:
        s = supervisee_standing.c
        async with self._view() as conn:
            rows = (
                await conn.execute(
                    select(supervisee_standing)
                    .select_from(_with_marks())
                    .where(_fresh(as_of, known_at), s.site_id == site_id)
                )
            ).all()
            live = await self._live(conn, _could_be_at(site_id, as_of, known_at), as_of, known_at)
        stored = [_standing(r, _VERDICTS.validate_json(r.verdicts)) for r in rows]
        at = stored + [x for x in live if x.site_id == site_id]
        return tuple(sorted(at, key=lambda x: x.supervisee_id))

    async def summaries_at_site(
        self,
        site_id: str,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        statuses: Collection[StatusLevel] = (),
        tracks: Collection[str] = (),
        after: str | None = None,
        limit: int = 100,
    ) -> SiteSummaries:
        """One indexed read of a page of the site's rows (without their verdicts), a GROUP BY
        for its counts, the rows that lack an event; the supervisees without a fresh standing
        evaluated live."""
        if limit < 1:
            raise ValueError(f"limit is {limit}; a page holds at least one supervisee")
        s = supervisee_standing.c
        at_site = and_(_fresh(as_of, known_at), s.site_id == site_id)
        page = select(*_SUMMARY).select_from(_with_marks()).where(at_site)
        if statuses:
            page = page.where(s.level.in_(sorted(statuses)))
        if tracks:
            page = page.where(s.track.in_(sorted(tracks)))
        if after is not None:
            page = page.where(s.supervisee_id > after)
        async with self._view() as conn:
            rows = (await conn.execute(page.order_by(s.supervisee_id).limit(limit + 1))).all()
            counts = await conn.execute(
                select(s.level, func.count())
                .select_from(_with_marks())
                .where(at_site)
                .group_by(s.level)
            )
            by_status = count_by_status(())
            for level, count in counts:
                by_status[level] += count
            unapplied = await _unapplied_of(conn, at_site)
            live = await self._live(conn, _could_be_at(site_id, as_of, known_at), as_of, known_at)
        live = [x for x in live if x.site_id == site_id]
        for x in live:
            by_status[x.level] += 1
        shown, next_after = page_of(
            [*(_standing(row, ()) for row in rows), *live],
            statuses=statuses,
            tracks=tracks,
            after=after,
            limit=limit,
        )
        return SiteSummaries(
            standings=shown,
            next_after=next_after,
            by_status=by_status,
            unapplied=lacking(unapplied, *(x.unapplied for x in live)),
        )

    async def organization(self, as_of: dt.date, known_at: dt.datetime) -> OrganizationTotals:
        """One GROUP BY over the stored standings, the rows that lack an event; the supervisees
        without a fresh standing evaluated live."""
        s = supervisee_standing.c
        at_a_site = and_(_fresh(as_of, known_at), s.site_id.is_not(None))
        async with self._view() as conn:
            grouped = await conn.execute(
                select(
                    s.site_id,
                    s.level,
                    func.count(),
                    func.sum(s.open_voids),
                    func.sum(s.open_findings),
                )
                .select_from(_with_marks())
                .where(at_a_site)
                .group_by(s.site_id, s.level)
            )
            totals: dict[str, tuple[dict[StatusLevel, int], list[int]]] = {}
            for site_id, level, count, voids, findings in grouped:
                levels, open_ = totals.setdefault(site_id, (count_by_status(()), [0, 0]))
                levels[level] += count
                open_[0] += int(voids or 0)
                open_[1] += int(findings or 0)
            unapplied = await _unapplied_of(conn, at_a_site)
            live = await self._live(conn, _not_fresh(as_of, known_at), as_of, known_at)
        live = [x for x in live if x.site_id is not None]
        for x in live:
            assert x.site_id is not None
            levels, open_ = totals.setdefault(x.site_id, (count_by_status(()), [0, 0]))
            levels[x.level] += 1
            open_[0] += x.open_voids
            open_[1] += x.open_findings
        return OrganizationTotals(
            sites=tuple(
                SiteTotals(site_id, levels, open_[0], open_[1])
                for site_id, (levels, open_) in sorted(totals.items())
            ),
            unapplied=lacking(unapplied, *(x.unapplied for x in live)),
        )

    async def verdicts(
        self,
        as_of: dt.date,
        known_at: dt.datetime,
        *,
        filters: VerdictFilters | None = None,
        after: VerdictKey | None = None,
        limit: int = 100,
    ) -> VerdictPage:
        """One indexed read of a page of the stored verdicts, the rows that lack an event; the
        supervisees without a fresh standing evaluated live."""
        if limit < 1:
            raise ValueError(f"limit is {limit}; a page holds at least one verdict")
        chosen = filters or VerdictFilters()
        s, v = supervisee_standing.c, standing_verdicts.c
        fresh = select(s.supervisee_id).select_from(_with_marks()).where(_fresh(as_of, known_at))
        order = (v.supervisee_id, v.on, v.rule_id, v.verdict_id)
        query = select(v.supervisee_id, v.site_id, v.verdict).where(
            v.as_of == as_of, v.supervisee_id.in_(fresh), *_verdicts_where(chosen)
        )
        if after is not None:
            supervisee_id, on, rule_id, verdict_id = after
            query = query.where(
                tuple_(*order) > (supervisee_id, dt.date.fromisoformat(on), rule_id, verdict_id)
            )
        at_sites = and_(
            _fresh(as_of, known_at),
            s.site_id == chosen.site_id if chosen.site_id is not None else s.site_id.is_not(None),
        )
        live_query = (
            _not_fresh(as_of, known_at)
            if chosen.site_id is None
            else _could_be_at(chosen.site_id, as_of, known_at)
        )
        async with self._view() as conn:
            rows = (await conn.execute(query.order_by(*order).limit(limit + 1))).all()
            unapplied = await _unapplied_of(conn, at_sites)
            live = await self._live(conn, live_query, as_of, known_at)
        live = [x for x in live if chosen.admits_site(x.site_id)]
        stored = [
            ListedVerdict(r.supervisee_id, r.site_id, Verdict.model_validate_json(r.verdict))
            for r in rows
        ]
        found = sorted([*stored, *verdicts_of(live, chosen, after)], key=lambda lv: lv.key)
        page = tuple(found[:limit])
        return VerdictPage(
            verdicts=page,
            next_after=page[-1].key if len(found) > limit else None,
            unapplied=lacking(unapplied, *(x.unapplied for x in live)),
        )


async def _home_sites(
    conn: AsyncConnection, chosen: Select[Any], as_of: dt.date, known_at: dt.datetime
) -> set[str]:
    """The home sites at the end of `as_of` of the supervisees `chosen` selects, from their
    registrations and transfers as known at `known_at` (no evaluation needed)."""
    sv, t = rm.supervisees, rm.supervisee_transfers
    ids = select(chosen.subquery().c.supervisee_id)
    registrations = (
        await conn.execute(
            select(sv).where(sv.c.supervisee_id.in_(ids), sv.c.recorded_at <= known_at)
        )
    ).all()
    transfers: dict[str, list[TransferFact]] = {}
    for row in await conn.execute(
        select(t).where(t.c.supervisee_id.in_(ids), t.c.recorded_at <= known_at)
    ):
        transfers.setdefault(row.supervisee_id, []).append(
            TransferFact(
                from_site_id=row.from_site_id,
                to_site_id=row.to_site_id,
                effective_on=row.effective_on,
                recorded_at=row.recorded_at,
                source_event_id=row.source_event_id,
            )
        )
    sites = set()
    for row in registrations:
        registration = SuperviseeFact(
            supervisee_id=row.supervisee_id,
            credential_track=row.credential_track,
            license_number=row.license_number,
            home_site_id=row.home_site_id,
            registered_on=row.registered_on,
            recorded_at=row.recorded_at,
            source_event_id=row.source_event_id,
            transfers=tuple(transfers.get(row.supervisee_id, ())),
        )
        shown = supervisee_as_of(registration, as_of)
        if shown is not None:
            sites.add(shown.home_site_id)
    return sites


async def _marks(conn: AsyncConnection, ids: Collection[str]) -> dict[str, int]:
    m = standing_marks.c
    rows = await conn.execute(select(m.supervisee_id, m.mark).where(m.supervisee_id.in_(list(ids))))
    return {row.supervisee_id: row.mark for row in rows}


def _unheard_of(supervisee_id: str) -> Standing:
    """What is kept of a supervisee only named by an event compliance could not apply: at no
    site, so in no list."""
    return Standing(
        supervisee_id=supervisee_id,
        site_id=None,
        track=None,
        level="not_evaluated",
        open_voids=0,
        open_findings=0,
        resolved_verdicts=0,
        supervision_counted_minutes=Decimal(0),
        supervision_required_minutes=None,
        projected_completion=None,
        verdicts=(),
    )


def _could_be_at(site_id: str, as_of: dt.date, known_at: dt.datetime) -> Select[Any]:
    """The supervisees without a fresh standing whose home site could be `site_id`: registered
    there, or transferred there."""
    sv, t = rm.supervisees.c, rm.supervisee_transfers.c
    return _not_fresh(as_of, known_at).where(
        standing_marks.c.supervisee_id.in_(
            union(
                select(sv.supervisee_id).where(sv.home_site_id == site_id),
                select(t.supervisee_id).where(t.to_site_id == site_id),
            )
            .subquery()
            .select()
        )
    )
