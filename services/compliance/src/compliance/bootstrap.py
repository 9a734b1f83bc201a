"""The compliance service's composition root: what it is made of, wired once."""

from __future__ import annotations

from compliance.adapters import license_index
from compliance.adapters.license_index import SqlLicenseIndex
from compliance.adapters.publishing import translate
from compliance.adapters.read_model import MIGRATIONS, SqlProjectedFacts
from compliance.application.credentials import CredentialRegistry
from compliance.application.live_standing import LiveStanding
from compliance.entrypoints import consumers
from compliance.entrypoints.grpc_api import ComplianceApi
from compliance.entrypoints.grpc_credentials import CredentialApi
from continuum.compliance.v1 import compliance_service_pb2 as pb
from continuum.compliance.v1 import compliance_service_pb2_grpc as pb_grpc
from continuum.compliance.v1 import credential_service_pb2 as credential_pb
from continuum.compliance.v1 import credential_service_pb2_grpc as credential_pb_grpc
from contracts.rulepacks.model import RulePacks
from infra.grpc.server import ServiceBinding
from infra.runtime import Runtime, ServiceParts, ServiceSettings, rule_packs_at_start, run_service
from infra.timers import Timer

NAME = "compliance"
DEFAULT_PORT = 50054
GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["ComplianceService"].full_name
CONSUMER_GROUP = "continuum.compliance"
CREDENTIAL_SERVICE = credential_pb.DESCRIPTOR.services_by_name["CredentialService"].full_name
# The read model's tables and the credential registry's license table.
ALL_MIGRATIONS = (*MIGRATIONS, *license_index.MIGRATIONS)


def credential_parts(runtime: Runtime) -> ServiceParts:
    """The credential registry: its API and the clock job that records expiry reminders and
    expiries (the registry's events are what this service publishes, see `translate`)."""
    registry = CredentialRegistry(runtime.runner, SqlLicenseIndex(runtime.db))
    api = CredentialApi(registry, runtime.clock)
    return ServiceParts(
        grpc=[
            ServiceBinding(
                CREDENTIAL_SERVICE, api, credential_pb_grpc.add_CredentialServiceServicer_to_server
            )
        ],
        timers=[Timer("credential-reminders", registry.send_due_reminders)],
    )


def compose(runtime: Runtime, packs: RulePacks) -> ServiceParts:
    facts = SqlProjectedFacts(runtime.db)
    api = ComplianceApi(facts, packs, LiveStanding(facts, packs), runtime.clock)
    credentials = credential_parts(runtime)
    return ServiceParts(
        grpc=[
            ServiceBinding(GRPC_SERVICE, api, pb_grpc.add_ComplianceServiceServicer_to_server),
            *credentials.grpc,
        ],
        timers=[*credentials.timers],
        subscriptions=consumers.subscriptions(runtime),
    )


async def run(settings: ServiceSettings) -> None:
    # The boards' rule packs, validated before anything runs: a malformed pack refuses the start.
    packs = rule_packs_at_start()
    await run_service(
        settings,
        migrations=ALL_MIGRATIONS,
        translate=translate,
        compose=lambda runtime: compose(runtime, packs),
    )
