"""The whole system as processes: the embedded broker and the four services, on free ports.

`stack` runs on SQLite files and is shared by the whole run. `backend_stack` runs a module's
tests on each storage backend in turn: the same SQLite stack, then, when TEST_POSTGRES_URL is
set, a stack of the module's own whose services keep their data in PostgreSQL (a schema per
service, dropped when it stops).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from infra.devstack import SERVICES, Stack, database_url_variable
from infra.security.tokens import SigningKey
from tests.e2e.support import SIGNING_KEY, Stubs, stubs_for
from tests.scenarios.demo import Addresses, StaffApp

# The services' clocks run their timers (service-level checks, expiry reminders) every second.
CLOCK_TICK_SECONDS = "1"

# Four services importing at once on a busy machine of two cores take more than a minute to
# serve; a service that does not serve in this time is broken, not slow.
SERVING_TIMEOUT_SECONDS = 240

E2E_BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_stack(
    data_dir: Path,
    extra_env: Mapping[str, str] | None = None,
    *,
    signing_key: SigningKey | None = SIGNING_KEY,
) -> Iterator[Stack]:
    """The stack on free ports. `signing_key=None`: the stack's own development key, kept
    under its data folder as `make run` keeps it."""
    patch = pytest.MonkeyPatch()
    patch.setenv("CONTINUUM_CLOCK_TICK_SECONDS", CLOCK_TICK_SECONDS)
    stack = Stack(
        data_dir=data_dir,
        addresses={s.name: f"127.0.0.1:{_free_port()}" for s in SERVICES},
        broker_port=0,
        echo=False,
        extra_env=dict(extra_env or {}),
        signing_key=signing_key,
    )
    try:
        stack.start_broker()
        for spec in SERVICES:
            stack.start_service(spec.name)
        for spec in SERVICES:
            stack.wait_until_serving(spec.name, timeout=SERVING_TIMEOUT_SECONDS)
        yield stack
    finally:
        stack.stop()
        patch.undo()


def _libpq(url: str) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_schemas(url: str) -> Iterator[dict[str, str]]:
    """A fresh schema per service on the PostgreSQL server at `url`, as the services' database
    URLs (search_path set); dropped afterwards."""
    tag = uuid.uuid4().hex[:8]
    schemas = {s.name: f"e2e_{tag}_{s.name}" for s in SERVICES}
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        for schema in schemas.values():
            conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield {
            service: make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
            for service, schema in schemas.items()
        }
    finally:
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            for schema in schemas.values():
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("continuum")) as started:
        yield started


@pytest.fixture(scope="module", params=E2E_BACKENDS)
def backend_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The stack on each storage backend in turn, for a module's tests."""
    if request.param == "sqlite":
        yield request.getfixturevalue("stack")
        return
    with postgres_schemas(os.environ["TEST_POSTGRES_URL"]) as urls:
        env = {database_url_variable(service): url for service, url in urls.items()}
        with running_stack(tmp_path_factory.mktemp("continuum-postgresql"), env) as started:
            yield started


@pytest.fixture(scope="session")
def app(stack: Stack) -> Iterator[StaffApp]:
    staff = StaffApp(Addresses(**stack.addresses), tokens=stack.token)
    yield staff
    staff.close()


@pytest.fixture(scope="session")
def stubs(stack: Stack) -> Iterator[Stubs]:
    with stubs_for(stack.addresses) as service_stubs:
        yield service_stubs
