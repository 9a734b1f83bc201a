"""The supervision domain imports only the standard library, pydantic and infra.ddd."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import supervision.domain

pytestmark = pytest.mark.unit

ALLOWED = {"pydantic", "infra.ddd", "supervision.domain"}
DOMAIN = Path(supervision.domain.__file__).parent


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def is_allowed(module: str) -> bool:
    if module.split(".")[0] in sys.stdlib_module_names:
        return True
    return any(module == allowed or module.startswith(f"{allowed}.") for allowed in ALLOWED)


@pytest.mark.parametrize("source", sorted(DOMAIN.rglob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_nothing_but_stdlib_pydantic_and_ddd(source: Path) -> None:
    assert sorted(m for m in imported_modules(source) if not is_allowed(m)) == []


def test_the_purity_check_would_catch_an_infrastructure_import() -> None:
    assert not is_allowed("sqlalchemy.orm")
    assert not is_allowed("infra.eventstore")
    assert not is_allowed("contracts.events")
