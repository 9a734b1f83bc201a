"""What the supervision service records. Private to the service; published as contracts."""

from __future__ import annotations

import datetime as dt

from infra.ddd import DomainEvent, EventTypes
from supervision.domain.values import SessionFormat, SessionModality


class AgreementSigned(DomainEvent):
    """A supervisor and a supervisee signed a supervision agreement for one site (supervisee
    stream)."""

    type = "AgreementSigned"

    agreement_id: str
    supervisor_id: str
    supervisee_id: str
    site_id: str
    credential_track: str
    start_date: dt.date
    end_date: dt.date


class SessionLogged(DomainEvent):
    """A supervision session took place (session stream)."""

    type = "SessionLogged"

    session_id: str
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    minutes: int
    supervisor_id: str
    supervisee_ids: tuple[str, ...]
    site_id: str


class SupervisionReceived(DomainEvent):
    """A supervisee took part in a logged session under one of their agreements (supervisee
    stream), so the supervisee's own record holds every session that may count for them."""

    type = "SupervisionReceived"

    session_id: str
    supervisee_id: str
    agreement_id: str
    date: dt.date
    minutes: int
    format: SessionFormat
    modality: SessionModality
    supervisor_id: str
    site_id: str


EVENT_TYPES = EventTypes([AgreementSigned, SessionLogged, SupervisionReceived])
