"""The compliance service's composition root: what it is made of, wired once."""

from __future__ import annotations

from compliance.adapters import license_index, read_model, standing_store
from compliance.adapters.license_index import SqlLicenseIndex
from compliance.adapters.publishing import translate
from compliance.adapters.read_model import Projector, SqlProjectedFacts
from compliance.adapters.relations import SqlComplianceRelations
from compliance.adapters.standing_store import SqlStandingStore
from compliance.application.credentials import CredentialRegistry
from compliance.application.live_standing import LiveStanding
from compliance.application.oversight import Oversight
from compliance.application.standing_keeper import CurrentOrLive, StandingKeeper
from compliance.entrypoints import consumers
from compliance.entrypoints.api.credentials import CredentialApi
from compliance.entrypoints.api.oversight import OversightApi
from compliance.entrypoints.api.views import ComplianceApi
from continuum.compliance.v1 import compliance_service_pb2 as pb
from continuum.compliance.v1 import compliance_service_pb2_grpc as pb_grpc
from continuum.compliance.v1 import credential_service_pb2 as credential_pb
from continuum.compliance.v1 import credential_service_pb2_grpc as credential_pb_grpc
from continuum.compliance.v1 import oversight_service_pb2 as oversight_pb
from continuum.compliance.v1 import oversight_service_pb2_grpc as oversight_pb_grpc
from contracts.rulepacks.loader import rule_packs
from contracts.rulepacks.model import RulePacks
from infra.grpc.server import ServiceBinding
from infra.runtime import Runtime, ServiceParts, ServiceSettings, rule_packs_at_start, run_service
from infra.timers import Timer

NAME = "compliance"
DEFAULT_PORT = 50054
GRPC_SERVICE = pb.DESCRIPTOR.services_by_name["ComplianceService"].full_name
CONSUMER_GROUP = "continuum.compliance"
CREDENTIAL_SERVICE = credential_pb.DESCRIPTOR.services_by_name["CredentialService"].full_name
OVERSIGHT_SERVICE = oversight_pb.DESCRIPTOR.services_by_name["OversightService"].full_name
# The read model's tables, the materialized standing and the credential registry's license table.
MIGRATIONS = (*read_model.MIGRATIONS, *standing_store.MIGRATIONS, *license_index.MIGRATIONS)
# How often the keeper looks for standings out of date: a view never waits for it (it evaluates
# what is out of date itself), so this only bounds how long a view does that work.
STANDING_KEEPER_SECONDS = 1.0


def credential_parts(runtime: Runtime) -> ServiceParts:
    """The credential registry: its API and the clock job that records expiry reminders and
    expiries (the registry's events are what this service publishes, see `translate`)."""
    registry = CredentialRegistry(runtime.runner, SqlLicenseIndex(runtime.db, runtime.keys))
    api = CredentialApi(registry, runtime.clock)
    return ServiceParts(
        grpc=[
            ServiceBinding(
                CREDENTIAL_SERVICE, api, credential_pb_grpc.add_CredentialServiceServicer_to_server
            )
        ],
        timers=[Timer("credential-reminders", registry.send_due_reminders)],
    )


def oversight_binding(
    runtime: Runtime, facts: SqlProjectedFacts, packs: RulePacks
) -> ServiceBinding[OversightApi]:
    """What compliance officers record: resolutions of verdicts and approved leave, decided on
    the supervisee's evaluation by the same rule packs as the views."""
    oversight = Oversight(runtime.runner, facts, packs)
    return ServiceBinding(
        OVERSIGHT_SERVICE,
        OversightApi(oversight, runtime.clock),
        oversight_pb_grpc.add_OversightServiceServicer_to_server,
    )


def compose(runtime: Runtime, packs: RulePacks | None = None) -> ServiceParts:
    packs = packs if packs is not None else rule_packs()
    facts = SqlProjectedFacts(runtime.db)
    # The projector marks what each batch touched in its own transaction; the keeper, on the
    # service's clock, evaluates the marked supervisees and the next date ahead of midnight. The
    # lists read the dates kept, as known now, from the store; any other date or moment live
    # from the facts, a whole site read in bulk.
    store = SqlStandingStore(runtime.db, packs, runtime.clock)
    standings = CurrentOrLive(store, LiveStanding(facts, packs), runtime.clock)
    api = ComplianceApi(facts, packs, standings, runtime.clock)
    credentials = credential_parts(runtime)
    keeper = StandingKeeper(store, clock=runtime.clock)
    projector = Projector(after_apply=standing_store.mark_touched)
    return ServiceParts(
        grpc=[
            ServiceBinding(GRPC_SERVICE, api, pb_grpc.add_ComplianceServiceServicer_to_server),
            *credentials.grpc,
            oversight_binding(runtime, facts, packs),
        ],
        timers=[
            *credentials.timers,
            Timer("standing-keeper", keeper, every=STANDING_KEEPER_SECONDS),
        ],
        subscriptions=consumers.subscriptions(
            runtime, projector, on_dead_letter=standing_store.record_unapplied
        ),
        # Where each supervisee is and who supervises them, for the access policy.
        relations=SqlComplianceRelations(runtime.db),
    )


async def run(settings: ServiceSettings) -> None:
    # The boards' rule packs, validated before anything runs: a malformed pack refuses the start.
    packs = rule_packs_at_start()
    await run_service(
        settings,
        migrations=MIGRATIONS,
        translate=translate,
        compose=lambda runtime: compose(runtime, packs),
    )
