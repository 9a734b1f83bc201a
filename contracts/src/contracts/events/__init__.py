"""Published event schemas: the versioned contract a service keeps with its consumers.

Each schema is a pydantic model. Its CloudEvents `type` is `<name>.v<version>`, for example
`continuum.supervision.SessionLogged.v2`. A consumer looks the type up in `REGISTRY` to parse
the data; an older version is upcast to the newest on read. Each producer's schemas live in the
module named after it; `docs/events.md` is the catalogue.
"""

from contracts.events import coaching, compliance, referral, supervision
from contracts.events.base import (
    REGISTRY,
    UPCASTERS,
    EventContract,
    UnknownEventType,
    current_schemas,
    current_type,
    parse,
    sensitive_event_fields,
)
from contracts.events.coaching import *  # noqa: F403
from contracts.events.compliance import *  # noqa: F403
from contracts.events.referral import *  # noqa: F403
from contracts.events.supervision import *  # noqa: F403

__all__ = [
    "REGISTRY",
    "UPCASTERS",
    "EventContract",
    "UnknownEventType",
    "current_schemas",
    "current_type",
    "parse",
    "sensitive_event_fields",
    *coaching.__all__,
    *compliance.__all__,
    *referral.__all__,
    *supervision.__all__,
]
