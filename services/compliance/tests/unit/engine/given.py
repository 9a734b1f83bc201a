"""Builders for the engine's tests: a test pack written in a few lines, a supervisee's facts
recorded one by one, the supervisors' credentials."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from compliance.domain.agreements import (
    AgreementApproval,
    AgreementFact,
    AgreementTermination,
    AgreementTerms,
)
from compliance.domain.engine import (
    ApprovedLeave,
    Resolution,
    RuleOutcome,
    SuperviseeEvaluation,
    Verdict,
    evaluate_supervisee,
)
from compliance.domain.facts import SessionCorrection, SupervisionSessionFact
from compliance.domain.record import (
    Credentials,
    EvaluationFact,
    MonthEvent,
    PracticeHoursFact,
    SuperviseeFact,
    SuperviseeFacts,
)
from compliance.domain.standing import DesignationFact, LicenseChange, LicenseFact
from contracts.rulepacks.model import (
    BoardApprovalBeforeHoursCount,
    ConcurrentSupervisorsMax,
    Count,
    Figure,
    Flag,
    OrganizationPolicy,
    PackVersion,
    Requirements,
    RuleKind,
    RulePack,
    RulePacks,
    SessionLimits,
)

D = dt.date.fromisoformat
_RULE: TypeAdapter[RuleKind] = TypeAdapter(RuleKind)


def at(day: str | dt.date, hour: int = 18) -> dt.datetime:
    on = D(day) if isinstance(day, str) else day
    return dt.datetime.combine(on, dt.time(hour), tzinfo=dt.UTC)


# --- packs ---------------------------------------------------------------------------------


def rule(kind: str, rule_id: str | None = None, **fields: Any) -> RuleKind:
    """A rule of the pack model; primary, voiding unless told, cited to `src` (default T1)."""
    values: dict[str, Any] = {
        "kind": kind,
        "id": rule_id or kind.replace("_", "-"),
        "severity": "void",
        "title": f"the {kind.replace('_', ' ')} rule",
        "src": "T1",
        "confidence": "primary",
    }
    return _RULE.validate_python(values | fields)


def figure(hours: float | int | None, src: str = "T1") -> Figure:
    if hours is None:
        return Figure(confidence="unconfirmed")
    return Figure(value=Decimal(str(hours)), src=(src,), confidence="primary")


def requirements(
    total: float | None = 3000,
    direct: float | None = 1500,
    supervision: float | None = 100,
    min_months: float | None = None,
) -> Requirements:
    return Requirements(
        total_hours=figure(total),
        direct_client_hours=figure(direct),
        supervision_hours=figure(supervision),
        min_months=figure(min_months) if min_months is not None else None,
    )


def limits(
    rules: tuple[RuleKind, ...] = (), triadic_counts_as: str = "individual"
) -> SessionLimits:
    """The session limits of a test version, agreeing with its rules: the concurrent supervisors
    and the board's approval where a rule judges them, the organization's choice otherwise."""
    concurrent = next((r for r in rules if isinstance(r, ConcurrentSupervisorsMax)), None)
    approval = any(isinstance(r, BoardApprovalBeforeHoursCount) for r in rules)
    return SessionLimits(
        group_min_supervisees=Count(value=3, confidence="unconfirmed"),
        group_max_supervisees=Count(value=6, confidence="unconfirmed"),
        concurrent_supervisors_max=(
            Count(value=concurrent.supervisors, src=("T1",), confidence="primary")
            if concurrent is not None
            else Count(value=None, confidence="unconfirmed")
        ),
        board_approval_before_hours_count=Flag(value=approval, src=("T1",), confidence="primary"),
        triadic_counts_as=triadic_counts_as,  # type: ignore[arg-type]
    )


def version(
    *rules: RuleKind,
    effective_from: str = "2020-01-01",
    effective_to: str | None = None,
    needs: Requirements | None = None,
    triadic_counts_as: str = "individual",
) -> PackVersion:
    return PackVersion(
        effective_from=D(effective_from),
        effective_to=D(effective_to) if effective_to else None,
        basis="a test pack",
        requirements=needs or requirements(),
        session_limits=limits(rules, triadic_counts_as),
        rules=rules,
    )


def pack(*versions: PackVersion, track: str = "TX-LPC-ASSOCIATE") -> RulePack:
    return RulePack(
        track=track,
        state=track[:2],
        board="a test board",
        provisional_credential="a provisional credential",
        target_license="LPC",
        versions=versions,
    )


def packs(*packs_: RulePack, policy: OrganizationPolicy | None = None) -> RulePacks:
    return RulePacks(packs={p.track: p for p in packs_}, policy=policy or OrganizationPolicy())


# --- credentials -----------------------------------------------------------------------------


def licensed(
    holder: str = "sup-1",
    kind: str = "LPC",
    state: str = "TX",
    issued: str = "2010-01-01",
    expires: str = "2030-12-31",
    changes: Iterable[tuple[str, str]] = (),
    license_id: str | None = None,
) -> LicenseFact:
    lid = license_id or f"lic-{holder}-{kind}"
    return LicenseFact(
        license_id=lid,
        holder_id=holder,
        kind=kind,
        number=f"{kind} {holder}",
        state=state,
        issued_on=D(issued),
        expires_on=D(expires),
        recorded_at=at(issued),
        source_event_id=f"evt-{lid}",
        changes=tuple(
            LicenseChange(
                change=change,  # type: ignore[arg-type]
                effective_on=D(on),
                recorded_at=at(on),
                source_event_id=f"evt-{lid}-{change}-{on}",
            )
            for change, on in changes
        ),
    )


def designated(
    holder: str = "sup-1",
    designation: str = "LPC-S",
    state: str = "TX",
    granted: str = "2015-01-01",
    expires: str | None = None,
) -> DesignationFact:
    return DesignationFact(
        designation_id=f"des-{holder}-{designation}",
        holder_id=holder,
        designation=designation,
        state=state,
        granted_on=D(granted),
        expires_on=D(expires) if expires else None,
        training_hours=40,
        training_completed_on=D(granted),
        recorded_at=at(granted),
        source_event_id=f"evt-des-{holder}-{designation}",
    )


def credentials(*items: LicenseFact | DesignationFact) -> Credentials:
    return Credentials(
        licenses=tuple(i for i in items if isinstance(i, LicenseFact)),
        designations=tuple(i for i in items if isinstance(i, DesignationFact)),
    )


# --- a supervisee's facts ------------------------------------------------------------------


class Supervisee:
    """One supervisee's facts, recorded one call at a time."""

    def __init__(
        self,
        track: str = "TX-LPC-ASSOCIATE",
        registered_on: str = "2026-01-05",
        supervisee_id: str = "see-1",
        site: str = "site-a",
        registered: bool = True,
    ) -> None:
        self.id = supervisee_id
        self.site = site
        self.registration = (
            SuperviseeFact(
                supervisee_id=supervisee_id,
                credential_track=track,
                license_number="A 1",
                home_site_id=site,
                registered_on=D(registered_on),
                recorded_at=at(registered_on),
                source_event_id="evt-registered",
            )
            if registered
            else None
        )
        self.agreements: list[AgreementFact] = []
        self.sessions: list[SupervisionSessionFact] = []
        self.practice_hours: list[PracticeHoursFact] = []
        self.months: list[MonthEvent] = []
        self.evaluations: list[EvaluationFact] = []
        self.track = track

    def agreement(
        self,
        start: str = "2026-01-05",
        end: str = "2028-12-31",
        supervisor: str = "sup-1",
        site: str | None = None,
        agreement_id: str | None = None,
        approval_required: bool = False,
        approved_on: str | None = None,
        terminated_on: str | None = None,
    ) -> Supervisee:
        aid = agreement_id or f"agr-{len(self.agreements) + 1}"
        self.agreements.append(
            AgreementFact(
                agreement_id=aid,
                supervisee_id=self.id,
                supervisor_id=supervisor,
                site_id=site or self.site,
                credential_track=self.track,
                start_date=D(start),
                terms=AgreementTerms(end_date=D(end)),
                board_approval_required=approval_required,
                recorded_at=at(start),
                source_event_id=f"evt-{aid}",
                approvals=(
                    (
                        AgreementApproval(
                            approved_on=D(approved_on),
                            approval_reference="BOARD-1",
                            recorded_at=at(approved_on),
                            source_event_id=f"evt-{aid}-approved",
                        ),
                    )
                    if approved_on
                    else ()
                ),
                terminations=(
                    (
                        AgreementTermination(
                            terminated_on=D(terminated_on),
                            reason="moved on",
                            terminated_by="sup-1",
                            recorded_at=at(terminated_on),
                            source_event_id=f"evt-{aid}-terminated",
                        ),
                    )
                    if terminated_on
                    else ()
                ),
            )
        )
        return self

    def session(
        self,
        day: str,
        minutes: int = 60,
        format: str = "individual",
        modality: str = "in_person",
        supervisor: str = "sup-1",
        site: str | None = None,
        session_id: str | None = None,
        recorded: str | dt.datetime | None = None,
        techniques: tuple[str, ...] = (),
        kind: str = "clinical",
        start_time: dt.time | None = None,
        corrections: tuple[SessionCorrection, ...] = (),
    ) -> Supervisee:
        sid = session_id or f"s{len(self.sessions) + 1}"
        recorded_at = recorded if isinstance(recorded, dt.datetime) else at(recorded or day)
        self.sessions.append(
            SupervisionSessionFact(
                session_id=sid,
                supervisee_id=self.id,
                kind=kind,  # type: ignore[arg-type]
                date=D(day),
                format=format,  # type: ignore[arg-type]
                modality=modality,  # type: ignore[arg-type]
                minutes=minutes,
                start_time=start_time,
                techniques=techniques,
                supervisor_id=supervisor,
                site_id=site or self.site,
                source_event_id=f"evt-{sid}",
                recorded_at=recorded_at,
                corrections=corrections,
            )
        )
        return self

    def practice(
        self,
        week_start: str,
        direct_hours: float,
        indirect_hours: float = 0,
        site: str | None = None,
        recorded: str | None = None,
    ) -> Supervisee:
        monday = D(week_start)
        assert monday.weekday() == 0, f"{week_start} is not a Monday"
        n = len(self.practice_hours) + 1
        self.practice_hours.append(
            PracticeHoursFact(
                site_id=site or self.site,
                week_start=monday,
                direct_minutes=int(direct_hours * 60),
                indirect_minutes=int(indirect_hours * 60),
                recorded_at=at(recorded or monday + dt.timedelta(days=6)),
                source_event_id=f"evt-practice-{n}",
            )
        )
        return self

    def practising(
        self,
        first: str,
        last: str,
        direct_hours: float,
        indirect_hours: float = 0,
        site: str | None = None,
    ) -> Supervisee:
        """A record for every week from the Monday of `first` to the one of `last`."""
        monday = D(first) - dt.timedelta(days=D(first).weekday())
        while monday <= D(last):
            self.practice(monday.isoformat(), direct_hours, indirect_hours, site)
            monday += dt.timedelta(weeks=1)
        return self

    def evaluation(
        self, signed_on: str, supervisor: str = "sup-1", trigger: str = "quarterly"
    ) -> Supervisee:
        n = len(self.evaluations) + 1
        self.evaluations.append(
            EvaluationFact(
                evaluation_id=f"ev-{n}",
                supervisor_id=supervisor,
                framework="APA benchmarks",
                framework_version="2011",
                scale_min=1,
                scale_max=5,
                expected_min=3,
                trigger=trigger,  # type: ignore[arg-type]
                period_start=D(signed_on) - dt.timedelta(days=90),
                period_end=D(signed_on),
                scores=(),
                below_expectations=(),
                remediation_required=False,
                evidence_session_ids=(),
                signed_on=D(signed_on),
                recorded_at=at(signed_on),
                source_event_id=f"evt-ev-{n}",
            )
        )
        return self

    def signed(self, month: str, on: str, action: str = "signed_off") -> Supervisee:
        n = len(self.months) + 1
        self.months.append(
            MonthEvent(
                month=month,
                action=action,  # type: ignore[arg-type]
                on=D(on),
                by="sup-1",
                recorded_at=at(on),
                source_event_id=f"evt-month-{n}",
            )
        )
        return self

    def facts(self) -> SuperviseeFacts:
        return SuperviseeFacts(
            supervisee_id=self.id,
            registration=self.registration,
            agreements=tuple(self.agreements),
            sessions=tuple(self.sessions),
            practice_hours=tuple(self.practice_hours),
            months=tuple(self.months),
            evaluations=tuple(self.evaluations),
        )


