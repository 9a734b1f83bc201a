"""The ratios a run is judged by, and the readable tables printed on stderr."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.bench.stats import ratio

# The commands judged against the anchor and the ceiling: (phase, RPC).
COMMANDS = {
    "LogSession": ("log_session", "LogSession"),
    "RegisterSupervisee": ("register_supervisee", "RegisterSupervisee"),
    "AcceptReferral": ("referral_step", "AcceptReferral"),
}
# Phases whose result is a list of closed-loop levels.
LEVEL_PHASES = ("ceiling", "log_session", "register_supervisee", "referral_step")


def _rates(phase: Mapping[str, Any] | None, rpc: str) -> dict[int, float]:
    if not phase:
        return {}
    return {
        level["in_flight"]: level["operations"][rpc]["ok_rate"]
        for level in phase["levels"]
        if rpc in level["operations"]
    }


def ratios(phases: Mapping[str, Any]) -> dict[str, Any]:
    """Our command rates over the anchor's and the ceiling's, and the highest concurrency over
    one in flight; then the contention, depth and freshness verdicts."""
    anchor = phases.get("anchor", {}).get("summary", {}).get("ok_rate")
    ceiling = _rates(phases.get("ceiling"), "Health.Check")
    result: dict[str, Any] = {}
    for name, (phase, rpc) in COMMANDS.items():
        rates = _rates(phases.get(phase), rpc)
        if not rates:
            continue
        top = max(rates)
        result[name] = {
            "in_flight": top,
            "rate": rates[top],
            "to_anchor": ratio(rates[top], anchor),
            "to_ceiling": ratio(rates[top], ceiling.get(top)),
            f"{top}_to_1_in_flight": ratio(rates[top], rates.get(1)),
        }
    if "contention" in phases:
        result["contention_aborted_share"] = phases["contention"]["aborted_share"]
    if "depth" in phases:
        d = phases["depth"]
        result[f"depth_{d['deep']}_to_{d['shallow']}"] = d["ratio_deep_to_shallow"]
    if "freshness" in phases:
        result["freshness_keeps_up"] = {
            f"{r['target_rate']:g}/s": r["keeps_up"] for r in phases["freshness"]["rates"]
        }
    return result


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def _statuses(status: Mapping[str, int]) -> str:
    others = {k: v for k, v in status.items() if k != "OK"}
    return ", ".join(f"{k} {v}" for k, v in others.items()) or "-"


def _cpu(level: Mapping[str, Any]) -> tuple[str, str]:
    """The level's CPU per answered call by process, and the cores it kept busy."""
    cpu = level.get("cpu")
    if not cpu:
        return "-", "-"
    per_call = ", ".join(
        f"{name} {ms:.2f}" for name, ms in cpu["ms_per_call"].items() if ms is not None
    )
    return per_call or "-", f"{cpu['cores_busy']:.2f} of {cpu['cores']}"


def _add_level(table: Table, phase: str, level: Mapping[str, Any]) -> None:
    cpu, busy = _cpu(level)
    for rpc, op in level["operations"].items():
        latency = op["latency_ms"]
        table.add_row(
            phase,
            rpc,
            str(level["in_flight"]),
            f"{op['rate']:,.1f}",
            f"{op['ok_rate']:,.1f}",
            _ms(latency["p50"]),
            _ms(latency["p90"]),
            _ms(latency["p99"]),
            _ms(latency["max"]),
            _statuses(op["status"]),
            cpu,
            busy,
        )


