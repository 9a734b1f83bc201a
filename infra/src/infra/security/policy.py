"""Who may call which RPC: one declarative table, keyed by the full method name, enforced by
the gRPC server before a servicer runs (servicers only translate).

Each rule names the roles that may call the RPC, whether it changes anything (an auditor only
reads), the request field naming the site the call acts in (the caller must hold that site),
and, per role, the request field that must be the caller's own id (a supervisee reads only
their own record, a supervisor signs only as themselves, a coach opens only their own
engagements). An RPC that is not in the table cannot be served: the server refuses to start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from infra.security.principal import Principal
from infra.security.relations import RecordFacts


class Role(StrEnum):
    SUPERVISEE = "supervisee"
    SUPERVISOR = "supervisor"
    COACH = "coach"
    REFERRAL_COORDINATOR = "referral_coordinator"
    COMPLIANCE_OFFICER = "compliance_officer"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    """Operates the organization's records at every site (the development stack's staff)."""


AUDITOR_MAX_TOKEN_LIFETIME = dt.timedelta(hours=8)
"""An auditor's access is time-limited: a token issued for longer is refused."""


@dataclass(frozen=True, slots=True)
class Record:
    kind: str
    field: str


class AccessDenied(Exception):
    """A verified caller this RPC refuses; the message names what is missing."""


class UnguardedRpc(Exception):
    """An RPC the policy has no rule for: it is refused rather than served to anyone."""


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[Role]
    write: bool
    site_field: str | None = None
    own: Mapping[Role, str] = field(default_factory=dict)
    record: Record | None = None
    """The record the request names by id, whose site the caller must hold and, for the
    `related` roles, to which they must be a party (its service's Relations answer)."""
    related: frozenset[Role] = frozenset()
    subjects: Mapping[str, str] = field(default_factory=dict)
    """Of a read: the request fields naming whose records it shows, by subject kind
    (supervisee, client, engagement, referral, supervisor, site...); every such read is
    recorded in the service's access log."""

    def __post_init__(self) -> None:
        if self.write and Role.AUDITOR in self.roles:
            raise ValueError("an auditor only reads: a write rule cannot admit auditors")


def writes(
    *roles: Role,
    site: str | None = None,
    own: Mapping[Role, str] | None = None,
    record: Record | None = None,
    related: tuple[Role, ...] = (),
) -> Rule:
    return _rule(roles, True, site, own, record, related, None)


def reads(
    *roles: Role,
    site: str | None = None,
    own: Mapping[Role, str] | None = None,
    record: Record | None = None,
    related: tuple[Role, ...] = (),
    subjects: Mapping[str, str] | None = None,
) -> Rule:
    return _rule(roles, False, site, own, record, related, subjects)


def _rule(
    roles: tuple[Role, ...],
    write: bool,
    site: str | None,
    own: Mapping[Role, str] | None,
    record: Record | None,
    related: tuple[Role, ...],
    subjects: Mapping[str, str] | None,
) -> Rule:
    # An administrator may call every RPC; each rule names the others.
    return Rule(
        frozenset((*roles, Role.ADMINISTRATOR)),
        write,
        site,
        dict(own or {}),
        record,
        frozenset(related),
        dict(subjects or {}),
    )


SE, SV, CO = Role.SUPERVISEE, Role.SUPERVISOR, Role.COACH
RC, OF, AU = Role.REFERRAL_COORDINATOR, Role.COMPLIANCE_OFFICER, Role.AUDITOR

SESSION = Record("session", "session_id")
SUPERVISEE = Record("supervisee", "supervisee_id")
ENGAGEMENT = Record("engagement", "engagement_id")
REFERRAL = Record("referral", "referral_id")
EVALUATION = Record("evaluation", "evaluation_id")
CONSULTATION = Record("consultation", "consultation_id")

