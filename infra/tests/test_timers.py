"""The service clock runs its jobs with the clock's time, again after a failure, until stopped."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from infra.timers import Timer, run_timer

pytestmark = pytest.mark.unit

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


async def test_a_timer_gives_its_job_the_clock_time_and_retries_after_a_failure() -> None:
    ticks = iter(T0 + dt.timedelta(minutes=n) for n in range(10))
    seen: list[dt.datetime] = []
    stopping = asyncio.Event()

    async def job(now: dt.datetime) -> None:
        seen.append(now)
        if len(seen) == 1:
            raise RuntimeError("database unavailable")
        if len(seen) == 3:
            stopping.set()

    await asyncio.wait_for(
        run_timer(Timer("check", job), lambda: next(ticks), stopping, every=0.001), timeout=5
    )
    assert seen == [T0, T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=2)]


async def test_a_stopped_timer_does_not_run() -> None:
    stopping = asyncio.Event()
    stopping.set()
    seen: list[dt.datetime] = []

    async def job(now: dt.datetime) -> None:
        seen.append(now)

    await run_timer(Timer("check", job), lambda: T0, stopping, every=60)
    assert seen == []
