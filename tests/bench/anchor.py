"""The anchor: the `eventsourcing` library (pyeventsourcing) appending one event per transaction,
one after the other, on the same database as the services under test.

`python -m tests.bench.anchor` reads a JSON spec on stdin and writes what it measured as JSON
on stdout, in a process of its own. A few aggregates are kept in memory and each save appends
exactly one event to one of them: an optimistic append to an existing stream (the library
checks the version with a unique constraint), with the library's own mapping and
serialisation, and no read. That is the floor a command of ours pays for its write.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy.engine import make_url

from tests.bench.stats import Operation

AGGREGATES = 16


class Tally(Aggregate):
    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Counted")
    def add(self, amount: int) -> None:
        self.count += amount


def environment(spec: dict[str, Any]) -> dict[str, str]:
    if spec["backend"] == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": spec["sqlite_path"]}
    url = make_url(spec["postgres_url"])
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.database or "postgres",
        "POSTGRES_HOST": url.host or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_SCHEMA": spec["schema"],
    }


def run(spec: dict[str, Any]) -> dict[str, Any]:
    app: Application = Application(env=environment(spec))
    tallies = [Tally(f"tally-{n}") for n in range(AGGREGATES)]
    app.save(*tallies)
    appended = Operation()
    began = time.perf_counter()
    measure_from = began + spec["warmup_s"]
    measure_until = measure_from + spec["duration_s"]
    n = 0
    while (now := time.perf_counter()) < measure_until:
        tally = tallies[n % AGGREGATES]
        tally.add(1)
        app.save(tally)
        done = time.perf_counter()
        if measure_from <= done <= measure_until:
            appended.record(done - now, "OK")
        n += 1
    app.close()
    return {
        "library": f"eventsourcing {version('eventsourcing')}",
        "what": "one event per transaction, sequential, appended to an existing aggregate",
        "summary": appended.summary(spec["duration_s"]),
    }


def main() -> None:
    spec = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(run(spec)))


if __name__ == "__main__":
    main()