GOOD_STANDING = credentials(licensed())


def evaluate(
    supervisee: Supervisee,
    rules: RulePacks | RulePack | PackVersion,
    as_of: str,
    held: Credentials = GOOD_STANDING,
    leaves: Iterable[ApprovedLeave] = (),
    resolutions: Iterable[Resolution] = (),
) -> SuperviseeEvaluation:
    if isinstance(rules, PackVersion):
        rules = pack(rules, track=supervisee.track)
    if isinstance(rules, RulePack):
        rules = packs(rules)
    return evaluate_supervisee(
        supervisee.facts(), held, rules, D(as_of), leaves=leaves, resolutions=resolutions
    )


def leave(start: str, end: str, event: str = "evt-leave") -> ApprovedLeave:
    return ApprovedLeave(
        start=D(start),
        end=D(end),
        approved_by="sup-1",
        reason="extended leave, approved in writing",
        recorded_at=at(start),
        source_event_id=event,
    )


def resolution(verdict_id: str, on: str, kind: str = "documented_exception") -> Resolution:
    return Resolution(
        verdict_id=verdict_id,
        kind=kind,  # type: ignore[arg-type]
        reason="leave approved in writing, on file",
        by="officer-1",
        on=D(on),
        recorded_at=at(on),
        source_event_id=f"evt-resolved-{verdict_id[:8]}",
    )


def verdicts(evaluation: SuperviseeEvaluation, rule_id: str) -> list[Verdict]:
    return [v for v in evaluation.verdicts if v.rule_id == rule_id]


def outcomes(evaluation: SuperviseeEvaluation, rule_id: str) -> list[RuleOutcome]:
    return [o for o in evaluation.outcomes if o.rule_id == rule_id]


def outcome_in(
    evaluation: SuperviseeEvaluation, rule_id: str, window_start: str, site: str | None = None
) -> RuleOutcome:
    (found,) = [
        o
        for o in outcomes(evaluation, rule_id)
        if o.window is not None and o.window.start == D(window_start) and o.site_id == site
    ]
    return found


def counted(evaluation: SuperviseeEvaluation) -> dict[str, int]:
    return {s.session_id: s.counted_minutes for s in evaluation.sessions}
