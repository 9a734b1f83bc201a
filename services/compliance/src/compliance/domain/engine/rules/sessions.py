"""Stage one: rules that judge each session on its own, on the session's date, by the version of
the pack in force that day. A void here takes the whole session out of what counts, before any
window is tallied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from compliance.domain.agreements import AgreementAsOf
from compliance.domain.credentials.designations import requirement
from compliance.domain.engine.record import SessionEntry
from compliance.domain.engine.supervisors import SupervisorCredentials
from compliance.domain.engine.text import cited, day
from compliance.domain.engine.verdicts import Breach, SessionCut
from compliance.domain.engine.windows import add_months
from compliance.domain.standing import LicenseAsOf
from contracts.rulepacks.model import (
    BoardApprovalBeforeHoursCount,
    ContemporaneousRecord,
    GroupModalityRequired,
    ModalityNotCountable,
    SupervisorQualified,
)


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What the session rules read beside the session: the pack's state, how it counts triadic
    supervision, the supervisors' credentials and the supervisee's agreements."""

    state: str
    triadic_counts_as: str
    credentials: SupervisorCredentials
    agreements: Sequence[AgreementAsOf]
    # What a supervisor lacked, per period of unchanged standing: the same answer for every
    # session held in it, worked out once.
    qualification: dict[tuple[str, str, int, bool], tuple[list[str], list[str]]] = field(
        default_factory=dict
    )
    # From which day a supervisor has been licensed long enough, per (rule, supervisor).
    licensed_enough_from: dict[tuple[str, str], dt.date | None] = field(default_factory=dict)


def _breach(session: SessionEntry, reason: str, *evidence: str) -> Breach:
    return Breach(
        scope=f"session/{session.session_id}",
        on=session.date,
        reason=reason,
        evidence=(*session.source_event_ids, *evidence),
        session_id=session.session_id,
        session_cuts=(SessionCut(session, session.minutes),),
    )


def _counts_as_group(session: SessionEntry, triadic_counts_as: str) -> bool:
    return session.format == "group" or (
        session.format == "triadic" and triadic_counts_as == "group"
    )


def modality_not_countable(
    rule: ModalityNotCountable, session: SessionEntry, ctx: SessionContext
) -> Breach | None:
    """Supervision held by a modality the board does not count (OH3: not by telephone; FL2:
    telephone only does not count)."""
    if session.modality != rule.modality or session.format not in rule.formats:
        return None
    return _breach(
        session,
        f"{session.format} supervision by {session.modality.replace('_', ' ')} on "
        f"{day(session.date)} does not count{cited(rule)}",
    )


def group_modality_required(
    rule: GroupModalityRequired, session: SessionEntry, ctx: SessionContext
) -> Breach | None:
    """Group supervision counts only when held in one modality (FL1/FL2: in person)."""
    if not _counts_as_group(session, ctx.triadic_counts_as) or session.modality == rule.modality:
        return None
    return _breach(
        session,
        f"group supervision on {day(session.date)} was held by "
        f"{session.modality.replace('_', ' ')}; group supervision counts only "
        f"{rule.modality.replace('_', ' ')}{cited(rule)}",
    )


def _licensed(lic: LicenseAsOf) -> str:
    return f"{lic.kind} {lic.number} ({lic.state}, {lic.status})"


def supervisor_qualified(
    rule: SupervisorQualified, session: SessionEntry, ctx: SessionContext
) -> Breach | None:
    """On the session's date the supervisor held what the board asks (TX3/TX4: LPC-S on a full
    LPC held five years; OH3: LPCC-S; IL1/IL2: one of the listed licenses; FL3/FL5: a qualified
    supervisor approved by the board).

    - a license in good standing in the board's state (of `license_kinds`, when listed);
    - a designation of `designations` in force, its base license active that day;
    - the license for `min_years_licensed`, counted from the earliest license of those kinds
      the registry holds;
    - where `board_approval` is set, the board's approval of the supervisor, which the registry
      records as a supervisor designation in the state (one of `designations`, when listed).
    """
    holder, on = session.supervisor_id, session.date
    period = ctx.credentials.standing_period(holder, on)
    long_enough = _licensed_long_enough(rule, holder, on, ctx)
    key = (rule.id, holder, period, long_enough)
    found = ctx.qualification.get(key)
    if found is None:
        found = ctx.qualification[key] = _wanting(rule, holder, on, long_enough, ctx)
    wanting, evidence = found
    if not wanting:
        return None
    return _breach(
        session,
        f"supervisor {holder} was not qualified on {day(on)}: {'; '.join(wanting)}{cited(rule)}",
        *evidence,
        *session.lapse_event_ids,
    )


