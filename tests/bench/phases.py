"""The phases of `make bench`, each on a stack of its own (fresh broker, data and databases).

Every phase is `async def phase(run) -> dict` in `PHASES`; what it returns is its part of the
JSON document. A phase that drives load does it through `run.measure`, which starts the load
client processes, lets them warm up, and merges what they measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.compliance.v1 import compliance_service_pb2_grpc as compliance_grpc
from contracts.topics import COMPLIANCE_EVENTS, REFERRAL_EVENTS, SUPERVISION_EVENTS
from infra.grpc.client import open_aio_channel
from tests.bench import organization, prepare
from tests.bench.stack import (
    GRPC_SERVICE,
    Backend,
    BenchStack,
    ConsumerProgress,
    cpu_s,
    rss_mb,
)
from tests.bench.stats import Operation, merge_operations, slope_per_minute
from tests.bench.workloads import METADATA, QUERIES, today

# The consumer groups the set-up waits on (supervision learns licenses; compliance projects).
SUPERVISION_GROUP = "continuum.supervision"
COMPLIANCE_GROUP = "continuum.compliance"
COMPLIANCE_TOPICS = [SUPERVISION_EVENTS.name, REFERRAL_EVENTS.name, COMPLIANCE_EVENTS.name]
# The views of the past describe this many days ago, as known at the end of that day.
PAST_DAYS = 30
# The most a list view answers in one page (the contracts' page_size bound).
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Settings:
    """Every knob of a run; `full()` and `smoke()` are the two presets the CLI starts from."""

    duration_s: float
    warmup_s: float
    in_flight: tuple[int, ...]
    clients: int
    supervisees: int
    contention_supervisors: int
    contention_in_flight: int
    depths: tuple[int, ...]
    depth_supervisees: int
    depth_in_flight: int
    memory_s: float
    memory_in_flight: int
    memory_sample_s: float
    anchor_s: float
    freshness_rates: tuple[float, ...]
    freshness_s: float
    freshness_supervisees: int
    freshness_probers: int
    freshness_poll_s: float
    org_supervisees: int
    org_sessions: int
    query_in_flight: tuple[int, ...]
    rebuild_timeout_s: float

    @classmethod
    def full(cls) -> Settings:
        return cls(
            duration_s=10,
            warmup_s=3,
            in_flight=(1, 32, 64),
            clients=1,
            supervisees=256,
            contention_supervisors=8,
            contention_in_flight=64,
            depths=(10, 300),
            depth_supervisees=16,
            depth_in_flight=16,
            memory_s=300,
            memory_in_flight=16,
            memory_sample_s=5,
            anchor_s=10,
            freshness_rates=(50, 500),
            freshness_s=10,
            freshness_supervisees=256,
            freshness_probers=4,
            freshness_poll_s=0.05,
            org_supervisees=2_000,
            org_sessions=500,
            query_in_flight=(1, 32),
            rebuild_timeout_s=3_600,
        )

    @classmethod
    def smoke(cls) -> Settings:
        return cls(
            duration_s=2,
            warmup_s=0.5,
            in_flight=(1, 4),
            clients=1,
            supervisees=8,
            contention_supervisors=2,
            contention_in_flight=8,
            depths=(2, 6),
            depth_supervisees=2,
            depth_in_flight=2,
            memory_s=4,
            memory_in_flight=2,
            memory_sample_s=0.5,
            anchor_s=2,
            freshness_rates=(5, 20),
            freshness_s=2,
            freshness_supervisees=8,
            freshness_probers=2,
            freshness_poll_s=0.05,
            # Few: the site and organization views evaluate every supervisee of the site.
            org_supervisees=4,
            org_sessions=3,
            query_in_flight=(1, 4),
            rebuild_timeout_s=180,
        )


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Run:
    """One backend's run: its settings, where its stacks keep their data, and the tag that makes
    every id of this run unique."""

    settings: Settings
    backend: Backend
    workdir: Path
    tag: str
    # The phases this run measures (some share one stack: the organization's).
    phases: Sequence[str] = ()
    _organization: dict[str, Any] | None = field(default=None, repr=False)

    @contextlib.asynccontextmanager
    async def stack(
        self, name: str, services: Sequence[str], *, broker_only: bool = False
    ) -> AsyncIterator[BenchStack]:
        stack = BenchStack(name, services, self.backend, self.workdir / self.backend.name / name)
        progress(f"{self.backend.name}/{name}: starting {', '.join(services)}")
        try:
            if broker_only:
                await asyncio.to_thread(stack.start_broker)
            else:
                await asyncio.to_thread(stack.start)
            yield stack
            if failures := stack.failed():
                raise RuntimeError(f"{name}: {'; '.join(failures)}")
        finally:
            await asyncio.to_thread(stack.stop)
            await asyncio.to_thread(self.backend.drop_schemas)

    def ids(self, phase: str) -> str:
        return f"{self.tag}-{phase}"

    async def measure(
        self,
        targets: Mapping[str, str],
        workload: str,
        params: Mapping[str, Any],
        in_flight: int,
        *,
        duration_s: float | None = None,
        during: Callable[[], Awaitable[Any]] | None = None,
        processes: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """One closed-loop level: `in_flight` workers spread over the load clients. With
        `processes` (name: pid), the level also says what CPU each of them, and the load
        clients, spent per answered call over the measured window."""
        duration = duration_s if duration_s is not None else self.settings.duration_s
        if "tag" in params:
            # Every level records under ids of its own: a level never retries another's ids.
            params = {**params, "tag": f"{params['tag']}-{uuid.uuid4().hex[:6]}"}
        clients = max(1, min(self.settings.clients, in_flight))
        shares = [
            in_flight // clients + (1 if c < in_flight % clients else 0) for c in range(clients)
        ]
        firsts = [sum(shares[:c]) for c in range(clients)]
        specs = [
            {
                "mode": "closed",
                "targets": dict(targets),
                "workload": workload,
                "params": dict(params),
                "workers": [firsts[c], shares[c]],
                "total_workers": in_flight,
                "warmup_s": self.settings.warmup_s,
                "duration_s": duration,
            }
            for c in range(clients)
        ]
        spent: dict[str, float] = {}

        async def beside() -> None:
            sampling = [] if processes is None else [cpu_spent(processes, warmup, duration, spent)]
            await asyncio.gather(*sampling, *([during()] if during is not None else []))

        warmup = self.settings.warmup_s
        results = await run_clients(specs, self.workdir / "clients.log", beside)
        operations = merge_operations(r["operations"] for r in results)
        level: dict[str, Any] = {
            "in_flight": in_flight,
            "clients": clients,
            "duration_s": duration,
            "operations": {rpc: op.summary(duration) for rpc, op in sorted(operations.items())},
        }
        if processes is not None:
            spent["load clients"] = sum(r["cpu_s"] for r in results)
            level["cpu"] = cpu_per_operation(spent, operations, duration)
        return level

    async def levels(
        self,
        targets: Mapping[str, str],
        workload: str,
        params: Mapping[str, Any],
        in_flight: Sequence[int],
        label: str,
        processes: Mapping[str, int] | None = None,
    ) -> list[dict[str, Any]]:
        results = []
        for n in in_flight:
            progress(f"{self.backend.name}/{label}: {n} in flight")
            results.append(await self.measure(targets, workload, params, n, processes=processes))
        return results


async def cpu_spent(
    processes: Mapping[str, int], warmup_s: float, duration_s: float, into: dict[str, float]
) -> None:
    """Each process's CPU seconds over the measured window (the clients start 0.2 s after
    this is called, and measure after their warm-up)."""
    await asyncio.sleep(0.2 + warmup_s)
    first = {name: cpu_s(pid) for name, pid in processes.items()}
    await asyncio.sleep(duration_s)
    for name, pid in processes.items():
        before, after = first[name], cpu_s(pid)
        if before is not None and after is not None:
            into[name] = after - before


def cpu_per_operation(
    spent: Mapping[str, float], operations: Mapping[str, Operation], duration_s: float
) -> dict[str, Any]:
    """What one answered call cost each process, in ms of CPU, and how many of the machine's
    cores the level kept busy: a level that keeps them all busy is bound by the machine."""
    answered = sum(len(op.latencies_s) for op in operations.values())
    return {
        "ms_per_call": {
            name: round(seconds / answered * 1e3, 3) if answered else None
            for name, seconds in sorted(spent.items())
        },
        "cores_busy": round(sum(spent.values()) / duration_s, 2),
        "cores": os.cpu_count(),
    }


async def run_clients(
    specs: Sequence[Mapping[str, Any]],
    log_path: Path,
    during: Callable[[], Awaitable[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Starts one load client process per spec, starts them together once all are connected,
    and returns what each measured. `during` runs beside them (RSS sampling, lag probes)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = await asyncio.to_thread(log_path.open, "ab")
    processes = []
    try:
        for spec in specs:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.bench.load",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
            assert process.stdin is not None
            process.stdin.write((json.dumps(spec) + "\n").encode())
            await process.stdin.drain()
            processes.append(process)
        for process in processes:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
            if line.strip() != b"ready":
                raise RuntimeError(f"a load client did not start (see {log_path}): {line!r}")
        start_at = time.time() + 0.2
        for process in processes:
            assert process.stdin is not None
            process.stdin.write((json.dumps({"start_at": start_at}) + "\n").encode())
            await process.stdin.drain()
            process.stdin.close()
        beside = asyncio.create_task(during()) if during is not None else None
        outputs = [await process.communicate() for process in processes]
        if beside is not None:
            await beside
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await asyncio.to_thread(log.close)
    results = []
    for process, (stdout, _) in zip(processes, outputs, strict=True):
        if process.returncode != 0:
            raise RuntimeError(f"a load client failed with {process.returncode} (see {log_path})")
        results.append(json.loads(stdout))
    return results


async def consumed(
    bootstrap: str, group: str, topics: Sequence[str], at_least: int, within_s: float
) -> float:
    """Waits until a consumer group has consumed `at_least` messages of its topics."""
    tracker = await asyncio.to_thread(ConsumerProgress, bootstrap, group, topics)
    try:
        return await asyncio.to_thread(tracker.wait_consumed, at_least, within_s)
    finally:
        await asyncio.to_thread(tracker.close)


async def consumed_now(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    tracker = await asyncio.to_thread(ConsumerProgress, bootstrap, group, topics)
    try:
        return await asyncio.to_thread(tracker.consumed)
    finally:
        await asyncio.to_thread(tracker.close)


async def supervision_ready(
    run: Run, stack: BenchStack, supervision: prepare.Supervision, *, licenses: bool = True
) -> None:
    """Supervisors licensed (when asked) and supervisees enrolled. The licenses go first, and
    enrolment waits until supervision has learnt every one of them (its consumer has committed
    them all): no license fact then lands on a supervisor's stream while a phase measures, and
    none competes with the enrolment for supervision's database."""
    started = time.monotonic()
    if licenses:
        await prepare.record_licenses(stack.address("compliance"), supervision.supervisors)
        await consumed(
            stack.bootstrap_servers,
            SUPERVISION_GROUP,
            [COMPLIANCE_EVENTS.name],
            len(supervision.supervisors),
            within_s=1_800,
        )
    await prepare.enrol(stack.address("supervision"), supervision)
    progress(
        f"{run.backend.name}: {len(supervision.pairs)} supervisees under "
        f"{len(supervision.supervisors)} supervisors set up in {time.monotonic() - started:.1f} s"
    )


