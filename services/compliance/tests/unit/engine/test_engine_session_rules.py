"""Stage one: each session judged on its own date. A void takes the whole session out of what
counts before any window is tallied; a finding leaves it counted."""

from __future__ import annotations

import pytest

from services.compliance.tests.unit.engine.given import (
    D,
    Supervisee,
    at,
    counted,
    credentials,
    designated,
    evaluate,
    licensed,
    outcomes,
    rule,
    verdicts,
    version,
)

pytestmark = pytest.mark.unit


def test_oh3_a_phone_session_is_void_and_a_video_session_counts() -> None:
    # Given Ohio's rule that supervision by telephone does not count (OH3)
    ohio = version(rule("modality_not_countable", "oh-no-phone", modality="phone", src="OH3"))
    supervisee = (
        Supervisee(track="OH-LPC-TO-LPCC")
        .agreement()
        .session("2026-03-03", 60, modality="phone")
        .session("2026-03-05", 60, modality="video")
    )

    # When judged
    evaluation = evaluate(supervisee, ohio, "2026-03-31")

    # Then the phone session is void, with the board's source, and the video session counts
    (void,) = verdicts(evaluation, "oh-no-phone")
    assert (void.severity, void.session_id, void.src) == ("void", "s1", ("OH3",))
    assert void.not_counted.supervision_minutes == 60
    assert void.reason == "individual supervision by phone on 2026-03-03 does not count (OH3)"
    assert counted(evaluation) == {"s1": 0, "s2": 60}
    assert evaluation.verdict(void.verdict_id).evidence_event_ids == ("evt-s1",)


def test_fl2_group_supervision_by_video_is_void_individual_by_video_counts() -> None:
    # Given Florida's rule that group supervision counts only in person (FL1/FL2)
    florida = version(
        rule("group_modality_required", "fl-group-in-person", modality="in_person", src="FL2")
    )
    supervisee = (
        Supervisee(track="FL-RMHCI")
        .agreement()
        .session("2026-03-03", 120, format="group", modality="video")
        .session("2026-03-10", 120, format="group", modality="in_person")
        .session("2026-03-12", 60, format="individual", modality="video")
    )

    evaluation = evaluate(supervisee, florida, "2026-03-31")

    (void,) = verdicts(evaluation, "fl-group-in-person")
    assert void.session_id == "s1" and void.not_counted.supervision_minutes == 120
    assert counted(evaluation) == {"s1": 0, "s2": 120, "s3": 60}


def test_triadic_supervision_by_video_is_group_where_the_pack_counts_it_as_group() -> None:
    florida = version(
        rule("group_modality_required", "fl-group-in-person", modality="in_person", src="FL2"),
        triadic_counts_as="group",
    )
    supervisee = Supervisee(track="FL-RMHCI").agreement()
    supervisee.session("2026-03-03", 60, format="triadic", modality="video")

    evaluation = evaluate(supervisee, florida, "2026-03-31")

    assert counted(evaluation) == {"s1": 0}


# --- the supervisor qualified on the session's date ----------------------------------------

QUALIFIED = rule("supervisor_qualified", "tx-supervisor", license_kinds=("LPC",), src="TX3")


def test_a_session_under_a_suspended_license_is_void_one_before_the_suspension_counts() -> None:
    # Given a supervisor whose LPC was suspended on March 10
    held = credentials(licensed(changes=[("suspended", "2026-03-10")]))
    supervisee = Supervisee().agreement().session("2026-03-05").session("2026-03-12")

    evaluation = evaluate(supervisee, version(QUALIFIED), "2026-03-31", held)

    (void,) = verdicts(evaluation, "tx-supervisor")
    assert void.session_id == "s2" and void.on == D("2026-03-12")
    assert "suspended" in void.reason and "sup-1" in void.reason
    assert "evt-lic-sup-1-LPC-suspended-2026-03-10" in void.evidence_event_ids
    assert counted(evaluation) == {"s1": 60, "s2": 0}


def test_a_license_of_another_kind_or_state_does_not_qualify() -> None:
    held = credentials(licensed(kind="LMFT"), licensed(kind="LPC", state="OK"))
    supervisee = Supervisee().agreement().session("2026-03-05")

    evaluation = evaluate(supervisee, version(QUALIFIED), "2026-03-31", held)

    (void,) = verdicts(evaluation, "tx-supervisor")
    assert "no LPC license in good standing in TX" in void.reason


def test_tx3_the_lpc_s_designation_must_be_in_force_on_the_session_date() -> None:
    needs_lpc_s = rule(
        "supervisor_qualified",
        "tx-lpc-s",
        license_kinds=("LPC",),
        designations=("LPC-S",),
        src="TX3",
    )
    held = credentials(licensed(), designated(granted="2026-03-10"))
    supervisee = Supervisee().agreement().session("2026-03-05").session("2026-03-12")

    evaluation = evaluate(supervisee, version(needs_lpc_s), "2026-03-31", held)

    (void,) = verdicts(evaluation, "tx-lpc-s")
    assert void.session_id == "s1" and "no LPC-S designation in force" in void.reason
    assert counted(evaluation) == {"s1": 0, "s2": 60}


