"""The whole system as processes: the embedded broker and the four services, on free ports."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.devstack import SERVICES, Stack
from tests.e2e.support import Stubs, stubs_for
from tests.scenarios.demo import Addresses, StaffApp

# The services' clocks run their timers (service-level checks, expiry reminders) every second.
CLOCK_TICK_SECONDS = "1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    patch = pytest.MonkeyPatch()
    patch.setenv("CONTINUUM_CLOCK_TICK_SECONDS", CLOCK_TICK_SECONDS)
    data_dir: Path = tmp_path_factory.mktemp("continuum")
    stack = Stack(
        data_dir=data_dir,
        addresses={s.name: f"127.0.0.1:{_free_port()}" for s in SERVICES},
        broker_port=0,
        echo=False,
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        patch.undo()


@pytest.fixture(scope="session")
def app(stack: Stack) -> Iterator[StaffApp]:
    staff = StaffApp(Addresses(**stack.addresses))
    yield staff
    staff.close()


@pytest.fixture(scope="session")
def stubs(stack: Stack) -> Iterator[Stubs]:
    with stubs_for(stack.addresses) as service_stubs:
        yield service_stubs
