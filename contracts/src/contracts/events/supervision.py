"""Events the supervision service publishes on `continuum.supervision.events`.

Minimum necessary: these carry hours, dates, formats, ids and signatures, never client content,
and never a supervisee's wellbeing check or an evaluation's narrative (those stay inside the
supervision service).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.events.base import EventContract, register, register_upcaster
from contracts.fields import (
    ApprovalReference,
    Date,
    Id,
    Int32,
    Label,
    LicenseNumber,
    Month,
    SealedText,
)
from contracts.topics import SUPERVISION_EVENTS

__all__ = [
    "AgreementAmended",
    "AgreementApproved",
    "AgreementSigned",
    "AgreementTerminated",
    "CompetencyEvaluated",
    "ConsultationLogged",
    "DomainScore",
    "EvaluationAcknowledged",
    "MonthReopened",
    "MonthSignedOff",
    "PracticeHoursRecorded",
    "SessionAmended",
    "SessionLogged",
    "SessionLoggedV1",
    "SessionVoided",
    "SuperviseeRegistered",
    "SuperviseeTransferred",
    "SupervisorLapseMarked",
]

# v1 knew only these two formats and modalities; v2 widened them (see SessionLogged).
SessionFormatV1 = Literal["individual", "group"]
SessionModalityV1 = Literal["in_person", "video"]

# Triadic: one supervisor and two supervisees (most boards count it as individual).
SessionFormat = Literal["individual", "triadic", "group"]
SessionModality = Literal["in_person", "video", "phone"]
# Administrative supervision (caseload, scheduling, policy) never counts toward licensure.
SessionKind = Literal["clinical", "administrative"]
Technique = Literal[
    "corrective_feedback",
    "discussion_of_interventions",
    "role_play",
    "direct_observation",
    "case_review",
    "recording_review",
]
# Bernard's discrimination model: what the supervisor attended to.
Focus = Literal["intervention", "conceptualization", "personalization"]
AgreementPeriod = Literal["week", "two_weeks", "month"]
EvaluationTrigger = Literal["quarterly", "annual", "midterm", "final", "termination", "ad_hoc"]
ConsultantKind = Literal["peer", "expert"]
LicenseLapse = Literal["suspended", "revoked", "expired"]
# A session lasts a minute or more; a week's practice is none or more minutes of each kind (the
# read model refuses a figure below these, so the schema admits none).
SessionMinutes = Annotated[Int32, Field(gt=0)]
WeekMinutes = Annotated[Int32, Field(ge=0)]
# Who was supervised in a session: one person or more (each is counted the session).
Supervisees = Annotated[tuple[Id, ...], Field(min_length=1)]


class _SuperviseeEvent(EventContract):
    """Events about one supervisee's record, keyed (and so ordered) by supervisee."""

    topic = SUPERVISION_EVENTS.name
    supervisee_id: Id

    def key(self) -> str:
        return self.supervisee_id


class _SessionEvent(EventContract):
    """Events about one supervision session, keyed by session."""

    topic = SUPERVISION_EVENTS.name
    session_id: Id

    def key(self) -> str:
        return self.session_id


@register
class SuperviseeRegistered(_SuperviseeEvent):
    """A pre-licensed clinician was registered for supervision on a credential track."""

    name = "continuum.supervision.SuperviseeRegistered"
    version = 1

    credential_track: Label
    # The provisional license, registration or permit number the board issued.
    license_number: LicenseNumber
    home_site_id: Id
    registered_on: Date


@register
class SuperviseeTransferred(_SuperviseeEvent):
    """A supervisee's home site changed from `effective_on`."""

    name = "continuum.supervision.SuperviseeTransferred"
    version = 1

    from_site_id: Id
    to_site_id: Id
    effective_on: Date


@register
class AgreementSigned(_SuperviseeEvent):
    """A supervisor and a supervisee signed a supervision agreement for one site.

    Where `board_approval_required`, no session under it counts before an AgreementApproved.
    """

    name = "continuum.supervision.AgreementSigned"
    version = 1

    agreement_id: Id
    supervisor_id: Id
    site_id: Id
    credential_track: Label
    start_date: Date
    # The last day the agreement is in force (inclusive).
    end_date: Date
    # Added compatibly (defaults): the agreed modalities and frequency, and board approval.
    modalities: tuple[SessionModality, ...] = ()
    sessions_per_period: Int32 | None = None
    period: AgreementPeriod | None = None
    board_approval_required: bool = False


@register
class AgreementApproved(_SuperviseeEvent):
    """The licensing board approved an agreement (recorded where the track requires it)."""

    name = "continuum.supervision.AgreementApproved"
    version = 1

    agreement_id: Id
    approved_on: Date
    # The board's reference for the approval, for example a letter or portal number.
    approval_reference: ApprovalReference


@register
class AgreementAmended(_SuperviseeEvent):
    """An agreement's terms changed; the fields are the terms in force from now on."""

    name = "continuum.supervision.AgreementAmended"
    version = 1

    agreement_id: Id
    end_date: Date
    modalities: tuple[SessionModality, ...]
    sessions_per_period: Int32 | None
    period: AgreementPeriod | None
    reason: SealedText
    amended_by: Id


@register
class AgreementTerminated(_SuperviseeEvent):
    """An agreement ended early; no session after `terminated_on` falls under it."""

    name = "continuum.supervision.AgreementTerminated"
    version = 1

    agreement_id: Id
    terminated_on: Date
    reason: SealedText
    terminated_by: Id


