"""The remote console dock against a real OpenSSH server on loopback (tests/support/sshd.py)."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import paramiko
import pytest
from PySide6.QtCore import QObject, QSettings, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QMessageBox, QPushButton, QSpinBox
from pytestqt.qtbot import QtBot

from tests.support.keyrings import JsonFileKeyring
from tests.support.sshd import SshServer, _write_ed25519_key
from tests.support.workbench import SITE
from workbench.core.errors import BadInput
from workbench.core.models import Asset, AssetStatus, WorklogKind
from workbench.gui import theme
from workbench.gui.main_window import MainWindow
from workbench.gui.remote_console import RemoteConsole
from workbench.gui.remote_dialogs import ParamForm, parse_targets, platform_of
from workbench.gui.remote_profiles import ProfileEditor
from workbench.gui.worker import DbWorker
from workbench.remote.hostkeys import KnownHosts
from workbench.remote.profiles import KEYRING_SERVICE, CredentialProfile
from workbench.remote.recipes import RECIPES_DIR, Protocol, Target, load_library, parse_recipe
from workbench.services.profiles import ProfileService
from workbench.services.recipes import ServiceHosts
from workbench.services.tickets import TicketService
from workbench.store import Store

RUN_MS = 30_000
SECRET = "s3cr3t-Value-42"

TEST_RECIPES = {
    "test.hello": "title: Say hello\nprotocol: ssh\nshell: sh\nscript: echo hello; echo oops >&2\n",
    "test.sleep": (
        "title: Tick slowly\nprotocol: ssh\nshell: sh\ntimeout: 60\n"
        "script: 'for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 3; done'\n"
    ),
    "test.touch": (
        "title: Create a marker file\ndescription: Creates the file on the machine.\n"
        "protocol: ssh\nshell: sh\nconfirm: true\n"
        "params:\n  path: {type: path, required: true}\nscript: touch {{path}}\n"
    ),
    "test.fail": (
        "title: Fail on purpose\nprotocol: ssh\nshell: sh\n"
        "script: 'echo checking disk; echo disk full >&2; exit 3'\n"
    ),
    "test.secret": (
        "title: Use a token\nprotocol: ssh\nshell: sh\n"
        "params:\n  token: {type: secret, required: true}\n"
        "  user: {type: string, pattern: '[a-z]+', default: dana}\n"
        "script: echo user {{user}} token {{token}}\n"
    ),
}


@dataclass
class Bench:
    window: MainWindow
    console: RemoteConsole
    store: Store
    ticket_id: str
    data_dir: Path
    keyring: JsonFileKeyring

    def audit(self) -> str:
        path = self.data_dir / "audit.log"
        return path.read_text() if path.exists() else ""

    def worklog(self, service: TicketService) -> list[str]:
        return [
            e.text
            for e in service.detail(self.ticket_id).worklog
            if e.kind is WorklogKind.REMOTE_JOB
        ]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "recipes"
    folder.mkdir()
    shutil.copy(RECIPES_DIR / "linux.diagnostics.yaml", folder)
    for recipe_id, body in TEST_RECIPES.items():
        (folder / f"{recipe_id}.yaml").write_text(f"id: {recipe_id}\n{body}")
    return folder


@pytest.fixture
def bench(
    qtbot: QtBot,
    tmp_path: Path,
    store: Store,
    service: TicketService,
    worker: DbWorker,
    sshd_server: SshServer,
    profile_keyring: JsonFileKeyring,
    library: Path,
) -> Iterator[Bench]:
    asset = Asset("asset-lab", "LAB-0001", "LABSERIAL1", sshd_server.host, "Test VM", "Debian 12",
                  SITE.id, None, date(2025, 1, 1), None, AssetStatus.IN_SERVICE,
                  port=sshd_server.port)  # fmt: skip
    with store.write() as tx:
        tx.load_snapshot(assets=[asset])
    profiles = ProfileService(store, profile_keyring)
    profiles.save(CredentialProfile("lab", "ssh", sshd_server.username, "key",
                                    key_path=str(sshd_server.client_key_path)))  # fmt: skip
    profiles.assign(asset.id, "lab")
    ticket = service.create(title="Laptop slow", category="hardware", impact=2, urgency=2,
                            asset=asset.tag)  # fmt: skip
    settings = QSettings(str(tmp_path / "workbench.ini"), QSettings.Format.IniFormat)

    def build(window: MainWindow) -> RemoteConsole:
        return RemoteConsole(window, profiles, load_library(library))

    window = MainWindow(service, worker, settings, docks=[("Remote console", build)])
    window.show()  # closed here, not by qtbot: that would delete it before the jobs end
    window.detail.load(ticket.ticket.id)
    console = window.pane("Remote console")
    assert isinstance(console, RemoteConsole)
    qtbot.waitUntil(lambda: console.ui.profile.currentText() == "lab")
    data_dir = store.path.parent
    yield Bench(window, console, store, ticket.ticket.id, data_dir, profile_keyring)
    console.cancel()
    qtbot.waitUntil(lambda: not console.running and worker.pending == 0, timeout=RUN_MS)
    window.close()
    window.deleteLater()


@pytest.fixture
def trusted(bench: Bench, sshd_server: SshServer) -> Bench:
    KnownHosts.in_data_dir(bench.data_dir).add(
        sshd_server.host, sshd_server.port, sshd_server.host_pkey()
    )
    return bench


def run(qtbot: QtBot, console: RemoteConsole, recipe_id: str) -> None:
    console.choose_recipe(recipe_id)
    assert console.recipe() is not None and console.recipe().id == recipe_id  # type: ignore[union-attr]
    with qtbot.waitSignal(console.run_finished, timeout=RUN_MS):
        console.ui.run.click()


def closed_targets(count: int) -> list[str]:
    """Loopback ports nothing listens on: their jobs end unreachable at once."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [f"127.0.0.1:{probe.getsockname()[1]}" for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def output_lines(console: RemoteConsole) -> list[str]:
    return console.ui.output.toPlainText().splitlines()


