"""Every field a published event marks sensitive is sealed where it is first stored: the private
event it is translated from marks the same field, so the runner seals it before the outbox copies
it (`infra.commands.sealing`)."""

from __future__ import annotations

import pytest

from coaching.domain import EVENT_TYPES as COACHING
from compliance.domain.credentials.events import CREDENTIAL_EVENT_TYPES
from compliance.domain.oversight.events import OVERSIGHT_EVENT_TYPES
from contracts.events import REGISTRY, sensitive_event_fields
from infra.ddd import DomainEvent, EventTypes
from referral.domain import EVENT_TYPES as REFERRAL
from supervision.domain import EVENT_TYPES as SUPERVISION

pytestmark = pytest.mark.unit

PRIVATE: dict[str, tuple[EventTypes, ...]] = {
    "supervision": (SUPERVISION,),
    "coaching": (COACHING,),
    "referral": (REFERRAL,),
    "compliance": (CREDENTIAL_EVENT_TYPES, OVERSIGHT_EVENT_TYPES),
}


def _private_source(ce_type: str) -> type[DomainEvent]:
    """The private event a contract is published from: the same name, in its producer."""
    _, producer, name, _ = ce_type.split(".")
    for types in PRIVATE[producer]:
        try:
            return types.event_class(name)
        except LookupError:
            continue
    raise AssertionError(f"{ce_type} has no private event of the same name in {producer}")


@pytest.mark.parametrize("ce_type", sorted(sensitive_event_fields()))
def test_a_published_sensitive_field_is_sealed_by_its_producer(ce_type: str) -> None:
    # given
    published = set(sensitive_event_fields()[ce_type])
    # when
    sealed = set(_private_source(ce_type).sealed_fields())
    # then
    assert ce_type in REGISTRY
    assert published <= sealed, f"{ce_type}: {sorted(published - sealed)} not sealed at source"
