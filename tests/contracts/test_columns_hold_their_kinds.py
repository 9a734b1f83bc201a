"""Every column holds the longest value of the kind written to it, checked without a database
(SQLite would not tell: it keeps any length; PostgreSQL refuses what is longer): so a column
narrower than its kind cannot come back."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import uuid

import pytest

from compliance.adapters.read_model import PROJECTORS
from contracts.events import EventContract
from contracts.fields import ID_MAX_LENGTH
from infra.ddd import Command
from infra.schema import commands
from tests.composed import SERVICES
from tests.contracts.kinds import longest

pytestmark = pytest.mark.unit

RECORDED_AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize("schema", list(PROJECTORS), ids=lambda e: e.__name__)
def test_every_column_the_read_model_writes_holds_the_longest_value_of_its_field(
    schema: type[EventContract],
) -> None:
    # given the event with every field at its longest
    event = longest(schema)

    # when the read model makes its rows
    rows = PROJECTORS[schema](event, str(uuid.uuid4()), RECORDED_AT)

    # then no text is longer than its column
    assert rows
    too_narrow = [
        f"{table.name}.{name} ({table.c[name].type}) for {len(value)} characters"
        for table, row in rows
        for name, value in row.items()
        if isinstance(value, str) and (table.c[name].type.length or len(value)) < len(value)
    ]
    assert too_narrow == []


def _commands() -> list[type[Command]]:
    found: set[type[Command]] = set()
    for service in SERVICES:
        package = importlib.import_module(f"{service}.domain")
        for module in pkgutil.walk_packages(package.__path__, f"{service}.domain."):
            for _, value in inspect.getmembers(importlib.import_module(module.name)):
                if inspect.isclass(value) and issubclass(value, Command) and value.key_fields:
                    found.add(value)
    return sorted(found, key=lambda c: c.__qualname__)


@pytest.mark.parametrize("command", _commands(), ids=lambda c: c.__qualname__)
def test_the_key_a_command_is_recorded_by_fits_its_column(command: type[Command]) -> None:
    # The key is its key fields' ids joined by "/".
    longest_key = len(command.key_fields) * (ID_MAX_LENGTH + 1) - 1

    assert longest_key <= commands.c.command_key.type.length