def button(box: QMessageBox, text: str) -> QPushButton:
    found = [b for b in box.buttons() if text in b.text()]
    assert found, [b.text() for b in box.buttons()]
    return found[0]  # type: ignore[return-value]


@pytest.mark.services
def test_diagnostics_stream_into_the_view_and_the_summary_into_the_worklog(
    qtbot: QtBot, trusted: Bench, service: TicketService, sshd_server: SshServer,
    artifacts: Path,
) -> None:  # fmt: skip
    console = trusted.console
    assert console.ui.targets.toPlainText() == f"{sshd_server.host}:{sshd_server.port}"
    offered = [console.ui.recipe.itemData(i) for i in range(console.ui.recipe.count())]
    assert "linux.diagnostics" in offered  # a Debian asset: SSH recipes only
    with qtbot.waitSignal(console.recorded, timeout=RUN_MS):
        run(qtbot, console, "linux.diagnostics")
    assert console.ui.banner.property("state") == "ok"
    assert console.ui.banner.text().startswith(f"{sshd_server.host}:{sshd_server.port}: ok, exit")
    [row] = console.ui.results.rows()
    assert (row.state, row.exit_code) == ("ok", 0)
    [log] = (trusted.data_dir / "remote-jobs").glob("*linux.diagnostics*.log")
    streamed = [
        line.removeprefix("[stderr] ") for line in log.read_text().splitlines()
        if not line.startswith("#")
    ]  # fmt: skip
    assert output_lines(console) == streamed
    for section in ("== uptime", "== disk", "== memory", "== network", "== failed services"):
        assert section in streamed
    [entry] = trusted.worklog(service)
    assert "linux.diagnostics" in entry and "ok, exit code 0" in entry
    qtbot.waitUntil(lambda: any("linux.diagnostics" in e.text for e in
                                trusted.window.detail.detail.worklog))  # type: ignore[union-attr]  # fmt: skip
    trusted.window.resize(1400, 900)
    console.grab().save(str(artifacts / "remote_console_outcome.png"))