_SUPERVISION = "/continuum.supervision.v1.SupervisionService/"
_COMPETENCY = "/continuum.supervision.v1.CompetencyService/"
_CONSULTATION = "/continuum.supervision.v1.ConsultationService/"
_COACHING = "/continuum.coaching.v1.CoachingService/"
_REFERRAL = "/continuum.referral.v1.ReferralService/"
_COMPLIANCE = "/continuum.compliance.v1.ComplianceService/"
_CREDENTIALS = "/continuum.compliance.v1.CredentialService/"
_OVERSIGHT = "/continuum.compliance.v1.OversightService/"
_ACCESS_LOG = "/continuum.audit.v1.AccessLogService/"

_SUPERVISEE = {"supervisee": "supervisee_id"}
_SITE = {"site": "site_id"}

# One supervisee's figures in compliance (hours, record, standing): the supervisee their own,
# their supervisors, officers and auditors of the supervisee's site.
_SUPERVISEE_FIGURES = reads(
    SE,
    SV,
    OF,
    AU,
    own={SE: "supervisee_id"},
    record=SUPERVISEE,
    related=(SV,),
    subjects=_SUPERVISEE,
)

_COACHS_WORK = (
    "RaiseConcern",
    "SetGoal",
    "ReviseGoal",
    "AchieveGoal",
    "DropGoal",
    "LogCoachingSession",
    "AssignHomework",
    "CompleteHomework",
    "MarkHomeworkMissed",
    "RecordProgressNote",
    "CloseEngagement",
)
_REFERRAL_STEPS = (
    "AcceptReferral",
    "DeclineReferral",
    "RedirectReferral",
    "ScheduleReferral",
    "RecordContactAttempt",
    "CompleteReferral",
    "CloseReferralUnableToEngage",
    "CancelReferral",
)
_LICENSE_STEPS = (
    "RecordLicense",
    "RenewLicense",
    "SuspendLicense",
    "ReinstateLicense",
    "RevokeLicense",
    "ExpireLicense",
    "RecordSupervisorDesignation",
)