# --- the phases ---------------------------------------------------------------------------------


async def ceiling(run: Run) -> dict[str, Any]:
    """(a) The no-op ceiling: gRPC health checks answered by the supervision server."""
    async with run.stack("ceiling", ["supervision"]) as stack:
        params = {"service": "supervision", "grpc_service": GRPC_SERVICE["supervision"]}
        levels = await run.levels(
            stack.addresses,
            "health",
            params,
            run.settings.in_flight,
            "ceiling",
            stack.processes(),
        )
    return {"what": "grpc.health.v1.Health/Check on the supervision server", "levels": levels}


async def log_session(run: Run) -> dict[str, Any]:
    """(b) LogSession: individual sessions over many supervisees, each with a supervisor of their
    own, licensed, under a signed agreement."""
    n = max(run.settings.supervisees, max(run.settings.in_flight))
    supervision = prepare.plan(run.ids("log"), n)
    async with run.stack("log_session", ["supervision", "compliance"]) as stack:
        await supervision_ready(run, stack, supervision)
        # The registry was only needed to license the supervisors: the command path is measured
        # with supervision alone on the machine's cores (and the broker its relay publishes to).
        await asyncio.to_thread(stack.stop_service, "compliance")
        params = {"pairs": supervision.pairs, "tag": run.ids("log-m")}
        levels = await run.levels(
            stack.addresses,
            "log_session",
            params,
            run.settings.in_flight,
            "log_session",
            stack.processes(),
        )
    return {
        "what": "LogSession, individual, one supervisor per supervisee",
        "supervisees": n,
        "services_measured": ["supervision"],
        "levels": levels,
    }


