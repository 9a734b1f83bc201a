"""End to end: a compliance officer resolves a finding and records an approved leave through the
real gRPC API; each travels as an event through the outbox and the compliance topic back into
the read model, and the supervisee's standing then shows it, with who and from when.

The supervisee's facts are published to the topics as their producers would (see
test_compliance_standing); ids are unique per test, the stack is shared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest

from continuum.compliance.v1 import compliance_service_pb2 as standing_pb
from continuum.compliance.v1 import oversight_service_pb2 as pb
from contracts import events as ev
from infra.devstack import Stack
from tests.e2e.support import Stubs, acting_as, eventually, invalid_field, unique
from tests.e2e.test_compliance_standing import (
    MONTHLY_MINIMUM,
    associate_in_march,
    qualified_supervisor,
    standing,
)
from tests.e2e.test_compliance_views import at, publish, recorded

pytestmark = pytest.mark.e2e

D = dt.date.fromisoformat
OFFICER = "officer-e2e"


def as_officer(actor: str = OFFICER) -> tuple[tuple[str, str], ...]:
    return acting_as(actor)


def resolve(stubs: Stubs, actor: str = OFFICER, **fields: Any) -> pb.ResolveVerdictResponse:
    return stubs.oversight.ResolveVerdict(  # type: ignore[no-any-return]
        pb.ResolveVerdictRequest(**fields), metadata=as_officer(actor), timeout=10
    )


def record_leave(stubs: Stubs, **fields: Any) -> pb.RecordApprovedLeaveResponse:
    return stubs.oversight.RecordApprovedLeave(  # type: ignore[no-any-return]
        pb.RecordApprovedLeaveRequest(**fields), metadata=as_officer(), timeout=10
    )


def refused(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


def monthly(view: standing_pb.GetSuperviseeStandingResponse, month: str) -> list[Any]:
    return [
        v
        for v in view.verdicts
        if v.rule_id == MONTHLY_MINIMUM and v.window.start == f"2026-{month}-01"
    ]


def practising_in_may(supervisee: str, site: str) -> list[Any]:
    return [
        recorded(
            ev.PracticeHoursRecorded(
                supervisee_id=supervisee,
                site_id=site,
                week_start=monday,
                direct_minutes=900,
                indirect_minutes=120,
            ),
            at((monday + dt.timedelta(days=6)).isoformat()),
        )
        for monday in (D("2026-05-04"), D("2026-05-11"), D("2026-05-18"), D("2026-05-25"))
    ]


def test_an_officer_resolves_a_finding_and_the_standing_shows_who_and_from_when(
    stack: Stack, stubs: Stubs
) -> None:
    see, supervisor, site = unique("see"), unique("sup"), unique("site")
    publish(
        stack, *qualified_supervisor(supervisor), *associate_in_march(see, supervisor, site, 210)
    )
    before = eventually(
        lambda: standing(stubs, see, "2026-04-30"), lambda v: bool(monthly(v, "03"))
    )
    (finding,) = monthly(before, "03")
    assert finding.verdict_id in {r.verdict_id for r in before.status.reasons}
    command_id = unique("resolve")
    request = {
        "command_id": command_id,
        "supervisee_id": see,
        "verdict_id": finding.verdict_id,
        "kind": "documented_exception",
        "reason": "the supervisor's written approval of a reduced March is on file",
        "on": "2026-04-15",
    }

    first = resolve(stubs, **request)
    retry = resolve(stubs, **request)

    assert (first.verdict_id, first.already_recorded) == (finding.verdict_id, False)
    assert (retry.resolution_id, retry.already_recorded) == (first.resolution_id, True)
    after = eventually(
        lambda: standing(stubs, see, "2026-04-30"),
        lambda v: all(f.HasField("resolution") for f in monthly(v, "03")),
    )
    (resolved,) = monthly(after, "03")
    assert (resolved.resolution.by, resolved.resolution.on, resolved.resolution.kind) == (
        OFFICER,
        "2026-04-15",
        "documented_exception",
    )
    assert resolved.resolution.reason == request["reason"]
    assert finding.verdict_id not in {r.verdict_id for r in after.status.reasons}
    # The resolution stands from its own day.
    (earlier,) = monthly(standing(stubs, see, "2026-04-14"), "03")
    assert not earlier.HasField("resolution")

    reused = refused(lambda: resolve(stubs, **(request | {"kind": "waiver"})))
    again = refused(lambda: resolve(stubs, **(request | {"command_id": unique("resolve")})))
    unknown = refused(
        lambda: resolve(
            stubs, **(request | {"command_id": unique("resolve"), "verdict_id": unique("v")})
        )
    )
    assert reused.code() == grpc.StatusCode.ALREADY_EXISTS
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"already resolved by {OFFICER} on 2026-04-15" in str(again.details())
    assert unknown.code() == grpc.StatusCode.NOT_FOUND


def test_an_approved_leave_suspends_the_monthly_minimum_for_its_month(
    stack: Stack, stubs: Stubs
) -> None:
    see, supervisor, site = unique("see"), unique("sup"), unique("site")
    publish(
        stack,
        *qualified_supervisor(supervisor),
        *associate_in_march(see, supervisor, site, 240),
        *practising_in_may(see, site),
    )
    eventually(lambda: standing(stubs, see, "2026-06-05"), lambda v: bool(monthly(v, "05")))
    request = {
        "command_id": unique("leave"),
        "supervisee_id": see,
        "start": "2026-05-01",
        "end": "2026-05-31",
        "approved_by": supervisor,
        "reason": "extended leave approved in writing (TX1)",
    }

    first = record_leave(stubs, **request)
    retry = record_leave(stubs, **request)

    assert not first.already_recorded and first.leave_id
    assert (retry.leave_id, retry.already_recorded) == (first.leave_id, True)
    after = eventually(lambda: standing(stubs, see, "2026-06-05"), lambda v: not monthly(v, "05"))
    may = [
        o for o in after.outcomes if o.rule_id == MONTHLY_MINIMUM and o.window.start == "2026-05-01"
    ]
    assert [o.status for o in may] == ["not_applicable"]
    overlapping = refused(
        lambda: record_leave(
            stubs, **(request | {"command_id": unique("leave"), "start": "2026-05-31"})
        )
    )
    assert overlapping.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert first.leave_id in str(overlapping.details())


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"command_id": ""}, "command_id"),
        ({"kind": "pardon"}, "kind"),
        ({"reason": " "}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"on": "2026-02-30"}, "on"),
        ({"verdict_id": ""}, "verdict_id"),
    ],
)
def test_a_malformed_resolution_is_refused_naming_its_field(
    stubs: Stubs, fields: dict[str, str], field: str
) -> None:
    request = {
        "command_id": unique("resolve"),
        "supervisee_id": unique("see"),
        "verdict_id": "6b0e3f5c-0d1e-5a2b-9c3d-4e5f60718293",
        "kind": "waiver",
        "reason": "waived by the board",
    }

    assert invalid_field(refused(lambda: resolve(stubs, **(request | fields)))) == field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"start": ""}, "start"),
        ({"end": "2026-04-30"}, "end"),
        ({"end": "2028-06-01"}, "end"),
        ({"approved_by": ""}, "approved_by"),
        ({"reason": ""}, "reason"),
    ],
)
def test_a_malformed_leave_is_refused_naming_its_field(
    stubs: Stubs, fields: dict[str, str], field: str
) -> None:
    request = {
        "command_id": unique("leave"),
        "supervisee_id": unique("see"),
        "start": "2026-05-01",
        "end": "2026-05-31",
        "approved_by": "sup-1",
        "reason": "medical leave",
    }

    assert invalid_field(refused(lambda: record_leave(stubs, **(request | fields)))) == field


def test_the_officer_is_named_by_a_staff_id(stubs: Stubs) -> None:
    error = refused(
        lambda: resolve(
            stubs,
            actor="an officer",
            command_id=unique("resolve"),
            supervisee_id=unique("see"),
            verdict_id="6b0e3f5c-0d1e-5a2b-9c3d-4e5f60718293",
            kind="waiver",
            reason="waived by the board",
        )
    )

    # The officer is the token's subject: a token naming someone by anything but a staff id is
    # refused before any command is decided.
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "the token's subject (sub) must be 1 to 64 characters" in str(error.details())
