"""The load client: `python -m tests.bench.load` reads a JSON spec on stdin and writes what it
measured as JSON on stdout. It is a process of its own, with its own grpc.aio channels, so the
services measure nothing of it but its calls.

Two modes:
The spec is one line; the client connects, answers "ready", and waits for a second line with
the wall-clock `start_at` the bench gives all its clients, so they start together.

- closed: N workers, each sending its next call as soon as the last one answered (N in
  flight); calls that complete in the warm-up are not counted, those completing in the
  measured interval are, with their status; at its end no new call is sent.
- freshness: LogSession sent at a steady rate (open loop: the next call does not wait for the
  last), while a few probers poll compliance's GetSuperviseeHours for the supervisee of the
  latest reply until that session shows: the time from the reply to the view.

Nothing is retried: an ABORTED is counted as an ABORTED.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc

from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.compliance.v1 import compliance_service_pb2_grpc as compliance_grpc
from continuum.supervision.v1 import supervision_service_pb2_grpc as supervision_grpc
from infra.grpc.client import open_aio_channel
from tests.bench.stats import Operation
from tests.bench.workloads import (
    CALL_TIMEOUT_S,
    METADATA,
    WORKLOADS,
    log_session_request,
    session_date,
)

# In the open loop, calls beyond this many in flight are not sent (and counted as not offered):
# the client never queues without bound when the server falls behind.
MAX_OPEN_LOOP_IN_FLIGHT = 1024
# How long a prober waits for a session to show before counting it as not visible.
VISIBILITY_TIMEOUT_S = 30.0


async def _channels(targets: Mapping[str, str]) -> dict[str, grpc.aio.Channel]:
    channels = {name: open_aio_channel(address) for name, address in targets.items()}
    for channel in channels.values():
        await asyncio.wait_for(channel.channel_ready(), timeout=30)
    return channels


async def _ready() -> float:
    """Tells the bench this client is connected and waits for the common start time."""
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    line = await asyncio.to_thread(sys.stdin.readline)
    return float(json.loads(line)["start_at"])


async def _sleep_until(wall_time: float) -> None:
    await asyncio.sleep(max(0.0, wall_time - time.time()))


async def closed_loop(spec: Mapping[str, Any]) -> dict[str, Any]:
    channels = await _channels(spec["targets"])
    first, count = spec["workers"]
    workload = WORKLOADS[spec["workload"]](channels, spec["params"], spec["total_workers"])
    operations: dict[str, Operation] = collections.defaultdict(Operation)
    start_at = await _ready()
    measure_from = start_at + spec["warmup_s"]
    measure_until = measure_from + spec["duration_s"]

    async def call(rpc: str, start: Callable[[], Awaitable[Any]]) -> Any:
        began = time.perf_counter()
        try:
            reply = await start()
            status = "OK"
        except grpc.aio.AioRpcError as error:
            reply, status = None, error.code().name
        latency = time.perf_counter() - began
        if measure_from <= time.time() <= measure_until:
            operations[rpc].record(latency, status)
        return reply

    async def worker(index: int) -> None:
        seq = 0
        while time.time() < measure_until:
            await workload.iteration(index, seq, call)
            seq += 1

    async def own_cpu() -> float:
        # This client's CPU over the measured window only, warm-up left out, as the services'.
        await _sleep_until(measure_from)
        at_start = time.process_time()
        await _sleep_until(measure_until)
        return time.process_time() - at_start

    await _sleep_until(start_at)
    cpu = asyncio.create_task(own_cpu())
    await asyncio.gather(*(worker(first + n) for n in range(count)))
    for channel in channels.values():
        await channel.close()
    return {
        "measured_from": measure_from,
        "measured_until": measure_until,
        "cpu_s": await cpu,
        "operations": {rpc: op.to_wire() for rpc, op in operations.items()},
    }


async def freshness(spec: Mapping[str, Any]) -> dict[str, Any]:
    channels = await _channels(spec["targets"])
    commands = supervision_grpc.SupervisionServiceStub(channels["supervision"])
    views = compliance_grpc.ComplianceServiceStub(channels["compliance"])
    params = spec["params"]
    pairs: list[tuple[str, str]] = [(p[0], p[1]) for p in params["pairs"]]
    rate: float = spec["rate"]
    poll_interval_s: float = params["poll_interval_s"]
    start_at = await _ready()
    measure_from = start_at + spec["warmup_s"]
    measure_until = measure_from + spec["duration_s"]
    logged = Operation()
    visibility = Operation()
    not_offered = 0
    # Sessions recorded (OK) in all, and by the end of the measured interval: what compliance
    # has to have consumed to be caught up, then and in the end.
    recorded = {"total": 0, "by_end": 0}
    # Replies not yet probed, newest last: (session id, supervisee id, reply time).
    replies: collections.deque[tuple[str, str, float]] = collections.deque(maxlen=10_000)
    in_flight: set[asyncio.Task[None]] = set()

    async def log(seq: int) -> None:
        supervisee_id, supervisor_id = pairs[seq % len(pairs)]
        request = log_session_request(
            f"{params['tag']}-r{int(rate)}-{seq}", supervisee_id, supervisor_id, session_date(seq)
        )
        began = time.perf_counter()
        try:
            await commands.LogSession(request, metadata=METADATA, timeout=CALL_TIMEOUT_S)
            status = "OK"
        except grpc.aio.AioRpcError as error:
            status = error.code().name
        answered = time.time()
        if status == "OK":
            recorded["total"] += 1
            recorded["by_end"] += answered <= measure_until
        if measure_from <= answered <= measure_until:
            logged.record(time.perf_counter() - began, status)
            if status == "OK":
                replies.append((request.session_id, supervisee_id, answered))

    async def issue() -> None:
        nonlocal not_offered
        interval = 1.0 / rate
        due = start_at
        seq = 0
        while due < measure_until:
            await _sleep_until(due)
            if len(in_flight) >= MAX_OPEN_LOOP_IN_FLIGHT:
                if due >= measure_from:
                    not_offered += 1
            else:
                task = asyncio.create_task(log(seq))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            seq += 1
            due += interval

    async def visible(session_id: str, supervisee_id: str) -> bool:
        reply = await views.GetSuperviseeHours(
            compliance.GetSuperviseeHoursRequest(supervisee_id=supervisee_id),
            metadata=METADATA,
            timeout=CALL_TIMEOUT_S,
        )
        shown = [*reply.sessions, *reply.excluded]
        return any(s.session_id == session_id for s in shown)

    async def probe() -> None:
        while time.time() < measure_until or replies:
            if not replies:
                await asyncio.sleep(0.005)
                continue
            # The latest reply: sampling by time, whatever the rate.
            session_id, supervisee_id, answered = replies.pop()
            replies.clear()
            status = "OK"
            while True:
                try:
                    if await visible(session_id, supervisee_id):
                        break
                except grpc.aio.AioRpcError as error:
                    status = error.code().name
                    break
                if time.time() - answered > VISIBILITY_TIMEOUT_S:
                    status = "NOT_VISIBLE"
                    break
                await asyncio.sleep(poll_interval_s)
            visibility.record(time.time() - answered, status)
            if time.time() >= measure_until:
                return

    await _sleep_until(start_at)
    probers = [asyncio.create_task(probe()) for _ in range(params["probers"])]
    await issue()
    if in_flight:
        await asyncio.wait(in_flight)
    await asyncio.gather(*probers)
    for channel in channels.values():
        await channel.close()
    return {
        "measured_from": measure_from,
        "measured_until": measure_until,
        "not_offered": not_offered,
        "recorded": recorded["total"],
        "recorded_by_end": recorded["by_end"],
        "operations": {"LogSession": logged.to_wire(), "visible": visibility.to_wire()},
    }


MODES: dict[str, Callable[[Mapping[str, Any]], Awaitable[dict[str, Any]]]] = {
    "closed": closed_loop,
    "freshness": freshness,
}


def main() -> None:
    spec = json.loads(sys.stdin.readline())
    result = asyncio.run(MODES[spec["mode"]](spec))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