async def register_supervisee(run: Run) -> dict[str, Any]:
    """(c) RegisterSupervisee: a new supervisee per call."""
    async with run.stack("register", ["supervision"]) as stack:
        params = {"tag": run.ids("reg")}
        levels = await run.levels(
            stack.addresses,
            "register_supervisee",
            params,
            run.settings.in_flight,
            "register",
            stack.processes(),
        )
    return {"what": "RegisterSupervisee, a new supervisee per call", "levels": levels}


async def referral_step(run: Run) -> dict[str, Any]:
    """(d) A referral raised then accepted, each call measured under its own name."""
    async with run.stack("referral", ["referral"]) as stack:
        params = {"tag": run.ids("ref")}
        levels = await run.levels(
            stack.addresses,
            "referral_step",
            params,
            run.settings.in_flight,
            "referral",
            stack.processes(),
        )
    return {
        "what": "RaiseReferral (therapy to psychiatry) then AcceptReferral on it, per worker",
        "levels": levels,
    }


async def contention(run: Run) -> dict[str, Any]:
    """(e) Sessions of different supervisees under the same few supervisors."""
    s = run.settings
    n = max(s.supervisees, s.contention_in_flight)
    supervision = prepare.plan(run.ids("con"), n, s.contention_supervisors)
    async with run.stack("contention", ["supervision", "compliance"]) as stack:
        await supervision_ready(run, stack, supervision)
        await asyncio.to_thread(stack.stop_service, "compliance")
        params = {"pairs": supervision.pairs, "tag": run.ids("con-m")}
        progress(f"{run.backend.name}/contention: {s.contention_in_flight} in flight")
        level = await run.measure(
            stack.addresses,
            "log_session",
            params,
            s.contention_in_flight,
            processes=stack.processes(),
        )
    logged = level["operations"].get("LogSession", {"requests": 0, "status": {}})
    aborted = logged["status"].get("ABORTED", 0)
    return {
        "what": "LogSession into distinct supervisees sharing a few supervisors",
        "supervisors": s.contention_supervisors,
        "supervisees": n,
        "services_measured": ["supervision"],
        "level": level,
        "aborted": aborted,
        "aborted_share": round(aborted / logged["requests"], 4) if logged["requests"] else None,
    }