def _licensed_long_enough(
    rule: SupervisorQualified, holder: str, on: dt.date, ctx: SessionContext
) -> bool:
    if rule.min_years_licensed is None:
        return True
    key = (rule.id, holder)
    if key not in ctx.licensed_enough_from:
        kinds = rule.license_kinds
        issued = [
            t.fact.issued_on
            for t in ctx.credentials.licenses(holder)
            if t.fact.state == ctx.state and (not kinds or t.fact.kind in kinds)
        ]
        needed = rule.min_years_licensed * 12
        months = int(needed) if needed == needed.to_integral_value() else int(needed) + 1
        ctx.licensed_enough_from[key] = add_months(min(issued), months) if issued else None
    since = ctx.licensed_enough_from[key]
    return since is not None and since <= on


def _wanting(
    rule: SupervisorQualified,
    holder: str,
    on: dt.date,
    long_enough: bool,
    ctx: SessionContext,
) -> tuple[list[str], list[str]]:
    """What the supervisor lacked on `on`, and the credentials' events that say so."""
    in_state = [lic for lic in ctx.credentials.licenses_on(holder, on) if lic.state == ctx.state]
    kinds = rule.license_kinds
    eligible = [lic for lic in in_state if not kinds or lic.kind in kinds]
    good = [lic for lic in eligible if lic.in_good_standing]
    wanting: list[str] = []
    evidence: list[str] = [e for lic in in_state for e in lic.source_event_ids]
    what = f"{' or '.join(kinds)} license" if kinds else "license"
    if not good:
        held = "; held: " + ", ".join(_licensed(lic) for lic in in_state) if in_state else ""
        wanting.append(f"no {what} in good standing in {ctx.state}{held}")
    elif not long_enough:
        assert rule.min_years_licensed is not None
        first = min(lic.issued_on for lic in eligible)
        wanting.append(
            f"licensed since {day(first)}, less than the {_years(rule.min_years_licensed)} "
            "years the board asks"
        )
    if rule.designations or rule.board_approval:
        designations = [
            d
            for d in ctx.credentials.designations_on(holder, on)
            if d.state == ctx.state
            and (not rule.designations or d.designation in rule.designations)
        ]
        evidence.extend(d.source_event_id for d in designations)
        based = [d for d in designations if _base_license_active(d.state, d.designation, in_state)]
        named = " or ".join(rule.designations) or "supervisor"
        if not designations:
            wanting.append(
                f"no {named} designation in force"
                + (" (the board's approval of the supervisor)" if rule.board_approval else "")
            )
        elif not based:
            wanting.append(f"the {named} designation's base license was not active")
    return wanting, evidence


def _years(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _base_license_active(state: str, designation: str, licenses: Sequence[LicenseAsOf]) -> bool:
    bases = requirement(state, designation).base_license_kinds
    return any(
        lic.in_good_standing and lic.state == state and (not bases or lic.kind in bases)
        for lic in licenses
    )


def _agreement(session: SessionEntry, ctx: SessionContext) -> AgreementAsOf | None:
    return next((a for a in ctx.agreements if a.agreement_id == session.agreement_id), None)


def board_approval_before_hours_count(
    rule: BoardApprovalBeforeHoursCount, session: SessionEntry, ctx: SessionContext
) -> Breach | None:
    """No hour counts under an agreement before the board approved it (FL5; NC1/NC5: the
    contract approved before practice)."""
    agreement = _agreement(session, ctx)
    if agreement is None:
        return _breach(
            session,
            f"no agreement with supervisor {session.supervisor_id} at {session.site_id} covers "
            f"{day(session.date)}, so none was approved by the board{cited(rule)}",
        )
    approval = agreement.approval
    if approval is not None and approval.approved_on <= session.date:
        return None
    since = f" (approved on {day(approval.approved_on)})" if approval else ""
    return _breach(
        session,
        f"agreement {agreement.agreement_id} was not approved by the board by "
        f"{day(session.date)}{since}; no hour under it counts before{cited(rule)}",
        *agreement.source_event_ids,
    )


def contemporaneous_record(
    rule: ContemporaneousRecord, session: SessionEntry, ctx: SessionContext
) -> Breach | None:
    """The session was put on the record within `within_days` of being held: what an auditor
    asks for, a contemporaneous record per session (DOMAIN.md, "What an auditor asks to see")."""
    recorded_on = session.recorded_at.astimezone(dt.UTC).date()
    delay = (recorded_on - session.date).days
    if delay <= rule.within_days:
        return None
    breach = _breach(
        session,
        f"the session of {day(session.date)} was recorded on {day(recorded_on)}, {delay} days "
        f"after it was held (the record is to be made within {rule.within_days} days)"
        f"{cited(rule)}",
    )
    return breach
