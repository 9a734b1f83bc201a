"""The command runner: one way for every service to run a command, a timer job or a consumed
event's reaction (load, decide, record, in one transaction; retried on a conflict; answered
from its record when it is retried)."""

from infra.commands.memory import InMemoryUnitStore
from infra.commands.model import (
    Aggregate,
    CommandRecord,
    Committed,
    IndexRow,
    ReadCheck,
    RowsCheck,
    Unit,
    UnitStore,
    Verdict,
)
from infra.commands.runner import (
    CommandIdMustNotBeReused,
    CommandRunner,
    Done,
    Ran,
    RetryPolicy,
    UnitOfWork,
    UseCase,
)
from infra.commands.sql import SqlUnitStore

__all__ = [
    "Aggregate",
    "CommandIdMustNotBeReused",
    "CommandRecord",
    "CommandRunner",
    "Committed",
    "Done",
    "InMemoryUnitStore",
    "IndexRow",
    "Ran",
    "ReadCheck",
    "RetryPolicy",
    "RowsCheck",
    "SqlUnitStore",
    "Unit",
    "UnitOfWork",
    "UnitStore",
    "UseCase",
    "Verdict",
]
