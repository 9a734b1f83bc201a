"""No clear text where it does not belong: what a person typed and what identifies them (license
numbers, notes, reasons, corrections) is sealed by the service it is typed into, before it is
stored or published. A scan of every topic from its beginning, and of every service's SQLite
files, finds none of it in clear; the staff apps read it back plain. Once a subject is erased
(`python -m infra.security.crypto erase`), every view shows `[erased]` for their text, and the
hours and counts stay.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from continuum.coaching.v1 import coaching_service_pb2 as coaching
from continuum.compliance.v1 import compliance_service_pb2 as compliance
from continuum.compliance.v1 import credential_service_pb2 as credential
from continuum.referral.v1 import referral_service_pb2 as referral
from continuum.supervision.v1 import supervision_service_pb2 as pb
from infra.devstack import Stack
from tests.e2e.conftest import running_stack
from tests.e2e.support import Stubs, acting_as, eventually, stubs_for, unique

pytestmark = pytest.mark.e2e

ACTOR = acting_as("coordinator-e2e")
AUSTIN, TRACK = "site-austin", "TX-LPC-ASSOCIATE"
# A key cached by a service answers for at most this long after an erasure elsewhere.
CACHE_SECONDS = "1"
REASON = ("--reason", "consent_revoked")


def marker(what: str) -> str:
    """A text no service would write by itself, to look for."""
    return f"{what} {uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def sealed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("continuum-sealed")
    with running_stack(data, {"CONTINUUM_KEYRING_CACHE_SECONDS": CACHE_SECONDS}) as started:
        yield started


@pytest.fixture(scope="module")
def stubs(sealed_stack: Stack) -> Iterator[Stubs]:
    with stubs_for(sealed_stack.addresses) as service_stubs:
        yield service_stubs


class Typed:
    """A supervisee's record with text in every sensitive field supervision and compliance
    publish, and a coaching goal and a referral note typed for a client."""

    def __init__(self, stubs: Stubs) -> None:
        self.supervisee, self.supervisor = unique("see"), unique("sup")
        self.license_number = f"LPC-{uuid.uuid4().hex[:10].upper()}"
        self.supervisor_license = f"LPC-{uuid.uuid4().hex[:10].upper()}"
        self.amend_reason = marker("held by video after all")
        self.correction = marker("a no-show was counted")
        self.suspension_reason = marker("board order")
        self.goal_text = marker("move out by autumn")
        self.referral_note = marker("client asked for an evening slot")
        self.session_id, self.license_id = unique("ses"), unique("lic")
        s = stubs.supervision
        s.RegisterSupervisee(
            pb.RegisterSuperviseeRequest(
                supervisee_id=self.supervisee,
                credential_track=TRACK,
                license_number=self.license_number,
                home_site_id=AUSTIN,
                registered_on="2026-01-02",
            ),
            metadata=ACTOR,
            timeout=10,
        )
        s.SignAgreement(
            pb.SignAgreementRequest(
                agreement_id=unique("agr"),
                supervisor_id=self.supervisor,
                supervisee_id=self.supervisee,
                site_id=AUSTIN,
                start_date="2026-01-05",
                end_date="2026-12-31",
                modalities=[pb.SESSION_MODALITY_IN_PERSON, pb.SESSION_MODALITY_VIDEO],
                sessions_per_period=1,
                period=pb.AGREEMENT_PERIOD_WEEK,
            ),
            metadata=ACTOR,
            timeout=10,
        )
        s.LogSession(
            pb.LogSessionRequest(
                session_id=self.session_id,
                kind=pb.SESSION_KIND_CLINICAL,
                format=pb.SESSION_FORMAT_INDIVIDUAL,
                modality=pb.SESSION_MODALITY_IN_PERSON,
                date="2026-03-02",
                minutes=60,
                supervisor_id=self.supervisor,
                supervisee_ids=[self.supervisee],
                site_id=AUSTIN,
            ),
            metadata=ACTOR,
            timeout=10,
        )
        self.amend = pb.AmendSessionRequest(
            session_id=self.session_id,
            kind=pb.SESSION_KIND_CLINICAL,
            format=pb.SESSION_FORMAT_INDIVIDUAL,
            modality=pb.SESSION_MODALITY_VIDEO,
            date="2026-03-02",
            minutes=75,
            reason=self.amend_reason,
        )
        assert not s.AmendSession(self.amend, metadata=ACTOR, timeout=10).already_recorded
        hours = pb.RecordPracticeHoursRequest(
            supervisee_id=self.supervisee,
            site_id=AUSTIN,
            week_start="2026-03-02",
            direct_minutes=900,
            indirect_minutes=300,
        )
        s.RecordPracticeHours(hours, metadata=ACTOR, timeout=10)
        hours.direct_minutes, hours.correction = 840, self.correction
        s.RecordPracticeHours(hours, metadata=ACTOR, timeout=10)
        c = stubs.credentials
        c.RecordLicense(
            credential.RecordLicenseRequest(
                license_id=self.license_id,
                holder_id=self.supervisor,
                kind="LPC",
                number=self.supervisor_license,
                state="TX",
                issued_on="2015-01-05",
                expires_on="2030-12-31",
            ),
            metadata=ACTOR,
            timeout=10,
        )
        c.SuspendLicense(
            credential.SuspendLicenseRequest(
                license_id=self.license_id,
                effective_on="2026-04-01",
                reason=self.suspension_reason,
            ),
            metadata=ACTOR,
            timeout=10,
        )
        self.engagement_id, self.client = unique("eng"), unique("client")
        stubs.coaching.OpenEngagement(
            coaching.OpenEngagementRequest(
                engagement_id=self.engagement_id,
                client_id=self.client,
                coach_id="coach-e2e",
                site_id=AUSTIN,
                opened_on="2026-03-01",
            ),
            metadata=ACTOR,
            timeout=10,
        )
        stubs.coaching.SetGoal(
            coaching.SetGoalRequest(
                engagement_id=self.engagement_id,
                goal_id="g-1",
                specific=self.goal_text,
                measure="applications sent, counted each Friday",
                achievable="CV ready; library computers",
                relevant="wants to move out",
                target_date="2026-06-30",
                set_on="2026-03-02",
            ),
            metadata=ACTOR,
            timeout=10,
        )
        self.referral_id = unique("ref")
        stubs.referral.RaiseReferral(
            referral.RaiseReferralRequest(
                referral_id=self.referral_id,
                client_id=self.client,
                site_id=AUSTIN,
                from_service=referral.SERVICE_THERAPY,
                to_service=referral.SERVICE_PSYCHIATRY,
                urgency=referral.URGENCY_ROUTINE,
                reason=referral.REFERRAL_REASON_MEDICATION_EVALUATION,
                source=f"therapy-episode/{unique('ep')}",
                note=self.referral_note,
            ),
            metadata=ACTOR,
            timeout=10,
        )

    @property
    def secrets(self) -> list[str]:
        return [
            self.license_number,
            self.supervisor_license,
            self.amend_reason,
            self.correction,
            self.suspension_reason,
            self.goal_text,
            self.referral_note,
        ]

    def record(self, stubs: Stubs) -> compliance.GetSuperviseeRecordResponse:
        return stubs.compliance.GetSuperviseeRecord(  # type: ignore[no-any-return]
            compliance.GetSuperviseeRecordRequest(supervisee_id=self.supervisee),
            metadata=ACTOR,
            timeout=10,
        )

    def supervisee_view(self, stubs: Stubs) -> pb.GetSuperviseeResponse:
        return stubs.supervision.GetSupervisee(  # type: ignore[no-any-return]
            pb.GetSuperviseeRequest(supervisee_id=self.supervisee), metadata=ACTOR, timeout=10
        )


@pytest.fixture(scope="module")
def typed(stubs: Stubs) -> Typed:
    return Typed(stubs)


def _complete(view: compliance.GetSuperviseeRecordResponse) -> bool:
    return (
        view.HasField("registration")
        and len(view.sessions) == 1
        and len(view.sessions[0].corrections) == 1
        and len(view.practice_weeks) == 1
        and view.practice_weeks[0].direct_minutes == 840
    )


async def _every_message(bootstrap: str) -> list[bytes]:
    """Every message of every topic, from its beginning: its key, value and headers."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if not t.startswith("__")]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"scanner-{uuid.uuid4().hex}",
    )
    await consumer.start()
    seen: list[bytes] = []
    try:
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=1000)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for record in records:
                    headers = b"".join(k.encode() + b"=" + (v or b"") for k, v in record.headers)
                    seen.append((record.key or b"") + b"|" + (record.value or b"") + headers)
    finally:
        await consumer.stop()
    return seen