POLICY: Mapping[str, Rule] = {
    # Supervision: registration and transfers are the coordinators' and officers'; a
    # supervisor records their own sessions, agreements and sign-offs.
    _SUPERVISION + "RegisterSupervisee": writes(RC, OF, site="home_site_id"),
    _SUPERVISION + "TransferSupervisee": writes(RC, OF, site="to_site_id"),
    _SUPERVISION + "SignAgreement": writes(SV, RC, site="site_id", own={SV: "supervisor_id"}),
    _SUPERVISION + "ApproveAgreement": writes(RC, OF, record=SUPERVISEE),
    _SUPERVISION + "AmendAgreement": writes(SV, RC, record=SUPERVISEE, related=(SV,)),
    _SUPERVISION + "TerminateAgreement": writes(SV, RC, OF, record=SUPERVISEE, related=(SV,)),
    _SUPERVISION + "LogSession": writes(SV, site="site_id", own={SV: "supervisor_id"}),
    _SUPERVISION + "AmendSession": writes(SV, record=SESSION, related=(SV,)),
    _SUPERVISION + "VoidSession": writes(SV, OF, record=SESSION, related=(SV,)),
    _SUPERVISION + "RecordPracticeHours": writes(SE, SV, site="site_id", own={SE: "supervisee_id"}),
    _SUPERVISION + "SignOffMonth": writes(
        SV, own={SV: "supervisor_id"}, record=SUPERVISEE, related=(SV,)
    ),
    _SUPERVISION + "ReopenMonth": writes(SV, OF, record=SUPERVISEE, related=(SV,)),
    _SUPERVISION + "GetSupervisee": reads(
        SE,
        SV,
        RC,
        OF,
        AU,
        own={SE: "supervisee_id"},
        record=SUPERVISEE,
        related=(SV,),
        subjects=_SUPERVISEE,
    ),
    _COMPETENCY + "RecordEvaluation": writes(SV, own={SV: "supervisor_id"}),
    _COMPETENCY + "AcknowledgeEvaluation": writes(SE, own={SE: "supervisee_id"}),
    # An evaluation is read by the supervisee evaluated and the supervisor who signed it, and
    # by officers and auditors of the supervisee's site; a consultation by its two clinicians
    # and those of its site.
    _COMPETENCY + "GetEvaluation": reads(
        SE,
        SV,
        OF,
        AU,
        record=EVALUATION,
        related=(SE, SV),
        subjects={"evaluation": "evaluation_id"},
    ),
    _CONSULTATION + "LogConsultation": writes(SE, SV, site="site_id", own={SE: "clinician_id"}),
    _CONSULTATION + "GetConsultation": reads(
        SE,
        SV,
        OF,
        AU,
        record=CONSULTATION,
        related=(SE, SV),
        subjects={"consultation": "consultation_id"},
    ),
    # Coaching: a coach works their own engagements.
    _COACHING + "OpenEngagement": writes(CO, RC, site="site_id", own={CO: "coach_id"}),
    **{_COACHING + rpc: writes(CO, record=ENGAGEMENT, related=(CO,)) for rpc in _COACHS_WORK},
    _COACHING + "GetEngagement": reads(
        CO, RC, OF, AU, record=ENGAGEMENT, related=(CO,), subjects={"engagement": "engagement_id"}
    ),
    # Referrals: raised by whoever sees the need, moved along by the coordinators.
    _REFERRAL + "RaiseReferral": writes(RC, CO, SV, site="site_id"),
    # A coordinator moves along the referrals of their sites; a coach reads those they are
    # party to (raised, or took a step of).
    **{_REFERRAL + rpc: writes(RC, record=REFERRAL) for rpc in _REFERRAL_STEPS},
    _REFERRAL + "GetReferral": reads(
        RC, CO, OF, AU, record=REFERRAL, related=(CO,), subjects={"referral": "referral_id"}
    ),
    _REFERRAL + "ListReferrals": reads(RC, OF, AU, site="site_id", subjects=_SITE),
    # Compliance views: officers and auditors at their sites; a supervisee their own figures.
    _COMPLIANCE + "GetSuperviseeHours": _SUPERVISEE_FIGURES,
    _COMPLIANCE + "ListOpenReferrals": reads(RC, OF, AU, site="site_id", subjects=_SITE),
    _COMPLIANCE + "GetSuperviseeRecord": _SUPERVISEE_FIGURES,
    _COMPLIANCE + "ListLicensesExpiring": reads(OF, AU),
    _COMPLIANCE + "ListServiceLevelBreaches": reads(RC, OF, AU, site="site_id", subjects=_SITE),
    _COMPLIANCE + "GetSuperviseeStanding": _SUPERVISEE_FIGURES,
    _COMPLIANCE + "ListSiteSupervisees": reads(SV, OF, AU, site="site_id", subjects=_SITE),
    _COMPLIANCE + "GetOrganizationOverview": reads(OF, AU),
    _COMPLIANCE + "GetSupervisorStanding": reads(
        SV, OF, AU, own={SV: "supervisor_id"}, subjects={"supervisor": "supervisor_id"}
    ),
    _COMPLIANCE + "ListVerdicts": reads(OF, AU, site="site_id", subjects=_SITE),
    # Credentials and the officers' decisions.
    **{_CREDENTIALS + rpc: writes(OF) for rpc in _LICENSE_STEPS},
    _CREDENTIALS + "GetCredentials": reads(
        SE, SV, OF, AU, own={SE: "holder_id"}, subjects={"license holder": "holder_id"}
    ),
    _OVERSIGHT + "ResolveVerdict": writes(OF),
    _OVERSIGHT + "RecordApprovedLeave": writes(OF),
    # The access log every service keeps: officers read their sites' entries, auditors all.
    _ACCESS_LOG + "ListAccess": reads(OF, AU),
}


def rule_for(method: str, policy: Mapping[str, Rule] = POLICY) -> Rule:
    """The rule of `method` ("/pkg.Service/Rpc"); UnguardedRpc when the policy has none."""
    rule = policy.get(method)
    if rule is None:
        raise UnguardedRpc(f"{method} has no access rule in the policy; it cannot be served")
    return rule