def render(document: Mapping[str, Any], console: Console | None = None) -> None:
    if console is None:
        console = Console(stderr=True)
        if not console.is_terminal:
            console = Console(stderr=True, width=160)
    machine = document["machine"]
    console.print(
        f"[bold]make bench[/bold] ({document['mode']}) on {machine['cores']} cores, "
        f"{machine['cpu_model']}, {machine['ram_gib']} GiB, Python {machine['python']}, "
        f"{machine['date']}, commit {machine['git_commit'][:10]}"
    )
    for backend, result in document["backends"].items():
        phases = result["phases"]
        table = Table(title=f"{backend} ({result['database']})", title_justify="left")
        for column in ("phase", "operation", "in flight", "req/s", "ok/s"):
            table.add_column(
                column, justify="right" if column not in ("phase", "operation") else "left"
            )
        for column in ("p50 ms", "p90 ms", "p99 ms", "max ms"):
            table.add_column(column, justify="right")
        table.add_column("not OK")
        table.add_column("CPU ms per call")
        table.add_column("cores busy", justify="right")
        for phase in LEVEL_PHASES:
            for level in phases.get(phase, {}).get("levels", []):
                _add_level(table, phase, level)
        if "contention" in phases:
            _add_level(table, "contention", phases["contention"]["level"])
        for entry in phases.get("depth", {}).get("depths", []):
            _add_level(table, f"depth {entry['sessions_before']}", entry["level"])
        if "anchor" in phases:
            _add_level(
                table,
                "anchor",
                {"in_flight": 1, "operations": {"append": phases["anchor"]["summary"]}},
            )
        if "memory" in phases:
            _add_level(table, "memory", phases["memory"]["level"])
        if table.row_count:
            console.print(table)
        _render_others(console, phases, result["ratios"])


def _render_queries(console: Console, queries: Mapping[str, Any]) -> None:
    table = Table(
        title=f"compliance views ({queries['supervisees']:,} supervisees in "
        f"{queries['sites']:,} sites, {queries['sessions']:,} sessions; the past: as of "
        f"{queries['past_as_of']}, known at {queries['past_known_at']})",
        title_justify="left",
    )
    for column in ("view", "in flight", "req/s", "ok/s", "p50 ms", "p99 ms", "target p99 ms"):
        table.add_column(column, justify="left" if column == "view" else "right")
    table.add_column("meets target")
    table.add_column("not OK")
    for name, view in queries["views"].items():
        target = view["target_p99_ms"]
        for level in view["levels"]:
            op = level["operations"].get(name)
            if op is None:
                continue
            meets = level["meets_target"]
            table.add_row(
                name,
                str(level["in_flight"]),
                f"{op['rate']:,.1f}",
                f"{op['ok_rate']:,.1f}",
                _ms(op["latency_ms"]["p50"]),
                _ms(op["latency_ms"]["p99"]),
                "-" if target is None else f"{target:,.0f}",
                "-" if meets is None else ("yes" if meets else "no"),
                _statuses(op["status"]),
            )
    console.print(table)


def _render_others(
    console: Console, phases: Mapping[str, Any], verdicts: Mapping[str, Any]
) -> None:
    if "memory" in phases:
        table = Table(title="memory (RSS MiB)", title_justify="left")
        for column in ("process", "start", "end", "max", "slope MiB/min"):
            table.add_column(column, justify="left" if column == "process" else "right")
        for name, p in phases["memory"]["processes"].items():
            table.add_row(
                name,
                str(p["start_mb"]),
                str(p["end_mb"]),
                str(p["max_mb"]),
                str(p["slope_mb_per_min"]),
            )
        console.print(table)
    if "freshness" in phases:
        table = Table(
            title="freshness (reply to visible in GetSuperviseeHours)", title_justify="left"
        )
        for column in (
            "target/s",
            "achieved/s",
            "p50 ms",
            "p99 ms",
            "samples",
            "lag at end",
            "drained s",
            "keeps up",
        ):
            table.add_column(column, justify="right")
        for r in phases["freshness"]["rates"]:
            table.add_row(
                f"{r['target_rate']:g}",
                f"{r['achieved_rate']:,.1f}",
                _ms(r["freshness_ms"]["p50"]),
                _ms(r["freshness_ms"]["p99"]),
                str(r["freshness_samples"]),
                str(r["lag_at_end"]),
                str(r["drained_after_s"]),
                "yes" if r["keeps_up"] else "no",
            )
        console.print(table)
    if "queries" in phases:
        _render_queries(console, phases["queries"])
    if "rebuild" in phases:
        r = phases["rebuild"]
        console.print(
            f"rebuild: {r['events']:,} events ({r['supervisees']:,} supervisees, "
            f"{r['sessions']:,} sessions): {r['events_per_s']:,.1f} events/s over the catch-up "
            f"({r['catch_up_s']} s from the first commit), "
            f"{r['events_per_s_from_start']:,.1f} events/s from start "
            f"({r['start_to_caught_up_s']} s); "
            f"compliance CPU {r['compliance_cpu_us_per_event']} µs an event, "
            f"RSS max {r['compliance_rss_mb']['max']} MiB"
        )
    console.print(f"ratios: {dict(verdicts)}")
