"""File → Administration…, the Imports, Policy and Audit tabs against a real central database:
a check writes nothing, an import only after a clean check, a broken policy is located and
not stored, the audit lists what was done; refusals are one line (DESIGN.md §11)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.pool import NullPool

from tests.gui.test_admin_dialog import TIMEOUT_MS, open_admin, open_window, user_url
from tests.integration.sync.conftest import prepare_central
from tests.support.workbench import LEAD, SITE
from workbench.core.errors import BadInput
from workbench.core.imports import Refusal
from workbench.core.models import Role, Technician
from workbench.gui.admin.central_tab import CentralTab
from workbench.gui.admin.dialog import AdminDialog
from workbench.gui.admin.models import AuditTableModel, PolicyTableModel, RefusalTableModel
from workbench.gui.sync_status import INTERVAL_KEY
from workbench.gui.worker import DbWorker
from workbench.resources import RESOURCES
from workbench.services.admin import CentralAdmin, PolicyVersion, parse_column_mapping
from workbench.services.sync import connect_central
from workbench.services.tickets import TicketService
from workbench.sync import admin, central
from workbench.sync.admin import AuditEvent

pytestmark = pytest.mark.usefixtures("profile_keyring")
CSV = Path(__file__).parents[1] / "support" / "csv"


@pytest.fixture
def central_url(pg_database: str) -> str:
    return prepare_central(pg_database)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    stored = QSettings(str(tmp_path / "workbench.ini"), QSettings.Format.IniFormat)
    stored.setValue("view", "All tickets")
    stored.setValue(INTERVAL_KEY, 3600)  # one round as the window opens, no timer rounds
    return stored


def central_counts(url: str) -> dict[str, Any]:
    """What an import or a policy could change: rows per table, the clock, the audit."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        found: dict[str, Any] = {
            table.name: db.scalar(select(func.count()).select_from(table))
            for table in (central.requesters, central.sites, central.assets, central.policies)
        }
        found["clock"] = db.scalar(select(central.sync_clock.c.clock))
        found["audit"] = db.scalar(select(func.count()).select_from(central.audit_events))
    engine.dispose()
    return found


def ask(qtbot: QtBot, tab: CentralTab, action: Any) -> None:
    """Click or call `action` and wait until the tab shows the central's answer."""
    with qtbot.waitSignal(tab.answered, timeout=TIMEOUT_MS):
        action()


def shown_texts(model: Any) -> set[str]:
    return {
        str(model.index(r, c).data())
        for r in range(model.rowCount())
        for c in range(model.columnCount())
    }


def open_tab(qtbot: QtBot, dialog: AdminDialog, tab: CentralTab) -> None:
    """Show a tab; the policy and audit tabs read what they show as they are shown."""
    if isinstance(tab, type(dialog.imports)):
        dialog.tabs.setCurrentWidget(tab)
        return
    with qtbot.waitSignal(tab.answered, timeout=TIMEOUT_MS):
        dialog.tabs.setCurrentWidget(tab)


def _connected_as_owner(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings, url: str
) -> AdminDialog:
    connect_central(service.store, url, LEAD.login, None, None)  # the owner signs in for Cara
    window = open_window(qtbot, service, worker, settings)
    return open_admin(qtbot, window)


# -- imports -------------------------------------------------------------------------------