async def depth(run: Run) -> dict[str, Any]:
    """(f) The cost of a command against the history it decides on: LogSession into supervisees
    (and supervisors) that already hold `depth` sessions."""
    s = run.settings
    groups = {d: prepare.plan(run.ids(f"d{d}"), s.depth_supervisees) for d in s.depths}
    results: list[dict[str, Any]] = []
    async with run.stack("depth", ["supervision", "compliance"]) as stack:
        everyone = prepare.Supervision([p for g in groups.values() for p in g.pairs])
        await supervision_ready(run, stack, everyone)
        await asyncio.to_thread(stack.stop_service, "compliance")
        for d, supervision in groups.items():
            started = time.monotonic()
            await prepare.prefill_sessions(
                stack.address("supervision"),
                supervision,
                d,
                run.ids(f"d{d}-pre"),
                s.depth_in_flight,
            )
            progress(
                f"{run.backend.name}/depth: {d} sessions on each of {len(supervision.pairs)} "
                f"supervisees in {time.monotonic() - started:.1f} s"
            )
        for d, supervision in groups.items():
            progress(f"{run.backend.name}/depth: into {d} sessions, {s.depth_in_flight} in flight")
            params = {"pairs": supervision.pairs, "tag": run.ids(f"d{d}-m")}
            level = await run.measure(
                stack.addresses,
                "log_session",
                params,
                s.depth_in_flight,
                processes=stack.processes(),
            )
            logged = level["operations"].get("LogSession", {}).get("requests", 0)
            results.append(
                {
                    "sessions_before": d,
                    "sessions_added_per_supervisee": round(logged / len(supervision.pairs), 1),
                    "level": level,
                }
            )
    rates = {
        r["sessions_before"]: r["level"]["operations"]["LogSession"]["ok_rate"] for r in results
    }
    shallow, deep = min(rates), max(rates)
    return {
        "what": "LogSession into supervisees already holding N sessions (supervisors too)",
        "supervisees_per_depth": s.depth_supervisees,
        "services_measured": ["supervision"],
        "depths": results,
        "ratio_deep_to_shallow": round(rates[deep] / rates[shallow], 4) if rates[shallow] else None,
        "deep": deep,
        "shallow": shallow,
    }


