"""The coaching rules, each named as a sentence and raised with what was wrong."""

from __future__ import annotations

import datetime as dt

from infra.ddd import AlreadyRecorded, InvalidInput, NotFound, RuleViolated


class EngagementMustNotOpenInTheFuture(InvalidInput):
    def __init__(self, opened_on: dt.date, today: dt.date) -> None:
        super().__init__("opened_on", f"{opened_on} is after today ({today})")
        self.opened_on = opened_on


class ConcernMustNotPrecedeTheEngagement(InvalidInput):
    def __init__(self, raised_on: dt.date, opened_on: dt.date) -> None:
        super().__init__("raised_on", f"{raised_on} is before the engagement opened ({opened_on})")
        self.raised_on = raised_on


class ConcernMustNotBeRaisedInTheFuture(InvalidInput):
    def __init__(self, raised_on: dt.date, today: dt.date) -> None:
        super().__init__("raised_on", f"{raised_on} is after today ({today})")
        self.raised_on = raised_on


class EngagementMustExist(NotFound):
    def __init__(self, engagement_id: str) -> None:
        super().__init__(f"engagement {engagement_id} does not exist")
        self.engagement_id = engagement_id


class OnlyOneConcernMayBeOpenAtATime(RuleViolated):
    """While a concern is open the client is back with therapy; coaching waits for therapy to
    say it may resume, so a second concern adds nothing to act on."""

    def __init__(self, engagement_id: str, open_concern_id: str) -> None:
        super().__init__(
            f"a concern is already open on engagement {engagement_id}: {open_concern_id}"
        )
        self.engagement_id = engagement_id
        self.open_concern_id = open_concern_id


class EngagementIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, engagement_id: str) -> None:
        super().__init__(f"engagement {engagement_id} is already recorded with other content")
        self.engagement_id = engagement_id


class ConcernIdMustNotBeReused(AlreadyRecorded):
    def __init__(self, concern_id: str) -> None:
        super().__init__(f"concern {concern_id} is already recorded with other content")
        self.concern_id = concern_id
