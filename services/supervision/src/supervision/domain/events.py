"""What the supervision service records. Private to the service; published as contracts.

Three kinds of stream:
- `supervisee-<id>`: registration, transfers, agreements and their changes, the supervision the
  supervisee received (with their private wellbeing check), practice hours and month sign-offs;
- `session-<id>`: a session as logged, its amendments, its voiding and a supervisor-lapse mark;
- `supervisor-<id>`: the supervisor's license history as the compliance service reports it, and
  the sessions logged under them (so a lapse learnt later finds its sessions without a scan).

Fields added to an event after it was first stored carry a default, so old records still load.
"""

from __future__ import annotations

import datetime as dt

from infra.ddd import ApprovalReferenceText, DomainEvent, EventTypes, LicenseNumberText, TypedText
from supervision.domain.values import (
    AgreementPeriod,
    Focus,
    LicenseChangeKind,
    LicenseLapse,
    SessionFormat,
    SessionKind,
    SessionModality,
    Technique,
    WellbeingCheck,
)

# Supervisee stream.


class SuperviseeRegistered(DomainEvent):
    type = "SuperviseeRegistered"

    supervisee_id: str
    credential_track: str
    license_number: LicenseNumberText
    home_site_id: str
    registered_on: dt.date


class SuperviseeTransferred(DomainEvent):
    type = "SuperviseeTransferred"

    supervisee_id: str
    from_site_id: str
    to_site_id: str
    effective_on: dt.date


class AgreementSigned(DomainEvent):
    """A supervisor and a supervisee signed a supervision agreement for one site."""

    type = "AgreementSigned"

    agreement_id: str
    supervisor_id: str
    supervisee_id: str
    site_id: str
    credential_track: str
    start_date: dt.date
    end_date: dt.date
    modalities: tuple[SessionModality, ...] = ()
    sessions_per_period: int | None = None
    period: AgreementPeriod | None = None
    board_approval_required: bool = False


class AgreementApproved(DomainEvent):
    type = "AgreementApproved"

    supervisee_id: str
    agreement_id: str
    approved_on: dt.date
    approval_reference: ApprovalReferenceText


class AgreementAmended(DomainEvent):
    """The agreement's terms from now on."""

    type = "AgreementAmended"

    supervisee_id: str
    agreement_id: str
    end_date: dt.date
    modalities: tuple[SessionModality, ...]
    sessions_per_period: int
    period: AgreementPeriod
    reason: TypedText
    amended_by: str


class AgreementTerminated(DomainEvent):
    type = "AgreementTerminated"

    supervisee_id: str
    agreement_id: str
    terminated_on: dt.date
    reason: TypedText
    terminated_by: str


class SupervisionReceived(DomainEvent):
    """A supervisee took part in a logged session under one of their agreements, so the
    supervisee's own record holds every session that may count for them. The wellbeing check
    lives here only, and is never published."""

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
    kind: SessionKind = "clinical"
    wellbeing: WellbeingCheck | None = None


class SupervisionAmended(DomainEvent):
    """The supervisee's record of a session follows the session's amendment."""

    type = "SupervisionAmended"

    session_id: str
    supervisee_id: str
    agreement_id: str
    date: dt.date
    minutes: int
    format: SessionFormat
    modality: SessionModality
    kind: SessionKind
    reason: TypedText
    amended_by: str


class SupervisionVoided(DomainEvent):
    type = "SupervisionVoided"

    session_id: str
    supervisee_id: str
    reason: TypedText
    voided_by: str


class PracticeHoursRecorded(DomainEvent):
    type = "PracticeHoursRecorded"

    supervisee_id: str
    site_id: str
    week_start: dt.date
    direct_minutes: int
    indirect_minutes: int
    correction: TypedText | None = None


class MonthSignedOff(DomainEvent):
    type = "MonthSignedOff"

    supervisee_id: str
    month: str
    supervisor_id: str
    signed_on: dt.date


class MonthReopened(DomainEvent):
    type = "MonthReopened"

    supervisee_id: str
    month: str
    reopened_by: str
    reason: TypedText
    reopened_on: dt.date


# Session stream.


class SessionLogged(DomainEvent):
    """A supervision session took place."""

    type = "SessionLogged"

    session_id: str
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    minutes: int
    supervisor_id: str
    supervisee_ids: tuple[str, ...]
    site_id: str
    kind: SessionKind = "clinical"
    start_time: dt.time | None = None
    techniques: tuple[Technique, ...] = ()
    focus: tuple[Focus, ...] = ()


class SessionAmended(DomainEvent):
    """The session as it now stands (its people and site unchanged)."""

    type = "SessionAmended"

    session_id: str
    supervisee_ids: tuple[str, ...]
    kind: SessionKind
    format: SessionFormat
    modality: SessionModality
    date: dt.date
    start_time: dt.time | None
    minutes: int
    techniques: tuple[Technique, ...]
    focus: tuple[Focus, ...]
    reason: TypedText
    amended_by: str


class SessionVoided(DomainEvent):
    type = "SessionVoided"

    session_id: str
    supervisee_ids: tuple[str, ...]
    date: dt.date
    reason: TypedText
    voided_by: str


class SupervisorLapseMarked(DomainEvent):
    """The session was held on a day its supervisor's license was not in good standing."""

    type = "SupervisorLapseMarked"

    session_id: str
    supervisor_id: str
    date: dt.date
    license_id: str
    lapse: LicenseLapse
    lapsed_since: dt.date


# Supervisor stream.


class SupervisorLicenseChanged(DomainEvent):
    """What the credential registry reported about one of the supervisor's licenses.

    `effective_on` is the day the change takes effect: the issue date of a recorded license,
    the renewal date, the first day of a suspension, reinstatement or revocation, or the first
    invalid day of an expired license.
    """

    type = "SupervisorLicenseChanged"

    supervisor_id: str
    license_id: str
    change: LicenseChangeKind
    effective_on: dt.date
    expires_on: dt.date | None = None


class SupervisedSessionNoted(DomainEvent):
    """A session was logged (or moved to `date`) under this supervisor."""

    type = "SupervisedSessionNoted"

    supervisor_id: str
    session_id: str
    date: dt.date


EVENT_TYPES = EventTypes(
    [
        SuperviseeRegistered,
        SuperviseeTransferred,
        AgreementSigned,
        AgreementApproved,
        AgreementAmended,
        AgreementTerminated,
        SupervisionReceived,
        SupervisionAmended,
        SupervisionVoided,
        PracticeHoursRecorded,
        MonthSignedOff,
        MonthReopened,
        SessionLogged,
        SessionAmended,
        SessionVoided,
        SupervisorLapseMarked,
        SupervisorLicenseChanged,
        SupervisedSessionNoted,
    ]
)