async def memory(run: Run) -> dict[str, Any]:
    """(g) Each service's resident memory through a long mixed run."""
    s = run.settings
    services = ["supervision", "coaching", "referral", "compliance"]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in services}
    async with run.stack("memory", services) as stack:
        supervisors = [f"{run.ids('mem')}-sup{w}" for w in range(s.memory_in_flight)]
        pids = stack.pids()
        began = time.monotonic()
        stop = asyncio.Event()

        async def sample() -> None:
            while True:
                for name, size in rss_mb(pids).items():
                    samples[name].append((round(time.monotonic() - began, 2), size))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), s.memory_sample_s)
                    return

        sampler = asyncio.create_task(sample())
        progress(f"{run.backend.name}/memory: {s.memory_s:.0f} s at {s.memory_in_flight} in flight")
        try:
            level = await run.measure(
                stack.addresses,
                "organization_day",
                {"supervisors": supervisors, "tag": run.ids("mem")},
                s.memory_in_flight,
                duration_s=s.memory_s,
            )
        finally:
            stop.set()
            await sampler
    processes = {}
    for name, points in samples.items():
        sizes = [mb for _, mb in points]
        processes[name] = {
            "start_mb": sizes[0] if sizes else None,
            "end_mb": sizes[-1] if sizes else None,
            "max_mb": max(sizes) if sizes else None,
            # Fitted after the warm-up, where caches and pools have filled.
            "slope_mb_per_min": slope_per_minute([p for p in points if p[0] >= s.warmup_s]),
            "samples": len(points),
        }
    return {
        "what": "RSS of each service through a mixed run: register, agree, log 5 sessions, "
        "raise and accept a referral, per iteration",
        "sample_every_s": s.memory_sample_s,
        "processes": processes,
        "level": level,
    }


