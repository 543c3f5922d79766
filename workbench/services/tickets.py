"""Ticket work: intake, edits, lifecycle actions, notes and time, lists and search.

Each mutation reads the ticket, applies the lifecycle rule and writes the result, its worklog
entries and their outbox operations in one write transaction. A user action made of several
mutations (save fields: edit and assign; a tree's accept: resolve, transcript and run state)
runs them inside `unit_of_work()`, so it too commits once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workbench.core.errors import BadInput, NotFound
from workbench.core.lifecycle import Change, Lifecycle, opening_event
from workbench.core.models import (
    OPEN_STATUSES,
    Asset,
    Requester,
    Site,
    Technician,
    Ticket,
    TicketDetail,
    WorklogEntry,
    WorklogKind,
)
from workbench.core.policy import SlaPolicy
from workbench.core.query import SearchHit, TicketQuery, TicketSummary
from workbench.core.refs import provisional_ref
from workbench.store import Reader, Store, Writer, sync_state

Clock = Callable[[], datetime]
MAX_MINUTES = 24 * 60


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    # uuid6 reads its package metadata when imported (tens of ms): it loads with the first
    # new record, not with every start of the window.
    from uuid6 import uuid7  # noqa: PLC0415

    return str(uuid7())


@dataclass(frozen=True, slots=True)
class RequesterDetail:
    requester: Requester
    open_tickets: tuple[TicketSummary, ...]
    assets: tuple[Asset, ...]
    site: Site | None


def may_take(technician: Technician, tier: int) -> bool:
    """Whether `technician` may be given a ticket of `tier` (see TicketService._may_take)."""
    return technician.active and technician.tier >= tier


class TicketService:
    def __init__(
        self,
        store: Store,
        policy: SlaPolicy,
        technician: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.policy = policy
        self.lifecycle = Lifecycle(policy)
        self.clock = clock
        self._technician = technician
        self._unit = threading.local()  # the writer of the unit of work open on each thread

    # -- transactions ------------------------------------------------------------------------
    @contextmanager
    def unit_of_work(self) -> Iterator[Writer]:
        """One write transaction for one user action: the service's mutations and reads run on
        it and commit once when the block ends; an error anywhere in it rolls all of them back.
        A unit opened inside another joins it (every mutation opens one of its own)."""
        current: Writer | None = getattr(self._unit, "writer", None)
        if current is not None:
            yield current
            return
        with self.store.write() as tx:
            self._unit.writer = tx
            try:
                yield tx
            finally:
                self._unit.writer = None

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """A read that sees the open unit of work's changes (a fresh read outside one)."""
        current: Writer | None = getattr(self._unit, "writer", None)
        if current is not None:
            yield current
            return
        with self.store.read() as db:
            yield db

    # -- who is working ------------------------------------------------------------------
    @property
    def technician(self) -> str | None:
        if self._technician:
            return self._technician
        with self.reading() as db:
            return db.meta("technician")

    def set_technician(self, login: str) -> None:
        with self.unit_of_work() as tx:
            self._may_act(tx, login)
            tx.set_meta("technician", login)
        self._technician = login

    def actor(self) -> str:
        """Who the work being recorded is by (--as, else `whoami --set`, else `login`)."""
        with self.reading() as db:
            return self._actor(db)

    def _actor(self, db: Reader) -> str:
        login = self._technician or db.meta("technician")
        if not login:
            raise BadInput(
                "no technician is set: pass --as LOGIN, run `workbench whoami --set LOGIN`, "
                "or sign in to your help desk with `workbench login`"
            )
        return self._may_act(db, login)

    @staticmethod
    def _may_act(db: Reader, login: str) -> str:
        """One rule for --as and `whoami --set`: a cache signed in to a central database
        works as its technician only (the central refuses anyone else's work); another cache
        as one of its technicians, or as anyone while it knows none."""
        signed_in = db.meta(sync_state.TECHNICIAN) if db.meta(sync_state.CENTRAL_URL) else None
        if signed_in and login != signed_in:
            raise BadInput(
                f"this cache signs in to the central database as {signed_in!r}: work as "
                f"{login!r} could never be sent; sign in as {login!r} with `workbench login`"
            )
        if not signed_in and db.technicians() and db.technician(login) is None:
            raise NotFound(f"no technician with login {login!r}")
        return login

    @staticmethod
    def _known_technician(db: Reader, login: str) -> str:
        if db.technician(login) is None:
            raise NotFound(f"no technician with login {login!r}")
        return login

    @staticmethod
    def _may_take(db: Reader, login: str, tier: int, queue: str) -> None:
        """Someone a ticket of `tier` may go to: active, and of that tier or above (an
        escalation is for those who can do more, not for the tier it leaves)."""
        found = db.technician(login)
        if found is None:
            raise NotFound(f"no technician with login {login!r}")
        if may_take(found, tier):
            return
        if not found.active:
            raise BadInput(f"{login} is retired and takes no tickets")
        raise BadInput(
            f"{login} is tier {found.tier}: a ticket in the tier-{tier} queue ({queue}) "
            f"goes to a technician of tier {tier} or above"
        )

    @staticmethod
    def _timezone(db: Reader, site_id: str | None) -> str | None:
        site = db.site(site_id) if site_id else None
        return site.timezone if site else None

    # -- reads -----------------------------------------------------------------------------
    def detail(self, ref: str) -> TicketDetail:
        with self.reading() as db:
            return db.detail(ref)

    def find(self, query: TicketQuery, offset: int = 0, limit: int = 100) -> list[TicketSummary]:
        with self.reading() as db:
            return db.tickets(query, offset, limit)

    def count(self, query: TicketQuery) -> int:
        with self.reading() as db:
            return db.count(query)

    def technicians(self) -> list[Technician]:
        with self.reading() as db:
            return db.technicians()

    def find_requesters(self, text: str, limit: int = 20) -> list[Requester]:
        with self.reading() as db:
            return db.find_requesters(text, limit)

    def requesters(self, offset: int = 0, limit: int = 100) -> tuple[int, list[Requester]]:
        """How many requesters the cache knows, and a page of them by name."""
        with self.reading() as db:
            return db.requester_count(), db.requesters(offset, limit)

    def search_requesters(self, text: str, limit: int = 50) -> list[Requester]:
        with self.reading() as db:
            return db.search_requesters(text, limit)

    def requester(self, key: str) -> RequesterDetail:
        """A requester named by id, e-mail or name, with their open tickets and assets."""
        with self.reading() as db:
            found = db.requester_by_key(key)
            return RequesterDetail(
                found,
                tuple(db.requester_tickets(found.id, OPEN_STATUSES)),
                tuple(db.requester_assets(found.id)),
                db.site(found.site_id) if found.site_id else None,
            )

    def find_assets(self, text: str, limit: int = 20) -> list[Asset]:
        with self.reading() as db:
            return db.find_assets(text, limit)

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        with self.reading() as db:
            return db.search(text, limit)

    # -- intake ----------------------------------------------------------------------------
    def create(
        self,
        *,
        title: str,
        category: str,
        impact: int,
        urgency: int,
        channel: str = "phone",
        description: str = "",
        requester: str | None = None,
        asset: str | None = None,
        priority: str | None = None,
        priority_reason: str | None = None,
        queue: str | None = None,
        assignee: str | None = None,
    ) -> TicketDetail:
        now = self.clock()
        with self.unit_of_work() as tx:
            actor = self._actor(tx)
            found_requester = tx.requester_by_key(requester) if requester else None
            found_asset = tx.asset_by_key(asset) if asset else None
            site_id = (found_asset.site_id if found_asset else None) or (
                found_requester.site_id if found_requester else None
            )
            ticket_id = new_id()
            ticket = self.lifecycle.new_ticket(
                ticket_id=ticket_id,
                provisional_ref=provisional_ref(ticket_id, tx.next_provisional_number()),
                title=title,
                description=description,
                category=category,
                channel=channel,
                impact=impact,
                urgency=urgency,
                now=now,
                timezone=self._timezone(tx, site_id),
                requester_id=found_requester.id if found_requester else None,
                asset_id=found_asset.id if found_asset else None,
                site_id=site_id,
                priority=priority,
                priority_reason=priority_reason,
                queue=queue,
                assignee=assignee,
            )
            if assignee:
                self._may_take(tx, assignee, ticket.tier, ticket.queue)
            tx.insert_ticket(ticket)
            opened = opening_event(ticket)
            self._log(tx, ticket, actor, opened.kind, opened.text, opened.minutes, now)
            return tx.detail(ticket.id)

    def add_requester(
        self,
        name: str,
        email: str,
        phone: str = "",
        department: str = "",
        site_id: str | None = None,
    ) -> Requester:
        if not name.strip():
            raise BadInput("a requester needs a name")
        with self.unit_of_work() as tx:
            self._actor(tx)
            if site_id and tx.site(site_id) is None:
                raise NotFound(f"no site {site_id!r}")
            requester = Requester(
                new_id(), name.strip(), email.strip(), phone.strip(), department.strip(), site_id
            )
            tx.add_requester(requester)
            return requester

    # -- changes -----------------------------------------------------------------------------
    def _apply(
        self, ref: str, decide: Callable[[Writer, Ticket, str, str | None], Change]
    ) -> TicketDetail:
        now = self.clock()
        with self.unit_of_work() as tx:
            actor = self._actor(tx)
            ticket = tx.ticket(ref)
            change = decide(tx, ticket, actor, self._timezone(tx, ticket.site_id))
            tx.update_ticket(change.ticket, change.fields)
            for event in change.events:
                self._log(tx, ticket, actor, event.kind, event.text, event.minutes, now)
            return tx.detail(ticket.id)

    @staticmethod
    def _log(
        tx: Writer,
        ticket: Ticket,
        actor: str,
        kind: WorklogKind,
        text: str,
        minutes: int,
        now: datetime,
    ) -> None:
        tx.append_worklog(WorklogEntry(new_id(), ticket.id, kind, actor, text, minutes, now))

    def update(self, ref: str, changes: dict[str, Any]) -> TicketDetail:
        def decide(tx: Writer, ticket: Ticket, _actor: str, tz: str | None) -> Change:
            values = dict(changes)
            if "requester" in values:
                key = values.pop("requester")
                values["requester_id"] = tx.requester_by_key(key).id if key else None
            if "asset" in values:
                key = values.pop("asset")
                values["asset_id"] = tx.asset_by_key(key).id if key else None
            return self.lifecycle.edit(ticket, values, self.clock(), tz)

        return self._apply(ref, decide)

    def save_fields(
        self, ref: str, changes: dict[str, Any], assignee: str | None = None
    ) -> TicketDetail:
        """The detail pane's Save: the edited fields and a new assignee, in one transaction."""
        with self.unit_of_work():
            detail = self.update(ref, changes) if changes else None
            if assignee:
                detail = self.assign(ref, assignee)
            return detail or self.detail(ref)

    def assign(self, ref: str, assignee: str | None = None) -> TicketDetail:
        def decide(tx: Writer, ticket: Ticket, actor: str, tz: str | None) -> Change:
            login = self._known_technician(tx, assignee) if assignee else actor
            return self.lifecycle.assign(ticket, login, self.clock(), tz)

        return self._apply(ref, decide)

    def start(self, ref: str) -> TicketDetail:
        return self._apply(
            ref, lambda _tx, t, actor, tz: self.lifecycle.start(t, actor, self.clock(), tz)
        )

    def wait(self, ref: str, reason: str, note: str = "") -> TicketDetail:
        return self._apply(
            ref, lambda _tx, t, _actor, tz: self.lifecycle.wait(t, reason, note, self.clock(), tz)
        )

    def escalate(
        self, ref: str, reason: str, assignee: str | None = None, queue: str | None = None
    ) -> TicketDetail:
        """Escalate to `queue` (default: the next tier's), optionally to one of its people."""

        def decide(tx: Writer, ticket: Ticket, _actor: str, tz: str | None) -> Change:
            change = self.lifecycle.escalate(
                ticket, reason, self.clock(), tz, assignee, queue=queue
            )
            if assignee:
                self._may_take(tx, assignee, change.ticket.tier, change.ticket.queue)
            return change

        return self._apply(ref, decide)

    def resolve(self, ref: str, resolution: str | None) -> TicketDetail:
        return self._apply(
            ref,
            lambda _tx, t, actor, tz: self.lifecycle.resolve(
                t, resolution, actor, self.clock(), tz
            ),
        )

    def close(self, ref: str) -> TicketDetail:
        return self._apply(
            ref, lambda _tx, t, _actor, tz: self.lifecycle.close(t, self.clock(), tz)
        )

    def reopen(self, ref: str, reason: str) -> TicketDetail:
        return self._apply(
            ref, lambda _tx, t, _actor, tz: self.lifecycle.reopen(t, reason, self.clock(), tz)
        )

    # -- worklog ---------------------------------------------------------------------------
    def note(self, ref: str, text: str, kind: str = "note", minutes: int = 0) -> TicketDetail:
        if kind not in (WorklogKind.NOTE, WorklogKind.CALL):
            raise BadInput(f"a note is of kind note or call, not {kind!r}")
        if not text.strip():
            raise BadInput("a note must not be empty")
        return self._append(ref, WorklogKind(kind), text.strip(), minutes)

    def log_time(self, ref: str, minutes: int, text: str = "") -> TicketDetail:
        if minutes <= 0:
            raise BadInput(f"time spent must be a positive number of minutes, not {minutes}")
        return self._append(ref, WorklogKind.TIME_SPENT, text.strip() or "time spent", minutes)

    def _append(self, ref: str, kind: WorklogKind, text: str, minutes: int) -> TicketDetail:
        if not 0 <= minutes <= MAX_MINUTES:
            raise BadInput(f"minutes must be between 0 and {MAX_MINUTES}, not {minutes}")
        now = self.clock()
        with self.unit_of_work() as tx:
            actor = self._actor(tx)
            ticket = tx.ticket(ref)
            self._log(tx, ticket, actor, kind, text, minutes, now)
            return tx.detail(ticket.id)
