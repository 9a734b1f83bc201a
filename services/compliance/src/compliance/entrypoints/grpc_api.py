"""The compliance gRPC API: audit views as of a date, each figure with its source events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc

from compliance.application.queries import ProjectedFacts, open_referrals, supervisee_hours
from continuum.compliance.v1 import compliance_service_pb2 as pb
from continuum.compliance.v1 import compliance_service_pb2_grpc as pb_grpc
from infra.ddd import Command, Id, InvalidInput
from infra.grpc.fields import date_field


class ComplianceApi(pb_grpc.ComplianceServiceServicer):
    def __init__(self, facts: ProjectedFacts, clock: Callable[[], dt.datetime]) -> None:
        self._facts = facts
        self._clock = clock

    async def GetSuperviseeHours(
        self, request: pb.GetSuperviseeHoursRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSuperviseeHoursResponse:
        supervisee_id = _required_id(request.supervisee_id, "supervisee_id")
        as_of = date_field(request.as_of, "as_of", default=self._clock().date())
        summary = await supervisee_hours(self._facts, supervisee_id, as_of)
        return pb.GetSuperviseeHoursResponse(
            supervisee_id=supervisee_id,
            as_of=as_of.isoformat(),
            total_minutes=summary.total_minutes,
            by_format_and_modality=[
                pb.MinutesBy(format=fmt, modality=modality, minutes=minutes)
                for (fmt, modality), minutes in summary.by_format_and_modality.items()
            ],
            sessions=[
                pb.SupervisionSessionRecord(
                    session_id=s.session_id,
                    date=s.date.isoformat(),
                    format=s.format,
                    modality=s.modality,
                    minutes=s.minutes,
                    supervisor_id=s.supervisor_id,
                    site_id=s.site_id,
                    source_event_id=s.source_event_id,
                )
                for s in summary.sessions
            ],
        )

    async def ListOpenReferrals(
        self, request: pb.ListOpenReferralsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOpenReferralsResponse:
        site_id = _required_id(request.site_id, "site_id")
        as_of = date_field(request.as_of, "as_of", default=self._clock().date())
        referrals = await open_referrals(self._facts, site_id, as_of)
        return pb.ListOpenReferralsResponse(
            site_id=site_id,
            as_of=as_of.isoformat(),
            referrals=[
                pb.OpenReferral(
                    referral_id=r.referral_id,
                    client_id=r.client_id,
                    to_service=r.to_service,
                    urgency=r.urgency,
                    raised_on=r.raised_on.isoformat(),
                    source_event_ids=list(r.source_event_ids),
                )
                for r in referrals
            ],
        )


class _IdQuery(Command):
    value: Id


def _required_id(value: str, field: str) -> str:
    try:
        return _IdQuery(value=value).value
    except InvalidInput as error:
        raise InvalidInput(field, error.reason) from None
