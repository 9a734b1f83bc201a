"""`make bench` runs, and says what the README says it says. Its smoke mode runs every phase for a
few seconds against real processes; this asserts the document's shape and that every measured
rate is above zero. It asserts no speed: speed is what `make bench` reports, never a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.bench.phases import PHASES
from tests.bench.stack import SCHEMA_PREFIX, libpq_url
from tests.bench.workloads import QUERIES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"supervision", "coaching", "referral", "compliance"}


def bench(tmp_path: Path, *options: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = tmp_path / "bench.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench",
            "--smoke",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
            *options,
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    # The readable table goes to stderr, beside the JSON.
    assert "req/s" in completed.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def assert_level(level: dict[str, Any], *operations: str) -> None:
    assert level["in_flight"] >= 1 and level["duration_s"] > 0
    for rpc in operations:
        op = level["operations"][rpc]
        assert op["requests"] > 0 and op["rate"] > 0 and op["ok_rate"] > 0, (rpc, op)
        assert op["status"]["OK"] > 0
        assert sum(op["status"].values()) == op["requests"]
        latency = op["latency_ms"]
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]


def assert_levels(phase: dict[str, Any], in_flight: list[int], *operations: str) -> None:
    assert [level["in_flight"] for level in phase["levels"]] == in_flight
    for level in phase["levels"]:
        assert_level(level, *operations)


def assert_cpu(level: dict[str, Any], *processes: str) -> None:
    """What each process spent per answered call: the services served, the load clients sent."""
    cpu = level["cpu"]
    for name in (*processes, "load clients"):
        assert cpu["ms_per_call"][name] > 0, (name, cpu)
    assert 0 < cpu["cores_busy"] <= cpu["cores"] + 0.5, cpu


def test_given_the_smoke_mode_when_every_phase_runs_on_sqlite_then_the_document_has_every_figure(
    tmp_path: Path,
) -> None:
    document = bench(tmp_path, "--backends", "sqlite")

    assert document["schema"] == "continuum-bench/1" and document["mode"] == "smoke"
    machine = document["machine"]
    for key in ("cores", "cpu_model", "ram_gib", "python", "sqlite", "date", "git_commit"):
        assert machine[key], key
    in_flight = document["settings"]["in_flight"]
    result = document["backends"]["sqlite"]
    assert result["database"].startswith("SQLite")
    phases = result["phases"]
    assert set(phases) == set(PHASES)

    assert_levels(phases["ceiling"], in_flight, "Health.Check")
    assert_levels(phases["log_session"], in_flight, "LogSession")
    assert_levels(phases["register_supervisee"], in_flight, "RegisterSupervisee")
    assert_levels(phases["referral_step"], in_flight, "RaiseReferral", "AcceptReferral")
    for level in phases["log_session"]["levels"]:
        assert_cpu(level, "supervision", "broker")
    assert_cpu(phases["referral_step"]["levels"][0], "referral")

    contention = phases["contention"]
    assert_level(contention["level"], "LogSession")
    assert contention["aborted"] == contention["level"]["operations"]["LogSession"]["status"].get(
        "ABORTED", 0
    )

    depth = phases["depth"]
    assert [d["sessions_before"] for d in depth["depths"]] == document["settings"]["depths"]
    for entry in depth["depths"]:
        assert_level(entry["level"], "LogSession")
    assert depth["ratio_deep_to_shallow"] > 0

    memory = phases["memory"]
    assert set(memory["processes"]) == SERVICES
    for process in memory["processes"].values():
        assert process["samples"] >= 2
        assert (
            0 < process["start_mb"] <= process["max_mb"] and process["end_mb"] <= process["max_mb"]
        )
    assert_level(memory["level"], "RegisterSupervisee", "SignAgreement", "LogSession")

    anchor = phases["anchor"]
    assert anchor["library"].startswith("eventsourcing ")
    assert anchor["summary"]["ok_rate"] > 0

    for rate in phases["freshness"]["rates"]:
        assert rate["achieved_rate"] > 0 and rate["freshness_samples"] > 0
        assert rate["freshness_ms"]["p50"] > 0
        assert isinstance(rate["keeps_up"], bool)

    rebuild = phases["rebuild"]
    assert rebuild["events"] > 0 and rebuild["events_per_s"] > 0
    assert rebuild["last_supervisee_sessions_shown"] == rebuild["last_supervisee_sessions_expected"]
    assert rebuild["compliance_rss_mb"]["max"] > 0

    queries = phases["queries"]
    # The views of the past describe a past date, as known at the end of it.
    assert queries["past_as_of"] < machine["date"][:10]
    assert queries["past_known_at"].startswith(queries["past_as_of"])
    views = queries["views"]
    assert set(views) == set(QUERIES)
    for name, view in views.items():
        assert view["target_p99_ms"] == QUERIES[name].target_p99_ms
        levels = view["levels"]
        assert [level["in_flight"] for level in levels] == document["settings"]["query_in_flight"]
        for level in levels:
            assert_level(level, name)
            assert level["p50_ms"] <= level["p99_ms"]
            if view["target_p99_ms"] is None:
                assert level["meets_target"] is None
            else:
                op = level["operations"][name]
                all_ok = op["status"]["OK"] == op["requests"]
                within = level["p99_ms"] <= view["target_p99_ms"]
                assert level["meets_target"] == (all_ok and within)

    ratios = result["ratios"]
    for command in ("LogSession", "RegisterSupervisee", "AcceptReferral"):
        assert ratios[command]["to_anchor"] > 0 and ratios[command]["to_ceiling"] > 0


@pytest.mark.skipif(not os.environ.get("TEST_POSTGRES_URL"), reason="TEST_POSTGRES_URL is not set")
def test_given_postgresql_when_the_smoke_mode_runs_then_it_measures_there_and_leaves_no_schema(
    tmp_path: Path,
) -> None:
    url = os.environ["TEST_POSTGRES_URL"]

    document = bench(
        tmp_path,
        "--backends",
        "postgresql",
        "--phases",
        "log_session,anchor",
        env={"BENCH_POSTGRES_URL": url},
    )

    result = document["backends"]["postgresql"]
    assert result["database"].startswith("PostgreSQL")
    assert_levels(result["phases"]["log_session"], document["settings"]["in_flight"], "LogSession")
    assert result["phases"]["anchor"]["summary"]["ok_rate"] > 0
    assert result["ratios"]["LogSession"]["to_anchor"] > 0
    assert schemas_of_run(url, document["run"]) == []


def schemas_of_run(url: str, run: str) -> list[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
            (f"{SCHEMA_PREFIX}{run}_",),
        ).fetchall()
    return [row[0] for row in rows]
