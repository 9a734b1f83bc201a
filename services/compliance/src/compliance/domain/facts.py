"""The facts the compliance view is built from, each traceable to the event it came from.

Minimum necessary: hours, dates, formats and ids; never client identities beyond a
pseudonymous id, never notes.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SessionFormat = Literal["individual", "group"]
SessionModality = Literal["in_person", "video"]
CareService = Literal["therapy", "coaching", "consultation", "psychiatry"]
Urgency = Literal["routine", "urgent"]


class SupervisionSessionFact(BaseModel):
    """One supervisee's part in one supervision session (one row per session and supervisee)."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    supervisee_id: str
    date: dt.date
    format: SessionFormat
    modality: SessionModality
    minutes: int = Field(gt=0)
    supervisor_id: str
    site_id: str
    source_event_id: str


class ReferralFact(BaseModel):
    """A referral as the compliance view knows it: when it was raised and, once the loop
    closes, when it closed."""

    model_config = ConfigDict(frozen=True)

    referral_id: str
    client_id: str
    site_id: str
    to_service: CareService
    urgency: Urgency
    raised_on: dt.date
    closed_on: dt.date | None = None
    # Every event that shaped this referral, oldest first.
    source_event_ids: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _closes_after_raised(self) -> Self:
        if self.closed_on is not None and self.closed_on < self.raised_on:
            raise ValueError(f"closed_on {self.closed_on} is before raised_on {self.raised_on}")
        return self

    def open_on(self, day: dt.date) -> bool:
        """Open at the end of `day`: raised by then and not yet closed."""
        return self.raised_on <= day and (self.closed_on is None or self.closed_on > day)