@pytest.mark.services
def test_cancel_stops_a_running_job(qtbot: QtBot, trusted: Bench, artifacts: Path) -> None:
    console = trusted.console
    console.choose_recipe("test.sleep")
    console.ui.run.click()
    # The first line is on screen while the job still runs: output streams.
    qtbot.waitUntil(lambda: "tick 1" in output_lines(console), timeout=RUN_MS)
    assert console.ui.cancel.isEnabled() and not console.ui.run.isEnabled()
    assert [r.state for r in console.ui.results.rows()] == ["running"]
    assert console.ui.banner.property("state") == "running"
    console.grab().save(str(artifacts / "remote_console_running.png"))
    with qtbot.waitSignal(console.run_finished, timeout=RUN_MS):
        console.ui.cancel.click()
    assert console.ui.banner.property("state") == "cancelled"
    assert [r.state for r in console.ui.results.rows()] == ["cancelled"]
    assert "tick 10" not in output_lines(console)
    assert json.loads(trusted.audit().splitlines()[-1])["outcome"] == "cancelled"


@pytest.mark.services
def test_closing_the_window_cancels_running_jobs(qtbot: QtBot, trusted: Bench) -> None:
    console = trusted.console
    console.choose_recipe("test.sleep")
    console.ui.run.click()
    qtbot.waitUntil(lambda: "tick 1" in output_lines(console), timeout=RUN_MS)
    trusted.window.close()
    qtbot.waitUntil(lambda: '"cancelled"' in trusted.audit(), timeout=5_000)


@pytest.mark.services
def test_closing_the_window_before_the_jobs_start_runs_nothing(
    qtbot: QtBot, trusted: Bench
) -> None:
    console, worker = trusted.console, trusted.window.worker
    gate = threading.Event()
    worker.submit(gate.wait, lambda _: None)  # the run's preparation waits behind this
    console.choose_recipe("test.sleep")
    console.ui.run.click()
    trusted.window.close()
    gate.set()
    qtbot.waitUntil(lambda: worker.pending == 0, timeout=RUN_MS)
    assert not console.bridge.busy() and not console.running
    assert [r.state for r in console.ui.results.rows()] == ["cancelled"]


@pytest.mark.services
def test_unknown_host_key_is_shown_and_accepting_it_runs_the_recipe(
    qtbot: QtBot, bench: Bench, sshd_server: SshServer, artifacts: Path
) -> None:
    console = bench.console
    run(qtbot, console, "test.hello")
    assert console.ui.banner.property("state") == "host_key_rejected"
    box = console.dialog
    assert box is not None and box.isVisible()
    assert sshd_server.host_key_fingerprint in box.text()
    box.grab().save(str(artifacts / "remote_host_key.png"))
    assert not KnownHosts.in_data_dir(bench.data_dir).entries()
    with qtbot.waitSignal(console.run_finished, timeout=RUN_MS):
        button(box, "Accept").click()
    assert console.ui.banner.property("state") == "ok"
    assert output_lines(console) == ["hello", "oops"]
    [known] = KnownHosts.in_data_dir(bench.data_dir).entries()
    assert known.fingerprint == sshd_server.host_key_fingerprint


