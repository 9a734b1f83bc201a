"""`make bench` / `python -m tests.bench`: the project's own benchmark.

Prints one JSON document (stdout, or --out) and a readable table (stderr). See README.md,
"Performance", for what each figure means; `--help` for the options.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.bench import machine
from tests.bench.phases import PHASES, Run, Settings, progress
from tests.bench.report import ratios, render
from tests.bench.stack import DEFAULT_POSTGRES_URL, Backend

SCHEMA = "continuum-bench/1"
BACKENDS = ("sqlite", "postgresql")


def _numbers(text: str, kind: type[Any] = int) -> tuple[Any, ...]:
    return tuple(kind(x) for x in text.split(",") if x.strip())


def _names(text: str, known: Any) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown: {', '.join(unknown)} (known: {', '.join(known)})"
        )
    return names


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Continuum's benchmark: the command path, the no-op ceiling, the anchor "
        "library and the compliance figures, per storage backend, in one run.",
    )
    p.add_argument(
        "--smoke", action="store_true", help="every phase for a few seconds (proves it runs)"
    )
    p.add_argument(
        "--backends",
        type=lambda t: _names(t, BACKENDS),
        default=list(BACKENDS),
        help="comma-separated: sqlite,postgresql (default both)",
    )
    p.add_argument(
        "--phases",
        type=lambda t: _names(t, PHASES),
        default=list(PHASES),
        help=f"comma-separated, default all: {','.join(PHASES)}",
    )
    p.add_argument("--duration", type=float, help="seconds measured per level (full: 10)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up before each level (full: 3)")
    p.add_argument("--in-flight", type=_numbers, help="closed-loop levels (full: 1,32,64)")
    p.add_argument("--clients", type=int, help="load client processes per level (full: 1)")
    p.add_argument(
        "--supervisees", type=int, help="supervisees LogSession spreads over (full: 256)"
    )
    p.add_argument(
        "--contention-supervisors", type=int, help="supervisors shared in the contention phase (8)"
    )
    p.add_argument(
        "--contention-in-flight", type=int, help="in flight in the contention phase (64)"
    )
    p.add_argument("--depths", type=_numbers, help="sessions already on each record (full: 10,300)")
    p.add_argument("--depth-supervisees", type=int, help="supervisees per depth (full: 16)")
    p.add_argument("--depth-in-flight", type=int, help="in flight in the depth phase (full: 16)")
    p.add_argument("--memory-duration", type=float, help="seconds of the memory run (full: 300)")
    p.add_argument("--memory-in-flight", type=int, help="in flight in the memory run (full: 16)")
    p.add_argument(
        "--freshness-rates", type=lambda t: _numbers(t, float), help="sessions/s (full: 50,500)"
    )
    p.add_argument(
        "--org-supervisees",
        type=int,
        help="supervisees of the rebuild/query organization (full: 2000)",
    )
    p.add_argument(
        "--org-sessions", type=int, help="sessions per supervisee of that organization (full: 500)"
    )
    p.add_argument(
        "--query-in-flight", type=_numbers, help="levels of the query phase (full: 1,32)"
    )
    p.add_argument("--out", type=Path, help="write the JSON here instead of stdout")
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path(".data/bench"),
        help="where the stacks keep data and logs (default .data/bench)",
    )
    return p


_OPTIONS = {
    "duration": "duration_s",
    "warmup": "warmup_s",
    "in_flight": "in_flight",
    "clients": "clients",
    "supervisees": "supervisees",
    "contention_supervisors": "contention_supervisors",
    "contention_in_flight": "contention_in_flight",
    "depths": "depths",
    "depth_supervisees": "depth_supervisees",
    "depth_in_flight": "depth_in_flight",
    "memory_duration": "memory_s",
    "memory_in_flight": "memory_in_flight",
    "freshness_rates": "freshness_rates",
    "org_supervisees": "org_supervisees",
    "org_sessions": "org_sessions",
    "query_in_flight": "query_in_flight",
}


def settings_from(args: argparse.Namespace) -> Settings:
    base = Settings.smoke() if args.smoke else Settings.full()
    chosen = {field: getattr(args, option) for option, field in _OPTIONS.items()}
    return dataclasses.replace(base, **{k: v for k, v in chosen.items() if v is not None})


def backend(name: str, tag: str) -> Backend:
    if name == "sqlite":
        return Backend("sqlite")
    url = os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    return Backend("postgresql", url, run_tag=tag)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    settings = settings_from(args)
    started = dt.datetime.now(dt.UTC)
    # Lower case: it also names the run's PostgreSQL schemas.
    tag = f"b{started:%H%M%S}{uuid.uuid4().hex[:4]}"
    workdir = (args.workdir / f"{started:%Y%m%dT%H%M%S}-{tag}").resolve()
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "run": tag,
        "mode": "smoke" if args.smoke else "full",
        "machine": machine.describe(),
        "settings": dataclasses.asdict(settings),
        "phases": args.phases,
        "backends": {},
    }
    progress(f"data and logs in {workdir}")
    for name in args.backends:
        store = backend(name, tag)
        run = Run(settings, store, workdir, tag, args.phases)
        phases: dict[str, Any] = {}
        try:
            for phase in args.phases:
                phases[phase] = await PHASES[phase](run)
        finally:
            store.drop_schemas()
        document["backends"][name] = {
            "database": store.version(),
            "phases": phases,
            "ratios": ratios(phases),
        }
    document["machine"]["load_average_at_end"] = machine.load_average()
    document["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return document


def main() -> None:
    args = parser().parse_args()
    document = asyncio.run(bench(args))
    text = json.dumps(document, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        progress(f"JSON written to {args.out}")
    else:
        sys.stdout.write(text + "\n")
    render(document)


if __name__ == "__main__":
    main()
