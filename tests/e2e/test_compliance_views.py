"""End to end: the compliance views over a real socket, fed by contract events on Kafka.

The producers publish these events through their outboxes; here they are published to the
topics directly (as the producers would, CloudEvents in binary mode), so each view is tested
against the agreed contracts. Ids are unique per test: the stack is shared.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from typing import Any

import grpc
import pytest

from continuum.compliance.v1 import compliance_service_pb2 as pb
from contracts import events as ev
from infra.devstack import Stack
from infra.eventstore import OutboxMessage
from tests.e2e.support import Stubs, as_published, eventually, invalid_field, publish, unique

pytestmark = pytest.mark.e2e

D = dt.date.fromisoformat
SITE = "site-austin"


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), tzinfo=dt.UTC)


def recorded(
    event: ev.EventContract, when: dt.datetime, *, ce_type: str | None = None
) -> OutboxMessage:
    """An event as its producer's outbox would publish it, recorded at `when`."""
    message = as_published(
        event, subject=event.key(), occurred_at=when, correlation_id="e2e-compliance-views"
    )
    return dataclasses.replace(message, ce_type=ce_type or event.ce_type())


def session(
    session_id: str, supervisee: str, day: str, minutes: int, **extra: Any
) -> ev.SessionLogged:
    fields: dict[str, Any] = {
        "session_id": session_id,
        "kind": "clinical",
        "format": "individual",
        "modality": "in_person",
        "date": D(day),
        "start_time": dt.time(9, 30),
        "minutes": minutes,
        "supervisor_id": "sup-views",
        "supervisee_ids": (supervisee,),
        "site_id": SITE,
        "techniques": ("case_review", "role_play"),
        "focus": ("intervention",),
    }
    return ev.SessionLogged(**(fields | extra))


def agreement(
    supervisee: str, agreement_id: str, *, needs_approval: bool = False
) -> ev.AgreementSigned:
    return ev.AgreementSigned(
        supervisee_id=supervisee,
        agreement_id=agreement_id,
        supervisor_id="sup-views",
        site_id=SITE,
        credential_track="FL-RMHCI" if needs_approval else "TX-LPC-ASSOCIATE",
        start_date=D("2026-01-01"),
        end_date=D("2027-12-31"),
        modalities=("in_person", "video"),
        sessions_per_period=1,
        period="week",
        board_approval_required=needs_approval,
    )


def florida_qualified_supervisor() -> list[OutboxMessage]:
    return [
        recorded(
            ev.LicenseRecorded(
                holder_id="sup-views",
                license_id=unique("lic"),
                kind="LMHC",
                number=unique("MH"),
                state="FL",
                issued_on=D("2015-01-01"),
                expires_on=D("2030-12-31"),
            ),
            at("2015-01-02"),
        ),
        recorded(
            ev.SupervisorDesignationRecorded(
                holder_id="sup-views",
                designation_id=unique("des"),
                designation="QUALIFIED-SUPERVISOR",
                state="FL",
                granted_on=D("2016-01-01"),
                expires_on=None,
                training_hours=0,
                training_completed_on=D("2015-12-01"),
            ),
            at("2016-01-02"),
        ),
    ]


def hours(
    stubs: Stubs, supervisee: str, as_of: str = "", known_at: str = ""
) -> pb.GetSuperviseeHoursResponse:
    return stubs.compliance.GetSuperviseeHours(  # type: ignore[no-any-return]
        pb.GetSuperviseeHoursRequest(supervisee_id=supervisee, as_of=as_of, known_at=known_at),
        timeout=10,
    )