@pytest.mark.services
def test_confirm_names_the_host_and_declining_runs_nothing(
    qtbot: QtBot, trusted: Bench, tmp_path: Path, sshd_server: SshServer, artifacts: Path
) -> None:
    console = trusted.console
    marker = tmp_path / "it ran; $(echo not code)"
    console.choose_recipe("test.touch")
    console.form.inputs["path"].setText(str(marker))  # type: ignore[union-attr]
    console.ui.run.click()
    box = console.dialog
    assert box is not None and box.isVisible()
    assert f"{sshd_server.host}:{sshd_server.port}" in box.text()
    assert "changes the machine" in box.informativeText() and str(marker) in box.informativeText()
    box.grab().save(str(artifacts / "remote_confirm.png"))
    button(box, "Cancel").click()
    assert console.ui.banner.text() == "Not run: declined."
    qtbot.wait(300)
    assert trusted.audit() == "" and not marker.exists() and console.ui.run.isEnabled()
    console.ui.run.click()
    with qtbot.waitSignal(console.run_finished, timeout=RUN_MS):
        button(console.dialog, "Run on 1 host").click()  # type: ignore[arg-type]
    assert marker.exists() and console.ui.banner.property("state") == "ok"


@pytest.mark.services
def test_a_secret_never_reaches_the_view_worklog_logs_or_audit(
    qtbot: QtBot, trusted: Bench, service: TicketService
) -> None:
    console = trusted.console
    console.choose_recipe("test.secret")
    field = console.form.inputs["token"]
    field.setText(SECRET)  # type: ignore[union-attr]
    assert field.displayText() != SECRET  # type: ignore[union-attr]
    with qtbot.waitSignal(console.recorded, timeout=RUN_MS):
        run(qtbot, console, "test.secret")
    # It reached the machine (the remote echoed it) and was masked on the way back.
    assert output_lines(console) == ["user dana token ********"]
    assert field.text() == ""  # type: ignore[union-attr]
    [entry] = trusted.worklog(service)
    logs = [p.read_text() for p in (trusted.data_dir / "remote-jobs").glob("*.log")]
    for text in (console.ui.output.toPlainText(), entry, trusted.audit(), *logs):
        assert SECRET not in text
    assert "token=********" in entry


@pytest.mark.services
def test_fan_out_table_and_retry_of_the_unreachable(
    qtbot: QtBot, qtmodeltester: object, trusted: Bench, sshd_server: SshServer,
    artifacts: Path,
) -> None:  # fmt: skip
    [closed] = closed_targets(1)
    good = f"{sshd_server.host}:{sshd_server.port}"
    console = trusted.console
    console.ui.targets.setPlainText(f"{good}\n{closed}")
    console.ui.concurrency.setValue(2)
    run(qtbot, console, "test.hello")
    assert console.ui.results.states() == {good: "ok", closed: "unreachable"}
    qtmodeltester.check(console.ui.results)  # type: ignore[attr-defined]
    assert f"{good} | hello" in output_lines(console)
    assert console.ui.banner.text() == "1 of 2 hosts ok; 1 unreachable"
    assert console.ui.retry.isEnabled()
    trusted.window.resize(1400, 900)
    console.grab().save(str(artifacts / "remote_fanout.png"))
    qapp = QApplication.instance()
    try:  # the banner, stderr and outcome colours must read on the dark theme too
        theme.apply(qapp, "dark", theme.DEFAULT_FONT_SIZE)  # type: ignore[arg-type]
        qtbot.wait(200)
        console.grab().save(str(artifacts / "remote_fanout_dark.png"))
    finally:
        theme.apply(qapp, "system", theme.DEFAULT_FONT_SIZE)  # type: ignore[arg-type]
    with qtbot.waitSignal(console.run_finished, timeout=RUN_MS):
        console.ui.retry.click()
    assert console.ui.targets.toPlainText() == closed
    assert console.ui.results.states() == {closed: "unreachable"}


@pytest.mark.services
def test_a_fan_out_reloads_the_ticket_once_with_every_entry(
    qtbot: QtBot, trusted: Bench, sshd_server: SshServer, artifacts: Path
) -> None:
    targets = [f"{sshd_server.host}:{sshd_server.port}", *closed_targets(3)]
    console, window = trusted.console, trusted.window
    console.ui.targets.setPlainText("\n".join(targets))
    reloads: list[str] = []
    window.detail.shown.connect(reloads.append)
    run(qtbot, console, "test.hello")

    def entries() -> list[str]:
        shown = window.detail.detail
        worklog = shown.worklog if shown is not None else ()
        return [e.text for e in worklog if e.kind is WorklogKind.REMOTE_JOB]

    qtbot.waitUntil(lambda: len(entries()) == len(targets), timeout=RUN_MS)
    # Through the change hub, which coalesces the records' commits: not once per host.
    assert set(reloads) == {trusted.ticket_id} and len(reloads) < len(targets)
    shown = window.detail.view.toPlainText()
    for target in targets:
        assert f"@{target}: " in shown
    window.resize(1400, 900)
    window.grab().save(str(artifacts / "remote_fanout_window.png"))