def needs_facts(rule: Rule, principal: Principal) -> bool:
    """Whether judging this caller needs the record's facts (an administrator's never do)."""
    return rule.record is not None and any(
        role in principal.roles for role in rule.roles if role is not Role.ADMINISTRATOR
    )


def authorize(
    method: str,
    rule: Rule,
    principal: Principal,
    request: Any,
    facts: RecordFacts | None = None,
) -> None:
    """Returns when one of the caller's roles admits this call; AccessDenied naming what is
    missing otherwise. `facts` are those of the record the rule names, where its service
    knows it."""
    held = [role for role in rule.roles if role in principal.roles]
    if not held:
        needed = ", ".join(sorted(rule.roles))
        raise AccessDenied(f"{method.rsplit('/', 1)[-1]} needs one of the roles: {needed}")
    refusals = [_refusal(rule, role, principal, request, facts) for role in sorted(held)]
    if any(refusal is None for refusal in refusals):
        return
    raise AccessDenied("; ".join(r for r in refusals if r is not None))


def _refusal(
    rule: Rule, role: Role, principal: Principal, request: Any, facts: RecordFacts | None
) -> str | None:
    if role is Role.ADMINISTRATOR:
        return None
    if (
        role is Role.AUDITOR
        and principal.lifetime is not None
        and principal.lifetime > AUDITOR_MAX_TOKEN_LIFETIME
    ):
        hours = AUDITOR_MAX_TOKEN_LIFETIME.total_seconds() / 3600
        return f"an auditor's token must be issued for at most {hours:g} hours"
    if rule.site_field is not None:
        site = getattr(request, rule.site_field, "")
        if site and site not in principal.sites:
            return (
                f"as {role}: the site {site!r} ({rule.site_field}) is not among the caller's sites"
            )
    if facts is not None and rule.record is not None:
        named = f"{rule.record.kind} {getattr(request, rule.record.field, '')!r}"
        if facts.site_id is not None and facts.site_id not in principal.sites:
            return (
                f"as {role}: the site {facts.site_id!r} of {named} is not among the caller's sites"
            )
        if role in rule.related and principal.subject not in facts.parties:
            return f"as {role}: the caller is not a party to {named}"
    own_field = rule.own.get(role)
    if own_field is not None:
        value = getattr(request, own_field, "")
        if value != principal.subject:
            return f"as {role}: {own_field} must be the caller's own id ({principal.subject!r})"
    return None


ROLE_COLUMNS: tuple[Role, ...] = (SE, SV, CO, RC, OF, AU, Role.ADMINISTRATOR)


def matrix_markdown(policy: Mapping[str, Rule] = POLICY) -> str:
    """The policy as the README shows it: one row per RPC, one column per role; `✓` may call,
    `own <field>` only with their own id in that field, `party` only when party to the record,
    blank refused; `site` names the request field whose site the caller must hold, `record`
    the record whose site (as its service knows it) the caller must hold, `audited` the
    subjects (and their request fields) each call is recorded against in the access log."""
    header = ["RPC", "kind", "site", "record", "audited", *(str(role) for role in ROLE_COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for method in sorted(policy, key=lambda m: (m.rsplit("/", 1)[0].rsplit(".", 1)[-1], m)):
        rule = policy[method]
        service, rpc = method.lstrip("/").rsplit("/", 1)
        cells = [
            f"{service.rsplit('.', 1)[-1]}.{rpc}",
            "write" if rule.write else "read",
            rule.site_field or "",
            "" if rule.record is None else f"{rule.record.kind} ({rule.record.field})",
            ", ".join(f"{kind} ({name})" for kind, name in rule.subjects.items()),
        ]
        for role in ROLE_COLUMNS:
            if role not in rule.roles:
                cells.append("")
            elif role in rule.own or role in rule.related:
                marks = [f"own {rule.own[role]}"] if role in rule.own else []
                marks += ["party"] if role in rule.related else []
                cells.append(", ".join(marks))
            else:
                cells.append("✓")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