def test_a_designation_whose_base_license_is_not_active_does_not_qualify() -> None:
    # Given an LPC-S resting on an LPC that was suspended, while another license stays active
    any_license = rule("supervisor_qualified", "tx-lpc-s", designations=("LPC-S",), src="TX3")
    held = credentials(
        licensed(changes=[("suspended", "2026-03-01")]), licensed(kind="LMFT"), designated()
    )
    supervisee = Supervisee().agreement().session("2026-03-05")

    evaluation = evaluate(supervisee, version(any_license), "2026-03-31", held)

    (void,) = verdicts(evaluation, "tx-lpc-s")
    assert "designation's base license was not active" in void.reason


def test_tx4_a_supervisor_licensed_less_than_five_years_is_not_qualified() -> None:
    five_years = rule(
        "supervisor_qualified",
        "tx-five-years",
        license_kinds=("LPC",),
        min_years_licensed=5,
        src="TX4",
        confidence="secondary",
    )
    held = credentials(licensed(issued="2021-06-01"))
    supervisee = Supervisee().agreement().session("2026-05-29").session("2026-06-01")

    evaluation = evaluate(supervisee, version(five_years), "2026-06-30", held)

    (void,) = verdicts(evaluation, "tx-five-years")
    assert void.session_id == "s1" and "licensed since 2021-06-01" in void.reason
    assert counted(evaluation) == {"s1": 0, "s2": 60}


def test_fl5_the_boards_approval_of_the_supervisor_is_a_designation_in_force() -> None:
    approved_supervisor = rule(
        "supervisor_qualified", "fl-qualified-supervisor", board_approval=True, src="FL3"
    )
    supervisee = Supervisee(track="FL-RMHCI").agreement().session("2026-03-05")
    florida = credentials(licensed(kind="LMHC", state="FL"))

    evaluation = evaluate(supervisee, version(approved_supervisor), "2026-03-31", florida)

    (void,) = verdicts(evaluation, "fl-qualified-supervisor")
    assert "the board's approval of the supervisor" in void.reason


# --- board approval before hours count -----------------------------------------------------

APPROVAL = rule("board_approval_before_hours_count", "fl-approval", src="FL5")


def test_fl5_no_hour_counts_before_the_board_approved_the_agreement() -> None:
    supervisee = (
        Supervisee(track="FL-RMHCI")
        .agreement(approval_required=True, approved_on="2026-03-15")
        .session("2026-03-10")
        .session("2026-03-20")
        .session("2026-03-25", site="site-elsewhere")
    )

    evaluation = evaluate(supervisee, version(APPROVAL), "2026-03-31")

    by_session = {v.session_id: v for v in verdicts(evaluation, "fl-approval")}
    assert set(by_session) == {"s1", "s3"}
    assert "not approved by the board by 2026-03-10" in by_session["s1"].reason
    assert "(approved on 2026-03-15)" in by_session["s1"].reason
    assert "no agreement" in by_session["s3"].reason
    assert counted(evaluation) == {"s1": 0, "s2": 60, "s3": 0}
    # The pack's rule judges it: the record's own exclusion gives way to the board's source.
    assert {s.session_id: s.excluded for s in evaluation.sessions} == dict.fromkeys(
        ("s1", "s2", "s3")
    )


def test_without_the_rule_an_agreement_awaiting_approval_still_excludes_its_sessions() -> None:
    supervisee = Supervisee().agreement(approval_required=True).session("2026-03-10")

    evaluation = evaluate(supervisee, version(), "2026-03-31")

    (session,) = evaluation.sessions
    assert (session.excluded, session.counted_minutes) == ("board_approval_missing", 0)
    assert evaluation.verdicts == ()


# --- the contemporaneous record -------------------------------------------------------------


def test_a_session_recorded_long_after_it_was_held_is_a_finding_with_the_delay() -> None:
    contemporaneous = rule(
        "contemporaneous_record", "record-in-time", within_days=7, severity="finding"
    )
    supervisee = (
        Supervisee()
        .agreement()
        .session("2026-03-02", recorded="2026-03-20")
        .session("2026-03-09", recorded=at("2026-03-16", 23))
    )

    evaluation = evaluate(supervisee, version(contemporaneous), "2026-03-31")

    (finding,) = verdicts(evaluation, "record-in-time")
    assert finding.severity == "finding" and finding.session_id == "s1"
    assert "18 days after it was held" in finding.reason
    assert finding.not_counted.nothing
    assert counted(evaluation) == {"s1": 60, "s2": 60}
    (outcome,) = outcomes(evaluation, "record-in-time")
    assert (outcome.status, outcome.verdict_ids) == ("violated", (finding.verdict_id,))


def test_an_unconfirmed_rule_is_not_evaluated_rather_than_guessed() -> None:
    unconfirmed = rule(
        "supervisor_qualified",
        "ny-qualified",
        src=(),
        confidence="unconfirmed",
        note="the board's details are not known",
    )
    held = credentials(licensed(changes=[("suspended", "2026-01-01")]))
    supervisee = Supervisee(track="NY-LMHC-LIMITED-PERMIT").agreement().session("2026-03-05")

    evaluation = evaluate(supervisee, version(unconfirmed), "2026-03-31", held)

    assert evaluation.verdicts == ()
    (outcome,) = outcomes(evaluation, "ny-qualified")
    assert outcome.status == "not_evaluated"
    assert outcome.reason == "not evaluated (unconfirmed): the board's details are not known"
    assert counted(evaluation) == {"s1": 60}
