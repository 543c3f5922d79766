"""Bulk imports into the central database (DESIGN.md §11): upserts by natural key, all or
nothing.

Each import reads the existing rows of its records' keys in one query, works out in Python
which records are new, changed or unchanged and which are refused (a key twice, a site or an
owner the central database does not have, ...), and then either writes nothing and raises
`ImportRefused` listing every refusal, or writes the new rows in one statement and the
changed ones in another (INSERT over arrays; ON CONFLICT (id) DO UPDATE for the changed),
each at its own version so that every cache pulls it, and one audit row with the counts.
Fields a source does not give (`fields`) stay as they are on existing rows. Nothing is ever
deleted: a requester who left the directory becomes inactive.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, Connection, String, Table, all_, any_, bindparam, func, select
from uuid6 import uuid7

from workbench.core.errors import BadInput
from workbench.core.imports import (
    AssetRecord,
    ImportReport,
    Refusal,
    RequesterRecord,
    SiteRecord,
)
from workbench.core.models import AssetStatus
from workbench.sync import central
from workbench.sync.admin import AdminSession, site_id_for
from workbench.sync.server import insert_rows


class ImportRefused(BadInput):
    """Rows were refused: nothing was written. `report` has the counts and every refusal."""

    def __init__(self, report: ImportReport) -> None:
        lines = [f"line {r.line}: {r.reason}" for r in report.refused]
        super().__init__(f"nothing imported: {len(report.refused)} refused\n" + "\n".join(lines))
        self.report = report


@dataclass
class _Plan:
    """What an import will do: the full rows to write, new and changed, what it refused."""

    kind: str
    table: Table
    columns: tuple[str, ...]  # the columns an import owns, besides id, version, changed_by
    defaults: Mapping[str, Any]  # of a new row
    refused: list[Refusal]
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    deactivated: int = 0

    def refuse(self, line: int, reason: str) -> None:
        self.refused.append(Refusal(line, reason))

    def place(
        self, existing: Mapping[str, Any] | None, values: Mapping[str, Any], new_id: str = ""
    ) -> None:
        """A record's values (those its source gives) onto the row it matched, or a new row
        (under `new_id`, else a fresh UUID)."""
        if existing is None:
            self.new.append({**self.defaults, **values, "id": new_id or str(uuid7())})
        elif all(existing[c] == v for c, v in values.items()):
            self.unchanged += 1
        else:
            self.changed.append({**{c: existing[c] for c in ("id", *self.columns)}, **values})


def _given(record_type: type, wanted: Collection[str] | None) -> frozenset[str]:
    every = frozenset(f.name for f in dataclasses.fields(record_type))
    return every if wanted is None else every & frozenset(wanted)


# Record fields stored under another column's name.
_COLUMN_OF = {"site": "site_id", "owner_email": "owner_id"}


def _values(given: frozenset[str], by_field: Mapping[str, Any]) -> dict[str, Any]:
    """{column: value} of the record fields the source gives."""
    return {_COLUMN_OF.get(name, name): v for name, v in by_field.items() if name in given}


def _lookup(
    db: Connection, table: Table, column: Any, keys: Iterable[str]
) -> dict[str, list[Mapping[str, Any]]]:
    """The rows whose `column` (an expression) is one of `keys`, by that key: one query."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    found: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    keyed = select(table, column.label("import_key")).where(
        column == any_(bindparam("import_keys", wanted, type_=ARRAY(String)))
    )
    result = db.execute(keyed)
    names = list(result.keys())
    for values in result:
        row = dict(zip(names, values, strict=True))
        found[row.pop("import_key")].append(row)
    return found


def _site_ids(db: Connection) -> Callable[[str], str | None]:
    """A site's id from its id or name (case-insensitive); None for an unknown one."""
    s = central.sites
    by_key: dict[str, str] = {}
    for row in db.execute(select(s.c.id, s.c.name)):
        by_key[row.id] = row.id
        by_key.setdefault(row.name.casefold(), row.id)
    return lambda given: by_key.get(given) or by_key.get(given.casefold())


def _site(
    plan: _Plan, sites: Callable[[str], str | None], given: str, line: int
) -> tuple[bool, str | None]:
    """(known, site id) of a record's site; "" is no site, an unknown one is refused."""
    if not given:
        return True, None
    found = sites(given)
    if found is None:
        plan.refuse(line, f"no site {given!r} on the central database (import the sites first)")
        return False, None
    return True, found


def _doubled(plan: _Plan, keys: Iterable[tuple[str, str, int]]) -> set[int]:
    """The lines whose key (key, what it is called, line) an earlier line has: refused."""
    first: dict[str, int] = {}
    doubled: set[int] = set()
    for key, said, line in keys:
        if key in first:
            plan.refuse(line, f"{said} is also on line {first[key]}")
            doubled.add(line)
        else:
            first[key] = line
    return doubled


