"""What the access policy asks supervision about the records a request names by id: a
session's site and people, a supervisee's home site and supervisors, an evaluation's
supervisee (whose home site it belongs to) and supervisor, a consultation's site and the two
clinicians."""

from __future__ import annotations

from infra.commands import CommandRunner
from infra.security.relations import RecordFacts
from supervision.application.consultations import CONSULTATION
from supervision.application.evaluations import EVALUATION
from supervision.application.handlers import SESSION, SUPERVISEE


class SupervisionRelations:
    """The Relations port, answered from the service's own streams (through the runner's
    cache, so a record being worked on is read once)."""

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    async def facts(self, kind: str, record_id: str) -> RecordFacts | None:
        if kind == "session":
            session, _ = await self._runner.state(SESSION, record_id)
            if session.session is None:
                return None
            record = session.session
            return RecordFacts(
                record.site_id, frozenset({record.supervisor_id, *record.supervisee_ids})
            )
        if kind == "supervisee":
            supervisee, _ = await self._runner.state(SUPERVISEE, record_id)
            if supervisee.supervisee_id is None:
                return None
            supervisors = {agreement.supervisor_id for agreement in supervisee.agreements}
            return RecordFacts(
                None if supervisee.home is None else supervisee.home.site_id,
                frozenset({record_id, *supervisors}),
            )
        if kind == "evaluation":
            evaluation, _ = await self._runner.state(EVALUATION, record_id)
            if evaluation.signed is None:
                return None
            signed = evaluation.signed
            evaluated = await self.facts("supervisee", signed.supervisee_id)
            return RecordFacts(
                None if evaluated is None else evaluated.site_id,
                frozenset({signed.supervisee_id, signed.supervisor_id}),
            )
        if kind == "consultation":
            consultation, _ = await self._runner.state(CONSULTATION, record_id)
            if consultation.logged is None:
                return None
            logged = consultation.logged
            return RecordFacts(
                logged.site_id, frozenset({logged.clinician_id, logged.consultant_id})
            )
        return None
