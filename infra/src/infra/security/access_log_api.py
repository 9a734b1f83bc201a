"""The AccessLogService every service serves over its own access log: a gRPC entry point that
only translates (the policy admits officers and auditors; officers see their sites' entries)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from continuum.audit.v1 import access_log_service_pb2 as pb
from continuum.audit.v1 import access_log_service_pb2_grpc as pb_grpc
from infra.ddd import InvalidInput
from infra.grpc.fields import timestamp_field
from infra.grpc.server import ServiceBinding
from infra.security.access_log import MAX_PAGE, AccessEntry, AccessLog, AccessQuery
from infra.security.policy import Role
from infra.security.principal import CURRENT_PRINCIPAL

GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["AccessLogService"].full_name
DEFAULT_PAGE = 100


class AccessLogApi(pb_grpc.AccessLogServiceServicer):
    def __init__(self, log: AccessLog) -> None:
        self._log = log

    async def ListAccess(
        self, request: pb.ListAccessRequest, context: Any
    ) -> pb.ListAccessResponse:
        subject, actor = request.subject_id or None, request.actor or None
        if (subject is None) == (actor is None):
            raise InvalidInput("subject_id", "give exactly one of subject_id and actor")
        if request.page_size < 0 or request.page_size > MAX_PAGE:
            raise InvalidInput("page_size", f"must be between 0 and {MAX_PAGE}")
        try:
            after = int(request.page_token or "0")
        except ValueError:
            raise InvalidInput("page_token", "is not a token this service returned") from None
        principal = CURRENT_PRINCIPAL.get()
        # Officers see the entries of their own sites; auditors and administrators every site.
        sites = (
            None
            if principal is None or principal.roles & {Role.AUDITOR, Role.ADMINISTRATOR}
            else principal.sites
        )
        page = await self._log.find(
            AccessQuery(
                subject_id=subject,
                actor=actor,
                since=_moment(getattr(request, "from"), "from"),
                until=_moment(request.to, "to"),
                sites=sites,
                limit=request.page_size or DEFAULT_PAGE,
                after=after,
            )
        )
        return pb.ListAccessResponse(
            entries=[_entry(e) for e in page.entries],
            next_page_token="" if page.last is None else str(page.last),
        )


def _moment(value: str, field: str) -> dt.datetime | None:
    return timestamp_field(value, field, default=dt.datetime.now(dt.UTC)) if value else None


def _entry(entry: AccessEntry) -> pb.AccessEntry:
    return pb.AccessEntry(
        access_id=str(entry.access_id),
        at=entry.at.isoformat(),
        actor=entry.actor,
        roles=list(entry.roles),
        rpc=entry.rpc,
        subjects=[pb.AccessSubject(kind=s.kind, id=s.id) for s in entry.subjects],
        outcome=entry.outcome,
        peer=entry.peer,
        correlation_id=entry.correlation_id,
        site_id=entry.site_id or "",
    )


def access_log_binding(log: AccessLog) -> ServiceBinding[AccessLogApi]:
    return ServiceBinding(
        GRPC_SERVICE, AccessLogApi(log), pb_grpc.add_AccessLogServiceServicer_to_server
    )
