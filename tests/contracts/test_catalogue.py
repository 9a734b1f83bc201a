"""The event catalogue and the AsyncAPI document say what the code does."""

from __future__ import annotations

import pytest

from contracts import catalogue
from contracts.events import REGISTRY, current_schemas
from contracts.topics import CONSUMER_GROUPS
from infra.messaging import asyncapi

pytestmark = pytest.mark.unit


def test_the_committed_catalogue_is_what_the_contracts_render() -> None:
    assert catalogue.CATALOGUE.read_text() == catalogue.render(), "run `make contracts`"


def test_the_committed_asyncapi_document_is_what_faststream_generates() -> None:
    assert asyncapi.DOCUMENT.read_text() == asyncapi.render(), "run `make contracts`"


def test_the_asyncapi_document_has_a_channel_for_every_event_and_every_consumer() -> None:
    channels = asyncapi.document()["channels"]
    published = {c for c in channels if ".publishes." in c}
    consumed = {c for c in channels if ".consumes." in c}
    assert len(published) == len(current_schemas())
    assert len(consumed) == sum(len(handled) for handled in catalogue.CONSUMERS.values())


def test_every_consumer_group_is_declared_with_its_events() -> None:
    assert set(catalogue.CONSUMERS) == set(CONSUMER_GROUPS)


def test_consumers_are_declared_with_current_event_versions() -> None:
    current = set(current_schemas())
    for group, handled in catalogue.CONSUMERS.items():
        stale = [e.ce_type() for e in handled if e not in current]
        assert stale == [], f"{group} declares superseded versions"


def test_every_event_has_a_meaning_and_a_key_field() -> None:
    for event in REGISTRY.values():
        assert catalogue.meaning(event), event.ce_type()
        assert catalogue.key_field(event) in event.model_fields, event.ce_type()
