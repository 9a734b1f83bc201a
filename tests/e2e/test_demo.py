"""`make demo` against a stack of its own: every command of every API called by the staff
member who makes it, with a token of their own roles and sites (no administrator)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from infra.security.policy import Role
from tests.e2e.conftest import running_stack
from tests.scenarios.demo import command_rpcs, staff

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def actors_by_event_type(store: Path) -> dict[str, set[str]]:
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT type, metadata FROM events").fetchall()
    actors: dict[str, set[str]] = defaultdict(set)
    for event_type, metadata in rows:
        actors[event_type].add(json.loads(metadata)["actor"])
    return actors


def test_the_demo_calls_every_command_as_its_staff_in_their_own_roles(tmp_path: Path) -> None:
    with running_stack(tmp_path, signing_key=None) as stack:
        addresses = {f"{name.upper()}_GRPC_ADDRESS": at for name, at in stack.addresses.items()}
        env = os.environ | {"CONTINUUM_DATA_DIR": str(tmp_path), **addresses}
        demo = subprocess.run(
            [sys.executable, "-m", "tests.scenarios.demo"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    output = demo.stdout + demo.stderr

    assert demo.returncode == 0, output[-4000:]
    every = len(command_rpcs())
    assert f"command RPCs called: {every} of {every}" in output
    roster = staff()
    assert all(Role.ADMINISTRATOR not in member.roles for member in roster.values())
    actors = actors_by_event_type(tmp_path / "supervision.sqlite")
    supervisors = {p for p, m in roster.items() if m.roles == (Role.SUPERVISOR,)}
    supervisees = {p for p, m in roster.items() if m.roles == (Role.SUPERVISEE,)}
    # Each fact is recorded as done by the person whose token made the call.
    assert actors["SessionLogged"] <= supervisors
    assert actors["MonthSignedOff"] <= supervisors
    assert actors["PracticeHoursRecorded"] == supervisees
    assert actors["EvaluationAcknowledged"] <= supervisees
    assert actors["SuperviseeRegistered"] == {"demo-coordinator"}
    assert actors["SessionVoided"] == {"officer-hale"}
