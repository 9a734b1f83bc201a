"""The supervision domain: pure decisions over supervisees, agreements, sessions and
supervisors' standing (no I/O).

Streams: `supervisee-<id>` (registration, agreements, supervision received, practice hours,
month sign-offs), `session-<id>` (a session and its corrections) and `supervisor-<id>` (license
standing and the sessions logged under them).
"""

from supervision.domain import session, standing, supervisee, supervisor
from supervision.domain.commands import (
    AmendAgreement,
    AmendSession,
    ApproveAgreement,
    LogSession,
    RecordPracticeHours,
    RegisterSupervisee,
    ReopenMonth,
    SignAgreement,
    SignOffMonth,
    SuperviseeWellbeing,
    TerminateAgreement,
    TransferSupervisee,
    VoidSession,
)
from supervision.domain.decision import Decision
from supervision.domain.events import (
    EVENT_TYPES,
    AgreementAmended,
    AgreementApproved,
    AgreementSigned,
    AgreementTerminated,
    MonthReopened,
    MonthSignedOff,
    PracticeHoursRecorded,
    SessionAmended,
    SessionLogged,
    SessionVoided,
    SupervisedSessionNoted,
    SuperviseeRegistered,
    SuperviseeTransferred,
    SupervisionAmended,
    SupervisionReceived,
    SupervisionVoided,
    SupervisorLapseMarked,
    SupervisorLicenseChanged,
)
from supervision.domain.session import (
    SessionState,
    decide_amend_session,
    decide_log_session,
    decide_void_session,
)
from supervision.domain.supervisee import Agreement, SuperviseeCommand, SuperviseeState
from supervision.domain.supervisor import LicenseChange, SupervisorState
from supervision.domain.tracks import TrackRules, Tracks
from supervision.domain.values import WellbeingCheck

__all__ = [
    "EVENT_TYPES",
    "Agreement",
    "AgreementAmended",
    "AgreementApproved",
    "AgreementSigned",
    "AgreementTerminated",
    "AmendAgreement",
    "AmendSession",
    "ApproveAgreement",
    "Decision",
    "LicenseChange",
    "LogSession",
    "MonthReopened",
    "MonthSignedOff",
    "PracticeHoursRecorded",
    "RecordPracticeHours",
    "RegisterSupervisee",
    "ReopenMonth",
    "SessionAmended",
    "SessionLogged",
    "SessionState",
    "SessionVoided",
    "SignAgreement",
    "SignOffMonth",
    "SupervisedSessionNoted",
    "SuperviseeCommand",
    "SuperviseeRegistered",
    "SuperviseeState",
    "SuperviseeTransferred",
    "SuperviseeWellbeing",
    "SupervisionAmended",
    "SupervisionReceived",
    "SupervisionVoided",
    "SupervisorLapseMarked",
    "SupervisorLicenseChanged",
    "SupervisorState",
    "TerminateAgreement",
    "TrackRules",
    "Tracks",
    "TransferSupervisee",
    "VoidSession",
    "WellbeingCheck",
    "decide_amend_session",
    "decide_log_session",
    "decide_void_session",
    "session",
    "standing",
    "supervisee",
    "supervisor",
]
