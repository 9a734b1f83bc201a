"""Events the supervision service publishes on `continuum.supervision.events`."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from contracts.events.base import EventContract, register
from contracts.topics import SUPERVISION_EVENTS

SessionFormat = Literal["individual", "group"]
SessionModality = Literal["in_person", "video"]


@register
class AgreementSigned(EventContract):
    """A supervisor and a supervisee signed a supervision agreement for one site."""

    name = "continuum.supervision.AgreementSigned"
    version = 1
    topic = SUPERVISION_EVENTS.name

    agreement_id: str
    supervisor_id: str
    supervisee_id: str
    site_id: str
    credential_track: str
    start_date: dt.date
    end_date: dt.date

    def key(self) -> str:
        return self.supervisee_id


@register
class SessionLogged(EventContract):
    """A clinical supervision session took place; it may count toward licensure."""

    name = "continuum.supervision.SessionLogged"
    version = 1
    topic = SUPERVISION_EVENTS.name

    session_id: str
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    minutes: int
    supervisor_id: str
    supervisee_ids: tuple[str, ...]
    site_id: str

    def key(self) -> str:
        return self.session_id
