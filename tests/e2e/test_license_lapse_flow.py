"""A supervisor's license lapses in the credential registry (compliance); supervision records
the sessions held under the lapse as they happened and marks them; the audit view shows them
flagged for review and, since the Texas board counts no hours under a supervisor without an
active license (TX3), among the sessions that do not count, with the rule that says so. Nothing
is refused, nothing is lost."""

from __future__ import annotations

import datetime as dt

import pytest

from continuum.compliance.v1 import compliance_service_pb2 as views
from continuum.compliance.v1 import credential_service_pb2 as cred
from tests.e2e.support import Stubs, eventually, unique
from tests.e2e.test_supervision_api import ACTOR, log, register, sign

pytestmark = pytest.mark.e2e


def _record_license(
    stubs: Stubs, holder: str, expires_on: dt.date, *, designated: bool = False
) -> str:
    """An LPC issued in 2020, and, when `designated`, the LPC-S designation the Texas board
    asks of a supervisor for hours to count (TX3)."""
    license_id = unique("lic")
    stubs.credentials.RecordLicense(
        cred.RecordLicenseRequest(
            license_id=license_id,
            holder_id=holder,
            kind="LPC",
            number=unique("LPC"),
            state="TX",
            issued_on="2020-01-06",
            expires_on=expires_on.isoformat(),
        ),
        metadata=ACTOR,
        timeout=10,
    )
    if designated:
        stubs.credentials.RecordSupervisorDesignation(
            cred.RecordSupervisorDesignationRequest(
                designation_id=unique("des"),
                holder_id=holder,
                designation="LPC-S",
                state="TX",
                granted_on="2020-06-01",
                training_hours=40,
                training_completed_on="2020-05-01",
            ),
            metadata=ACTOR,
            timeout=10,
        )
    return license_id


def _sessions(stubs: Stubs, supervisee: str) -> dict[str, views.SupervisionSessionRecord]:
    """Every session of the supervisee, counted or not."""
    reply = stubs.compliance.GetSuperviseeHours(
        views.GetSuperviseeHoursRequest(supervisee_id=supervisee), timeout=10
    )
    return {s.session_id: s for s in (*reply.sessions, *reply.excluded)}


def test_sessions_under_a_suspended_license_are_recorded_and_marked_whenever_it_is_known(
    stubs: Stubs,
) -> None:
    supervisor = unique("sup")
    license_id = _record_license(stubs, supervisor, dt.date(2027, 6, 30), designated=True)
    supervisee = register(stubs)
    sign(stubs, supervisee, supervisor)
    before = log(stubs, supervisor, [supervisee], session_id=unique("ses"), date="2026-03-02")
    # Logged before the registry hears of the suspension: marked when the lapse arrives.
    late = log(stubs, supervisor, [supervisee], session_id=unique("ses"), date="2026-04-06")
    assert not late.lapse_marked

    stubs.credentials.SuspendLicense(
        cred.SuspendLicenseRequest(
            license_id=license_id, effective_on="2026-04-01", reason="board order 26-114"
        ),
        metadata=ACTOR,
        timeout=10,
    )
    seen = eventually(
        lambda: _sessions(stubs, supervisee),
        lambda s: (
            late.session_id in s
            and s[late.session_id].flagged_for_review
            and not s[late.session_id].counts
        ),
    )
    (mark,) = seen[late.session_id].lapse_marks
    assert (mark.lapse, mark.lapsed_since) == ("suspended", "2026-04-01")
    # Held under the suspension: listed, for review, and not counted by the board's rule.
    assert not seen[late.session_id].counts
    assert seen[late.session_id].not_counted_reason == "board_rule"
    assert "tx-lpc-associate.supervisor-designation" in seen[late.session_id].not_counted_detail
    assert not seen[before.session_id].flagged_for_review
    assert seen[before.session_id].counts

    # Supervision now knows: a session held under the suspension is marked as it is logged.
    known = log(stubs, supervisor, [supervisee], session_id=unique("ses"), date="2026-04-13")
    assert known.lapse_marked
    eventually(
        lambda: _sessions(stubs, supervisee),
        lambda s: known.session_id in s and s[known.session_id].flagged_for_review,
    )


def test_a_license_the_clock_expires_marks_the_sessions_held_after_it(stubs: Stubs) -> None:
    today = dt.datetime.now(dt.UTC).date()
    supervisor = unique("sup")
    license_id = _record_license(stubs, supervisor, expires_on=today - dt.timedelta(days=1))
    eventually(
        lambda: (
            stubs.credentials.GetCredentials(
                cred.GetCredentialsRequest(holder_id=supervisor), timeout=10
            ).licenses
        ),
        lambda licenses: (
            [lic.status for lic in licenses if lic.license_id == license_id]
            == [cred.CREDENTIAL_LICENSE_STATUS_EXPIRED]
        ),
    )
    supervisee = register(stubs, registered_on=(today - dt.timedelta(days=90)).isoformat())
    sign(
        stubs,
        supervisee,
        supervisor,
        start_date=(today - dt.timedelta(days=60)).isoformat(),
        end_date=(today + dt.timedelta(days=300)).isoformat(),
    )
    session = log(stubs, supervisor, [supervisee], session_id=unique("ses"), date=today.isoformat())
    seen = eventually(
        lambda: _sessions(stubs, supervisee),
        lambda s: session.session_id in s and s[session.session_id].flagged_for_review,
    )
    (mark,) = seen[session.session_id].lapse_marks
    assert (mark.lapse, mark.lapsed_since) == ("expired", today.isoformat())