def test_supervisee_hours_count_what_counts_and_say_why_the_rest_does_not(
    stack: Stack, stubs: Stubs
) -> None:
    see = unique("see")
    ids = {name: unique(name) for name in ("early", "adm", "v1", "amended", "voided", "lapsed")}
    signed = recorded(agreement(see, unique("agr"), needs_approval=True), at("2026-01-01"))
    approved = recorded(
        ev.AgreementApproved(
            supervisee_id=see,
            agreement_id=signed.data["agreement_id"],
            approved_on=D("2026-02-01"),
            approval_reference="FL-2026-0042",
        ),
        at("2026-02-01"),
    )
    v1 = ev.SessionLoggedV1(
        session_id=ids["v1"],
        format="individual",
        modality="video",
        date=D("2026-03-03"),
        minutes=50,
        supervisor_id="sup-views",
        supervisee_ids=(see,),
        site_id=SITE,
    )
    amended = session(ids["amended"], see, "2026-03-10", 60)
    amendment = ev.SessionAmended(
        **amended.model_dump(exclude={"supervisor_id", "site_id", "minutes"}),
        minutes=90,
        reason="minutes mistyped",
        amended_by="sup-views",
    )
    twice = recorded(session(ids["lapsed"], see, "2026-03-24", 45), at("2026-03-24"))
    publish(
        stack,
        # The Florida board counts hours under a Qualified Supervisor with an active license (FL3).
        *florida_qualified_supervisor(),
        signed,
        approved,
        recorded(session(ids["early"], see, "2026-01-20", 60), at("2026-01-20")),
        recorded(
            session(ids["adm"], see, "2026-03-02", 30, kind="administrative"), at("2026-03-02")
        ),
        recorded(v1, at("2026-03-03"), ce_type=ev.SessionLoggedV1.ce_type()),
        recorded(amended, at("2026-03-10")),
        recorded(amendment, at("2026-04-10")),
        recorded(session(ids["voided"], see, "2026-03-17", 60), at("2026-03-17")),
        recorded(
            ev.SessionVoided(
                session_id=ids["voided"],
                supervisee_ids=(see,),
                date=D("2026-03-17"),
                reason="logged twice",
                voided_by="sup-views",
            ),
            at("2026-04-12"),
        ),
        twice,
        twice,  # delivered twice: counted once
        recorded(
            ev.SupervisorLapseMarked(
                session_id=ids["lapsed"],
                supervisor_id="sup-views",
                date=D("2026-03-24"),
                license_id="lic-views",
                lapse="suspended",
                lapsed_since=D("2026-03-20"),
            ),
            at("2026-04-02"),  # found after the session was logged
        ),
        # A consultation logged by the supervisee: never supervision, never in the hours.
        recorded(
            ev.ConsultationLogged(
                consultation_id=unique("con"),
                clinician_id=see,
                consultant_id="peer-1",
                consultant_kind="peer",
                site_id=SITE,
                date=D("2026-03-05"),
                minutes=120,
            ),
            at("2026-03-05"),
        ),
    )

    view = eventually(
        lambda: hours(stubs, see, "2026-12-31"),
        lambda v: len(v.sessions) + len(v.excluded) == 6 and v.flagged_minutes > 0,
    )
    time.sleep(1)  # a duplicate would have arrived by now
    view = hours(stubs, see, "2026-12-31")

    # Counted: the v1 session (50), the amended one (90), the lapse-marked one (45, flagged).
    assert view.total_minutes == 50 + 90 + 45
    assert view.flagged_minutes == 45
    by = {(b.format, b.modality): b.minutes for b in view.by_format_and_modality}
    assert (by[("individual", "video")], by[("individual", "in_person")]) == (50, 135)
    assert {s.session_id: s.not_counted_reason for s in view.excluded} == {
        ids["early"]: "board_approval_missing",
        ids["adm"]: "administrative",
        ids["voided"]: "voided",
    }
    assert all(s.not_counted_detail for s in view.excluded)
    assert {r.reason: r.minutes for r in view.excluded_by_reason} == {
        "voided": 60,
        "administrative": 30,
        "board_approval_missing": 60,
        "board_rule": 0,
    }
    kinds = {k.kind: (k.counted_minutes, k.excluded_minutes) for k in view.by_kind}
    assert kinds == {"clinical": (185, 120), "administrative": (0, 30)}
    counted = {s.session_id: s for s in view.sessions}
    assert counted[ids["v1"]].kind == "clinical"
    assert counted[ids["lapsed"]].flagged_for_review
    assert counted[ids["amended"]].logged.minutes == 60
    assert counted[ids["amended"]].corrections[0].by == "sup-views"
    assert all(uuid.UUID(e) for s in view.sessions for e in s.source_event_ids)

    # March as reported on 1 April, before the amendment, the void and the lapse were recorded:
    # the record as it stood then, reproduced exactly.
    reported = hours(stubs, see, "2026-03-31", known_at="2026-04-01T00:00:00Z")
    assert reported.known_at == "2026-04-01T00:00:00+00:00"
    assert reported.total_minutes == 50 + 60 + 60 + 45
    assert {s.session_id for s in reported.excluded} == {ids["early"], ids["adm"]}
    assert not {s.session_id: s for s in reported.sessions}[ids["lapsed"]].flagged_for_review
    # March as known now: each correction and the lapse apply to the sessions' own dates.
    march = hours(stubs, see, "2026-03-31")
    assert march.total_minutes == 50 + 90 + 45
    assert {s.session_id for s in march.excluded} == {ids["early"], ids["adm"], ids["voided"]}
    assert {s.session_id: s for s in march.sessions}[ids["lapsed"]].flagged_for_review
    assert not march.incomplete


