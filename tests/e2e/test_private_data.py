"""What the stack keeps on disk is its owner's only: the data folder 0700, the services'
SQLite files, every log and every key 0600, whatever the umask of the shell that started it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.devstack import SERVICES, Stack

pytestmark = pytest.mark.e2e


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_services_databases_and_logs_are_readable_by_their_owner_only(stack: Stack) -> None:
    databases = sorted(stack.data_dir.glob("*.sqlite*"))
    logs = sorted(stack.data_dir.glob("*.log"))

    assert {p.name for p in databases} >= {f"{s.name}.sqlite" for s in SERVICES}
    assert {p.name for p in logs} == {"broker.log", *(f"{s.name}.log" for s in SERVICES)}
    assert {p.name: mode(p) for p in [*databases, *logs]} == {
        p.name: 0o600 for p in [*databases, *logs]
    }
    assert mode(stack.data_dir) == 0o700


def test_the_services_event_keys_are_readable_by_their_owner_only(stack: Stack) -> None:
    folder = stack.event_key_files.folder
    files = sorted(folder.iterdir())

    assert {p.name for p in files} == {
        "event-keys.json",
        *(f"{s.name}.pem" for s in SERVICES),
    }
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert mode(folder) == 0o700
    assert mode(stack.security_dir) == 0o700


def test_a_data_folder_others_could_read_is_made_private_when_the_stack_starts(
    tmp_path: Path,
) -> None:
    data = tmp_path / ".data"
    data.mkdir(mode=0o755)
    stack = Stack(data_dir=data, addresses={}, broker_port=0, echo=False)
    try:
        stack.start_broker()
    finally:
        stack.stop()

    assert mode(data) == 0o700
    assert mode(data / "broker.log") == 0o600
