"""What coaches ask the coaching service to record. Each command checks its own fields.

A coach never diagnoses or treats, so no command carries a diagnosis, a treatment or notes:
unknown fields are refused.
"""

from __future__ import annotations

import datetime as dt

from coaching.domain.values import ConcernUrgency
from infra.ddd import Command, Id


class OpenEngagement(Command):
    engagement_id: Id
    # Pseudonymous: the coaching record never holds a client's identity.
    client_id: Id
    coach_id: Id
    site_id: Id
    opened_on: dt.date


class RaiseConcern(Command):
    """A coach saw emotional symptoms resurface: the client goes back to therapy."""

    engagement_id: Id
    concern_id: Id
    urgency: ConcernUrgency
    raised_on: dt.date
