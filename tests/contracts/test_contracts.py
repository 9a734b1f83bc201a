"""The contracts stay what clients and consumers were promised."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contracts.codegen import OUTPUT_ROOT, PACKAGE, differences, generate
from contracts.events import REGISTRY, SessionLogged, SessionLoggedV1, UnknownEventType, parse
from contracts.topics import ALL_TOPICS

pytestmark = pytest.mark.unit


def test_the_committed_grpc_code_is_what_the_protos_generate(tmp_path: Path) -> None:
    generate(tmp_path)
    assert differences(OUTPUT_ROOT / PACKAGE, tmp_path / PACKAGE) == []


def test_every_published_event_names_a_declared_topic() -> None:
    declared = {topic.name for topic in ALL_TOPICS}
    assert {schema.topic for schema in REGISTRY.values()} <= declared


def test_topic_names_are_unique() -> None:
    names = [topic.name for topic in ALL_TOPICS]
    assert len(names) == len(set(names))


def test_a_consumer_parses_a_known_type_and_ignores_fields_it_does_not_know() -> None:
    data = {
        "session_id": "s-1",
        "format": "group",
        "modality": "video",
        "date": "2026-10-06",
        "minutes": 90,
        "supervisor_id": "sup-1",
        "supervisee_ids": ["a", "b", "c"],
        "site_id": "site-1",
        "added_in_a_later_minor_change": True,
    }
    event = parse(SessionLoggedV1.ce_type(), data)
    assert isinstance(event, SessionLogged)
    assert event.date == dt.date(2026, 10, 6)
    assert event.key() == "s-1"
    # v1 knew only clinical supervision: it upcasts to v2 as such.
    assert (event.kind, event.techniques, event.focus) == ("clinical", (), ())


def test_an_unknown_event_type_is_refused_by_name() -> None:
    with pytest.raises(UnknownEventType, match=r"continuum\.nothing\.Such\.v1"):
        parse("continuum.nothing.Such.v1", {})
