"""The projector handles exactly what the catalogue says compliance consumes, and nothing that
could be mistaken for supervision hours."""

from __future__ import annotations

import pytest

from compliance.entrypoints.consumers import TOPICS, handlers
from contracts import events as ev
from contracts.catalogue import CONSUMERS
from contracts.events import current_type

pytestmark = pytest.mark.unit


def test_the_projector_handles_every_event_the_catalogue_declares_for_compliance() -> None:
    declared = {event.ce_type() for event in CONSUMERS["continuum.compliance"]}

    assert set(handlers()) == declared
    assert {event.topic for event in CONSUMERS["continuum.compliance"]} == {t.name for t in TOPICS}


def test_a_v1_session_logged_is_dispatched_to_the_v2_handler() -> None:
    assert ev.SessionLoggedV1.ce_type() not in handlers()
    assert current_type(ev.SessionLoggedV1.ce_type()) in handlers()


def test_a_consultation_is_never_projected() -> None:
    assert ev.ConsultationLogged.ce_type() not in handlers()
