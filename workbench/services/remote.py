"""Remote jobs on tickets: check the ticket before a run, then append the job's summary.

The summary goes into the worklog as a REMOTE_JOB entry with the job's time, in one transaction
with its outbox operation (Writer.append_worklog), like every other worklog entry. Secrets never
reach it: JobResult carries only masked parameters.
"""

from __future__ import annotations

from workbench.core.errors import BadInput
from workbench.core.models import Ticket, WorklogEntry, WorklogKind
from workbench.remote.jobs import JobResult
from workbench.services.tickets import TicketService, new_id


class RemoteService:
    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets

    def technician(self) -> str:
        login = self.tickets.technician
        if not login:
            raise BadInput(
                "no technician is set: pass --as LOGIN or run `workbench whoami --set LOGIN`"
            )
        return login

    def ticket_for_job(self, ref: str) -> Ticket:
        """The ticket a job will be recorded on (NotFound before anything runs)."""
        with self.tickets.store.read() as db:
            return db.ticket(ref)

    def record(self, result: JobResult) -> WorklogEntry | None:
        """Append the job summary to its ticket's worklog; None if the job had no ticket."""
        if result.ticket_ref is None:
            return None
        with self.tickets.store.write() as tx:
            ticket = tx.ticket(result.ticket_ref)
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
