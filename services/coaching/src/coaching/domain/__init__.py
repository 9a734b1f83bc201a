"""The coaching domain: pure decisions over engagements and concerns (no I/O).

Stream: `engagement-<id>`. No diagnosis or treatment is ever recorded here.
"""

from coaching.domain import engagement
from coaching.domain.commands import OpenEngagement, RaiseConcern
from coaching.domain.engagement import EngagementState, decide, evolve, fold
from coaching.domain.events import (
    EVENT_TYPES,
    CoachingConcernRaised,
    EngagementOpened,
    EngagementPaused,
)

__all__ = [
    "EVENT_TYPES",
    "CoachingConcernRaised",
    "EngagementOpened",
    "EngagementPaused",
    "EngagementState",
    "OpenEngagement",
    "RaiseConcern",
    "decide",
    "engagement",
    "evolve",
    "fold",
]
