"""The compliance gRPC API: audit views as of a date and as known at a moment, each figure with
its source events, each view saying whether it lacks events compliance could not apply."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterable
from typing import Any, Never

import grpc

from compliance.application.lists import (
    organization_overview,
    site_list,
    supervisor_standing,
    verdict_list,
)
from compliance.application.queries import (
    ProjectedFacts,
    View,
    licenses_expiring,
    open_referrals,
    service_level_breaches,
    supervisee_evaluation,
    supervisee_hours,
    supervisee_record,
)
from compliance.application.standing import STATUS_LEVELS, Standing, StandingSource, VerdictKey
from compliance.domain.agreements import AgreementAsOf
from compliance.domain.engine import StatusLevel
from compliance.domain.facts import ServiceLevelBreach, SessionFigures
from compliance.domain.record import EvaluationFact, MonthStatus, SuperviseeAsOf
from compliance.domain.referrals import ReferralAsOf
from compliance.domain.sessions import SessionAsOf
from compliance.domain.standing import ExpiringDesignation, ExpiringLicense, SupervisorStanding
from compliance.entrypoints.api import verdicts
from continuum.compliance.v1 import compliance_service_pb2 as pb
from continuum.compliance.v1 import compliance_service_pb2_grpc as pb_grpc
from contracts.rulepacks.model import RulePacks, Severity
from infra.ddd import InvalidInput
from infra.grpc.fields import date_field, id_field, timestamp_field

# How far ahead ListLicensesExpiring looks at most (ten years).
MAX_WITHIN_DAYS = 3650
# A page of a list: 1 to 500 entries; 0 asks for the default.
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
SEVERITIES: dict[str, Severity | None] = {"": None, "void": "void", "finding": "finding"}
# ListVerdictsRequest.resolution: whether resolved.
RESOLUTIONS: dict[str, bool | None] = {"": None, "open": False, "resolved": True}


class ComplianceApi(pb_grpc.ComplianceServiceServicer):
    def __init__(
        self,
        facts: ProjectedFacts,
        packs: RulePacks,
        standings: StandingSource,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._facts = facts
        self._packs = packs
        self._standings = standings
        self._clock = clock

    def _axes(self, request: Any) -> tuple[dt.date, dt.datetime]:
        """The request's as_of (default: today) and known_at (default: now)."""
        now = self._clock().astimezone(dt.UTC)
        as_of = date_field(request.as_of, "as_of", default=now.date())
        return as_of, timestamp_field(request.known_at, "known_at", default=now)

    async def GetSuperviseeHours(
        self, request: pb.GetSuperviseeHoursRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSuperviseeHoursResponse:
        supervisee_id = id_field(request.supervisee_id, "supervisee_id")
        as_of, known_at = self._axes(request)
        view = await supervisee_hours(self._facts, self._packs, supervisee_id, as_of, known_at)
        summary = view.shown
        return pb.GetSuperviseeHoursResponse(
            supervisee_id=supervisee_id,
            as_of=as_of.isoformat(),
            **_completeness(view),
            total_minutes=summary.total_minutes,
            by_format_and_modality=[
                pb.MinutesBy(format=fmt, modality=modality, minutes=minutes)
                for (fmt, modality), minutes in summary.by_format_and_modality.items()
            ],
            sessions=[_session(s) for s in summary.sessions],
            by_kind=[
                pb.MinutesByKind(
                    kind=kind, counted_minutes=minutes.counted, excluded_minutes=minutes.excluded
                )
                for kind, minutes in summary.by_kind.items()
            ],
            excluded_minutes=summary.excluded_minutes,
            excluded_by_reason=[
                pb.MinutesByReason(reason=reason, minutes=minutes)
                for reason, minutes in summary.excluded_by_reason.items()
            ],
            excluded=[_session(s) for s in summary.excluded],
            flagged_minutes=summary.flagged_minutes,
        )

    async def GetSuperviseeRecord(
        self, request: pb.GetSuperviseeRecordRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSuperviseeRecordResponse:
        supervisee_id = id_field(request.supervisee_id, "supervisee_id")
        as_of, known_at = self._axes(request)
        view = await supervisee_record(self._facts, supervisee_id, as_of, known_at)
        record = view.shown
        practice = record.practice_hours
        return pb.GetSuperviseeRecordResponse(
            supervisee_id=supervisee_id,
            as_of=as_of.isoformat(),
            **_completeness(view),
            registration=_registration(record.registration) if record.registration else None,
            agreements=[_agreement(a) for a in record.agreements],
            sessions=[_session(r.session, r.supervisor) for r in record.sessions],
            months=[_month(m) for m in record.months],
            evaluations=[_evaluation(e) for e in record.evaluations],
            practice_weeks=[
                pb.PracticeWeek(
                    site_id=w.site_id,
                    week_start=w.week_start.isoformat(),
                    direct_minutes=w.direct_minutes,
                    indirect_minutes=w.indirect_minutes,
                    correction=w.correction or "",
                    source_event_id=w.source_event_id,
                    superseded_event_ids=list(w.superseded_event_ids),
                )
                for w in practice.weeks
            ],
            practice_direct_minutes=practice.direct_minutes,
            practice_indirect_minutes=practice.indirect_minutes,
        )

    async def ListOpenReferrals(
        self, request: pb.ListOpenReferralsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOpenReferralsResponse:
        site_id = id_field(request.site_id, "site_id")
        as_of, known_at = self._axes(request)
        view = await open_referrals(self._facts, site_id, as_of, known_at)
        referrals = view.shown
        return pb.ListOpenReferralsResponse(
            site_id=site_id,
            as_of=as_of.isoformat(),
            **_completeness(view),
            referrals=[
                pb.OpenReferral(
                    referral_id=r.referral_id,
                    client_id=r.client_id,
                    to_service=r.to_service,
                    urgency=r.urgency,
                    raised_on=r.raised_on.isoformat(),
                    source_event_ids=list(r.source_event_ids),
                    status=r.status,
                    status_on=r.status_on.isoformat(),
                    appointment_on=_date(r.appointment_on),
                    breaches=[_breach(b) for b in r.breaches],
                )
                for r in referrals
            ],
        )

    async def ListServiceLevelBreaches(
        self, request: pb.ListServiceLevelBreachesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListServiceLevelBreachesResponse:
        site_id = id_field(request.site_id, "site_id")
        as_of, known_at = self._axes(request)
        view = await service_level_breaches(self._facts, site_id, as_of, known_at)
        referrals = view.shown
        return pb.ListServiceLevelBreachesResponse(
            site_id=site_id,
            as_of=as_of.isoformat(),
            **_completeness(view),
            referrals=[_breached(r) for r in referrals],
        )

    async def ListLicensesExpiring(
        self, request: pb.ListLicensesExpiringRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListLicensesExpiringResponse:
        as_of, known_at = self._axes(request)
        if not 0 <= request.within_days <= MAX_WITHIN_DAYS:
            raise InvalidInput("within_days", f"must be between 0 and {MAX_WITHIN_DAYS} days")
        view = await licenses_expiring(self._facts, as_of, request.within_days, known_at)
        expiring = view.shown
        return pb.ListLicensesExpiringResponse(
            as_of=as_of.isoformat(),
            **_completeness(view),
            within_days=expiring.within_days,
            licenses=[_expiring_license(e) for e in expiring.licenses],
            designations=[_expiring_designation(e) for e in expiring.designations],
        )

    async def GetSuperviseeStanding(
        self, request: pb.GetSuperviseeStandingRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSuperviseeStandingResponse:
        supervisee_id = id_field(request.supervisee_id, "supervisee_id")
        as_of, known_at = self._axes(request)
        view = await supervisee_evaluation(self._facts, self._packs, supervisee_id, as_of, known_at)
        evaluation = view.shown
        registration = evaluation.record.registration
        return pb.GetSuperviseeStandingResponse(
            supervisee_id=supervisee_id,
            as_of=as_of.isoformat(),
            **_completeness(view),
            track=evaluation.track or "",
            site_id=registration.home_site_id if registration else "",
            status=verdicts.status(evaluation.status),
            progress=verdicts.progress(evaluation.progress),
            verdicts=[verdicts.verdict(v, supervisee_id) for v in evaluation.verdicts],
            windows=[verdicts.window_tally(w) for w in evaluation.windows],
            outcomes=[verdicts.outcome(o) for o in evaluation.outcomes],
        )

    async def ListSiteSupervisees(
        self, request: pb.ListSiteSuperviseesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSiteSuperviseesResponse:
        site_id = id_field(request.site_id, "site_id")
        as_of, known_at = self._axes(request)
        after = _page_after(request.page_token)
        view = await site_list(
            self._standings,
            self._facts,
            site_id,
            as_of,
            known_at,
            statuses=_statuses(request.statuses),
            tracks=tuple(request.tracks),
            page_size=_page_size(request.page_size),
            after=after if after is None or isinstance(after, str) else _bad_token(),
        )
        shown = view.shown
        return pb.ListSiteSuperviseesResponse(
            site_id=site_id,
            as_of=as_of.isoformat(),
            **_completeness(view),
            supervisees=[_summary(s) for s in shown.supervisees],
            next_page_token=_page_token(shown.next_after),
            by_status=_by_status(shown.by_status),
        )

    async def GetOrganizationOverview(
        self, request: pb.GetOrganizationOverviewRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetOrganizationOverviewResponse:
        as_of, known_at = self._axes(request)
        view = await organization_overview(
            self._standings, self._facts, self._packs, as_of, known_at
        )
        shown = view.shown
        return pb.GetOrganizationOverviewResponse(
            as_of=as_of.isoformat(),
            **_completeness(view),
            sites=[
                pb.SiteOverview(
                    site_id=s.site_id,
                    supervisees=s.supervisees,
                    by_status=_by_status(s.by_status),
                    open_voids=s.open_voids,
                    open_findings=s.open_findings,
                    referrals_past_target=s.referrals_past_target,
                )
                for s in shown.sites
            ],
            overdue_evaluations=[
                pb.OverdueEvaluation(
                    supervisee_id=o.supervisee_id,
                    site_id=o.site_id or "",
                    due_on=o.due_on.isoformat(),
                    verdict_id=o.verdict_id,
                )
                for o in shown.overdue_evaluations
            ],
            licenses_expiring=[_expiring_license(e) for e in shown.expiring.licenses],
            designations_expiring=[_expiring_designation(e) for e in shown.expiring.designations],
            referrals_past_target=[_breached(r) for r in shown.referrals_past_target],
        )

    async def GetSupervisorStanding(
        self, request: pb.GetSupervisorStandingRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSupervisorStandingResponse:
        supervisor_id = id_field(request.supervisor_id, "supervisor_id")
        as_of, known_at = self._axes(request)
        view = await supervisor_standing(self._facts, self._packs, supervisor_id, as_of, known_at)
        shown = view.shown
        return pb.GetSupervisorStandingResponse(
            supervisor_id=supervisor_id,
            as_of=as_of.isoformat(),
            **_completeness(view),
            supervisees=[
                pb.SupervisedSupervisee(
                    supervisee_id=s.supervisee_id,
                    agreement_id=s.agreement.agreement_id,
                    track=s.track or "",
                    site_id=s.site_id or "",
                    status=s.level,
                )
                for s in shown.supervised
            ],
            max_active_supervisees=shown.max_active_supervisees or 0,
            over_cap=shown.over_cap,
            credentials=_credentials(shown.credentials),
            expiring=[verdicts.status_reason(r) for r in shown.expiring],
        )

    async def ListVerdicts(
        self, request: pb.ListVerdictsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVerdictsResponse:
        site_id = id_field(request.site_id, "site_id") if request.site_id else None
        as_of, known_at = self._axes(request)
        if request.severity not in SEVERITIES:
            raise InvalidInput("severity", "must be void or finding")
        if request.resolution not in RESOLUTIONS:
            raise InvalidInput("resolution", "must be open or resolved")
        after = _page_after(request.page_token)
        view = await verdict_list(
            self._standings,
            self._facts,
            as_of,
            known_at,
            site_id=site_id,
            tracks=tuple(request.tracks),
            rule_ids=tuple(request.rule_ids),
            severity=SEVERITIES[request.severity],
            resolved=RESOLUTIONS[request.resolution],
            page_size=_page_size(request.page_size),
            after=after if after is None or isinstance(after, tuple) else _bad_token(),
        )
        shown = view.shown
        return pb.ListVerdictsResponse(
            site_id=site_id or "",
            as_of=as_of.isoformat(),
            **_completeness(view),
            verdicts=[verdicts.verdict(v.verdict, v.supervisee_id) for v in shown.verdicts],
            next_page_token=_page_token(shown.next_after),
        )


def _page_size(requested: int) -> int:
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= requested <= MAX_PAGE_SIZE:
        raise InvalidInput("page_size", f"{requested} is not between 0 and {MAX_PAGE_SIZE}")
    return requested


def _statuses(requested: Iterable[str]) -> tuple[StatusLevel, ...]:
    levels: dict[str, StatusLevel] = {level: level for level in STATUS_LEVELS}
    chosen: list[StatusLevel] = []
    for value in requested:
        if value not in levels:
            raise InvalidInput(
                "statuses", f"{value!r} is not a status ({', '.join(STATUS_LEVELS)})"
            )
        chosen.append(levels[value])
    return tuple(chosen)


# A page token is where the page before ended, opaque to the caller: a supervisee id, or the
# key of a verdict, in URL-safe base64 of JSON.
def _page_token(after: str | VerdictKey | None) -> str:
    if after is None:
        return ""
    payload = json.dumps({"after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode()


def _page_after(token: str) -> str | VerdictKey | None:
    if not token:
        return None
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, TypeError, KeyError):
        return _bad_token()
    if isinstance(after, str):
        return after
    if isinstance(after, list) and len(after) == 4 and all(isinstance(p, str) for p in after):
        return (after[0], after[1], after[2], after[3])
    return _bad_token()


def _bad_token() -> Never:
    raise InvalidInput("page_token", "is not a token the list gave")


def _by_status(counts: dict[StatusLevel, int]) -> list[pb.StatusCount]:
    return [pb.StatusCount(status=level, supervisees=n) for level, n in counts.items()]


def _summary(s: Standing) -> pb.SuperviseeSummary:
    return pb.SuperviseeSummary(
        supervisee_id=s.supervisee_id,
        track=s.track or "",
        status=s.level,
        open_voids=s.open_voids,
        open_findings=s.open_findings,
        resolved_verdicts=s.resolved_verdicts,
        supervision_counted_minutes=verdicts.decimal(s.supervision_counted_minutes),
        supervision_required_minutes=verdicts.decimal(s.supervision_required_minutes),
        projected_completion=_date(s.projected_completion),
        incomplete=s.incomplete,
    )


def _completeness(view: View[Any]) -> dict[str, Any]:
    """The fields every response shares: the moment it is known at, and what it lacks."""
    return {
        "known_at": view.known_at.isoformat(),
        "incomplete": not view.complete,
        "unapplied_events": [
            pb.UnappliedEvent(
                event_id=u.event_id or "",
                event_type=u.event_type or "",
                reason=u.reason,
                recorded_at=u.recorded_at.isoformat(),
                failed_at=u.failed_at.isoformat(),
            )
            for u in view.unapplied
        ],
    }


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def _figures(figures: SessionFigures) -> pb.SessionFigures:
    return pb.SessionFigures(
        kind=figures.kind,
        format=figures.format,
        modality=figures.modality,
        date=figures.date.isoformat(),
        start_time=figures.start_time.isoformat() if figures.start_time else "",
        minutes=figures.minutes,
        techniques=list(figures.techniques),
        focus=list(figures.focus),
    )


def _session(
    s: SessionAsOf, supervisor: SupervisorStanding | None = None
) -> pb.SupervisionSessionRecord:
    return pb.SupervisionSessionRecord(
        session_id=s.session_id,
        date=s.date.isoformat(),
        format=s.format,
        modality=s.modality,
        minutes=s.minutes,
        supervisor_id=s.supervisor_id,
        site_id=s.site_id,
        source_event_id=s.source_event_id,
        kind=s.kind,
        start_time=s.start_time.isoformat() if s.start_time else "",
        techniques=list(s.techniques),
        focus=list(s.focus),
        agreement_id=s.agreement_id or "",
        counts=s.counts,
        not_counted_reason=(
            s.exclusion.code if s.exclusion else "board_rule" if s.withheld else ""
        ),
        not_counted_detail=(
            s.exclusion.detail if s.exclusion else s.withheld.detail if s.withheld else ""
        ),
        flagged_for_review=s.flagged_for_review,
        lapse_marks=[
            pb.SupervisorLapseMark(
                license_id=m.license_id,
                lapse=m.lapse,
                lapsed_since=m.lapsed_since.isoformat(),
                marked_at=m.recorded_at.isoformat(),
                source_event_id=m.source_event_id,
            )
            for m in s.lapse_marks
        ],
        logged=_figures(s.logged),
        corrections=[
            pb.SessionCorrection(
                change=c.change,
                recorded_at=c.recorded_at.isoformat(),
                by=c.by,
                reason=c.reason,
                source_event_id=c.source_event_id,
                amended_to=_figures(c.amended_to) if c.amended_to else None,
            )
            for c in s.corrections
        ],
        source_event_ids=list(s.source_event_ids),
        supervisor_credentials=_credentials(supervisor) if supervisor else [],
    )


def _credentials(standing: SupervisorStanding) -> list[pb.CredentialStanding]:
    return [
        *(
            pb.CredentialStanding(
                credential="license",
                id=lic.license_id,
                kind=lic.kind,
                number=lic.number,
                state=lic.state,
                status=lic.status,
                expires_on=lic.expires_on.isoformat(),
                source_event_ids=list(lic.source_event_ids),
            )
            for lic in standing.licenses
        ),
        *(
            pb.CredentialStanding(
                credential="designation",
                id=d.designation_id,
                kind=d.designation,
                state=d.state,
                status="active",
                expires_on=_date(d.expires_on),
                source_event_ids=[d.source_event_id],
            )
            for d in standing.designations
        ),
    ]


def _registration(registration: SuperviseeAsOf) -> pb.SuperviseeRegistration:
    return pb.SuperviseeRegistration(
        credential_track=registration.credential_track,
        license_number=registration.license_number,
        registered_on=registration.registered_on.isoformat(),
        home_site_id=registration.home_site_id,
        transfers=[
            pb.SiteTransfer(
                from_site_id=t.from_site_id,
                to_site_id=t.to_site_id,
                effective_on=t.effective_on.isoformat(),
                source_event_id=t.source_event_id,
            )
            for t in registration.transfers
        ],
        source_event_ids=list(registration.source_event_ids),
    )


def _agreement(a: AgreementAsOf) -> pb.SupervisionAgreement:
    return pb.SupervisionAgreement(
        agreement_id=a.agreement_id,
        supervisor_id=a.supervisor_id,
        site_id=a.site_id,
        credential_track=a.credential_track,
        start_date=a.start_date.isoformat(),
        end_date=a.terms.end_date.isoformat(),
        modalities=list(a.terms.modalities),
        sessions_per_period=a.terms.sessions_per_period or 0,
        period=a.terms.period or "",
        board_approval_required=a.board_approval_required,
        approved_on=_date(a.approval.approved_on if a.approval else None),
        approval_reference=a.approval.approval_reference if a.approval else "",
        status=a.status,
        terminated_on=_date(a.termination.terminated_on if a.termination else None),
        termination_reason=a.termination.reason if a.termination else "",
        terminated_by=a.termination.terminated_by if a.termination else "",
        amendments=[
            pb.AgreementAmendment(
                recorded_at=m.recorded_at.isoformat(),
                amended_by=m.amended_by,
                reason=m.reason,
                end_date=m.terms.end_date.isoformat(),
                modalities=list(m.terms.modalities),
                sessions_per_period=m.terms.sessions_per_period or 0,
                period=m.terms.period or "",
                source_event_id=m.source_event_id,
            )
            for m in a.amendments
        ],
        source_event_ids=list(a.source_event_ids),
    )


def _month(m: MonthStatus) -> pb.MonthSignOff:
    return pb.MonthSignOff(
        month=m.month,
        status=m.status,
        signed_by=m.signed_by or "",
        signed_on=_date(m.signed_on),
        history=[
            pb.MonthEvent(
                action=e.action,
                on=e.on.isoformat(),
                by=e.by,
                reason=e.reason or "",
                source_event_id=e.source_event_id,
            )
            for e in m.history
        ],
        source_event_ids=list(m.source_event_ids),
    )


def _evaluation(e: EvaluationFact) -> pb.CompetencyEvaluation:
    return pb.CompetencyEvaluation(
        evaluation_id=e.evaluation_id,
        supervisor_id=e.supervisor_id,
        framework=e.framework,
        framework_version=e.framework_version,
        scale_min=e.scale_min,
        scale_max=e.scale_max,
        expected_min=e.expected_min,
        trigger=e.trigger,
        period_start=e.period_start.isoformat(),
        period_end=e.period_end.isoformat(),
        scores=[pb.DomainScore(domain=s.domain, score=s.score) for s in e.scores],
        below_expectations=list(e.below_expectations),
        remediation_required=e.remediation_required,
        evidence_session_ids=list(e.evidence_session_ids),
        signed_on=e.signed_on.isoformat(),
        acknowledged=e.acknowledged_on is not None,
        acknowledged_on=_date(e.acknowledged_on),
        source_event_ids=list(e.source_event_ids),
    )


def _breach(b: ServiceLevelBreach) -> pb.ServiceLevelBreach:
    return pb.ServiceLevelBreach(
        target=b.target,
        due_at=b.due_at.isoformat(),
        detected_at=b.detected_at.isoformat(),
        source_event_id=b.source_event_id,
    )


def _breached(r: ReferralAsOf) -> pb.BreachedReferral:
    return pb.BreachedReferral(
        referral_id=r.referral_id,
        to_service=r.to_service,
        urgency=r.urgency,
        raised_on=r.raised_on.isoformat(),
        status=r.status,
        status_on=r.status_on.isoformat(),
        open=r.open,
        breaches=[_breach(b) for b in r.breaches],
        source_event_ids=list(r.source_event_ids),
    )


def _expiring_license(e: ExpiringLicense) -> pb.ExpiringLicense:
    return pb.ExpiringLicense(
        license_id=e.license.license_id,
        holder_id=e.license.holder_id,
        kind=e.license.kind,
        number=e.license.number,
        state=e.license.state,
        expires_on=e.license.expires_on.isoformat(),
        days_left=e.days_left,
        status=e.license.status,
        source_event_ids=list(e.license.source_event_ids),
    )


def _expiring_designation(e: ExpiringDesignation) -> pb.ExpiringDesignation:
    return pb.ExpiringDesignation(
        designation_id=e.designation.designation_id,
        holder_id=e.designation.holder_id,
        designation=e.designation.designation,
        state=e.designation.state,
        expires_on=_date(e.designation.expires_on),
        days_left=e.days_left,
        source_event_ids=[e.designation.source_event_id],
    )