@register
class SessionLoggedV1(_SessionEvent):
    """Version 1 of SessionLogged, kept so old messages still parse (upcast to v2 on read)."""

    name = "continuum.supervision.SessionLogged"
    version = 1

    format: SessionFormatV1
    modality: SessionModalityV1
    date: Date
    minutes: Int32
    supervisor_id: Id
    supervisee_ids: tuple[Id, ...]
    site_id: Id


@register
class SessionLogged(_SessionEvent):
    """A supervision session took place, as recorded at the time.

    Version 2 widened format (triadic), modality (phone) and added kind (administrative never
    counts), start time, techniques and focus. A v1 message upcasts to this with kind "clinical".
    Whether it counts is the compliance service's decision under the track's rules.
    """

    name = "continuum.supervision.SessionLogged"
    version = 2

    kind: SessionKind
    format: SessionFormat
    modality: SessionModality
    date: Date
    start_time: dt.time | None
    minutes: SessionMinutes
    supervisor_id: Id
    supervisee_ids: Supervisees
    site_id: Id
    techniques: tuple[Technique, ...]
    focus: tuple[Focus, ...]


def _session_logged_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "kind": "clinical", "start_time": None, "techniques": [], "focus": []}


register_upcaster(SessionLoggedV1, SessionLogged, _session_logged_v1_to_v2)


@register
class SessionAmended(_SessionEvent):
    """A logged session was corrected. The fields are the session as it now stands; the
    supervisees are unchanged (a session with the wrong people is voided and logged again)."""

    name = "continuum.supervision.SessionAmended"
    version = 1

    kind: SessionKind
    format: SessionFormat
    modality: SessionModality
    date: Date
    start_time: dt.time | None
    minutes: SessionMinutes
    supervisee_ids: tuple[Id, ...]
    techniques: tuple[Technique, ...]
    focus: tuple[Focus, ...]
    reason: SealedText
    amended_by: Id


@register
class SessionVoided(_SessionEvent):
    """A logged session was voided: it stays on the record, and counts for no one."""

    name = "continuum.supervision.SessionVoided"
    version = 1

    supervisee_ids: tuple[Id, ...]
    date: Date
    reason: SealedText
    voided_by: Id


@register
class SupervisorLapseMarked(_SessionEvent):
    """A session was held on a day its supervisor's license was not in good standing.

    The session stays recorded as it happened; this mark is for a person to review. It is
    published when the session is logged under a known lapse, or later, when the lapse becomes
    known after the session was logged.
    """

    name = "continuum.supervision.SupervisorLapseMarked"
    version = 1

    supervisor_id: Id
    date: Date
    license_id: Id
    lapse: LicenseLapse
    lapsed_since: Date


@register
class PracticeHoursRecorded(_SuperviseeEvent):
    """A supervisee's client hours for one week at one site (the ratio rules need them).

    A later record for the same week and site replaces this one and says why in `correction`.
    """

    name = "continuum.supervision.PracticeHoursRecorded"
    version = 1

    site_id: Id
    # The Monday the week starts on.
    week_start: Date
    direct_minutes: WeekMinutes
    indirect_minutes: WeekMinutes
    correction: SealedText | None = None


@register
class MonthSignedOff(_SuperviseeEvent):
    """The supervisor signed a supervisee's month: its record is locked until reopened."""

    name = "continuum.supervision.MonthSignedOff"
    version = 1

    # "YYYY-MM".
    month: Month
    supervisor_id: Id
    signed_on: Date


@register
class MonthReopened(_SuperviseeEvent):
    """A signed month was reopened for a correction; it needs signing again."""

    name = "continuum.supervision.MonthReopened"
    version = 1

    month: Month
    reopened_by: Id
    reason: SealedText
    reopened_on: Date


class DomainScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    domain: Label
    score: Int32


@register
class CompetencyEvaluated(_SuperviseeEvent):
    """A supervisor evaluated and signed a supervisee's competency for a period.

    The narrative (strengths, limitations, the remediation plan's text) stays in supervision;
    this carries the scores, the evidence and whether remediation is required.
    """

    name = "continuum.supervision.CompetencyEvaluated"
    version = 1

    evaluation_id: Id
    supervisor_id: Id
    framework: Label
    framework_version: Label
    scale_min: Int32
    scale_max: Int32
    # A score below this is below expectations and requires a remediation plan.
    expected_min: Int32
    trigger: EvaluationTrigger
    period_start: Date
    period_end: Date
    scores: tuple[DomainScore, ...]
    below_expectations: tuple[Label, ...]
    remediation_required: bool
    evidence_session_ids: tuple[Id, ...]
    signed_on: Date


@register
class EvaluationAcknowledged(_SuperviseeEvent):
    """The supervisee acknowledged (not necessarily agreed with) a signed evaluation."""

    name = "continuum.supervision.EvaluationAcknowledged"
    version = 1

    evaluation_id: Id
    acknowledged_on: Date


@register
class ConsultationLogged(EventContract):
    """A clinician consulted a peer or an expert about a case, logged for the record.

    A consultation is not supervision and never counts toward licensure: it has no supervisor,
    no supervisee and no format, so nothing that counts supervision can read it as such.
    """

    name = "continuum.supervision.ConsultationLogged"
    version = 1
    topic = SUPERVISION_EVENTS.name

    consultation_id: Id
    clinician_id: Id
    consultant_id: Id
    consultant_kind: ConsultantKind
    site_id: Id
    date: Date
    minutes: Int32

    def key(self) -> str:
        return self.consultation_id
