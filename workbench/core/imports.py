"""What a bulk import brings to the central database (DESIGN.md §11): one record per row of
a CSV file or per person of a directory, and the report of what the import did or would do.
Records carry the line (or entry) they came from, so every refusal can point at it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workbench.core.models import AssetStatus


@dataclass(frozen=True, slots=True)
class RequesterRecord:
    email: str  # the natural key, compared case-insensitively
    name: str
    phone: str = ""
    department: str = ""
    site: str = ""  # a site's name or id; "" for none
    active: bool = True
    line: int = 0  # where it came from (CSV line; 0 for a directory entry)


@dataclass(frozen=True, slots=True)
class AssetRecord:
    tag: str  # the natural key; else the serial
    serial: str
    hostname: str = ""
    model: str = ""
    os: str = ""
    site: str = ""
    owner_email: str = ""
    # Exports name the person an asset is checked out to (GLPI "User", Snipe-IT "Checked Out
    # To"): matched with a requester's name when there is no e-mail.
    owner_name: str = ""
    purchase_date: date | None = None
    warranty_end: date | None = None
    status: AssetStatus | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class SiteRecord:
    name: str  # the natural key, compared case-insensitively
    address: str = ""
    timezone: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Refusal:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    kind: str  # requesters | assets | sites | directory
    new: int
    changed: int
    unchanged: int
    refused: tuple[Refusal, ...]
    deactivated: int = 0  # people no longer in the directory, now inactive
    dry_run: bool = False
