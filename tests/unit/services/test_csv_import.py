"""Reading CSV exports for `central import`: GLPI and Snipe-IT shapes, encodings, separators,
dates, --map, and every problem with its line (no database here)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.core.imports import AssetRecord, Refusal, RequesterRecord, SiteRecord
from workbench.core.models import AssetStatus
from workbench.services.csv_import import (
    parse_mappings,
    parse_status,
    read_assets,
    read_requesters,
    read_sites,
)

CSV = Path(__file__).parents[2] / "support" / "csv"


def _file(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_glpi_users_export_with_bom_semicolons_and_a_cell_over_two_lines() -> None:
    parsed = read_requesters(CSV / "glpi_users.csv", {})
    assert parsed.refused == ()
    assert parsed.records == (
        RequesterRecord(
            "dana.whitfield@agency.example", "Dana Whitfield", "360-555-0142", "Accounting",
            "Olympia HQ", True, 2,
        ),
        RequesterRecord(
            "juergen.mueller@agency.example", "Jürgen Müller", "360-555-0100", "Facilities",
            "Olympia HQ", True, 3,
        ),
        # Two addresses in one quoted cell over two lines: the first counts, and the next
        # row starts on line 6.
        RequesterRecord(
            "zoe.odegard@agency.example", "Zoë Ødegård", "", "IT", "Tacoma Annex", False, 4
        ),
        RequesterRecord("kiosk.lobby@agency.example", "kiosk", "", "", "Zürich Büro", True, 6),
    )  # fmt: skip
    assert parsed.columns["email"] == "Emails" and parsed.columns["department"] == "Category"
    assert parsed.fields == {"email", "name", "phone", "department", "site", "active"}


def test_snipeit_users_export_uses_the_full_name_and_leaves_login_enabled_alone() -> None:
    parsed = read_requesters(CSV / "snipeit_users.csv", {})
    assert parsed.refused == ()
    assert [(r.email, r.name, r.phone, r.department, r.site, r.line) for r in parsed.records] == [
        ("dana.whitfield@agency.example", "Dana Whitfield", "360-555-0150", "Accounting",
         "Olympia HQ", 2),
        ("francois.lefevre@agency.example", "François Lefèvre", "+41 44 555 01 23", "IT",
         "Zürich Büro", 3),
        ("siobhan.nibhriain@agency.example", "Siobhán Ní Bhriain", "360-555-0177",
         "Accounting", "Olympia HQ", 4),
    ]  # fmt: skip
    # "Login Enabled" is about signing in to Snipe-IT, not about being a requester.
    assert "active" not in parsed.fields and parsed.columns["name"] == "Name"


def test_glpi_computers_export_with_day_first_dates_and_group_prefixed_columns() -> None:
    parsed = read_assets(CSV / "glpi_computers.csv", {})
    assert parsed.refused == ()
    first, second, untagged = parsed.records
    assert first == AssetRecord(
        tag="WA-004217", serial="5CD2143XKQ", hostname="OLY-ACC-LT0421",
        model="HP EliteBook 840 G8", os="Windows 11 Pro", site="Olympia HQ",
        owner_name="Whitfield Dana", purchase_date=date(2022, 3, 1),
        warranty_end=date(2025, 3, 1), status=AssetStatus.IN_SERVICE, line=2,
    )  # fmt: skip
    # 15-06-2023 shows the file puts the day first, so 01-03-2022 is the 1st of March.
    assert (second.purchase_date, second.status) == (date(2023, 6, 15), AssetStatus.IN_REPAIR)
    assert (untagged.tag, untagged.serial, untagged.warranty_end) == ("", "C02XK1ZJH7JY", None)
    assert untagged.status is AssetStatus.RETIRED
    assert parsed.columns["os"] == "Operating System - Name"
    assert parsed.columns["tag"] == "Inventory number" and parsed.columns["hostname"] == "Name"


def test_snipeit_assets_export_with_status_types_and_owners_by_name_or_email() -> None:
    parsed = read_assets(CSV / "snipeit_assets.csv", {})
    assert parsed.refused == ()
    assert [(r.tag, r.hostname, r.status, r.owner_name, r.owner_email) for r in parsed.records] == [
        ("WA-004217", "OLY-ACC-LT0421", AssetStatus.IN_SERVICE, "Dana Whitfield", ""),
        ("WA-004533", "OLY-HR-LT0533", AssetStatus.IN_SERVICE, "", ""),
        ("WA-004610", "ZRH-IT-LT0610", AssetStatus.IN_REPAIR, "",
         "francois.lefevre@agency.example"),
    ]  # fmt: skip
    assert parsed.records[1].warranty_end == date(2027, 1, 15)
    # No OS column: an import leaves the assets' OS as it is.
    assert "os" not in parsed.fields and {"tag", "serial", "owner_email"} <= parsed.fields


def test_glpi_locations_with_the_time_zone_mapped_from_the_comments() -> None:
    parsed = read_sites(CSV / "glpi_locations.csv", {"Comments": "timezone"})
    assert parsed.records == (
        SiteRecord(
            "Olympia HQ", "1500 Jefferson St SE, Olympia, WA, 98501, USA", "America/Los_Angeles", 2
        ),
        SiteRecord(
            "Tacoma Annex", "2901 S 38th St, Tacoma, WA, 98409, USA", "America/Los_Angeles", 3
        ),
        SiteRecord("Zürich Büro", "Bahnhofstrasse 12, Zürich, 8001, Schweiz", "Europe/Zurich", 4),
    )  # fmt: skip
    assert parsed.fields == {"name", "address", "timezone"}
    without = read_sites(CSV / "glpi_locations.csv", {})
    assert "timezone" not in without.fields and without.records[0].timezone == ""


def test_row_problems_are_refusals_with_their_lines_and_every_reason() -> None:
    parsed = read_requesters(CSV / "requesters_bad.csv", {})
    assert parsed.refused == (
        Refusal(3, "Email: 'not-an-address' is not an e-mail address"),
        Refusal(4, "Email is empty"),
        Refusal(7, "no name: Name is empty; Active: 'maybe' is neither yes nor no"),
    )
    # The rest are records: a key twice and an unknown site are for the central to refuse.
    assert [r.line for r in parsed.records] == [2, 5, 6]


def test_asset_problems_dates_statuses_and_keys() -> None:
    parsed = read_assets(CSV / "assets_bad.csv", {})
    reasons = {r.line: r.reason for r in parsed.refused}
    assert reasons[3] == "Purchase Date: '30/02/2024' is not a date of the calendar"
    assert reasons[7].startswith("Status: 'Misplaced' is no known status")
    assert reasons[8] == "no asset tag and no serial: Asset Tag and Serial are empty"
    assert reasons[9] == (
        "Purchase Date: '02/03/2024' is ambiguous: the file puts the day first (line 2) and "
        "the month first (line 4); write it as YYYY-MM-DD"
    )
    assert sorted(reasons) == [3, 7, 8, 9]
    dates = {r.line: r.purchase_date for r in parsed.records}
    assert dates[2] == date(2024, 1, 31) and dates[4] == date(2024, 1, 13)


@pytest.mark.parametrize(
    ("written", "others", "expected"),
    [
        ("2024-03-01", [], date(2024, 3, 1)),
        ("2024/03/01", [], date(2024, 3, 1)),
        ("2024-03-01 00:00:00", [], date(2024, 3, 1)),  # Snipe-IT's raw columns
        ("2024-03-01T09:30:00Z", [], date(2024, 3, 1)),
        ("01.03.2024", [], date(2024, 3, 1)),  # dotted: always day first
        ("13/03/2024", [], date(2024, 3, 13)),
        ("03/13/2024", [], date(2024, 3, 13)),
        ("01/03/2024", ["25/12/2023"], date(2024, 3, 1)),  # the file is day first
        ("01/03/2024", ["12/25/2023"], date(2024, 1, 3)),  # the file is month first
        ("01-03-2024", ["25-12-2023"], date(2024, 3, 1)),
        ("05/05/2024", [], date(2024, 5, 5)),  # both readings are the same day
    ],
)
def test_dates(tmp_path: Path, written: str, others: list[str], expected: date) -> None:
    rows = "".join(f"T{n},S{n},{d}\n" for n, d in enumerate([written, *others]))
    parsed = read_assets(_file(tmp_path, "Asset Tag,Serial,Purchase Date\n" + rows), {})
    assert parsed.refused == ()
    assert parsed.records[0].purchase_date == expected


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("01/03/2024", "is ambiguous: no date of the file tells whether the day or the month"),
        ("1/3/24", "is not a date (YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or MM/DD/YYYY)"),
        ("1 March 2024", "is not a date"),
        ("2024-13-01", "is not a date of the calendar"),
        ("31.04.2024", "is not a date of the calendar"),
    ],
)
def test_dates_refused(tmp_path: Path, written: str, reason: str) -> None:
    path = _file(tmp_path, f"Asset Tag,Warranty Expires\nT1,{written}\n")
    (refusal,) = read_assets(path, {}).refused
    assert refusal.line == 2 and refusal.reason.startswith(f"Warranty Expires: {written!r} ")
    assert reason in refusal.reason


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("In use", AssetStatus.IN_SERVICE),
        ("Ready to Deploy (deployable)", AssetStatus.IN_SERVICE),
        ("Spare shelf (deployable)", AssetStatus.IN_SERVICE),  # an own label: its type counts
        ("Out for Repair (undeployable)", AssetStatus.IN_REPAIR),
        ("Broken - Not Fixable (undeployable)", AssetStatus.RETIRED),  # the label wins
        ("Lost/Stolen (archived)", AssetStatus.RETIRED),
        ("in_repair", AssetStatus.IN_REPAIR),
    ],
)
def test_statuses(written: str, status: AssetStatus) -> None:
    assert parse_status(written) is status


def test_map_names_columns_of_other_languages_and_leaves_columns_out(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "Courriel;Nom complet;Téléphone;Location\nmarie@agence.example;Marie Curie;01 23;Paris\n",
    )
    parsed = read_requesters(
        path, parse_mappings(["Courriel=email", "nom complet=name", "Téléphone=phone", "Location="])
    )
    assert parsed.records == (
        RequesterRecord("marie@agence.example", "Marie Curie", "01 23", line=2),
    )
    assert parsed.fields == {"email", "name", "phone"}  # the site stays as it is


def test_header_problems_are_listed_together_with_line_one(tmp_path: Path) -> None:
    path = _file(tmp_path, "Mail address,Full Name\nx@y.example,X\n", name="people.csv")
    with pytest.raises(BadInput) as raised:
        read_requesters(path, {"Phone": "phone", "Full Name": "fullname"})
    assert str(raised.value).splitlines() == [
        "nothing imported from people.csv: the header",
        "people.csv:1: --map Phone=phone: the file has no column 'Phone'",
        "people.csv:1: --map Full Name=fullname: requesters have no field 'fullname' (fields: "
        "email, name, first_name, last_name, login, phone, department, site, active)",
        "people.csv:1: no column for email (recognised: Email, Emails, E-mail, Email address, "
        "Mail); name one with --map COLUMN=email",
    ]


def test_assets_need_a_tag_or_a_serial_column(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"in\.csv:1: no column for tag or serial"):
        read_assets(_file(tmp_path, "Asset Name,Model\nPC1,X\n"), {})


def test_other_encodings_are_refused_with_the_line(tmp_path: Path) -> None:
    latin1 = _file(tmp_path, "Email,Name\na@b.example,Ana\nc@d.example,Renée\n", "latin-1")
    with pytest.raises(BadInput, match=r"^in\.csv:3: not UTF-8 text; save or export"):
        read_requesters(latin1, {})
    utf16 = _file(tmp_path, "\ufeffEmail,Name\n", "utf-16-le", "wide.csv")
    with pytest.raises(BadInput, match="wide.csv is UTF-16 text"):
        read_requesters(utf16, {})
    with pytest.raises(BadInput, match="empty.csv is empty"):
        read_requesters(_file(tmp_path, "\n\n", name="empty.csv"), {})


def test_comma_files_with_semicolons_in_values_and_blank_or_padded_rows(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "Email,Name,Department\r\n"
        'a@b.example,"Lee; Ana",HR,,\r\n'  # empty cells past the header are harmless
        "\r\n"
        ",,\r\n"  # a blank spreadsheet row
        "c@d.example,Cy,IT,extra\r\n",
    )
    parsed = read_requesters(path, {})
    assert parsed.records == (RequesterRecord("a@b.example", "Lee; Ana", department="HR", line=2),)
    assert parsed.refused == (Refusal(5, "4 columns where the header has 3"),)


def test_map_options_are_column_equals_field() -> None:
    assert parse_mappings(["A=b", "Mail = email", "Skip me="]) == {
        "A": "b",
        "Mail": "email",
        "Skip me": "",
    }
    with pytest.raises(BadInput, match="write it as COLUMN=FIELD"):
        parse_mappings(["email"])