def _files(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(data_dir.glob("*.sqlite*"))}


def test_the_typed_text_reads_back_plain_where_a_person_reads_it(
    stubs: Stubs, typed: Typed
) -> None:
    view = eventually(lambda: typed.record(stubs), _complete)

    assert view.registration.license_number == typed.license_number
    assert view.sessions[0].corrections[0].reason == typed.amend_reason
    assert view.practice_weeks[0].correction == typed.correction
    assert typed.supervisee_view(stubs).license_number == typed.license_number
    (lic,) = [
        lic
        for lic in stubs.credentials.GetCredentials(
            credential.GetCredentialsRequest(holder_id=typed.supervisor),
            metadata=ACTOR,
            timeout=10,
        ).licenses
        if lic.license_id == typed.license_id
    ]
    assert [c.reason for c in lic.changes] == [typed.suspension_reason]
    assert (
        stubs.referral.GetReferral(
            referral.GetReferralRequest(referral_id=typed.referral_id), metadata=ACTOR, timeout=10
        ).referral.note
        == typed.referral_note
    )


def test_no_topic_and_no_store_holds_the_typed_text_in_clear(
    sealed_stack: Stack, stubs: Stubs, typed: Typed
) -> None:
    # given: everything typed has reached compliance's read model
    eventually(lambda: typed.record(stubs), _complete)
    assert sealed_stack.bootstrap_servers is not None
    # when
    messages = asyncio.run(_every_message(sealed_stack.bootstrap_servers))
    files = _files(sealed_stack.data_dir)
    # then: sealed envelopes travel and rest, never the text
    assert messages and any(b"sealed:1:" + typed.supervisee.encode() in m for m in messages)
    assert {f"{s}.sqlite" for s in ("supervision", "compliance", "coaching", "referral")} <= set(
        files
    )
    for secret in typed.secrets:
        needle = secret.encode()
        assert [m for m in messages if needle in m] == [], secret
        assert [name for name, data in files.items() if needle in data] == [], secret


