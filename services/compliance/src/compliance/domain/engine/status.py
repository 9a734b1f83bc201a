"""A supervisee's standing on a date, with its reasons.

- out of compliance: a void or a finding no compliance officer has resolved;
- at risk: a window running short with few days left, a supervisor's license or designation
  expiring within `policy.credential_expiring_within_days`, an evaluation due within
  `policy.evaluation_due_within_days`;
- compliant otherwise;
- not evaluated: no rule pack judges the supervisee (no registration, or no pack for the track),
  which is never reported as compliant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from compliance.domain.agreements import AgreementAsOf
from compliance.domain.engine.supervisors import SupervisorCredentials
from compliance.domain.engine.verdicts import Verdict

StatusLevel = Literal["compliant", "at_risk", "out_of_compliance", "not_evaluated"]
ReasonKind = Literal[
    "verdict", "window_at_risk", "credential_expiring", "evaluation_due", "not_evaluated"
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatusReason(_Out):
    kind: ReasonKind
    detail: str
    on: dt.date | None = None
    rule_id: str | None = None
    verdict_id: str | None = None
    supervisor_id: str | None = None


class SuperviseeStatus(_Out):
    level: StatusLevel
    # Unresolved verdicts first, then what puts the supervisee at risk.
    reasons: tuple[StatusReason, ...]


def expiring_credentials(
    credentials: SupervisorCredentials,
    agreements: Sequence[AgreementAsOf],
    as_of: dt.date,
    within_days: int,
) -> list[StatusReason]:
    """The licenses in good standing and the designations in force, of the supervisors under an
    agreement covering `as_of`, that expire within `within_days`."""
    reasons: list[StatusReason] = []
    supervisors = sorted({a.supervisor_id for a in agreements if a.covers(as_of)})
    for holder in supervisors:
        for timeline in credentials.licenses(holder):
            lic = timeline.on(as_of)
            if lic is None or not lic.in_good_standing:
                continue
            left = (lic.expires_on - as_of).days
            if 0 <= left <= within_days:
                reasons.append(
                    StatusReason(
                        kind="credential_expiring",
                        detail=(
                            f"supervisor {holder}'s {lic.kind} license {lic.number} expires on "
                            f"{lic.expires_on.isoformat()}, in {left} days"
                        ),
                        on=lic.expires_on,
                        supervisor_id=holder,
                    )
                )
        for designation in credentials.designations_on(holder, as_of):
            if designation.expires_on is None:
                continue
            left = (designation.expires_on - as_of).days
            if left <= within_days:
                reasons.append(
                    StatusReason(
                        kind="credential_expiring",
                        detail=(
                            f"supervisor {holder}'s {designation.designation} designation "
                            f"expires on {designation.expires_on.isoformat()}, in {left} days"
                        ),
                        on=designation.expires_on,
                        supervisor_id=holder,
                    )
                )
    return reasons


def status_of(
    verdicts: Iterable[Verdict],
    risks: Iterable[StatusReason],
    not_evaluated: str | None = None,
) -> SuperviseeStatus:
    """The level and its reasons: the unresolved verdicts, then `risks` (windows and
    evaluations at risk, credentials expiring); `not_evaluated` says why no pack judged the
    supervisee."""
    if not_evaluated is not None:
        return SuperviseeStatus(
            level="not_evaluated",
            reasons=(StatusReason(kind="not_evaluated", detail=not_evaluated),),
        )
    standing = [
        StatusReason(
            kind="verdict",
            detail=v.reason,
            on=v.on,
            rule_id=v.rule_id,
            verdict_id=v.verdict_id,
        )
        for v in verdicts
        if not v.resolved
    ]
    at_risk = list(risks)
    level: StatusLevel = "out_of_compliance" if standing else "at_risk" if at_risk else "compliant"
    return SuperviseeStatus(level=level, reasons=(*standing, *at_risk))