@pytest.mark.services
def test_a_check_lists_refusals_and_writes_nothing_then_a_clean_file_imports(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    central_url: str,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    dialog = _connected_as_owner(qtbot, service, worker, settings, central_url)
    tab = dialog.imports
    open_tab(qtbot, dialog, tab)
    assert [tab.kind.itemText(i) for i in range(tab.kind.count())] == [
        "Requesters",
        "Assets",
        "Sites",
    ]
    assert not dialog.summary.isVisible()  # the directory's counts belong to its own tabs
    _check_refused_and_bad_files(qtbot, dialog, central_url, artifacts)
    before = central_counts(central_url)
    tab.set_file(CSV / "glpi_locations.csv")

    # Sites with the time zone mapped: a clean check, then Import writes them.
    tab.set_kind("sites")
    tab.mapping.setText("Comments=timezone")
    ask(qtbot, tab, tab.check_button.click)
    said = tab.result.text()
    assert said.startswith("Checked glpi_locations.csv: 2 new, 1 changed, 0 unchanged"), said
    assert "Nothing was written" in said and tab.refusals.rowCount() == 0
    assert tab.problem.text() == ""
    assert central_counts(central_url) == before
    assert tab.import_button.isEnabled()
    tab.mapping.setText("Comments=timezone, Entity=")  # changed after the check: check again
    assert not tab.import_button.isEnabled()
    tab.mapping.setText("Comments=timezone")
    assert tab.import_button.isEnabled()  # back to what was checked
    dialog.grab().save(str(artifacts / "admin_imports_checked.png"))
    with qtbot.waitSignal(dialog.loaded, timeout=TIMEOUT_MS):  # the Sites tab reads them
        ask(qtbot, tab, tab.import_button.click)
    said = tab.result.text()
    assert said.startswith("Imported sites from glpi_locations.csv: 2 new, 1 changed"), said
    assert "next sync" in said and not tab.import_button.isEnabled()
    after = central_counts(central_url)
    assert after["sites"] == before["sites"] + 2 and after["audit"] == before["audit"] + 1
    assert {s.name for s in dialog.directory.sites} == {SITE.name, "Tacoma Annex", "Zürich Büro"}
    assert dialog.sites.rowCount() == 3
    dialog.grab().save(str(artifacts / "admin_imports_done.png"))

    _set_the_policy(qtbot, dialog, central_url, artifacts, tmp_path)
    _read_the_audit(qtbot, dialog, central_url, artifacts)


def _check_refused_and_bad_files(
    qtbot: QtBot, dialog: AdminDialog, central_url: str, artifacts: Path
) -> None:
    tab = dialog.imports
    before = central_counts(central_url)
    # A check with refusals: counts, every refused line with its reason, nothing written.
    tab.set_kind("requesters")
    tab.set_file(CSV / "requesters_bad.csv")
    assert tab.check_button.isEnabled() and not tab.import_button.isEnabled()
    ask(qtbot, tab, tab.check_button.click)
    said = tab.result.text()
    assert said.startswith("Nothing imported from requesters_bad.csv: 1 new, 0 changed"), said
    assert "5 refused" in said
    lines = [tab.refusals.index(r, 0).data() for r in range(tab.refusals.rowCount())]
    assert lines == ["3", "4", "5", "6", "7"]
    reasons = " | ".join(tab.refusals.index(r, 1).data() for r in range(5))
    assert "not-an-address" in reasons and "Spokane" in reasons and "also on line 2" in reasons
    assert not tab.import_button.isEnabled() and tab.problem.text() == ""
    assert central_counts(central_url) == before
    dialog.grab().save(str(artifacts / "admin_imports_refused.png"))

    # A header without the needed columns: the file's problems as its lines, nothing imported.
    tab.set_file(CSV / "glpi_locations.csv")
    ask(qtbot, tab, tab.check_button.click)
    assert tab.problem.text() == "Nothing imported from glpi_locations.csv: the header"
    assert {tab.refusals.index(r, 0).data() for r in range(tab.refusals.rowCount())} == {"1"}
    assert "no column for email" in tab.refusals.index(0, 1).data()
    assert "--map" not in tab.refusals.index(0, 1).data()  # the window's own words
    assert not tab.import_button.isEnabled()
    dialog.grab().save(str(artifacts / "admin_imports_file_problem.png"))

    # A file that is not there: one line.
    tab.set_file(CSV / "gone.csv")
    ask(qtbot, tab, tab.check_button.click)
    assert tab.problem.text().startswith("Cannot read ") and "\n" not in tab.problem.text()
    assert tab.refusals.rowCount() == 0
    assert central_counts(central_url) == before


def _set_the_policy(
    qtbot: QtBot, dialog: AdminDialog, central_url: str, artifacts: Path, tmp_path: Path
) -> None:
    tab = dialog.policy
    open_tab(qtbot, dialog, tab)
    assert tab.versions.rowCount() == 0 and "No policy set yet" in tab.result.text()
    before = central_counts(central_url)

    shipped = (RESOURCES / "sla.yaml").read_text(encoding="utf-8")
    broken = shipped.replace("P2: {response: 30m,", "P2: {response: soon,")
    broken = broken.replace("reopen_window_days: 14", "reopen_window_days: 14\nescalate: yes")
    assert broken != shipped
    bad = tmp_path / "sla_broken.yaml"
    bad.write_text(broken, encoding="utf-8")
    ask(qtbot, tab, lambda: tab.set_from(bad))
    assert tab.result.text() == "Nothing stored: sla_broken.yaml has 2 problems:"
    problems = [tab.problems.item(r).text() for r in range(tab.problems.count())]
    assert len(problems) == 2 and all(p.startswith("sla_broken.yaml:") for p in problems)
    targets = next(n for n, t in enumerate(broken.splitlines(), 1) if t.startswith("targets"))
    p2_at = f"sla_broken.yaml:{targets + 2}:18: target P2 response: duration 'soon'"
    assert any(p.startswith(p2_at) for p in problems), problems
    assert any("unknown section 'escalate'" in p for p in problems)
    assert tab.problems.isVisible() and tab.problem.text() == ""
    assert central_counts(central_url) == before
    dialog.grab().save(str(artifacts / "admin_policy_problems.png"))

    good = tmp_path / "sla.yaml"
    good.write_text(shipped, encoding="utf-8")
    with qtbot.waitSignal(tab.versions.modelReset, timeout=TIMEOUT_MS):
        ask(qtbot, tab, lambda: tab.set_from(good))
    assert tab.result.text().startswith("The help desk's policy is now version 1, from sla.yaml.")
    assert not tab.problems.isVisible()
    qtbot.waitUntil(lambda: not tab.busy)
    assert tab.versions.rowCount() == 1 and tab.versions.index(0, 0).data() == "1"
    when = tab.versions.index(0, 2).data()
    assert when == datetime.now().astimezone().strftime("%Y-%m-%d %H:%M") or when
    assert central_counts(central_url)["policies"] == 1
    dialog.grab().save(str(artifacts / "admin_policy.png"))


def _read_the_audit(qtbot: QtBot, dialog: AdminDialog, central_url: str, artifacts: Path) -> None:
    # A remote job in the audit too, as a technician's push leaves it.
    engine = create_engine(central_url, poolclass=NullPool)
    with engine.begin() as db:
        db.execute(
            insert(central.audit_events).values(
                id=str(uuid.uuid4()),
                kind="remote_job",
                technician="ana.lopez",
                at=datetime.now(UTC) - timedelta(minutes=5),
                recorded_at=datetime.now(UTC),
                host="OLY-ACC-LT0421",
                port=5986,
                recipe_id="windows.flush_dns",
                params=json.dumps({"adapter": "Ethernet"}),
                outcome="reboot_needed",
                exit_code=0,
                ticket_ref="HD-1042",
                detail="ana@OLY-ACC-LT0421:5986: flushed",
            )
        )
        actor = db.scalar(
            select(central.audit_events.c.technician).where(central.audit_events.c.kind == "import")
        )
    engine.dispose()
    tab = dialog.audit
    open_tab(qtbot, dialog, tab)
    model = tab.events
    kinds = [model.index(r, 2).data() for r in range(model.rowCount())]
    assert kinds[:3] == ["Policy", "Import", "Remote job"], kinds  # newest first
    texts = shown_texts(model)
    assert not {"remote_job", "reboot_needed", "import", "policy"} & texts
    assert {"Reboot needed", "OLY-ACC-LT0421", "windows.flush_dns", "HD-1042", "0"} <= texts
    job = next(r for r in range(model.rowCount()) if model.index(r, 2).data() == "Remote job")
    assert "adapter=Ethernet" in model.index(job, 4).data(3)  # the recipe's tooltip
    assert tab.result.text().startswith(f"{model.rowCount()} events, newest first")
    dialog.grab().save(str(artifacts / "admin_audit.png"))

    # Filters: a technician, a host, a day.
    tab.technician.setText("ana.lopez")
    ask(qtbot, tab, tab.refresh_button.click)
    assert [model.index(r, 2).data() for r in range(model.rowCount())] == ["Remote job"]
    assert "matching the filters" in tab.result.text()
    tab.technician.setText(str(actor))
    ask(qtbot, tab, tab.refresh_button.click)
    kinds = [model.index(r, 2).data() for r in range(model.rowCount())]
    assert kinds == ["Policy", "Import"], kinds
    tab.technician.clear()
    tab.host.setText("oly-acc-lt0421")
    ask(qtbot, tab, tab.refresh_button.click)
    assert model.rowCount() == 1
    tab.host.clear()
    ask(qtbot, tab, lambda: tab.set_since(date.today() + timedelta(days=1)))
    assert model.rowCount() == 0 and tab.result.text().startswith("0 events matching")
    ask(qtbot, tab, lambda: tab.set_since(None))
    assert model.rowCount() == 3


# -- a lead --------------------------------------------------------------------------------


@pytest.mark.services
def test_a_lead_reads_policy_and_audit_but_may_not_import(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    central_url: str,
    artifacts: Path,
) -> None:
    login, password = f"lea.{uuid.uuid4().hex[:8]}", "lead-Pa55word"
    with admin.admin_session(central_url, Role.ADMIN, "enrol technicians") as session:
        admin.add_technician(session, Technician(login, "Lea Lead", 3, Role.LEAD), password)
    connect_central(service.store, user_url(central_url, login, password), login, None, None)
    window = open_window(qtbot, service, worker, settings)
    dialog = open_admin(qtbot, window)
    before = central_counts(central_url)

    tab = dialog.imports
    open_tab(qtbot, dialog, tab)
    tab.set_kind("sites")
    tab.set_file(CSV / "glpi_locations.csv")
    tab.mapping.setText("Comments=timezone")
    ask(qtbot, tab, tab.check_button.click)
    said = tab.problem.text()
    assert said == f"only an admin may import sites; {login} is a lead", said
    assert tab.result.text() == "Nothing imported." and not tab.import_button.isEnabled()
    assert central_counts(central_url) == before
    dialog.grab().save(str(artifacts / "admin_imports_lead.png"))

    open_tab(qtbot, dialog, dialog.policy)  # a lead may look at the policy and the audit
    assert dialog.policy.problem.text() == ""
    open_tab(qtbot, dialog, dialog.audit)
    assert dialog.audit.problem.text() == ""
    kinds = {dialog.audit.events.index(r, 2).data() for r in range(dialog.audit.events.rowCount())}
    assert "Technician" in kinds  # Lea's enrolment


# -- without a server ------------------------------------------------------------------------


def test_the_new_models_pass_the_model_tester(qtmodeltester: Any) -> None:
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    events = [
        AuditEvent("a", "policy", "cara.nguyen", at, None, None, None, None, None, None, None,
                   "set the SLA policy, version 1"),
        AuditEvent("b", "remote_job", "ana.lopez", at, "OLY-1", 22, "linux.uptime",
                   {"verbose": True}, "auth_failed", None, "HD-1", "ana@OLY-1:22: denied"),
        AuditEvent("c", "something_new", "ben.okafor", at, None, None, None, None, None, None,
                   None, ""),
    ]  # fmt: skip
    audit = AuditTableModel()
    audit.set_events(events)
    qtmodeltester.check(audit)
    assert audit.columnCount() == 9 and audit.rowCount() == 3
    assert [audit.index(r, 2).data() for r in range(3)] == ["Policy", "Remote job", "Something new"]
    assert audit.index(1, 5).data() == "Sign-in failed"
    assert audit.index(0, 0).data() == at.astimezone().strftime("%Y-%m-%d %H:%M")
    assert audit.index(1, 3).data(3) == "OLY-1, port 22"
    assert audit.event_at(1).id == "b" and audit.row_of("c") == 2
    qtmodeltester.check(AuditTableModel())

    policy = PolicyTableModel()
    policy.set_versions([PolicyVersion(2, "cara.nguyen", at), PolicyVersion(1, "postgres", at)])
    qtmodeltester.check(policy)
    assert policy.index(1, 0).data() == "1" and policy.index(0, 1).data() == "cara.nguyen"

    refusals = RefusalTableModel()
    refusals.set_refusals([Refusal(7, "no site 'Spokane'"), Refusal(3, "not an e-mail")])
    qtmodeltester.check(refusals)
    assert refusals.index(0, 0).data() == "3"


def test_the_service_checks_the_mapping_and_kind_before_it_connects(tmp_path: Path) -> None:
    assert parse_column_mapping(" Comments=timezone, Entity= ") == {
        "Comments": "timezone",
        "Entity": "",
    }
    for wrong in ("timezone", "=timezone"):
        with pytest.raises(BadInput, match="COLUMN=FIELD"):
            parse_column_mapping(wrong)
    service = CentralAdmin("postgresql://x@127.0.0.1:1/c")
    with pytest.raises(BadInput, match="choose requesters, assets, sites"):
        service.import_csv("printers", CSV / "glpi_locations.csv", {}, dry_run=True)
    with pytest.raises(BadInput, match="the header") as raised:
        service.import_csv("requesters", CSV / "glpi_locations.csv", {}, dry_run=True)
    assert getattr(raised.value, "lines", ())[0].startswith("glpi_locations.csv:1: no column")
    missing = tmp_path / "none.yaml"
    with pytest.raises(BadInput, match="cannot read the policy"):
        service.set_policy_from_file(missing)