@pytest.mark.services
def test_missing_session_client_is_a_message(
    trusted: Bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    console = trusted.console
    console.ui.launch["ssh"].click()
    box = console.dialog
    assert box is not None and box.isVisible()
    assert "not installed" in box.text()
    box.close()
    # The asset card's session link in the detail pane goes the same way.
    assert "Open a session: SSH terminal" in trusted.window.detail.view.toPlainText()
    trusted.window.detail.view.anchorClicked.emit(QUrl("launch:rdp"))
    assert console.dialog is not box and console.dialog.isVisible()
    assert "not installed" in console.dialog.text()


@pytest.mark.services
def test_profile_editor_keeps_the_password_in_the_keyring_only(
    qtbot: QtBot, trusted: Bench, artifacts: Path
) -> None:
    console = trusted.console
    console.ui.profiles_button.click()
    editor: ProfileEditor = console.editor
    qtbot.waitUntil(lambda: editor.names.count() == 1)
    editor.names.setCurrentRow(0)
    assert (editor.name.text(), editor.auth.currentText()) == ("lab", "key")
    editor.buttons["New"].click()
    editor.name.setText("win-admin")
    editor.protocol.setCurrentText("winrm")
    editor.user.setText("CORP\\helpdesk")
    editor.auth.setCurrentText("ntlm")
    editor.secret.setText(SECRET)
    editor.buttons["Save"].click()
    assert editor.secret.text() == ""
    qtbot.waitUntil(lambda: editor.names.count() == 2)
    assert trusted.keyring.get_password(KEYRING_SERVICE, "win-admin") == SECRET
    profiles = ProfileService(trusted.store, trusted.keyring)
    assert profiles.profile("win-admin").has_secret
    for stored in trusted.data_dir.iterdir():  # the cache (and its WAL) holds no secret
        assert stored.is_dir() or SECRET.encode() not in stored.read_bytes()
    editor.resize(760, 420)
    editor.grab().save(str(artifacts / "profile_editor.png"))
    with qtbot.waitSignal(editor.assigned):
        editor.buttons["Use for this asset"].click()
    assert profiles.profile_for_asset("asset-lab").name == "win-admin"  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: console.ui.profile.currentText() == "win-admin")


@pytest.mark.services
def test_a_changed_host_key_is_refused_with_a_warning(
    qtbot: QtBot, bench: Bench, sshd_server: SshServer, tmp_path: Path
) -> None:
    other = tmp_path / "other_host_key"
    _write_ed25519_key(other, "impostor")
    KnownHosts.in_data_dir(bench.data_dir).add(
        sshd_server.host, sshd_server.port, paramiko.PKey.from_path(other)
    )
    run(qtbot, bench.console, "test.hello")
    assert bench.console.ui.banner.property("state") == "host_key_rejected"
    box = bench.console.dialog
    assert box is not None and box.windowTitle() == "Host key changed"
    assert "CHANGED" in box.text() and sshd_server.host_key_fingerprint in box.text()
    assert [button.text() for button in box.buttons()] == ["OK"]  # nothing to accept
    assert bench.console.ui.output.toPlainText() == ""


