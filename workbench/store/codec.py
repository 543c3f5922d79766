"""Rows of the cache ↔ the domain's frozen dataclasses."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import RowMapping

from workbench.core.models import (
    Asset,
    AssetStatus,
    Channel,
    OutboxOperation,
    Pause,
    Priority,
    Requester,
    Role,
    Site,
    Status,
    Technician,
    Ticket,
    WaitReason,
    WorklogEntry,
    WorklogKind,
)

Row = Mapping[str, Any] | RowMapping
T = TypeVar("T")


def pauses_to_text(pauses: tuple[Pause, ...]) -> str:
    return json.dumps([[p.start.isoformat(), p.end.isoformat() if p.end else None] for p in pauses])


def pauses_from_text(text: str) -> tuple[Pause, ...]:
    if text == "[]":  # most tickets never paused: no JSON to parse
        return ()
    return tuple(
        Pause(datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in json.loads(text)
    )


# Per class, made once (a pull or a push builds tens of thousands of these): what picks its
# fields' values out of a row, in order, and where each field is.
_LAYOUTS: dict[type[Any], tuple[Callable[[Row], Any], dict[str, int]]] = {}


def record_from_row(cls: type[T], row: Row, **convert: Callable[[Any], Any]) -> T:
    """A dataclass from the columns named like its fields, converting the ones given."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        layout = _LAYOUTS[cls] = (operator.itemgetter(*names), {n: i for i, n in enumerate(names)})
    pick, position = layout
    values = list(pick(row))
    for name, kind in convert.items():
        values[position[name]] = kind(values[position[name]])
    return cls(*values)


def _optional(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else kind(value)


_wait_reason = _optional(WaitReason)


def ticket_from_row(row: Row) -> Ticket:
    return record_from_row(
        Ticket,
        row,
        channel=Channel,
        priority=Priority,
        status=Status,
        wait_reason=_wait_reason,
        sla_pauses=pauses_from_text,
    )


# Values every column type stores as they are: most values of a row (looked at first, a big
# load converts millions of them).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def column_value(value: Any) -> Any:
    """A dataclass field value as the cache stores it."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple) and all(isinstance(p, Pause) for p in value):
        return pauses_to_text(value)
    return value


# The sla_due column is a sort and filter key only: a ticket without a running deadline
# (paused, resolved, closed) sorts after every real one, and the plain index on the column
# serves both sort directions and the "breaching" filter.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def sla_sort_key(ticket: Ticket) -> datetime:
    return ticket.sla_due or NO_DEADLINE


def ticket_to_row(ticket: Ticket) -> dict[str, Any]:
    row = {name: column_value(getattr(ticket, name)) for name in Ticket.__dataclass_fields__}
    row["sla_due"] = sla_sort_key(ticket)
    return row


_UTC_OFFSET = timedelta(0)


def sqlite_value(value: Any) -> Any:
    """A column value as SQLAlchemy's SQLite types store it, for raw bulk inserts."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):  # isoformat less its "+00:00": the text of strftime, faster
        utc = value if value.utcoffset() == _UTC_OFFSET else value.astimezone(UTC)
        return utc.isoformat(" ", "microseconds")[:26]
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_value(value: Any) -> Any:
    """A field value as it travels in an outbox operation (JSON)."""
    value = column_value(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def site_from_row(row: Row) -> Site:
    return record_from_row(Site, row)


def technician_from_row(row: Row) -> Technician:
    return record_from_row(
        Technician, row, role=Role, sites=lambda text: tuple(json.loads(text)), active=bool
    )


def requester_from_row(row: Row) -> Requester:
    return record_from_row(Requester, row, active=bool)


def asset_from_row(row: Row) -> Asset:
    return record_from_row(Asset, row, status=AssetStatus)


def worklog_from_row(row: Row) -> WorklogEntry:
    return record_from_row(WorklogEntry, row, kind=WorklogKind)


def outbox_from_row(row: Row) -> OutboxOperation:
    return record_from_row(OutboxOperation, row, fields=json.loads)
