"""What staff ask the supervision service to record. Each command checks its own fields."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Self

from pydantic import model_validator

from infra.ddd import Command, Id
from supervision.domain.errors import (
    AgreementMustEndAfterItStarts,
    CredentialTrackMustBeKnown,
    SessionLengthMustBeWithinBounds,
    SessionMustHaveASupervisee,
    SuperviseesMustBeListedOnce,
    SupervisorMustNotBeAmongSupervisees,
    SupervisorMustNotSuperviseThemself,
)
from supervision.domain.tracks import KNOWN_TRACKS
from supervision.domain.values import SessionFormat, SessionModality

# Sanity bounds on one session's length, not a board rule: shorter is a data-entry slip rather
# than supervision, longer than a working day is not one session.
MIN_SESSION_MINUTES = 15
MAX_SESSION_MINUTES = 480


class SignAgreement(Command):
    agreement_id: Id
    supervisor_id: Id
    supervisee_id: Id
    site_id: Id
    credential_track: str
    start_date: dt.date
    # The last day the agreement is in force (inclusive).
    end_date: dt.date

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.credential_track not in KNOWN_TRACKS:
            raise CredentialTrackMustBeKnown(self.credential_track, KNOWN_TRACKS)
        if self.supervisor_id == self.supervisee_id:
            raise SupervisorMustNotSuperviseThemself(self.supervisor_id)
        if self.end_date <= self.start_date:
            raise AgreementMustEndAfterItStarts(self.start_date, self.end_date)
        return self


class LogSession(Command):
    session_id: Id
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    minutes: int
    supervisor_id: Id
    supervisee_ids: tuple[Id, ...]
    site_id: Id

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not MIN_SESSION_MINUTES <= self.minutes <= MAX_SESSION_MINUTES:
            raise SessionLengthMustBeWithinBounds(
                self.minutes, MIN_SESSION_MINUTES, MAX_SESSION_MINUTES
            )
        if not self.supervisee_ids:
            raise SessionMustHaveASupervisee()
        duplicates = [sid for sid, n in Counter(self.supervisee_ids).items() if n > 1]
        if duplicates:
            raise SuperviseesMustBeListedOnce(duplicates)
        if self.supervisor_id in self.supervisee_ids:
            raise SupervisorMustNotBeAmongSupervisees(self.supervisor_id)
        return self
