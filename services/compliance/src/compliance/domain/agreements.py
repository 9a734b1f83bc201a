"""Supervision agreements as they stood on a date, and which agreement a session falls under.

Where the credential track needs the board's approval, no session under the agreement counts
before an approval dated on or before the session's date. Approvals and terminations take effect
on their own dates; the signing and an amendment have no date of their own and take effect on
the day they were recorded (an agreement also stands from its start date, however late signed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

from compliance.domain.facts import Fact, SessionModality, known, recorded_on

AgreementPeriod = Literal["week", "two_weeks", "month"]
AgreementStatus = Literal["not_started", "pending_approval", "active", "ended", "terminated"]


class AgreementTerms(Fact):
    """The terms in force: as signed, or as last amended."""

    # The last day the agreement is in force (inclusive).
    end_date: dt.date
    modalities: tuple[SessionModality, ...] = ()
    sessions_per_period: int | None = None
    period: AgreementPeriod | None = None


class AgreementAmendment(Fact):
    """New terms, in force from the day the amendment was recorded."""

    terms: AgreementTerms
    recorded_at: dt.datetime
    reason: str
    amended_by: str
    source_event_id: str


class AgreementApproval(Fact):
    approved_on: dt.date
    approval_reference: str
    recorded_at: dt.datetime
    source_event_id: str


class AgreementTermination(Fact):
    """The agreement ended early: no session after `terminated_on` falls under it."""

    terminated_on: dt.date
    reason: str
    terminated_by: str
    recorded_at: dt.datetime
    source_event_id: str


class AgreementFact(Fact):
    """An agreement as signed, with every approval, amendment and termination recorded since."""

    agreement_id: str
    supervisee_id: str
    supervisor_id: str
    site_id: str
    credential_track: str
    start_date: dt.date
    terms: AgreementTerms
    board_approval_required: bool = False
    recorded_at: dt.datetime
    source_event_id: str
    approvals: tuple[AgreementApproval, ...] = ()
    amendments: tuple[AgreementAmendment, ...] = ()
    terminations: tuple[AgreementTermination, ...] = ()

    def known_at(self, moment: dt.datetime) -> AgreementFact | None:
        """The agreement as known at `moment`: None if not yet signed, and only the approvals,
        amendments and terminations recorded by then."""
        if not known(self.recorded_at, moment):
            return None
        return self.model_copy(
            update={
                "approvals": tuple(a for a in self.approvals if known(a.recorded_at, moment)),
                "amendments": tuple(a for a in self.amendments if known(a.recorded_at, moment)),
                "terminations": tuple(t for t in self.terminations if known(t.recorded_at, moment)),
            }
        )


class AgreementAsOf(Fact):
    """An agreement as it stood at the end of `as_of`."""

    as_of: dt.date
    agreement_id: str
    supervisee_id: str
    supervisor_id: str
    site_id: str
    credential_track: str
    start_date: dt.date
    board_approval_required: bool
    terms: AgreementTerms
    status: AgreementStatus
    approval: AgreementApproval | None
    termination: AgreementTermination | None
    # The amendments in force by `as_of` (recorded by then), oldest first.
    amendments: tuple[AgreementAmendment, ...]
    # Every event that shaped the agreement as shown, oldest first.
    source_event_ids: tuple[str, ...]

    @property
    def last_day(self) -> dt.date:
        """The last day a session falls under it: its end date, or the day it was terminated."""
        if self.termination is None:
            return self.terms.end_date
        return min(self.terms.end_date, self.termination.terminated_on)

    def covers(self, day: dt.date) -> bool:
        return self.start_date <= day <= self.last_day

    def approved_by(self, day: dt.date) -> bool:
        """Whether a session on `day` may count: no approval needed, or one dated by then."""
        if not self.board_approval_required:
            return True
        return self.approval is not None and self.approval.approved_on <= day


def agreement_as_of(fact: AgreementFact, as_of: dt.date) -> AgreementAsOf | None:
    """None while the agreement was neither signed nor started by the end of `as_of`."""
    if fact.start_date > as_of and recorded_on(fact.recorded_at) > as_of:
        return None
    amendments = tuple(
        sorted(
            (a for a in fact.amendments if recorded_on(a.recorded_at) <= as_of),
            key=lambda a: (a.recorded_at, a.source_event_id),
        )
    )
    terms = amendments[-1].terms if amendments else fact.terms
    approval = min(
        (a for a in fact.approvals if a.approved_on <= as_of),
        key=lambda a: (a.approved_on, a.source_event_id),
        default=None,
    )
    termination = min(
        (t for t in fact.terminations if t.terminated_on <= as_of),
        key=lambda t: (t.terminated_on, t.source_event_id),
        default=None,
    )
    status: AgreementStatus
    if termination is not None and termination.terminated_on < as_of:
        status = "terminated"
    elif terms.end_date < as_of:
        status = "ended"
    elif fact.start_date > as_of:
        status = "not_started"
    elif fact.board_approval_required and approval is None:
        status = "pending_approval"
    else:
        status = "active"
    later = [
        *([approval.source_event_id] if approval else []),
        *(a.source_event_id for a in amendments),
        *([termination.source_event_id] if termination else []),
    ]
    return AgreementAsOf(
        as_of=as_of,
        agreement_id=fact.agreement_id,
        supervisee_id=fact.supervisee_id,
        supervisor_id=fact.supervisor_id,
        site_id=fact.site_id,
        credential_track=fact.credential_track,
        start_date=fact.start_date,
        board_approval_required=fact.board_approval_required,
        terms=terms,
        status=status,
        approval=approval,
        termination=termination,
        amendments=amendments,
        source_event_ids=(fact.source_event_id, *later),
    )


def agreements_as_of(facts: Iterable[AgreementFact], as_of: dt.date) -> tuple[AgreementAsOf, ...]:
    """The agreements signed or started by the end of `as_of`, by start date then id."""
    shown = (agreement_as_of(fact, as_of) for fact in facts)
    return tuple(
        sorted((a for a in shown if a is not None), key=lambda a: (a.start_date, a.agreement_id))
    )


def governing_agreement(
    agreements: Sequence[AgreementAsOf], supervisor_id: str, site_id: str, day: dt.date
) -> AgreementAsOf | None:
    """The agreement a session on `day` with this supervisor at this site falls under.

    Where several do, one under which the session may count is preferred; None when none does.
    """
    covering = sorted(
        (
            a
            for a in agreements
            if a.supervisor_id == supervisor_id and a.site_id == site_id and a.covers(day)
        ),
        key=lambda a: (not a.approved_by(day), a.start_date, a.agreement_id),
    )
    return covering[0] if covering else None