def test_param_form_follows_the_recipe_types(qtbot: QtBot) -> None:
    recipe = parse_recipe(
        "id: t.form\ntitle: Form\nprotocol: ssh\nshell: sh\n"
        "script: echo {{n}} {{c}} {{s}} {{h}} {{k}}\n"
        "params:\n  n: {type: int, min: 1, max: 9, default: 3}\n"
        "  c: {type: choice, choices: [a, b]}\n  s: {type: secret}\n"
        "  h: {type: hostname, required: true}\n  k: {type: int}\n",
        Path("form.yaml"),
    )
    form = ParamForm()
    qtbot.addWidget(form)
    form.set_recipe(recipe)
    number, choice, secret = form.inputs["n"], form.inputs["c"], form.inputs["s"]
    assert isinstance(number, QSpinBox) and (number.minimum(), number.maximum()) == (1, 9)
    assert isinstance(choice, QComboBox) and choice.currentText() == ""  # optional: unset
    assert isinstance(secret, QLineEdit) and secret.echoMode() == QLineEdit.EchoMode.Password
    assert form.values() == {"n": "3"}  # empty fields and the unset int are left out
    secret.setText("x")
    form.clear_secrets()
    assert secret.text() == ""


def test_targets_and_platforms_are_read_as_a_technician_writes_them() -> None:
    assert parse_targets("pc1\n pc2:2222, [::1]:22 pc1") == [
        ("pc1", "pc1", None), ("pc2:2222", "pc2", 2222), ("[::1]:22", "::1", 22)
    ]  # fmt: skip
    for bad in ("", "pc1:99999", "pc1:x"):
        with pytest.raises(BadInput):
            parse_targets(bad)
    assert platform_of("Windows 11 Pro") is Protocol.WINRM
    assert platform_of("Ubuntu 24.04") is Protocol.SSH
    assert platform_of("ChromeOS") is None


@pytest.mark.services
def test_a_failed_job_shows_its_outcome_and_opens_its_log(
    qtbot: QtBot, trusted: Bench, service: TicketService, artifacts: Path
) -> None:
    console = trusted.console
    assert not console.ui.open_log.isEnabled()  # no job has ended yet
    with qtbot.waitSignal(console.recorded, timeout=RUN_MS):
        run(qtbot, console, "test.fail")
    assert console.ui.banner.property("state") == "failed"
    assert ": failed, exit code 3 in " in console.ui.banner.text()
    [entry] = [e for e in service.detail(trusted.ticket_id).worklog if "test.fail" in e.text]
    assert entry.minutes == 0  # a job of a second adds no invented minute
    assert "Last output:\n  checking disk\n  [stderr] disk full\nFull output: " in entry.text
    assert console.last_log is not None and entry.text.endswith(console.last_log.name)
    opened: list[QUrl] = []
    catcher = UrlCatcher(opened)  # kept alive while Qt holds it
    QDesktopServices.setUrlHandler("file", catcher, "catch")
    try:
        assert console.ui.open_log.isEnabled()
        console.ui.open_log.click()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [url.toLocalFile() for url in opened] == [str(console.last_log)]
    assert "disk full" in console.last_log.read_text()
    trusted.window.resize(1400, 900)
    console.grab().save(str(artifacts / "remote_console_failed.png"))


class UrlCatcher(QObject):
    def __init__(self, urls: list[QUrl]) -> None:
        super().__init__()
        self.urls = urls

    @Slot(QUrl)
    def catch(self, url: QUrl) -> None:
        self.urls.append(url)


PC = Asset("asset-pc", "WA-009001", "SERIALPC1", "OLY-HR-DT7754", "Dell OptiPlex", "Windows 11 Pro",
           SITE.id, None, date(2024, 1, 1), None, AssetStatus.IN_SERVICE)  # fmt: skip


