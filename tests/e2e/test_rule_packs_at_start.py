"""A service whose rule packs are malformed refuses to start, and says which file, track, field
and why, before it opens a database or a port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.rulepacks.loader import PACKS_DIR_VARIABLE, packaged_directory

pytestmark = pytest.mark.e2e


def broken_copy_of_the_packs(directory: Path) -> Path:
    directory.mkdir()
    for entry in packaged_directory().iterdir():
        if entry.is_file():
            (directory / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    broken = directory / "TX-LPC-ASSOCIATE.yaml"
    text = broken.read_text(encoding="utf-8")
    assert "        hours: 4\n" in text
    broken.write_text(
        text.replace("        hours: 4\n", "        hours: -4\n", 1), encoding="utf-8"
    )
    return broken


@pytest.mark.parametrize("service", ["supervision", "compliance"])
def test_a_service_with_a_malformed_rule_pack_refuses_to_start(
    service: str, tmp_path: Path
) -> None:
    broken = broken_copy_of_the_packs(tmp_path / "packs")
    data = tmp_path / "data"
    env = os.environ | {
        PACKS_DIR_VARIABLE: str(broken.parent),
        "CONTINUUM_DATA_DIR": str(data),
        # Nothing listens there: a service that got as far as the broker would fail otherwise.
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
    }

    started = subprocess.run(
        [sys.executable, "-m", service], env=env, capture_output=True, text=True, timeout=120
    )

    assert started.returncode == 2, started.stderr
    assert f"{service} refused to start" in started.stderr
    for named in (
        str(broken),
        "track TX-LPC-ASSOCIATE",
        "versions[0].rules[0].hours",
        "Input should be greater than or equal to 0 (given -4)",
    ):
        assert named in started.stderr, started.stderr
    assert "Traceback" not in started.stderr
    assert not data.exists(), "nothing was opened before the packs were read"
