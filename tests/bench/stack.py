"""The system under test, per phase: the embedded broker and the services a phase needs, as
processes (as `make run` and the end-to-end tests start them), on free ports, with a fresh data
folder and fresh databases on the backend being measured.

On PostgreSQL each service of each stack gets a schema of its own in the bench's database
(`search_path` in its URL), created before the services start and dropped when they stop.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
from kafka.admin import KafkaAdminClient
from kafka.structs import TopicPartition
from sqlalchemy.engine import make_url

from infra.devstack import SERVICES, Stack, database_url_variable
from infra.messaging.authenticity import EventSigner
from tests.bench.workloads import BENCH_SIGNING_KEY

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA_PREFIX = "continuum_bench_"
GRPC_SERVICE = {spec.name: spec.grpc_service for spec in SERVICES}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def libpq_url(url: str) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver name)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Backend:
    """Where the services keep their data: SQLite files, or schemas on one PostgreSQL server."""

    name: str
    postgres_url: str | None = None
    # Names every schema this run makes, so that what it leaves (nothing) can be checked.
    run_tag: str = ""
    _schemas: list[str] = field(default_factory=list)

    def database_urls(self, data_dir: Path, stack: str, services: Sequence[str]) -> dict[str, str]:
        if self.postgres_url is None:
            return {s: f"sqlite:///{data_dir / s}.sqlite" for s in services}
        urls: dict[str, str] = {}
        for service in services:
            schema = self.new_schema(f"{stack}_{service}")
            parsed = make_url(self.postgres_url).update_query_dict(
                {"options": f"-csearch_path={schema}"}
            )
            urls[service] = parsed.render_as_string(hide_password=False)
        return urls

    def new_schema(self, purpose: str) -> str:
        """Creates an empty schema of the bench's own (PostgreSQL only) and returns its name."""
        assert self.postgres_url is not None
        schema = f"{SCHEMA_PREFIX}{self.run_tag}_{uuid.uuid4().hex[:6]}_{purpose}"[:63]
        with psycopg.connect(libpq_url(self.postgres_url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self._schemas.append(schema)
        return schema

    def drop_schemas(self) -> None:
        if self.postgres_url is None or not self._schemas:
            return
        with psycopg.connect(libpq_url(self.postgres_url), autocommit=True) as conn:
            for schema in self._schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self._schemas.clear()

    def version(self) -> str:
        if self.postgres_url is None:
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version}"
        with psycopg.connect(libpq_url(self.postgres_url)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"


@dataclass
class BenchStack:
    """One phase's broker and services; `start` blocks until every service serves."""

    name: str
    services: Sequence[str]
    backend: Backend
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    stack: Stack | None = None

    def start_broker(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        addresses = {s: f"127.0.0.1:{free_port()}" for s in GRPC_SERVICE}
        urls = self.backend.database_urls(self.data_dir, self.name, self.services)
        env = {database_url_variable(s): url for s, url in urls.items()} | self.env
        self.stack = Stack(
            data_dir=self.data_dir,
            addresses=addresses,
            broker_port=0,
            echo=False,
            extra_env=env,
            signing_key=BENCH_SIGNING_KEY,
        )
        return self.stack.start_broker()

    def start_services(self, services: Sequence[str] | None = None) -> None:
        assert self.stack is not None
        chosen = list(services or self.services)
        for service in chosen:
            self.stack.start_service(service)
        for service in chosen:
            self.stack.wait_until_serving(service, timeout=120)

    def launch(self, service: str) -> None:
        """Starts a service's process without waiting for it to serve."""
        assert self.stack is not None
        self.stack.start_service(service)

    def wait_serving(self, service: str) -> None:
        assert self.stack is not None
        self.stack.wait_until_serving(service, timeout=120)

    def start(self) -> None:
        self.start_broker()
        self.start_services()

    def stop_service(self, service: str) -> None:
        assert self.stack is not None
        self.stack.stop_service(service)

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()

    def event_signer(self) -> EventSigner:
        """Signs events as their services would, for what the bench puts on the topics."""
        assert self.stack is not None
        return self.stack.event_signer()

    @property
    def bootstrap_servers(self) -> str:
        assert self.stack is not None and self.stack.bootstrap_servers is not None
        return self.stack.bootstrap_servers

    def address(self, service: str) -> str:
        assert self.stack is not None
        return self.stack.addresses[service]

    @property
    def addresses(self) -> dict[str, str]:
        """Where the services that are running listen."""
        assert self.stack is not None
        return {s: self.stack.addresses[s] for s in self.services if self.stack.pid(s) is not None}

    def pids(self) -> dict[str, int]:
        assert self.stack is not None
        return {s: pid for s in self.services if (pid := self.stack.pid(s)) is not None}

    def processes(self) -> dict[str, int]:
        """The services' and the embedded broker's process ids: whose CPU a level pays."""
        assert self.stack is not None
        broker = self.stack.broker_pid
        return {**self.pids(), **({"broker": broker} if broker is not None else {})}

    def failed(self) -> list[str]:
        assert self.stack is not None
        return [f"{service} exited with {code}" for service, code in self.stack.exited()]


@contextlib.contextmanager
def running(stack: BenchStack) -> Iterator[BenchStack]:
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def rss_mb(pids: dict[str, int]) -> dict[str, float]:
    """Each process's resident memory, in MiB (a process that is gone is left out)."""
    sizes: dict[str, float] = {}
    for name, pid in pids.items():
        with contextlib.suppress(psutil.Error):
            sizes[name] = round(psutil.Process(pid).memory_info().rss / 2**20, 2)
    return sizes


def cpu_s(pid: int) -> float | None:
    """The CPU time a process has used so far, user and system, over all its threads (None when
    it is gone): what a figure costs whatever else the machine runs."""
    with contextlib.suppress(psutil.Error):
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    return None


class ConsumerProgress:
    """How many messages of some topics a consumer group has consumed, read from the offsets it
    committed (Kafka's admin API). The bench knows how many it (or the services) published, so
    that count alone says how far behind the group is; the embedded broker's answers to "where
    does a partition end" were found stale at times, its committed offsets never."""

    def __init__(self, bootstrap: str, group: str, topics: Sequence[str]) -> None:
        self._group = group
        self._admin: Any = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-lag")
        self._partitions = [
            TopicPartition(described["name"], partition["partition_index"])
            for described in self._admin.describe_topics(list(topics))
            for partition in described["partitions"]
        ]

    def consumed(self) -> int:
        """The messages the group has committed, over every partition (each starts at 0)."""
        committed = self._admin.list_group_offsets({self._group: self._partitions}).get(
            self._group, {}
        )
        return sum(max(0, offset.offset) for offset in committed.values() if offset is not None)

    def wait_consumed(self, at_least: int, timeout: float = 600) -> float:
        """Blocks until the group has committed `at_least` messages; returns the seconds it took.
        TimeoutError when it does not happen in time."""
        began = time.monotonic()
        while (consumed := self.consumed()) < at_least:
            if time.monotonic() - began > timeout:
                raise TimeoutError(
                    f"{self._group} consumed {consumed} of {at_least} messages in {timeout:.0f} s"
                )
            time.sleep(0.1)
        return time.monotonic() - began

    def close(self) -> None:
        self._admin.close()
