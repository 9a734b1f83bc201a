"""Every response opens the sealed values it carries, wherever they sit in the message; an
erased subject's values read `[erased]`."""

from __future__ import annotations

import pytest

from continuum.compliance.v1 import compliance_service_pb2 as pb
from infra.grpc.sealed import ResponseOpener
from infra.security.crypto import memory_keyring
from infra.security.crypto.fields import seal_field

pytestmark = pytest.mark.unit


async def test_a_response_opens_every_sealed_string_in_nested_and_repeated_fields() -> None:
    # given
    keys = memory_keyring()
    license_number = await seal_field(keys, "see-1", "LPC-A 81234")
    reason = await seal_field(keys, "see-1", "held by video")
    response = pb.GetSuperviseeRecordResponse(
        registration=pb.SuperviseeRegistration(
            license_number=license_number, source_event_ids=[reason, "evt-1"]
        ),
        sessions=[
            pb.SupervisionSessionRecord(
                corrections=[pb.SessionCorrection(by="sup-1", reason=reason)]
            )
        ],
        practice_weeks=[pb.PracticeWeek(correction=f"{reason} (quoted)", direct_minutes=840)],
    )
    # when
    opened = await ResponseOpener(keys)(response)
    # then
    assert opened.registration.license_number == "LPC-A 81234"
    assert list(opened.registration.source_event_ids) == ["held by video", "evt-1"]
    assert opened.sessions[0].corrections[0].reason == "held by video"
    assert opened.sessions[0].corrections[0].by == "sup-1"
    assert opened.practice_weeks[0].correction == "held by video (quoted)"
    assert opened.practice_weeks[0].direct_minutes == 840


async def test_an_erased_subjects_values_answer_erased_and_the_rest_stays() -> None:
    # given
    keys = memory_keyring()
    sealed = await seal_field(keys, "see-1", "LPC-A 81234")
    other = await seal_field(keys, "see-2", "LPC-B 1")
    await keys.destroy("see-1", "consent_revoked")
    response = pb.GetSuperviseeRecordResponse(
        registration=pb.SuperviseeRegistration(license_number=sealed, credential_track="TX"),
        practice_weeks=[pb.PracticeWeek(correction=other)],
    )
    # when
    opened = await ResponseOpener(keys)(response)
    # then
    assert opened.registration.license_number == "[erased]"
    assert opened.registration.credential_track == "TX"
    assert opened.practice_weeks[0].correction == "LPC-B 1"