async def anchor(run: Run) -> dict[str, Any]:
    """(h) The anchor library's sequential append on the same database."""
    s = run.settings
    spec: dict[str, Any] = {
        "backend": run.backend.name,
        "warmup_s": s.warmup_s,
        "duration_s": s.anchor_s,
    }
    if run.backend.postgres_url is None:
        directory = run.workdir / run.backend.name / "anchor"
        directory.mkdir(parents=True, exist_ok=True)
        spec["sqlite_path"] = str(directory / "anchor.sqlite")
    else:
        spec["postgres_url"] = run.backend.postgres_url
        spec["schema"] = await asyncio.to_thread(run.backend.new_schema, "anchor")
    progress(f"{run.backend.name}/anchor: eventsourcing, sequential")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bench.anchor",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate(json.dumps(spec).encode())
    finally:
        await asyncio.to_thread(run.backend.drop_schemas)
    if process.returncode != 0:
        raise RuntimeError(f"the anchor failed: {stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(stdout)
    return result


async def freshness(run: Run) -> dict[str, Any]:
    """(i) LogSession at a steady rate; the time from its reply until compliance's
    GetSuperviseeHours shows the session, and whether compliance keeps up."""
    s = run.settings
    supervision = prepare.plan(run.ids("fresh"), s.freshness_supervisees)
    rates: list[dict[str, Any]] = []
    async with run.stack("freshness", ["supervision", "compliance"]) as stack:
        await supervision_ready(run, stack, supervision, licenses=False)
        # Compliance has projected the set-up (registration and agreement per supervisee).
        published = 2 * len(supervision.pairs)
        await consumed(
            stack.bootstrap_servers, COMPLIANCE_GROUP, COMPLIANCE_TOPICS, published, within_s=600
        )
        for rate in s.freshness_rates:
            progress(f"{run.backend.name}/freshness: {rate:g} sessions/s")
            result = await _freshness_at(run, stack, supervision, rate, published)
            published += result.pop("recorded")
            rates.append(result)
    return {
        "what": "LogSession reply until the session shows in GetSuperviseeHours (polled)",
        "supervisees": len(supervision.pairs),
        "probers": s.freshness_probers,
        "poll_interval_ms": s.freshness_poll_s * 1000,
        "rates": rates,
    }


async def _freshness_at(
    run: Run, stack: BenchStack, supervision: prepare.Supervision, rate: float, before: int
) -> dict[str, Any]:
    """One steady rate; `before` is how many events compliance had to consume until then."""
    s = run.settings
    spec = {
        "mode": "freshness",
        "targets": stack.addresses,
        "rate": rate,
        "warmup_s": s.warmup_s,
        "duration_s": s.freshness_s,
        "params": {
            "pairs": supervision.pairs,
            "tag": run.ids("fresh-m"),
            "probers": s.freshness_probers,
            "poll_interval_s": s.freshness_poll_s,
        },
    }
    consumed_at_end: dict[str, int] = {}

    async def read_progress_when_the_interval_ends() -> None:
        await asyncio.sleep(s.warmup_s + s.freshness_s + 0.2)
        consumed_at_end["messages"] = await consumed_now(
            stack.bootstrap_servers, COMPLIANCE_GROUP, COMPLIANCE_TOPICS
        )

    (result,) = await run_clients(
        [spec], run.workdir / "clients.log", read_progress_when_the_interval_ends
    )
    drained_in = await consumed(
        stack.bootstrap_servers,
        COMPLIANCE_GROUP,
        COMPLIANCE_TOPICS,
        before + result["recorded"],
        within_s=s.rebuild_timeout_s,
    )
    operations = {rpc: Operation.from_wire(data) for rpc, data in result["operations"].items()}
    logged = operations["LogSession"].summary(s.freshness_s)
    visible = operations["visible"].summary(s.freshness_s)
    # Sessions recorded by the end of the interval that compliance had not yet applied then.
    behind = max(0, before + result["recorded_by_end"] - consumed_at_end["messages"])
    return {
        "target_rate": rate,
        "achieved_rate": logged["ok_rate"],
        "not_offered": result["not_offered"],
        "LogSession": logged,
        "freshness_ms": visible["latency_ms"],
        "freshness_samples": visible["requests"],
        "freshness_status": visible["status"],
        "lag_at_end": behind,
        "recorded": result["recorded"],
        "drained_after_s": round(drained_in, 2),
        # Keeping up: the command path delivered the rate, and compliance was less than a
        # second's worth of events behind when the interval ended.
        "keeps_up": logged["ok_rate"] >= 0.95 * rate and behind <= rate,
    }


async def _organization(run: Run) -> dict[str, Any]:
    """(j) and (k): a fresh compliance catching up from topics that already hold a large
    organization's facts, then its views queried at that size."""
    if run._organization is not None:
        return run._organization
    s = run.settings
    org = organization.Organization(run.ids("org"), s.org_supervisees, s.org_sessions)
    async with run.stack("organization", ["compliance"], broker_only=True) as stack:
        progress(f"{run.backend.name}/rebuild: publishing {org.events} events to the topics")
        started = time.monotonic()
        published = await organization.publish(stack.bootstrap_servers, org, stack.event_signer())
        publish_s = time.monotonic() - started
        rss: list[tuple[float, float]] = []
        began = time.monotonic()
        stack.launch("compliance")
        pids = stack.pids()
        serving = asyncio.create_task(asyncio.to_thread(stack.wait_serving, "compliance"))
        serving_s: float | None = None
        applied = await asyncio.to_thread(
            ConsumerProgress, stack.bootstrap_servers, COMPLIANCE_GROUP, COMPLIANCE_TOPICS
        )
        progress(f"{run.backend.name}/rebuild: compliance catching up on {published} events")
        # The catch-up is timed from the group's first commit: process start, migrations, joining
        # the group and the first batch are not the consumer's pace.
        first_commit: tuple[float, int] | None = None
        cpu_at_first_commit: float | None = None
        sampled_at = 0.0
        try:
            while True:
                now = time.monotonic()
                if now - sampled_at >= 0.25:
                    rss.extend((now - began, mb) for mb in rss_mb(pids).values())
                    sampled_at = now
                if serving_s is None and serving.done():
                    serving.result()
                    serving_s = time.monotonic() - began
                consumed = await asyncio.to_thread(applied.consumed)
                if first_commit is None and consumed > 0:
                    first_commit = (time.monotonic(), consumed)
                    cpu_at_first_commit = cpu_s(pids["compliance"])
                if consumed >= published:
                    break
                if time.monotonic() - began > s.rebuild_timeout_s:
                    raise TimeoutError(f"compliance did not catch up in {s.rebuild_timeout_s} s")
                if failures := stack.failed():
                    raise RuntimeError("; ".join(failures))
                await asyncio.sleep(0.05)
        finally:
            await asyncio.to_thread(applied.close)
        caught_up = time.monotonic()
        cpu_at_caught_up = cpu_s(pids["compliance"])
        caught_up_s = caught_up - began
        assert first_commit is not None
        first_commit_at, committed_first = first_commit
        catch_up_s = caught_up - first_commit_at
        await serving
        if serving_s is None:
            serving_s = time.monotonic() - began
        shown = await _sessions_shown(
            stack.address("compliance"), org.supervisee_id(org.supervisees - 1)
        )
        sizes = [mb for _, mb in rss]
        rebuild = {
            "what": "a fresh compliance consuming topics that already hold the organization; "
            "events_per_s counts the events committed after the group's first commit over the "
            "time from that commit until every event was committed (process start, joining the "
            "group and the first batch excluded); events_per_s_from_start includes them",
            "events": published,
            "supervisees": org.supervisees,
            "sessions": org.supervisees * org.sessions_per_supervisee,
            "publish_s": round(publish_s, 2),
            "start_to_serving_s": round(serving_s, 2),
            "start_to_first_commit_s": round(first_commit_at - began, 2),
            "start_to_caught_up_s": round(caught_up_s, 2),
            "catch_up_s": round(catch_up_s, 3),
            "events_in_catch_up": published - committed_first,
            # When the first commit covered everything (a tiny organization) there is no
            # interval to time: the figure from start stands in.
            "events_per_s": round(
                (published - committed_first) / catch_up_s
                if published > committed_first and catch_up_s > 0
                else published / caught_up_s,
                1,
            ),
            "events_per_s_from_start": round(published / caught_up_s, 1),
            # Compliance's own CPU (all its threads) per event over the catch-up: the cost of an
            # event on a machine shared with the broker, the database and others.
            "compliance_cpu_us_per_event": (
                round(
                    (cpu_at_caught_up - cpu_at_first_commit) / (published - committed_first) * 1e6,
                    1,
                )
                if cpu_at_caught_up is not None
                and cpu_at_first_commit is not None
                and published > committed_first
                else None
            ),
            "last_supervisee_sessions_shown": shown,
            "last_supervisee_sessions_expected": org.sessions_per_supervisee,
            "compliance_rss_mb": {
                "start": sizes[0] if sizes else None,
                "end": sizes[-1] if sizes else None,
                "max": max(sizes) if sizes else None,
                "slope_mb_per_min": slope_per_minute(rss),
            },
        }
        queries: dict[str, Any] = {}
        # The views are queried only when their phase runs: the rebuild alone is quick to repeat.
        views = QUERIES if "queries" in run.phases else {}
        for name, view in views.items():
            levels = await run.levels(
                stack.addresses,
                "compliance_query",
                {**query_parameters(org), "query": name},
                s.query_in_flight,
                f"queries/{name}",
            )
            queries[name] = judged_view(name, view.what, view.target_p99_ms, levels)
    past_as_of, past_known_at = past_moment()
    run._organization = {
        "rebuild": rebuild,
        "queries": {
            "what": "compliance views over random supervisees and sites of the organization",
            "supervisees": org.supervisees,
            "sites": len(org.site_ids),
            "supervisees_per_site": org.supervisees_per_site,
            "sessions": org.supervisees * org.sessions_per_supervisee,
            "past_as_of": past_as_of,
            "past_known_at": past_known_at,
            "views": queries,
        },
    }
    return run._organization


def past_moment() -> tuple[str, str]:
    """The past date a view of the past describes, and the moment it is known at: the end of
    that day, as a report issued then would have been."""
    day = today() - dt.timedelta(days=PAST_DAYS)
    return day.isoformat(), f"{day.isoformat()}T23:59:59Z"


def query_parameters(org: organization.Organization) -> dict[str, Any]:
    past_as_of, past_known_at = past_moment()
    return {
        "supervisees": org.supervisee_ids,
        "sites": org.site_ids,
        "site_page_size": min(org.supervisees_per_site, MAX_PAGE_SIZE),
        "past_as_of": past_as_of,
        "past_known_at": past_known_at,
    }


def judged_view(
    name: str, what: str, target_p99_ms: float | None, levels: list[dict[str, Any]]
) -> dict[str, Any]:
    """A view's levels, each with its p50 and p99 beside the issue's target for the p99. A level
    meets the target when every call answered OK and the p99 is within it."""
    judged = []
    for level in levels:
        op = level["operations"].get(name, {})
        latency = op.get("latency_ms", {})
        p99 = latency.get("p99")
        all_ok = op.get("requests", 0) > 0 and op["status"].get("OK", 0) == op["requests"]
        judged.append(
            {
                **level,
                "p50_ms": latency.get("p50"),
                "p99_ms": p99,
                "meets_target": None
                if target_p99_ms is None or p99 is None
                else all_ok and p99 <= target_p99_ms,
            }
        )
    return {"what": what, "target_p99_ms": target_p99_ms, "levels": judged}


async def _sessions_shown(address: str, supervisee_id: str) -> int:
    async with open_aio_channel(address) as channel:
        stub = compliance_grpc.ComplianceServiceStub(channel)
        reply = await stub.GetSuperviseeHours(
            compliance.GetSuperviseeHoursRequest(supervisee_id=supervisee_id),
            metadata=METADATA,
            timeout=30,
        )
    return len(reply.sessions) + len(reply.excluded)


async def rebuild(run: Run) -> dict[str, Any]:
    """(j) How fast a fresh compliance catches up from the log."""
    result: dict[str, Any] = (await _organization(run))["rebuild"]
    return result


async def queries(run: Run) -> dict[str, Any]:
    """(k) The compliance views' latency at the organization's size."""
    result: dict[str, Any] = (await _organization(run))["queries"]
    return result


PHASES: dict[str, Callable[[Run], Awaitable[dict[str, Any]]]] = {
    "ceiling": ceiling,
    "log_session": log_session,
    "register_supervisee": register_supervisee,
    "referral_step": referral_step,
    "contention": contention,
    "depth": depth,
    "memory": memory,
    "anchor": anchor,
    "freshness": freshness,
    "rebuild": rebuild,
    "queries": queries,
}
