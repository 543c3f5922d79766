"""Remote jobs on tickets: check the ticket before a run, then append the job's summary.

The summary goes into the worklog as a REMOTE_JOB entry with the job's time, in one transaction
with its outbox operation (Writer.append_worklog), like every other worklog entry. Secrets never
reach it: JobResult carries only masked parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from workbench.core.models import Ticket, WorklogEntry, WorklogKind
from workbench.remote.jobs import JobResult
from workbench.services.tickets import TicketService, new_id


class RemoteService:
    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets

    def technician(self) -> str:
        return self.tickets.actor()

    def ticket_for_job(self, ref: str) -> Ticket:
        """The ticket a job will be recorded on (NotFound before anything runs)."""
        with self.tickets.store.read() as db:
            return db.ticket(ref)

    def record(self, result: JobResult) -> WorklogEntry | None:
        """Append the job summary to its ticket's worklog (None if the job had no ticket) and
        queue its central audit event, in one transaction."""
        with self.tickets.store.write() as tx:
            ticket = None if result.ticket_ref is None else tx.ticket(result.ticket_ref)
            tx.queue_audit(new_id(), _audit_event(result, ticket))
            if ticket is None:
                return None
            entry = WorklogEntry(
                new_id(),
                ticket.id,
                WorklogKind.REMOTE_JOB,
                result.technician,
                result.summary(),
                result.minutes,
                self.tickets.clock(),
            )
            tx.append_worklog(entry)
        return entry

    def audit(self, results: Iterable[JobResult]) -> None:
        """Queue the central audit events of jobs recorded on no ticket (a fan-out)."""
        with self.tickets.store.write() as tx:
            for result in results:
                tx.queue_audit(new_id(), _audit_event(result, None))


def _audit_event(result: JobResult, ticket: Ticket | None) -> dict[str, Any]:
    """What the central audit keeps of a job (DESIGN.md §11): parameters already masked."""
    return {
        "kind": "remote_job",
        "technician": result.technician,
        "at": result.finished_at,
        "host": result.host,
        "port": result.port,
        "recipe_id": result.recipe_id,
        "params": json.dumps(dict(result.params), ensure_ascii=False, sort_keys=True),
        "outcome": result.outcome.value,
        "exit_code": result.exit_code,
        "ticket_id": None if ticket is None else ticket.id,
        "ticket_ref": None if ticket is None else ticket.ref,
        "detail": f"{result.username}@{result.host}:{result.port}: {result.message}",
    }
