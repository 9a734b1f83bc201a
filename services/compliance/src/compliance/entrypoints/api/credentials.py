"""The credential registry's gRPC API: wire messages in, commands to the registry, replies out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc

from compliance.application.credentials import CredentialRegistry, LicenseStanding, Outcome
from compliance.domain.credentials.commands import (
    ExpireLicense,
    LicenseCommand,
    RecordLicense,
    RecordSupervisorDesignation,
    ReinstateLicense,
    RenewLicense,
    RevokeLicense,
    SuspendLicense,
)
from compliance.domain.credentials.holder import Designation, HolderState, License, LicenseStatus
from continuum.compliance.v1 import credential_service_pb2 as pb
from continuum.compliance.v1 import credential_service_pb2_grpc as pb_grpc
from infra.grpc.fields import date_field, id_field
from infra.grpc.metadata import call_context
from infra.runtime import command_context

STATUSES: dict[LicenseStatus, pb.CredentialLicenseStatus.ValueType] = {
    "active": pb.CREDENTIAL_LICENSE_STATUS_ACTIVE,
    "suspended": pb.CREDENTIAL_LICENSE_STATUS_SUSPENDED,
    "expired": pb.CREDENTIAL_LICENSE_STATUS_EXPIRED,
    "revoked": pb.CREDENTIAL_LICENSE_STATUS_REVOKED,
}


class CredentialApi(pb_grpc.CredentialServiceServicer):
    def __init__(self, registry: CredentialRegistry, clock: Callable[[], dt.datetime]) -> None:
        self._registry = registry
        self._clock = clock

    async def RecordLicense(
        self, request: pb.RecordLicenseRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordLicenseResponse:
        command = RecordLicense(
            license_id=request.license_id,
            holder_id=request.holder_id,
            kind=request.kind,
            number=request.number,
            state=request.state,
            issued_on=date_field(request.issued_on, "issued_on"),
            expires_on=date_field(request.expires_on, "expires_on"),
        )
        ctx = command_context(call_context(context), self._clock())
        outcome = await self._registry.record_license(command, ctx)
        lic = _license(outcome, command.license_id)
        return pb.RecordLicenseResponse(
            license_id=lic.license_id,
            status=STATUSES[lic.status],
            already_recorded=not outcome.recorded,
        )

    async def RenewLicense(
        self, request: pb.RenewLicenseRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenewLicenseResponse:
        command = RenewLicense(
            license_id=request.license_id,
            renewed_on=date_field(request.renewed_on, "renewed_on"),
            expires_on=date_field(request.expires_on, "expires_on"),
        )
        outcome, lic = await self._change(command, context)
        return pb.RenewLicenseResponse(
            license_id=lic.license_id,
            status=STATUSES[lic.status],
            expires_on=lic.expires_on.isoformat(),
            already_recorded=not outcome.recorded,
        )

    async def SuspendLicense(
        self, request: pb.SuspendLicenseRequest, context: grpc.aio.ServicerContext
    ) -> pb.SuspendLicenseResponse:
        command = SuspendLicense(
            license_id=request.license_id,
            effective_on=date_field(request.effective_on, "effective_on"),
            reason=request.reason,
        )
        outcome, lic = await self._change(command, context)
        return pb.SuspendLicenseResponse(
            license_id=lic.license_id,
            status=STATUSES[lic.status],
            already_recorded=not outcome.recorded,
        )

    async def ReinstateLicense(
        self, request: pb.ReinstateLicenseRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReinstateLicenseResponse:
        command = ReinstateLicense(
            license_id=request.license_id,
            effective_on=date_field(request.effective_on, "effective_on"),
        )
        outcome, lic = await self._change(command, context)
        return pb.ReinstateLicenseResponse(
            license_id=lic.license_id,
            status=STATUSES[lic.status],
            already_recorded=not outcome.recorded,
        )

    async def RevokeLicense(
        self, request: pb.RevokeLicenseRequest, context: grpc.aio.ServicerContext
    ) -> pb.RevokeLicenseResponse:
        command = RevokeLicense(
            license_id=request.license_id,
            effective_on=date_field(request.effective_on, "effective_on"),
            reason=request.reason,
        )
        outcome, lic = await self._change(command, context)
        return pb.RevokeLicenseResponse(
            license_id=lic.license_id,
            status=STATUSES[lic.status],
            already_recorded=not outcome.recorded,
        )

    async def ExpireLicense(
        self, request: pb.ExpireLicenseRequest, context: grpc.aio.ServicerContext
    ) -> pb.ExpireLicenseResponse:
        command = ExpireLicense(
            license_id=request.license_id,
            expired_on=(
                date_field(request.expired_on, "expired_on") if request.expired_on else None
            ),
        )
        outcome, lic = await self._change(command, context)
        return pb.ExpireLicenseResponse(
            license_id=lic.license_id,
            status=STATUSES[lic.status],
            expired_on=lic.status_since.isoformat() if lic.status == "expired" else "",
            already_recorded=not outcome.recorded,
        )

    async def RecordSupervisorDesignation(
        self, request: pb.RecordSupervisorDesignationRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordSupervisorDesignationResponse:
        command = RecordSupervisorDesignation(
            designation_id=request.designation_id,
            holder_id=request.holder_id,
            designation=request.designation,
            state=request.state,
            granted_on=date_field(request.granted_on, "granted_on"),
            expires_on=(
                date_field(request.expires_on, "expires_on") if request.expires_on else None
            ),
            training_hours=request.training_hours,
            training_completed_on=date_field(
                request.training_completed_on, "training_completed_on"
            ),
        )
        ctx = command_context(call_context(context), self._clock())
        outcome = await self._registry.record_designation(command, ctx)
        return pb.RecordSupervisorDesignationResponse(
            designation_id=command.designation_id, already_recorded=not outcome.recorded
        )

    async def GetCredentials(
        self, request: pb.GetCredentialsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCredentialsResponse:
        holder_id = id_field(request.holder_id, "holder_id")
        holder = await self._registry.credentials_of(holder_id)
        return _credentials_message(holder_id, holder)

    async def _change(
        self, command: LicenseCommand, context: grpc.aio.ServicerContext
    ) -> tuple[Outcome, LicenseStanding]:
        ctx = command_context(call_context(context), self._clock())
        outcome = await self._registry.change_license(command, ctx)
        return outcome, _license(outcome, command.license_id)


def _license(outcome: Outcome, license_id: str) -> LicenseStanding:
    if outcome.license is None:
        raise AssertionError(f"license {license_id} missing from its outcome")
    return outcome.license


def _credentials_message(holder_id: str, holder: HolderState) -> pb.GetCredentialsResponse:
    return pb.GetCredentialsResponse(
        holder_id=holder_id,
        licenses=[_license_message(lic) for lic in holder.licenses],
        designations=[_designation_message(d) for d in holder.designations],
    )


def _license_message(lic: License) -> pb.CredentialLicense:
    return pb.CredentialLicense(
        license_id=lic.license_id,
        kind=lic.kind,
        number=lic.number,
        state=lic.state,
        issued_on=lic.issued_on.isoformat(),
        expires_on=lic.expires_on.isoformat(),
        status=STATUSES[lic.status],
        status_since=lic.status_since.isoformat(),
        changes=[
            pb.CredentialStatusChange(
                action=c.action,
                status=STATUSES[c.status],
                effective_on=c.effective_on.isoformat(),
                reason=c.reason or "",
            )
            for c in lic.changes
        ],
        renewals=[
            pb.CredentialRenewal(
                renewed_on=r.renewed_on.isoformat(), expires_on=r.expires_on.isoformat()
            )
            for r in lic.renewals
        ],
        reminders=[
            pb.CredentialExpiryReminder(
                expires_on=r.expires_on.isoformat(),
                days_before=r.days_before,
                due_on=r.due_on.isoformat(),
            )
            for r in lic.reminders
        ],
    )


def _designation_message(d: Designation) -> pb.CredentialDesignation:
    return pb.CredentialDesignation(
        designation_id=d.designation_id,
        designation=d.designation,
        state=d.state,
        granted_on=d.granted_on.isoformat(),
        expires_on=d.expires_on.isoformat() if d.expires_on else "",
        training_hours=d.training_hours,
        training_completed_on=d.training_completed_on.isoformat(),
    )