def _erase(stack: Stack, subject: str) -> str:
    env = stack.env_for("supervision")  # the keyring settings every service is given
    done = subprocess.run(
        [sys.executable, "-m", "infra.security.crypto", "erase", "--subject", subject, *REASON],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_an_erased_subject_reads_erased_everywhere_and_their_hours_stay(
    sealed_stack: Stack, stubs: Stubs, typed: Typed
) -> None:
    # given
    before = eventually(lambda: typed.record(stubs), _complete)
    # when
    said = _erase(sealed_stack, typed.supervisee)
    erased = eventually(
        lambda: typed.record(stubs),
        lambda v: _complete(v) and v.registration.license_number == "[erased]",
        timeout=30,
    )
    # then
    assert f"the keys of subject {typed.supervisee} are destroyed" in said
    assert erased.sessions[0].corrections[0].reason == "[erased]"
    assert erased.practice_weeks[0].correction == "[erased]"
    assert (erased.practice_direct_minutes, erased.practice_indirect_minutes) == (
        before.practice_direct_minutes,
        before.practice_indirect_minutes,
    )
    (session,), (session_before,) = erased.sessions, before.sessions
    assert (session.minutes, session.counts, session.logged) == (
        session_before.minutes,
        session_before.counts,
        session_before.logged,
    )
    assert (session.minutes, session.counts) == (75, True)
    assert erased.sessions[0].corrections[0].by == before.sessions[0].corrections[0].by
    supervision = eventually(
        lambda: typed.supervisee_view(stubs),
        lambda v: v.license_number == "[erased]",
        timeout=30,
    )
    assert supervision.supervisee_id == typed.supervisee
    # and a retry of a command recorded before the erasure is still answered as recorded
    again = stubs.supervision.AmendSession(typed.amend, metadata=ACTOR, timeout=10)
    assert again.already_recorded


def test_an_erased_client_reads_erased_in_their_referral_and_the_referral_stays(
    sealed_stack: Stack, stubs: Stubs, typed: Typed
) -> None:
    # given
    def get() -> referral.Referral:
        return stubs.referral.GetReferral(  # type: ignore[no-any-return]
            referral.GetReferralRequest(referral_id=typed.referral_id), metadata=ACTOR, timeout=10
        ).referral

    before = get()
    assert before.note == typed.referral_note
    # when
    _erase(sealed_stack, typed.client)
    erased = eventually(get, lambda r: r.note == "[erased]", timeout=30)
    # then
    assert (erased.referral_id, erased.client_id, erased.status, erased.urgency) == (
        before.referral_id,
        before.client_id,
        before.status,
        before.urgency,
    )
