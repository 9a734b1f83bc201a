"""A service's own clock: jobs that record what time alone makes true (a deadline missed, a
license about to expire).

A job is a function of the time it is given, `job(now)`, and records each fact once (its
decision sees what is already recorded), so it is deterministic and testable by calling it with
any `now`. The timer only calls it with the service's clock, at start and then every `every`
seconds; no test waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from infra.redaction import redacted_traceback

log = logging.getLogger(__name__)

Job = Callable[[dt.datetime], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Timer:
    name: str
    job: Job
    # Seconds between runs; None takes CONTINUUM_CLOCK_TICK_SECONDS.
    every: float | None = None


async def run_timer(
    timer: Timer, clock: Callable[[], dt.datetime], stopping: asyncio.Event, every: float
) -> None:
    """Runs the job now and then every `every` seconds until `stopping` is set. A failing run
    is logged and tried again at the next tick: the facts it would record are still due."""
    interval = timer.every or every
    while not stopping.is_set():
        try:
            result = await timer.job(clock())
            log.debug("%s ran: %s", timer.name, result)
        except Exception as error:
            log.error(
                "%s failed; trying again in %.0f s\n%s",
                timer.name,
                interval,
                redacted_traceback(error),
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=interval)
