"""The rules' views on the wire: what the engine says of a supervisee, in the messages of
continuum.compliance.v1. Translation only: decimals as strings, absent values as empty strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from compliance.domain.engine import (
    DurationProgress,
    HoursProgress,
    Progress,
    RuleOutcome,
    StatusReason,
    SuperviseeStatus,
    Verdict,
    WindowRef,
    WindowTally,
)
from continuum.compliance.v1 import compliance_service_pb2 as pb


def text(value: object | None) -> str:
    """An optional value as the wire carries it: empty when absent, ISO for a date."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def decimal(value: Decimal | int | None) -> str:
    return "" if value is None else str(value)


def window(ref: WindowRef | None) -> pb.Window | None:
    if ref is None:
        return None
    return pb.Window(kind=ref.kind, start=ref.start.isoformat(), end=ref.end.isoformat())


def status_reason(reason: StatusReason) -> pb.StatusReason:
    return pb.StatusReason(
        kind=reason.kind,
        detail=reason.detail,
        on=text(reason.on),
        rule_id=text(reason.rule_id),
        verdict_id=text(reason.verdict_id),
        supervisor_id=text(reason.supervisor_id),
    )


def status(standing: SuperviseeStatus) -> pb.SuperviseeStatus:
    return pb.SuperviseeStatus(
        level=standing.level, reasons=[status_reason(r) for r in standing.reasons]
    )


def _hours(progress: HoursProgress) -> pb.HoursProgress:
    return pb.HoursProgress(
        counted_minutes=decimal(progress.counted_minutes),
        required_minutes=decimal(progress.required_minutes),
        remaining_minutes=decimal(progress.remaining_minutes),
        src=list(progress.src),
        confidence=text(progress.confidence),
        note=text(progress.note),
    )


def _duration(duration: DurationProgress) -> pb.DurationProgress:
    minimum = "" if duration.minimum_met is None else "met" if duration.minimum_met else "not_met"
    return pb.DurationProgress(
        started_on=text(duration.started_on),
        months_elapsed=duration.months_elapsed,
        weeks_elapsed=duration.weeks_elapsed,
        min_months=decimal(duration.min_months),
        min_weeks=decimal(duration.min_weeks),
        minimum_reached_on=text(duration.minimum_reached_on),
        minimum=minimum,
    )


def progress(shown: Progress) -> pb.Progress:
    return pb.Progress(
        pack_effective_from=text(shown.pack_effective_from),
        total=_hours(shown.total),
        direct_client=_hours(shown.direct_client),
        supervision=_hours(shown.supervision),
        duration=_duration(shown.duration),
        projected_completion=text(shown.projected_completion),
        pace_weeks=shown.pace_weeks,
        projection_note=shown.projection_note,
    )


def verdict(v: Verdict, supervisee_id: str) -> pb.Verdict:
    resolution = v.resolution
    return pb.Verdict(
        verdict_id=v.verdict_id,
        severity=v.severity,
        rule_id=v.rule_id,
        rule_kind=v.rule_kind,
        title=v.title,
        reason=v.reason,
        src=list(v.src),
        confidence=v.confidence,
        track=v.track,
        pack_effective_from=v.pack_effective_from.isoformat(),
        window=window(v.window),
        site_id=text(v.site_id),
        session_id=text(v.session_id),
        on=v.on.isoformat(),
        not_counted=pb.NotCounted(
            supervision_minutes=v.not_counted.supervision_minutes,
            direct_minutes=decimal(v.not_counted.direct_minutes),
            indirect_minutes=decimal(v.not_counted.indirect_minutes),
        ),
        evidence_event_ids=list(v.evidence_event_ids),
        resolution=(
            pb.VerdictResolution(
                kind=resolution.kind,
                reason=resolution.reason,
                by=resolution.by,
                on=resolution.on.isoformat(),
                recorded_at=resolution.recorded_at.isoformat(),
                source_event_id=resolution.source_event_id,
            )
            if resolution is not None
            else None
        ),
        supervisee_id=supervisee_id,
    )


def outcome(o: RuleOutcome) -> pb.RuleOutcome:
    return pb.RuleOutcome(
        rule_id=text(o.rule_id),
        rule_kind=text(o.rule_kind),
        pack_effective_from=text(o.pack_effective_from),
        window=window(o.window),
        site_id=text(o.site_id),
        status=o.status,
        risk=text(o.risk),
        reason=o.reason,
        measured=decimal(o.measured),
        required=decimal(o.required),
        measure=text(o.measure),
        verdict_ids=list(o.verdict_ids),
    )


def window_tally(t: WindowTally) -> pb.WindowTally:
    return pb.WindowTally(
        window=window(t.window),
        site_id=text(t.site_id),
        running=t.running,
        supervision=[
            pb.FormatModalityTally(
                format=m.format,
                modality=m.modality,
                recorded_minutes=m.recorded_minutes,
                counted_minutes=m.counted_minutes,
            )
            for m in t.supervision
        ],
        supervision_recorded_minutes=t.supervision_recorded_minutes,
        supervision_counted_minutes=t.supervision_counted_minutes,
        practice_direct_minutes=decimal(t.practice_direct_minutes),
        practice_indirect_minutes=decimal(t.practice_indirect_minutes),
        practice_direct_counted_minutes=decimal(t.practice_direct_counted_minutes),
        practice_indirect_counted_minutes=decimal(t.practice_indirect_counted_minutes),
        leave_days=t.leave_days,
        session_ids=list(t.session_ids),
        practice_event_ids=list(t.practice_event_ids),
    )
