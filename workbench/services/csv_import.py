"""Reading a CSV export of requesters, assets or sites into import records (DESIGN.md §11).

The rules, for every kind:

- Encoding: UTF-8, with or without a byte order mark; anything else is refused, naming the
  first line that is not UTF-8.
- Separator: `,` or `;`, whichever splits the header line into more columns (spreadsheets in
  many locales write `;`).
- Header: a column is recognised by its name compared without case, spaces or punctuation
  ("E-mail" = "email"). Each field takes the first of its recognised names the file has (the
  names below, preferred first); `--map COLUMN=FIELD` gives a field a column of the file's own,
  `--map COLUMN=` leaves a column out. A column serves one field; a name the header repeats
  (Snipe-IT's "Address") counts once, its first occurrence.
- A field whose column the file lacks is left as it is on existing rows (`ParsedFile.fields`
  says which fields the file gives); a column that is there but empty clears the value.
- Each data row gives one record, or one `Refusal` with its line (where the row starts) and
  every problem the row has. Blank rows are skipped.
- Dates: `YYYY-MM-DD` (also with `/` or `.`, and with a time after it, which is dropped),
  `DD.MM.YYYY`, and `DD/MM/YYYY` or `MM/DD/YYYY` (also with `-`). Which of the last two a
  file uses is told by its dates whose first number is over 12 (day first) or whose second
  is (month first); a date such as 01/03/2024 takes that order, and is refused when the file
  shows neither order or both. Years have four digits.

The recognised names are the English column headers of the two tools' CSV exports. Read in
their sources: Snipe-IT's list exports and custom asset report (app/Presenters/AssetPresenter.php,
UserPresenter.php, app/Http/Controllers/ReportsController.php with resources/lang/en-US: "Asset
Tag", "Asset Name", "Checked Out To", "Purchased", "Warranty Expires", statuses written
"Label (type)") and GLPI's search options of users (src/User.php: "Login", "Last name", "First
name", "Emails", "Phone", "Category", "Active") and of operating systems (Item_OperatingSystem:
"Name" in the group "Operating System", which GLPI heads "Operating System - Name"). GLPI's
computer, financial and location labels ("Inventory number", "Serial number", "Date of
purchase", "Warranty expiration date", "Complete name", "Postal code", "Town") are from its
English interface as known, not checked in its sources. Other languages need `--map`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar

from workbench.core.errors import BadInput
from workbench.core.files import check_regular_file, refuse_binary
from workbench.core.imports import AssetRecord, Refusal, RequesterRecord, SiteRecord
from workbench.core.models import AssetStatus
from workbench.sync.admin import check_email, check_timezone

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Field:
    """What a column can fill: `name` is what --map names, `columns` the recognised headers
    (preferred first), `gives` the record fields it sets."""

    name: str
    columns: tuple[str, ...]
    gives: tuple[str, ...] = ()

    @property
    def record_fields(self) -> tuple[str, ...]:
        return self.gives or (self.name,)


@dataclass(frozen=True, slots=True)
class ParsedFile(Generic[R]):
    records: tuple[R, ...]
    refused: tuple[Refusal, ...]
    fields: frozenset[str]  # the record fields the file gives; the others stay as they are
    columns: Mapping[str, str]  # field -> the file's column that fills it


def _normal(name: str) -> str:
    """A header as it is compared: no case, no spaces, no punctuation."""
    return re.sub(r"[\W_]+", "", name.casefold())


# --- dates --------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T].*)?", re.ASCII)
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?: .*)?", re.ASCII)
_SLASHED = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})(?: .*)?", re.ASCII)
DATE_FORMS = "YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or MM/DD/YYYY"


class _DayMonthOrder:
    """Whether a file's DD/MM/YYYY-or-MM/DD/YYYY dates put the day or the month first, from
    the dates that can only be read one way (the first line of each kind, for messages)."""

    def __init__(self, values: Iterable[tuple[int, str]]) -> None:
        self.day_first: int | None = None
        self.month_first: int | None = None
        for line, value in values:
            found = _SLASHED.fullmatch(value)
            if found is None:
                continue
            first, second = int(found[1]), int(found[3])
            if first > 12 >= second and self.day_first is None:
                self.day_first = line
            elif second > 12 >= first and self.month_first is None:
                self.month_first = line

    def parse(self, value: str) -> date:
        """The date written `value`; ValueError saying why not."""
        if found := _ISO.fullmatch(value):
            year, month, day = int(found[1]), int(found[3]), int(found[4])
        elif found := _DOTTED.fullmatch(value):
            day, month, year = int(found[1]), int(found[2]), int(found[3])
        elif found := _SLASHED.fullmatch(value):
            (day, month), year = self._day_month(int(found[1]), int(found[3]), value), int(found[4])
        else:
            raise ValueError(f"{value!r} is not a date ({DATE_FORMS})")
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"{value!r} is not a date of the calendar") from None

    def _day_month(self, first: int, second: int, value: str) -> tuple[int, int]:
        if first > 12 or first == second:
            return first, second
        if second > 12:
            return second, first
        if self.day_first is not None and self.month_first is None:
            return first, second
        if self.month_first is not None and self.day_first is None:
            return second, first
        if self.day_first is None:
            why = "no date of the file tells whether the day or the month comes first"
        else:
            why = (
                f"the file puts the day first (line {self.day_first}) and the month first "
                f"(line {self.month_first})"
            )
        raise ValueError(f"{value!r} is ambiguous: {why}; write it as YYYY-MM-DD")


# --- values -------------------------------------------------------------------------------

_YES = {"yes", "y", "true", "1", "active", "enabled", "oui", "ja"}
_NO = {"no", "n", "false", "0", "inactive", "disabled", "non", "nein"}

# Status names of both tools (GLPI's states are the admins' own; these are the usual ones,
# Snipe-IT's default labels and its status types) and this workbench's own.
_STATUSES: dict[str, AssetStatus] = {
    **dict.fromkeys(
        (
            "inservice", "inuse", "deployed", "readytodeploy", "deployable", "pending",
            "instock", "active", "production", "available", "assigned",
        ),
        AssetStatus.IN_SERVICE,
    ),
    **dict.fromkeys(
        (
            "inrepair", "repair", "outforrepair", "outfordiagnostics", "broken",
            "maintenance", "undermaintenance", "faulty", "undeployable",
        ),
        AssetStatus.IN_REPAIR,
    ),
    **dict.fromkeys(
        (
            "retired", "archived", "brokennotfixable", "loststolen", "lost", "stolen",
            "disposed", "scrapped", "decommissioned", "endoflife",
        ),
        AssetStatus.RETIRED,
    ),
}  # fmt: skip
# Snipe-IT writes a status as "Label (type)", e.g. "Ready to Deploy (deployable)".
_LABEL_AND_TYPE = re.compile(r"(.*?)\s*\(([^()]*)\)")


def parse_status(value: str) -> AssetStatus:
    label, kind = value, ""
    if found := _LABEL_AND_TYPE.fullmatch(value):
        label, kind = found[1], found[2]
    status = _STATUSES.get(_normal(label)) or _STATUSES.get(_normal(kind))
    if status is None:
        raise ValueError(
            f"{value!r} is no known status (In use, Deployed, In stock…; In repair, Broken…; "
            "Retired, Archived, Lost/Stolen…); --map COLUMN= leaves the column out"
        )
    return status


def _flag(value: str) -> bool:
    if not value or value.casefold() in _YES:
        return True
    if value.casefold() in _NO:
        return False
    raise ValueError(f"{value!r} is neither yes nor no")


_ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


def _email(value: str) -> str:
    """The first address of the cell (GLPI lists a user's addresses in one cell)."""
    first = _ADDRESS_SEPARATORS.split(value, maxsplit=1)[0]
    try:
        return check_email(first)
    except BadInput as exc:
        raise ValueError(str(exc)) from None


def _timezone(value: str) -> str:
    try:
        return check_timezone(value)
    except BadInput as exc:
        raise ValueError(str(exc)) from None


class _Row:
    """One data row's values by field, and the problems found in it."""

    def __init__(self, line: int, values: dict[str, str], columns: Mapping[str, str]) -> None:
        self.line = line
        self.values = values
        self.columns = columns
        self.problems: list[str] = []

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.problems.append(f"{self.columns[name]} is empty")
        return value

    def all_empty(self, names: Sequence[str]) -> str:
        present = [self.columns[n] for n in names if n in self.columns]
        return f"{' and '.join(present)} {'is' if len(present) == 1 else 'are'} empty"

    def parsed(self, name: str, parse: Callable[[str], R]) -> R | None:
        """The value read by `parse`, None when the cell is empty or it is refused."""
        value = self.text(name)
        if not value:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            self.problems.append(f"{self.columns[name]}: {exc}")
            return None


# --- the kinds ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kind(Generic[R]):
    name: str
    fields: tuple[Field, ...]
    # Each group: the file needs a column for at least one of these fields.
    required: tuple[tuple[str, ...], ...]
    build: Callable[[_Row, _DayMonthOrder], R]
    dates: tuple[str, ...] = ()

    @property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


def _requester(row: _Row, _dates: _DayMonthOrder) -> RequesterRecord:
    row.required("email")
    email = row.parsed("email", _email) or ""
    full = " ".join(p for p in (row.text("first_name"), row.text("last_name")) if p)
    name = row.text("name") or full or row.text("login")
    if not name:
        row.problems.append(
            "no name: " + row.all_empty(("name", "first_name", "last_name", "login"))
        )
    return RequesterRecord(
        email=email,
        name=name,
        phone=row.text("phone"),
        department=row.text("department"),
        site=row.text("site"),
        active=row.parsed("active", _flag) is not False,
        line=row.line,
    )


def _asset(row: _Row, dates: _DayMonthOrder) -> AssetRecord:
    tag, serial = row.text("tag"), row.text("serial")
    if not tag and not serial:
        row.problems.append("no asset tag and no serial: " + row.all_empty(("tag", "serial")))
    owner = row.text("owner")
    by_email = "@" in owner
    return AssetRecord(
        tag=tag,
        serial=serial,
        hostname=row.text("hostname"),
        model=row.text("model"),
        os=row.text("os"),
        site=row.text("site"),
        owner_email=(row.parsed("owner", _email) or "") if by_email else "",
        owner_name="" if by_email else owner,
        purchase_date=row.parsed("purchase_date", dates.parse),
        warranty_end=row.parsed("warranty_end", dates.parse),
        status=row.parsed("status", parse_status),
        line=row.line,
    )


_ADDRESS_PARTS = ("address", "city", "state", "postcode", "country")


def _site(row: _Row, _dates: _DayMonthOrder) -> SiteRecord:
    return SiteRecord(
        name=row.required("name"),
        address=", ".join(p for p in (row.text(f) for f in _ADDRESS_PARTS) if p),
        timezone=row.parsed("timezone", _timezone) or "",
        line=row.line,
    )


_SITE = Field("site", ("Site", "Location"))

REQUESTERS = _Kind(
    "requesters",
    (
        Field("email", ("Email", "Emails", "E-mail", "Email address", "Mail")),
        Field("name", ("Name", "Full name", "Display name")),
        Field("first_name", ("First name", "Given name"), ("name",)),
        Field("last_name", ("Last name", "Surname", "Family name"), ("name",)),
        Field("login", ("Login", "Username", "User name"), ("name",)),
        Field("phone", ("Phone", "Phone number", "Telephone", "Mobile phone", "Mobile")),
        Field("department", ("Department", "Category")),
        _SITE,
        Field("active", ("Active",)),
    ),
    (("email",), ("name", "first_name", "last_name", "login")),
    _requester,
)

ASSETS = _Kind(
    "assets",
    (
        Field("tag", ("Asset Tag", "Tag", "Inventory number")),
        Field("serial", ("Serial", "Serial number", "Serial No")),
        Field("hostname", ("Hostname", "Host name", "Computer name", "Asset Name", "Name")),
        Field("model", ("Model",)),
        Field("os", ("OS", "Operating system", "Operating System - Name")),
        _SITE,
        Field(
            "owner",
            ("Owner", "Owner email", "User", "Checked Out To", "Assigned To", "Checked Out"),
            ("owner_email", "owner_name"),
        ),
        Field(
            "purchase_date",
            (
                "Purchase Date",
                "Purchased",
                "Date of purchase",
                "Financial and administrative information - Date of purchase",
            ),
        ),  # fmt: skip
        Field(
            "warranty_end",
            (
                "Warranty Expires",
                "Warranty end",
                "Warranty expiration date",
                "Financial and administrative information - Warranty expiration date",
            ),
        ),  # fmt: skip
        Field("status", ("Status",)),
    ),
    (("tag", "serial"),),
    _asset,
    dates=("purchase_date", "warranty_end"),
)

SITES = _Kind(
    "sites",
    (
        Field("name", ("Complete name", "Name", "Site", "Location")),
        Field("address", ("Address", "Street")),
        Field("city", ("City", "Town"), ("address",)),
        Field("state", ("State", "Region"), ("address",)),
        Field("postcode", ("Postal code", "Zip", "Postcode", "Zip code"), ("address",)),
        Field("country", ("Country",), ("address",)),
        Field("timezone", ("Timezone", "Time zone", "TZ")),
    ),
    (("name",),),
    _site,
)

# --- the file -----------------------------------------------------------------------------


def refusal_listing(source: str, what: str, refused: Sequence[Refusal]) -> str:
    """`nothing imported from FILE: WHAT` and then each problem as FILE:LINE: reason."""
    lines = [f"nothing imported from {source}: {what}"]
    lines += [f"{source}:{r.line}: {r.reason}" for r in sorted(refused, key=lambda r: r.line)]
    return "\n".join(lines)


def parse_mappings(given: Iterable[str]) -> dict[str, str]:
    """`--map COLUMN=FIELD` options as {column: field}; `COLUMN=` leaves a column out."""
    found: dict[str, str] = {}
    for option in given:
        column, equals, name = option.rpartition("=")
        if not equals or not column.strip():
            raise BadInput(f"--map {option!r}: write it as COLUMN=FIELD (or COLUMN= to skip it)")
        found[column.strip()] = name.strip()
    return found


def _decode(path: Path) -> str:
    check_regular_file(path, "the CSV file")  # a device or a pipe would never end
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInput(f"{path.name} is UTF-16 text: save or export it as CSV UTF-8")
    refuse_binary(data, path, "the CSV file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput(
            f"{path.name}:{line}: not UTF-8 text; save or export the file as CSV UTF-8"
        ) from None


def _delimiter(text: str) -> str:
    """`;` when it splits the header line into more columns than `,` does, else `,`."""
    first_line = text.split("\n", 1)[0].rstrip("\r")
    counts = {d: len(next(csv.reader([first_line], delimiter=d), [])) for d in ",;"}
    return ";" if counts[";"] > counts[","] else ","


def _rows(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """(first line, cells) of each non-blank row, the header first."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            if "".join(cells).strip():
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise BadInput(f"{path.name}:{line}: not readable as CSV: {exc}") from None
    if not rows:
        raise BadInput(f"{path.name} is empty: it needs a header line naming its columns")
    return rows


def _mapped(
    kind: _Kind[R], position: Mapping[str, int], mappings: Mapping[str, str], problems: list[str]
) -> tuple[dict[str, int], set[int]]:
    """The columns --map gives fields, and every column it names (skipped ones too)."""
    chosen: dict[str, int] = {}
    taken: set[int] = set()
    for column, name in mappings.items():
        index = position.get(_normal(column))
        if index is None:
            problems.append(f"--map {column}={name}: the file has no column {column!r}")
        elif name and name not in kind.by_name:
            problems.append(
                f"--map {column}={name}: {kind.name} have no field {name!r} "
                f"(fields: {', '.join(kind.by_name)})"
            )
        elif name in chosen:
            problems.append(f"--map gives {name} two columns")
        else:
            taken.add(index)
            if name:
                chosen[name] = index
    return chosen, taken


def _columns(
    path: Path, kind: _Kind[R], header: Sequence[str], mappings: Mapping[str, str]
) -> dict[str, int]:
    """Which column (by position) fills each field; every header problem at once."""
    position: dict[str, int] = {}
    for index, name in enumerate(header):
        position.setdefault(_normal(name), index)
    problems: list[str] = []
    chosen, taken = _mapped(kind, position, mappings, problems)
    for wanted in kind.fields:
        found = (position.get(_normal(c)) for c in wanted.columns)
        free = next((i for i in found if i is not None and i not in taken), None)
        if wanted.name not in chosen and free is not None:
            chosen[wanted.name] = free
            taken.add(free)
    for group in kind.required:
        if not any(name in chosen for name in group):
            recognised = ", ".join(c for name in group for c in kind.by_name[name].columns)
            problems.append(
                f"no column for {' or '.join(group)} (recognised: {recognised}); "
                f"name one with --map COLUMN={group[0]}"
            )
    if problems:
        raise BadInput(refusal_listing(path.name, "the header", [Refusal(1, p) for p in problems]))
    return chosen


def read_csv(path: Path, kind: _Kind[R], mappings: Mapping[str, str]) -> ParsedFile[R]:
    """The records of a CSV export, and a refusal for each row that cannot be one; a file
    that cannot be read, or a header without the columns needed, is BadInput."""
    rows = _rows(path, _decode(path))
    (_, header), data = rows[0], rows[1:]
    chosen = _columns(path, kind, header, mappings)
    columns = {name: header[index].strip() for name, index in chosen.items()}
    dates = _DayMonthOrder(
        (line, cells[chosen[name]].strip())
        for line, cells in data
        for name in kind.dates
        if name in chosen and chosen[name] < len(cells)
    )
    width = len(header)
    records: list[R] = []
    refused: list[Refusal] = []
    for line, cells in data:
        cells.extend([""] * (width - len(cells)))  # a short row: its last cells are empty
        row = _Row(line, {name: cells[i].strip() for name, i in chosen.items()}, columns)
        record = kind.build(row, dates)
        if len(cells) > width and "".join(cells[width:]).strip():
            row.problems.append(f"{len(cells)} columns where the header has {width}")
        if row.problems:
            refused.append(Refusal(line, "; ".join(row.problems)))
        else:
            records.append(record)
    given = frozenset(f for name in chosen for f in kind.by_name[name].record_fields)
    return ParsedFile(tuple(records), tuple(refused), given, columns)


def read_requesters(path: Path, mappings: Mapping[str, str]) -> ParsedFile[RequesterRecord]:
    return read_csv(path, REQUESTERS, mappings)


def read_assets(path: Path, mappings: Mapping[str, str]) -> ParsedFile[AssetRecord]:
    return read_csv(path, ASSETS, mappings)


def read_sites(path: Path, mappings: Mapping[str, str]) -> ParsedFile[SiteRecord]:
    return read_csv(path, SITES, mappings)