def test_supervisee_hours_refuse_a_bad_id_or_date(stubs: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as no_id:
        hours(stubs, "")
    with pytest.raises(grpc.RpcError) as bad_date:
        hours(stubs, unique("see"), "2026-02-30")
    with pytest.raises(grpc.RpcError) as no_offset:
        hours(stubs, unique("see"), "2026-02-28", known_at="2026-03-01T09:00:00")

    assert invalid_field(no_id.value) == "supervisee_id"
    assert invalid_field(bad_date.value) == "as_of"
    assert invalid_field(no_offset.value) == "known_at"


def test_a_supervisee_compliance_never_heard_of_is_not_found(stack: Stack, stubs: Stubs) -> None:
    see = unique("see")
    with pytest.raises(grpc.RpcError) as hours_of_nobody:
        hours(stubs, unique("see"))
    with pytest.raises(grpc.RpcError) as record_of_nobody:
        stubs.compliance.GetSuperviseeRecord(
            pb.GetSuperviseeRecordRequest(supervisee_id=unique("see")), timeout=10
        )
    publish(stack, recorded(session(unique("ses"), see, "2026-03-02", 60), at("2026-03-02")))
    known = eventually(lambda: hours(stubs, see), lambda v: v.total_minutes == 60)

    assert hours_of_nobody.value.code() == grpc.StatusCode.NOT_FOUND
    assert record_of_nobody.value.code() == grpc.StatusCode.NOT_FOUND
    assert not known.incomplete
    # Before the session was recorded, compliance had not heard of them.
    with pytest.raises(grpc.RpcError) as not_yet:
        hours(stubs, see, known_at="2026-03-01T00:00:00Z")
    assert not_yet.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_void_compliance_cannot_apply_makes_the_view_say_so_naming_it(
    stack: Stack, stubs: Stubs
) -> None:
    see, session_id = unique("see"), unique("ses")
    void = ev.SessionVoided(
        session_id=session_id,
        supervisee_ids=(see,),
        date=D("2026-03-02"),
        reason="logged twice",
        voided_by="sup-views",
    )
    unreadable = recorded(void, at("2026-04-12"))
    del unreadable.data["voided_by"]  # a producer's bug: the void breaks its contract
    publish(
        stack, recorded(session(session_id, see, "2026-03-02", 60), at("2026-03-02")), unreadable
    )

    view = eventually(lambda: hours(stubs, see), lambda v: v.incomplete)

    (missing,) = view.unapplied_events
    assert (missing.event_id, missing.event_type) == (
        str(unreadable.event_id),
        ev.SessionVoided.ce_type(),
    )
    assert "voided_by" in missing.reason
    assert view.total_minutes == 60  # the void could not be applied: shown, and said so
    # The same event, readable after the producer's fix, replayed: the view is whole again.
    fixed = recorded(void, at("2026-04-12"))
    publish(stack, dataclasses.replace(fixed, event_id=unreadable.event_id))
    whole = eventually(lambda: hours(stubs, see), lambda v: not v.incomplete)
    assert whole.total_minutes == 0


def test_the_supervisee_record_shows_what_an_auditor_asks_to_see(
    stack: Stack, stubs: Stubs
) -> None:
    see, supervisor, agreement_id = unique("see"), "sup-views", unique("agr")
    session_id, evaluation_id, license_id = unique("ses"), unique("ev"), unique("lic")
    logged = session(session_id, see, "2026-02-03", 60)
    publish(
        stack,
        recorded(
            ev.SuperviseeRegistered(
                supervisee_id=see,
                credential_track="TX-LPC-ASSOCIATE",
                license_number="LPC-A 81234",
                home_site_id=SITE,
                registered_on=D("2026-01-02"),
            ),
            at("2026-01-02"),
        ),
        recorded(
            ev.SuperviseeTransferred(
                supervisee_id=see,
                from_site_id=SITE,
                to_site_id="site-sacramento",
                effective_on=D("2026-06-01"),
            ),
            at("2026-05-20"),
        ),
        recorded(agreement(see, agreement_id), at("2026-01-02")),
        recorded(
            ev.AgreementAmended(
                supervisee_id=see,
                agreement_id=agreement_id,
                end_date=D("2028-06-30"),
                modalities=("in_person",),
                sessions_per_period=2,
                period="month",
                reason="second year",
                amended_by=supervisor,
            ),
            at("2026-07-01"),
        ),
        recorded(logged, at("2026-02-03")),
        recorded(
            ev.SessionAmended(
                **logged.model_dump(exclude={"supervisor_id", "site_id", "modality"}),
                modality="video",
                reason="held by video",
                amended_by=supervisor,
            ),
            at("2026-02-05"),
        ),
        recorded(
            ev.PracticeHoursRecorded(
                supervisee_id=see,
                site_id=SITE,
                week_start=D("2026-02-02"),
                direct_minutes=900,
                indirect_minutes=240,
            ),
            at("2026-02-09"),
        ),
        recorded(
            ev.PracticeHoursRecorded(
                supervisee_id=see,
                site_id=SITE,
                week_start=D("2026-02-02"),
                direct_minutes=840,
                indirect_minutes=240,
                correction="a no-show was counted",
            ),
            at("2026-02-16"),
        ),
        recorded(
            ev.MonthSignedOff(
                supervisee_id=see,
                month="2026-02",
                supervisor_id=supervisor,
                signed_on=D("2026-03-02"),
            ),
            at("2026-03-02"),
        ),
        recorded(
            ev.CompetencyEvaluated(
                supervisee_id=see,
                evaluation_id=evaluation_id,
                supervisor_id=supervisor,
                framework="APA-BENCHMARKS",
                framework_version="2011",
                scale_min=1,
                scale_max=5,
                expected_min=3,
                trigger="quarterly",
                period_start=D("2026-01-01"),
                period_end=D("2026-03-31"),
                scores=(
                    ev.DomainScore(domain="professionalism", score=4),
                    ev.DomainScore(domain="relational", score=2),
                ),
                below_expectations=("relational",),
                remediation_required=True,
                evidence_session_ids=(session_id,),
                signed_on=D("2026-04-01"),
            ),
            at("2026-04-01"),
        ),
        recorded(
            ev.EvaluationAcknowledged(
                supervisee_id=see, evaluation_id=evaluation_id, acknowledged_on=D("2026-04-02")
            ),
            at("2026-04-02"),
        ),
        recorded(
            ev.LicenseRecorded(
                holder_id=supervisor,
                license_id=license_id,
                kind="LPC",
                number="LPC 4242",
                state="TX",
                issued_on=D("2018-01-01"),
                expires_on=D("2027-01-31"),
            ),
            at("2026-01-01"),
        ),
    )

    def record(as_of: str, known_at: str = "") -> pb.GetSuperviseeRecordResponse:
        return stubs.compliance.GetSuperviseeRecord(  # type: ignore[no-any-return]
            pb.GetSuperviseeRecordRequest(supervisee_id=see, as_of=as_of, known_at=known_at),
            timeout=10,
        )

    view = eventually(
        lambda: record("2026-12-31"),
        lambda v: (
            v.HasField("registration")
            and len(v.registration.transfers) == 1
            and len(v.agreements) == 1
            and len(v.agreements[0].amendments) == 1
            and len(v.sessions) == 1
            and len(v.sessions[0].corrections) == 1
            and any(c.id == license_id for c in v.sessions[0].supervisor_credentials)
            and len(v.practice_weeks) == 1
            and v.practice_weeks[0].direct_minutes == 840
            and len(v.months) == 1
            and len(v.evaluations) == 1
            and v.evaluations[0].acknowledged
        ),
    )

    assert view.registration.home_site_id == "site-sacramento"
    assert view.registration.license_number == "LPC-A 81234"
    (agr,) = view.agreements
    assert (agr.agreement_id, agr.status, agr.end_date, agr.period) == (
        agreement_id,
        "active",
        "2028-06-30",
        "month",
    )
    (ses,) = view.sessions
    assert (ses.modality, ses.logged.modality, ses.counts, ses.agreement_id) == (
        "video",
        "in_person",
        True,
        agreement_id,
    )
    assert ses.corrections[0].reason == "held by video"
    (lic,) = [c for c in ses.supervisor_credentials if c.id == license_id]
    assert (lic.number, lic.status) == ("LPC 4242", "active")
    (week,) = view.practice_weeks
    assert (week.correction, len(week.superseded_event_ids)) == ("a no-show was counted", 1)
    assert (view.practice_direct_minutes, view.practice_indirect_minutes) == (840, 240)
    (month,) = view.months
    assert (month.month, month.status, month.signed_by) == ("2026-02", "signed_off", supervisor)
    (evaluation,) = view.evaluations
    assert evaluation.remediation_required
    assert list(evaluation.below_expectations) == ["relational"]
    assert {s.domain: s.score for s in evaluation.scores} == {"professionalism": 4, "relational": 2}

    # As of 4 February, as reported then: registered at the first site, the session as first
    # logged, nothing signed or evaluated yet, the week's hours not yet recorded.
    reported = record("2026-02-04", known_at="2026-02-04T23:59:59Z")
    assert reported.registration.home_site_id == SITE
    assert reported.sessions[0].modality == "in_person"
    assert reported.sessions[0].corrections == []
    assert reported.agreements[0].end_date == "2027-12-31"
    assert (list(reported.months), list(reported.evaluations)) == ([], [])
    assert list(reported.practice_weeks) == []
    # The same date reported on the 10th: the week's first record, since corrected.
    assert record("2026-02-04", "2026-02-10T00:00:00Z").practice_weeks[0].direct_minutes == 900
    # As of 4 February, as known now: the session and the week as corrected since.
    early = record("2026-02-04")
    assert (early.sessions[0].modality, len(early.sessions[0].corrections)) == ("video", 1)
    assert early.practice_weeks[0].direct_minutes == 840
    assert early.agreements[0].end_date == "2027-12-31"  # new terms stand from July


def test_the_supervisee_record_refuses_a_bad_date(stubs: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        stubs.compliance.GetSuperviseeRecord(
            pb.GetSuperviseeRecordRequest(supervisee_id=unique("see"), as_of="not-a-date"),
            timeout=10,
        )

    assert invalid_field(refused.value) == "as_of"


def raised(
    referral_id: str, site: str, raised_on: str, urgency: str = "urgent"
) -> ev.ReferralRaised:
    return ev.ReferralRaised.model_validate(
        {
            "referral_id": referral_id,
            "client_id": unique("client"),
            "site_id": site,
            "from_service": "coaching",
            "to_service": "therapy",
            "urgency": urgency,
            "raised_on": raised_on,
            "source": f"coaching-concern/{unique('concern')}",
        }
    )


def breach(
    referral_id: str, site: str, target: str, when: dt.datetime
) -> ev.ReferralServiceLevelBreached:
    return ev.ReferralServiceLevelBreached.model_validate(
        {
            "referral_id": referral_id,
            "site_id": site,
            "to_service": "therapy",
            "urgency": "urgent",
            "target": target,
            "due_at": when - dt.timedelta(hours=1),
            "detected_at": when,
        }
    )


def publish_referrals(stack: Stack, site: str) -> tuple[str, str, str]:
    """Three referrals at a site: one accepted after missing its acknowledgement target, one
    scheduled, one completed after missing its scheduling target. Returns their ids."""
    late, scheduled, done = unique("ref"), unique("ref"), unique("ref")
    publish(
        stack,
        recorded(raised(late, site, "2026-11-02"), at("2026-11-02", 8)),
        recorded(breach(late, site, "acknowledgement", at("2026-11-02", 13)), at("2026-11-02", 13)),
        recorded(
            ev.ReferralAccepted(
                referral_id=late,
                client_id="client-x",
                site_id=site,
                from_service="coaching",
                to_service="therapy",
                accepted_by="clin-1",
                accepted_on=D("2026-11-03"),
                source="coaching-concern/x",
                origin=None,
            ),
            at("2026-11-03"),
        ),
        recorded(raised(scheduled, site, "2026-11-04", "routine"), at("2026-11-04")),
        recorded(
            ev.ReferralScheduled(
                referral_id=scheduled,
                appointment_on=D("2026-11-12"),
                scheduled_by="clin-2",
                scheduled_on=D("2026-11-05"),
            ),
            at("2026-11-05"),
        ),
        recorded(raised(done, site, "2026-11-01"), at("2026-11-01")),
        recorded(breach(done, site, "scheduling", at("2026-11-06")), at("2026-11-06")),
        recorded(
            ev.ReferralCompleted(
                referral_id=done,
                client_id="client-y",
                from_service="coaching",
                to_service="therapy",
                source="coaching-concern/y",
                origin=None,
                completed_by="clin-1",
                completed_on=D("2026-11-10"),
                outcome="engaged in therapy",
                feedback="resume coaching in a month",
                recommendation="resume_coaching",
            ),
            at("2026-11-10"),
        ),
    )
    return late, scheduled, done


def open_referrals(stubs: Stubs, site: str, as_of: str) -> pb.ListOpenReferralsResponse:
    return stubs.compliance.ListOpenReferrals(  # type: ignore[no-any-return]
        pb.ListOpenReferralsRequest(site_id=site, as_of=as_of), timeout=10
    )


def breaches(stubs: Stubs, site: str, as_of: str) -> pb.ListServiceLevelBreachesResponse:
    return stubs.compliance.ListServiceLevelBreaches(  # type: ignore[no-any-return]
        pb.ListServiceLevelBreachesRequest(site_id=site, as_of=as_of), timeout=10
    )


def test_open_referrals_show_their_status_and_missed_targets(stack: Stack, stubs: Stubs) -> None:
    site = unique("site")
    late, scheduled, done = publish_referrals(stack, site)

    view = eventually(
        lambda: open_referrals(stubs, site, "2026-11-15"),
        lambda v: (
            {r.referral_id: r.status for r in v.referrals}
            == {late: "accepted", scheduled: "scheduled"}
        ),
    )

    by_id = {r.referral_id: r for r in view.referrals}
    assert [b.target for b in by_id[late].breaches] == ["acknowledgement"]
    assert by_id[scheduled].appointment_on == "2026-11-12"
    assert by_id[late].status_on == "2026-11-03"
    assert len(by_id[late].source_event_ids) == 3
    # Before it was completed, the third referral was open, and past its scheduling target.
    # Its events travel on a partition of their own: wait for them too.
    earlier_view = eventually(
        lambda: open_referrals(stubs, site, "2026-11-07"),
        lambda v: done in {r.referral_id for r in v.referrals},
    )
    earlier = {r.referral_id: r for r in earlier_view.referrals}
    assert set(earlier) == {late, scheduled, done}
    assert [b.target for b in earlier[done].breaches] == ["scheduling"]


def test_open_referrals_refuse_a_bad_site(stubs: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        open_referrals(stubs, "has spaces", "")

    assert invalid_field(refused.value) == "site_id"


def test_service_level_breaches_per_site_open_or_since_closed(stack: Stack, stubs: Stubs) -> None:
    site = unique("site")
    late, _scheduled, done = publish_referrals(stack, site)

    view = eventually(
        lambda: breaches(stubs, site, "2026-11-30"),
        lambda v: (
            {(r.referral_id, r.status, r.open) for r in v.referrals}
            == {(done, "completed", False), (late, "accepted", True)}
        ),
    )

    assert [r.referral_id for r in view.referrals] == [done, late]  # oldest raised first
    assert view.referrals[0].breaches[0].target == "scheduling"
    assert all(uuid.UUID(e) for r in view.referrals for e in r.source_event_ids)
    assert [r.referral_id for r in breaches(stubs, site, "2026-11-02").referrals] == [late]
    assert breaches(stubs, site, "2026-11-01").referrals == []
    assert breaches(stubs, unique("site"), "2026-11-30").referrals == []


def test_a_target_missed_in_february_shows_as_of_june_though_the_clock_recorded_it_later(
    stack: Stack, stubs: Stubs
) -> None:
    site, referral_id = unique("site"), unique("ref")
    publish(
        stack,
        recorded(raised(referral_id, site, "2026-02-02"), at("2026-02-02", 8)),
        # Due on 2 February at noon; the referral service's clock recorded it in December.
        recorded(
            ev.ReferralServiceLevelBreached.model_validate(
                {
                    "referral_id": referral_id,
                    "site_id": site,
                    "to_service": "therapy",
                    "urgency": "urgent",
                    "target": "acknowledgement",
                    "due_at": at("2026-02-02"),
                    "detected_at": at("2026-12-01"),
                }
            ),
            at("2026-12-01"),
        ),
    )

    june = eventually(lambda: breaches(stubs, site, "2026-06-30"), lambda v: bool(v.referrals))

    assert [r.referral_id for r in june.referrals] == [referral_id]
    assert june.referrals[0].breaches[0].due_at == "2026-02-02T12:00:00+00:00"
    assert breaches(stubs, site, "2026-02-01").referrals == []
    # The June report issued in July did not know of it, and is reproduced as it was.
    july = stubs.compliance.ListServiceLevelBreaches(
        pb.ListServiceLevelBreachesRequest(
            site_id=site, as_of="2026-06-30", known_at="2026-07-01T09:00:00Z"
        ),
        timeout=10,
    )
    assert july.referrals == []


def test_service_level_breaches_refuse_a_missing_site(stubs: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        breaches(stubs, "", "2026-11-30")

    assert invalid_field(refused.value) == "site_id"


def test_licenses_expiring_within_days_across_sites(stack: Stack, stubs: Stubs) -> None:
    soon, renewed, later = unique("lic"), unique("lic"), unique("lic")
    designation = unique("des")

    def license_(license_id: str, expires: str) -> OutboxMessage:
        return recorded(
            ev.LicenseRecorded(
                holder_id=f"holder-{license_id}",
                license_id=license_id,
                kind="LPC",
                number=f"N-{license_id}",
                state="TX",
                issued_on=D("2020-01-01"),
                expires_on=D(expires),
            ),
            at("2020-01-01"),
        )

    publish(
        stack,
        license_(soon, "2031-03-10"),
        license_(renewed, "2031-03-20"),
        license_(later, "2031-06-01"),
        recorded(
            ev.LicenseRenewed(
                holder_id=f"holder-{renewed}",
                license_id=renewed,
                renewed_on=D("2031-03-05"),
                expires_on=D("2033-03-20"),
            ),
            # Recorded ahead of the date it takes effect: a view known now has it.
            at("2026-11-20"),
        ),
        recorded(
            ev.SupervisorDesignationRecorded(
                holder_id=f"holder-{soon}",
                designation_id=designation,
                designation="LPC-S",
                state="TX",
                granted_on=D("2021-01-01"),
                expires_on=D("2031-03-31"),
                training_hours=40,
                training_completed_on=D("2020-12-01"),
            ),
            at("2021-01-01"),
        ),
    )
    mine = {soon, renewed, later}

    def expiring(as_of: str, within: int) -> pb.ListLicensesExpiringResponse:
        return stubs.compliance.ListLicensesExpiring(  # type: ignore[no-any-return]
            pb.ListLicensesExpiringRequest(as_of=as_of, within_days=within), timeout=10
        )

    view = eventually(
        lambda: expiring("2031-03-01", 30),
        lambda v: (
            {e.license_id for e in v.licenses} & mine == {soon, renewed}
            and designation in {d.designation_id for d in v.designations}
        ),
    )

    ours = [e for e in view.licenses if e.license_id in mine]
    assert [(e.license_id, e.days_left, e.expires_on) for e in ours] == [
        (soon, 9, "2031-03-10"),
        (renewed, 19, "2031-03-20"),
    ]
    assert [d.days_left for d in view.designations if d.designation_id == designation] == [30]
    # Once renewed, a license is no longer expiring.
    after = expiring("2031-03-05", 30)
    assert {e.license_id for e in after.licenses} & mine == {soon}


def test_licenses_expiring_refuse_a_negative_window(stubs: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        stubs.compliance.ListLicensesExpiring(
            pb.ListLicensesExpiringRequest(within_days=-1), timeout=10
        )

    assert invalid_field(refused.value) == "within_days"
