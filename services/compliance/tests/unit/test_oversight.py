"""What compliance officers record of a supervisee: given the supervisee's oversight stream,
when a command, then events or the named error. A resolution is decided on the verdicts the
supervisee's evaluation shows on its day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.domain.oversight import decisions as oversight
from compliance.domain.oversight.commands import (
    LONGEST_LEAVE_DAYS,
    RecordApprovedLeave,
    ResolveVerdict,
)
from compliance.domain.oversight.decisions import OversightState, ShownVerdicts, decide
from compliance.domain.oversight.errors import (
    DateMustBeWithinTheRecord,
    LeaveIdMustNotBeReused,
    LeaveMustEndOnOrAfterItStarts,
    LeaveMustNotExceedTheLongestLeave,
    LeavesMustNotOverlap,
    ReasonMustBeWritten,
    ResolutionIdMustNotBeReused,
    ResolutionMustNotBeInTheFuture,
    VerdictMustBeResolvedOnce,
    VerdictMustBeShownForTheSupervisee,
)
from compliance.domain.oversight.events import LeaveApproved, VerdictResolved
from infra.ddd import AlreadyRecorded, DomainEvent, InvalidInput, NotFound, RuleViolated

pytestmark = pytest.mark.unit

D = dt.date.fromisoformat
TODAY = D("2026-05-04")
SEE = "see-1"
FINDING = "6b0e3f5c-0d1e-5a2b-9c3d-4e5f60718293"
OTHER_FINDING = "7c1f4a6d-1e2f-5b3c-8d4e-5f6071829304"


def resolve(**overrides: Any) -> ResolveVerdict:
    fields: dict[str, Any] = {
        "command_id": "cmd-1",
        "supervisee_id": SEE,
        "verdict_id": FINDING,
        "kind": "documented_exception",
        "reason": "extended leave approved in writing by the supervisor (TX1)",
        "resolved_by": "officer-1",
        "on": "2026-04-15",
    }
    return ResolveVerdict(**(fields | overrides))


def resolved(**overrides: Any) -> VerdictResolved:
    command = resolve(**overrides)
    return VerdictResolved(
        supervisee_id=command.supervisee_id,
        resolution_id=oversight.resolution_id_of(command.command_id),
        verdict_id=command.verdict_id,
        kind=command.kind,
        reason=command.reason,
        resolved_by=command.resolved_by,
        on=oversight.resolution_day(command, TODAY),
    )


def leave(**overrides: Any) -> RecordApprovedLeave:
    fields: dict[str, Any] = {
        "command_id": "cmd-leave-1",
        "supervisee_id": SEE,
        "start": "2026-05-01",
        "end": "2026-06-30",
        "approved_by": "sup-1",
        "reason": "medical leave, approved in writing",
        "recorded_by": "officer-1",
    }
    return RecordApprovedLeave(**(fields | overrides))


def approved(**overrides: Any) -> LeaveApproved:
    command = leave(**overrides)
    return LeaveApproved(
        supervisee_id=command.supervisee_id,
        leave_id=oversight.leave_id_of(command.command_id),
        start=command.start,
        end=command.end,
        approved_by=command.approved_by,
        reason=command.reason,
        recorded_by=command.recorded_by,
    )


def given(*events: DomainEvent) -> OversightState:
    return oversight.fold(events)


def shown(*verdict_ids: str, on: str = "2026-04-15", lacking: int = 0) -> ShownVerdicts:
    return ShownVerdicts(on=D(on), verdict_ids=frozenset(verdict_ids), lacking=lacking)


def invalid(field: str, make: Any, **overrides: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        make(**overrides)
    assert refused.value.field == field, refused.value
    return refused.value


# Resolving a verdict.


def test_a_verdict_shown_on_the_day_is_resolved_by_the_officer_from_that_day() -> None:
    events = decide(given(), resolve(), TODAY, shown(FINDING, OTHER_FINDING))

    assert events == [resolved()]
    (resolution,) = oversight.fold(events).resolutions
    assert (resolution.verdict_id, resolution.resolved_by, resolution.on) == (
        FINDING,
        "officer-1",
        D("2026-04-15"),
    )


def test_a_resolution_without_a_day_stands_from_today() -> None:
    command = resolve(on=None)

    (event,) = decide(given(), command, TODAY, shown(FINDING, on=TODAY.isoformat()))

    assert isinstance(event, VerdictResolved) and event.on == TODAY


def test_the_resolution_id_is_derived_from_the_command_id() -> None:
    first = decide(given(), resolve(), TODAY, shown(FINDING))
    again = decide(given(), resolve(), TODAY, shown(FINDING))
    other = decide(given(), resolve(command_id="cmd-2"), TODAY, shown(FINDING))

    assert first == again
    assert isinstance(first[0], VerdictResolved) and isinstance(other[0], VerdictResolved)
    assert first[0].resolution_id != other[0].resolution_id


def test_a_verdict_the_evaluation_does_not_show_is_not_found_by_its_id() -> None:
    with pytest.raises(VerdictMustBeShownForTheSupervisee) as refused:
        decide(given(), resolve(), TODAY, shown(OTHER_FINDING))

    assert isinstance(refused.value, NotFound)
    assert refused.value.message == (f"supervisee {SEE} has no verdict {FINDING} on 2026-04-15")


def test_a_verdict_not_found_in_an_incomplete_evaluation_says_what_it_lacks() -> None:
    with pytest.raises(VerdictMustBeShownForTheSupervisee) as refused:
        decide(given(), resolve(), TODAY, shown(lacking=2))

    assert "lacks 2 events compliance could not apply" in refused.value.message


def test_a_verdict_is_resolved_once_and_the_refusal_names_who_resolved_it_and_when() -> None:
    state = given(resolved(resolved_by="officer-2", on="2026-04-10"))

    with pytest.raises(VerdictMustBeResolvedOnce) as refused:
        decide(state, resolve(command_id="cmd-2"), TODAY, shown(FINDING))

    assert isinstance(refused.value, RuleViolated)
    assert (refused.value.resolved_by, refused.value.on) == ("officer-2", D("2026-04-10"))
    assert "already resolved by officer-2 on 2026-04-10" in refused.value.message


def test_another_verdict_of_the_supervisee_is_resolved_beside_the_first() -> None:
    state = given(resolved())

    events = decide(
        state, resolve(command_id="cmd-2", verdict_id=OTHER_FINDING), TODAY, shown(OTHER_FINDING)
    )

    assert events == [resolved(command_id="cmd-2", verdict_id=OTHER_FINDING)]


def test_the_same_resolution_again_records_nothing() -> None:
    assert decide(given(resolved()), resolve(), TODAY, shown(FINDING)) == []


def test_the_resolution_id_with_other_content_is_refused_as_already_recorded() -> None:
    with pytest.raises(ResolutionIdMustNotBeReused) as refused:
        decide(given(resolved()), resolve(kind="waiver"), TODAY, shown(FINDING))

    assert isinstance(refused.value, AlreadyRecorded)


def test_a_resolution_is_not_made_on_a_day_to_come() -> None:
    with pytest.raises(ResolutionMustNotBeInTheFuture) as refused:
        decide(given(), resolve(on="2026-05-05"), TODAY, shown(FINDING, on="2026-05-05"))

    assert refused.value.field == "on"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"kind": "pardon"}, "kind"),
        ({"verdict_id": ""}, "verdict_id"),
        ({"command_id": ""}, "command_id"),
        ({"supervisee_id": "see 1"}, "supervisee_id"),
        ({"resolved_by": ""}, "resolved_by"),
        ({"on": "1999-12-31"}, "on"),
    ],
)
def test_a_malformed_resolution_names_its_field(overrides: dict[str, Any], field: str) -> None:
    invalid(field, resolve, **overrides)


def test_a_reason_is_kept_as_written_without_surrounding_blanks() -> None:
    assert resolve(reason="  waived by the board, letter 26-3 \n").reason == (
        "waived by the board, letter 26-3"
    )
    assert len(resolve(reason="x" * 2000).reason) == 2000
    with pytest.raises(ReasonMustBeWritten):
        resolve(reason="")


# Recording an approved leave.


def test_an_approved_leave_is_recorded_with_who_approved_it_and_who_recorded_it() -> None:
    events = decide(given(), leave(), TODAY)

    assert events == [approved()]
    (recorded,) = oversight.fold(events).leaves
    assert (recorded.start, recorded.end, recorded.approved_by, recorded.recorded_by) == (
        D("2026-05-01"),
        D("2026-06-30"),
        "sup-1",
        "officer-1",
    )


def test_a_leave_of_one_day_or_planned_ahead_is_recorded() -> None:
    one_day = leave(start="2026-05-04", end="2026-05-04")
    ahead = leave(start="2026-09-01", end="2026-09-30")

    assert decide(given(), one_day, TODAY) == [approved(start="2026-05-04", end="2026-05-04")]
    assert decide(given(), ahead, TODAY) == [approved(start="2026-09-01", end="2026-09-30")]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-04-01", "2026-05-01"),  # ends on its first day
        ("2026-06-30", "2026-07-15"),  # starts on its last day
        ("2026-05-10", "2026-05-20"),  # inside it
        ("2026-01-01", "2026-12-31"),  # around it
    ],
)
def test_a_leave_overlapping_a_recorded_one_is_refused_naming_it(start: str, end: str) -> None:
    state = given(approved())

    with pytest.raises(LeavesMustNotOverlap) as refused:
        decide(state, leave(command_id="cmd-leave-2", start=start, end=end), TODAY)

    assert refused.value.leave_id == oversight.leave_id_of("cmd-leave-1")
    assert "from 2026-05-01 to 2026-06-30" in refused.value.message


def test_leaves_next_to_each_other_are_both_recorded() -> None:
    state = given(approved())

    before = {"command_id": "c-2", "start": "2026-04-01", "end": "2026-04-30"}
    after = {"command_id": "c-3", "start": "2026-07-01", "end": "2026-07-31"}

    assert decide(state, leave(**before), TODAY) == [approved(**before)]
    assert decide(state, leave(**after), TODAY) == [approved(**after)]


def test_the_same_leave_again_records_nothing_and_its_id_with_other_content_is_refused() -> None:
    state = given(approved())

    assert decide(state, leave(), TODAY) == []
    with pytest.raises(LeaveIdMustNotBeReused):
        decide(state, leave(end="2026-07-31"), TODAY)


def test_a_leave_ending_before_it_starts_is_refused_on_its_end() -> None:
    error = invalid("end", leave, start="2026-05-10", end="2026-05-09")

    assert isinstance(error, LeaveMustEndOnOrAfterItStarts)


def test_a_leave_is_at_most_two_years_and_a_day() -> None:
    start = D("2026-01-01")
    longest = start + dt.timedelta(days=LONGEST_LEAVE_DAYS - 1)

    assert leave(start=start, end=longest).end == longest
    error = invalid("end", leave, start=start, end=longest + dt.timedelta(days=1))
    assert isinstance(error, LeaveMustNotExceedTheLongestLeave)
    assert error.days == LONGEST_LEAVE_DAYS + 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start": "1999-12-31"}, "start"),
        ({"end": "2100-01-01", "start": "2099-06-01"}, "end"),
        ({"approved_by": ""}, "approved_by"),
        ({"approved_by": "the supervisor"}, "approved_by"),
        ({"reason": ""}, "reason"),
        ({"recorded_by": "x" * 65}, "recorded_by"),
    ],
)
def test_a_malformed_leave_names_its_field(overrides: dict[str, Any], field: str) -> None:
    invalid(field, leave, **overrides)


def test_a_date_outside_the_record_is_named_with_its_bounds() -> None:
    error = invalid("start", leave, start="1999-12-31")

    assert isinstance(error, DateMustBeWithinTheRecord)
    assert error.reason == "1999-12-31 is outside 2000-01-01..2099-12-31"


# The stream.


def test_leaves_and_resolutions_share_the_supervisees_stream() -> None:
    state = given(approved(), resolved())

    assert state.supervisee_id == SEE
    assert [lv.leave_id for lv in state.leaves] == [oversight.leave_id_of("cmd-leave-1")]
    assert [r.verdict_id for r in state.resolutions] == [FINDING]


def test_another_supervisees_command_is_not_decided_on_this_stream() -> None:
    with pytest.raises(ValueError, match="decided on see-1's stream"):
        decide(given(approved()), leave(supervisee_id="see-2", command_id="c-9"), TODAY)