def _one(
    plan: _Plan, rows: Sequence[Mapping[str, Any]] | None, line: int, said: str
) -> tuple[bool, Mapping[str, Any] | None]:
    """(usable, the matching row or None): a key of two rows is refused as ambiguous."""
    if not rows:
        return True, None
    if len(rows) > 1:
        plan.refuse(line, f"{said} names {len(rows)} {plan.kind} on the central database")
        return False, None
    return True, rows[0]


def _write(session: AdminSession, plan: _Plan, source: str) -> ImportReport:
    """Raise ImportRefused on any refusal; else write the rows, audit, and report."""
    report = ImportReport(
        plan.kind,
        len(plan.new),
        len(plan.changed) - plan.deactivated,
        plan.unchanged,
        tuple(sorted(plan.refused, key=lambda r: r.line)),
        plan.deactivated,
        session.dry_run,
    )
    if plan.refused:
        raise ImportRefused(report)
    for row in (*plan.new, *plan.changed):
        row.update(version=session.tick(), changed_by=session.actor)
    insert_rows(session.db, plan.table, plan.new)
    # The changed rows go in whole and update their row: one statement, where an UPDATE per
    # row costs a round trip each (a plain INSERT for the new ones: ON CONFLICT costs more).
    owned = (*plan.columns, "version", "changed_by")
    insert_rows(
        session.db,
        plan.table,
        plan.changed,
        "ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in owned),
    )
    counts = f"{report.new} new, {report.changed} changed, {report.unchanged} unchanged"
    if plan.deactivated:
        counts += f", {plan.deactivated} deactivated"
    session.audit("import", f"imported {plan.kind}{f' from {source}' if source else ''}: {counts}")
    return report


# --- requesters ---------------------------------------------------------------------------


def upsert_requesters(
    session: AdminSession,
    records: Sequence[RequesterRecord],
    *,
    deactivate_missing: bool = False,
    fields: Collection[str] | None = None,
    refused: Sequence[Refusal] = (),
    source: str = "",
) -> ImportReport:
    """Requesters by e-mail (case-insensitive). deactivate_missing: the records are the whole
    directory, and active requesters with another e-mail become inactive. `fields`: the
    record fields the source gives (None: all); `refused`: what reading the source refused
    already (nothing is written then either); `source`: named in the audit."""
    t = central.requesters
    plan = _Plan(
        "requesters",
        t,
        ("name", "email", "phone", "department", "site_id", "active"),
        {"phone": "", "department": "", "site_id": None, "active": 1},
        list(refused),
    )
    given = _given(RequesterRecord, fields) | {"email", "name"}
    doubled = _doubled(plan, ((r.email.casefold(), f"e-mail {r.email}", r.line) for r in records))
    keys = sorted({r.email.casefold() for r in records})
    existing = _lookup(session.db, t, func.lower(t.c.email), keys)
    sites = _site_ids(session.db)
    for record in records:
        if record.line in doubled:
            continue
        known, site_id = _site(plan, sites, record.site, record.line)
        said = f"e-mail {record.email}"
        usable, row = _one(plan, existing.get(record.email.casefold()), record.line, said)
        if known and usable:
            values = {
                "name": record.name,
                "email": record.email,
                "phone": record.phone,
                "department": record.department,
                "site": site_id,
                "active": int(record.active),
            }
            plan.place(row, _values(given, values))
    if deactivate_missing:
        gone = select(t).where(t.c.active == 1)
        if keys:
            kept = bindparam("kept", keys, type_=ARRAY(String))
            gone = gone.where(func.lower(t.c.email) != all_(kept))
        for left in session.db.execute(gone).mappings():
            plan.place(dict(left), {"active": 0})
            plan.deactivated += 1
    return _write(session, plan, source)


# --- assets -------------------------------------------------------------------------------


_Owners = tuple[dict[str, list[str]], dict[str, list[str]]]  # requester ids by e-mail, name


def _requester_ids(db: Connection, records: Sequence[AssetRecord]) -> _Owners:
    """Requester ids by e-mail and by name (its words in any order: GLPI shows "Last First"),
    read only when the records name owners."""
    by_email: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    if any(r.owner_email or r.owner_name for r in records):
        r = central.requesters
        for row in db.execute(select(r.c.id, r.c.email, r.c.name)):
            by_email[row.email.casefold()].append(row.id)
            by_name[_name_key(row.name)].append(row.id)
    return by_email, by_name


def _name_key(name: str) -> str:
    return " ".join(sorted(name.casefold().split()))


def _owner(
    plan: _Plan,
    owners: _Owners,
    record: AssetRecord,
) -> tuple[bool, str | None]:
    """(known, requester id) of an asset's owner; none, unknown or ambiguous ones refused."""
    by_email, by_name = owners
    if record.owner_email:
        found, said = by_email.get(record.owner_email.casefold(), []), record.owner_email
    elif record.owner_name:
        found, said = by_name.get(_name_key(record.owner_name), []), record.owner_name
    else:
        return True, None
    if len(found) == 1:
        return True, found[0]
    if found:
        plan.refuse(record.line, f"{len(found)} requesters are {said!r}: give the e-mail")
    else:
        plan.refuse(
            record.line,
            f"owner {said!r} is no requester (import the requesters first, or leave the "
            "column out)",
        )
    return False, None