@pytest.fixture
def windows_console(
    qtbot: QtBot, tmp_path: Path, store: Store, service: TicketService, worker: DbWorker,
    profile_keyring: JsonFileKeyring,
) -> Iterator[tuple[MainWindow, RemoteConsole]]:  # fmt: skip
    """The console with the shipped recipes on a ticket about a user's Windows PC."""
    with store.write() as tx:
        tx.load_snapshot(assets=[PC])
    ticket = service.create(title="Cannot log in", category="account", impact=3, urgency=2,
                            asset=PC.tag)  # fmt: skip
    settings = QSettings(str(tmp_path / "workbench.ini"), QSettings.Format.IniFormat)
    profiles = ProfileService(store, profile_keyring)

    def build(window: MainWindow) -> RemoteConsole:
        return RemoteConsole(window, profiles, load_library())

    window = MainWindow(service, worker, settings, docks=[("Remote console", build)])
    window.show()
    window.detail.load(ticket.ticket.id)
    console = window.pane("Remote console")
    assert isinstance(console, RemoteConsole)
    qtbot.waitUntil(lambda: worker.pending == 0)
    yield window, console
    qtbot.waitUntil(lambda: worker.pending == 0)
    window.close()
    window.deleteLater()


def test_a_windows_pc_starts_with_its_diagnostics_and_titles_say_their_platform(
    windows_console: tuple[MainWindow, RemoteConsole], artifacts: Path
) -> None:
    window, console = windows_console
    recipe = console.recipe()
    assert recipe is not None and recipe.id == "windows.diagnostics"
    assert console.ui.targets.toPlainText() == PC.hostname
    window.resize(1400, 900)
    console.grab().save(str(artifacts / "remote_console_default.png"))
    console.ui.all_platforms.setChecked(True)
    titles = [console.ui.recipe.itemText(i) for i in range(console.ui.recipe.count())]
    assert len(titles) == len(set(titles)) == len(load_library().recipes)
    assert console.recipe().id == "windows.diagnostics"  # type: ignore[union-attr]  # kept
    pxe = [t for t in titles if "PXE" in t]
    assert sorted(t.split(":")[0] for t in pxe) == ["Linux", "Windows"]


def test_a_directory_recipe_aims_at_the_directory_host_never_at_the_pc(
    qtbot: QtBot, windows_console: tuple[MainWindow, RemoteConsole], store: Store,
    artifacts: Path,
) -> None:  # fmt: skip
    window, console = windows_console
    console.ui.profile.addItem("corp")
    console.choose_recipe("ad.reset-password")
    # No directory host is set: the console says so and leaves the PC out of the targets.
    assert console.ui.targets.toPlainText() == ""
    assert "none is set" in console.ui.description.text()
    assert "service-host directory-host" in console.ui.description.text()
    console.run()
    assert console.ui.banner.property("state") == "failed"
    assert "runs on the directory host (a server with RSAT), and this cache names none" in (
        console.ui.banner.text()
    )
    assert set(console.form.inputs) == {"account", "password", "must_change"}
    window.resize(1400, 900)
    qtbot.wait(100)  # the banner's new height is laid out
    console.grab().save(str(artifacts / "remote_console_no_directory_host.png"))
    # The PC typed by hand is refused too.
    console.ui.targets.setPlainText(PC.hostname.lower())
    console.run()
    assert "not on the user's machine oly-hr-dt7754 (asset WA-009001)" in console.ui.banner.text()
    assert not console.running
    # With a directory host named for this cache, the recipe aims at it ...
    ServiceHosts(store).set(Target.DIRECTORY_HOST, "mgmt01")
    console.ui.targets.clear()
    console._read_service_hosts()
    qtbot.waitUntil(lambda: console.ui.targets.toPlainText() == "mgmt01")
    described = console.ui.description.text()
    assert "Runs on the directory host (a server with RSAT): mgmt01" in described
    # ... and the machine's own recipes at the machine again.
    console.choose_recipe("windows.restart")
    assert console.ui.targets.toPlainText() == PC.hostname
    console.choose_recipe("fog.schedule-deploy")
    assert console.ui.targets.toPlainText() == ""  # no FOG server named
    console.ui.targets.setPlainText("fog01")  # typed: kept when the recipe changes
    console.choose_recipe("ad.unlock-account")
    assert console.ui.targets.toPlainText() == "fog01"
