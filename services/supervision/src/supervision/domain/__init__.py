"""The supervision domain: pure decisions over agreements and sessions (no I/O).

Streams: `supervisee-<id>` (agreements, supervision received) and `session-<id>`.
"""

from supervision.domain import session, supervisee
from supervision.domain.commands import LogSession, SignAgreement
from supervision.domain.events import (
    EVENT_TYPES,
    AgreementSigned,
    SessionLogged,
    SupervisionReceived,
)
from supervision.domain.session import Decision, SessionState, decide_log_session
from supervision.domain.supervisee import Agreement, SuperviseeState
from supervision.domain.tracks import KNOWN_TRACKS, TRACKS, TrackRules, track_rules

__all__ = [
    "EVENT_TYPES",
    "KNOWN_TRACKS",
    "TRACKS",
    "Agreement",
    "AgreementSigned",
    "Decision",
    "LogSession",
    "SessionLogged",
    "SessionState",
    "SignAgreement",
    "SuperviseeState",
    "SupervisionReceived",
    "TrackRules",
    "decide_log_session",
    "session",
    "supervisee",
    "track_rules",
]