def upsert_assets(
    session: AdminSession,
    records: Sequence[AssetRecord],
    *,
    fields: Collection[str] | None = None,
    refused: Sequence[Refusal] = (),
    source: str = "",
) -> ImportReport:
    """Assets by asset tag, else by serial: a tagged record matches the asset with that tag,
    else an untagged asset with its serial (which then gets the tag); an untagged record
    matches the asset with its serial. A tag is never removed. Owners are requesters by
    e-mail or by name; sites by name or id."""
    t = central.assets
    plan = _Plan(
        "assets",
        t,
        (
            "tag", "serial", "hostname", "model", "os", "site_id", "owner_id",
            "purchase_date", "warranty_end", "status",
        ),
        {
            "tag": "", "serial": "", "hostname": "", "model": "", "os": "", "site_id": None,
            "owner_id": None, "purchase_date": None, "warranty_end": None,
            "status": AssetStatus.IN_SERVICE.value,
        },
        list(refused),
    )  # fmt: skip
    given = _given(AssetRecord, fields)
    doubled = _doubled(
        plan,
        (
            (f"tag {r.tag}", f"asset tag {r.tag}", r.line)
            if r.tag
            else (f"serial {r.serial}", f"serial {r.serial} (without an asset tag)", r.line)
            for r in records
        ),
    )
    by_tag = _lookup(session.db, t, t.c.tag, (r.tag for r in records if r.tag))
    by_serial = _lookup(session.db, t, t.c.serial, (r.serial for r in records if r.serial))
    sites = _site_ids(session.db)
    owners = _requester_ids(session.db, records)
    matched: dict[str, int] = {}  # existing asset id -> the line that matched it
    for record in records:
        if record.line in doubled:
            continue
        if record.tag:
            said = f"asset tag {record.tag}"
            untagged = [a for a in by_serial.get(record.serial, []) if not a["tag"]]
            candidates = by_tag.get(record.tag) or untagged
        else:
            said, candidates = f"serial {record.serial}", by_serial.get(record.serial, [])
        usable, row = _one(plan, candidates, record.line, said)
        if row is not None and row["id"] in matched:
            plan.refuse(record.line, f"{said}: the same asset as line {matched[row['id']]}")
            usable = False
        known_site, site_id = _site(plan, sites, record.site, record.line)
        known_owner, owner_id = _owner(plan, owners, record)
        if not (usable and known_site and known_owner):
            continue
        if row is not None:
            matched[row["id"]] = record.line
        values = _values(
            given,
            {
                "serial": record.serial,
                "hostname": record.hostname,
                "model": record.model,
                "os": record.os,
                "site": site_id,
                "owner_email": owner_id,
                "purchase_date": record.purchase_date,
                "warranty_end": record.warranty_end,
            },
        )
        if record.tag:
            values["tag"] = record.tag
        if record.status is not None and "status" in given:
            values["status"] = record.status.value
        plan.place(row, values)
    return _write(session, plan, source)


# --- sites --------------------------------------------------------------------------------


def upsert_sites(
    session: AdminSession,
    records: Sequence[SiteRecord],
    *,
    fields: Collection[str] | None = None,
    refused: Sequence[Refusal] = (),
    source: str = "",
) -> ImportReport:
    """Sites by name (case-insensitive); a new one needs a time zone and gets its id from
    its name (`site_id_for`), which must not be another site's."""
    t = central.sites
    plan = _Plan("sites", t, ("name", "address", "timezone"), {"address": ""}, list(refused))
    given = _given(SiteRecord, fields) | {"name"}
    doubled = _doubled(plan, ((r.name.casefold(), f"site {r.name}", r.line) for r in records))
    existing: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    ids: dict[str, str] = {}  # site id -> the name of the site that has it
    for site in session.db.execute(select(t)).mappings():
        existing[site["name"].casefold()].append(dict(site))
        ids[site["id"]] = site["name"]
    for record in records:
        if record.line in doubled:
            continue
        said = f"site {record.name}"
        usable, row = _one(plan, existing.get(record.name.casefold()), record.line, said)
        by_field = {"name": record.name, "address": record.address}
        if record.timezone:  # an empty one keeps the site's time zone: it cannot be blank
            by_field["timezone"] = record.timezone
        values = _values(given, by_field)
        if not usable:
            continue
        if row is not None:
            plan.place(row, values)
        elif "timezone" not in values:
            plan.refuse(record.line, f"new {said} needs a time zone")
        elif (site_id := site_id_for(record.name)) in ids:
            plan.refuse(record.line, f"new {said} would take site {ids[site_id]!r}'s id {site_id}")
        else:
            ids[site_id] = record.name
            plan.place(None, values, site_id)
    return _write(session, plan, source)
