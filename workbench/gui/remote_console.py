"""The "Remote console" dock: run a recipe on the ticket's machine (or many), watch it, record it.

Threads: profiles, requests and worklog records go through the window's DbWorker (they read the
store and the keyring, never the network); jobs run on JobRunner's pool; JobBridge brings their
lines and ends back as queued signals. The GUI thread only builds widgets and appends text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QComboBox, QMessageBox, QWidget

from workbench.core.display import visible
from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.models import Asset, TicketDetail
from workbench.gui.docks import DockPane
from workbench.gui.remote_bridge import JobBridge, JobDone, state_label
from workbench.gui.remote_dialogs import (
    ParamForm,
    add_keyring_secrets,
    changed_key_dialog,
    check_entered,
    confirm_dialog,
    host_key_dialog,
    message_box,
    parse_targets,
    platform_of,
)
from workbench.gui.remote_layout import ConsoleLayout
from workbench.gui.remote_profiles import ProfileEditor
from workbench.gui.worker import error_text
from workbench.remote import hostkeys, launchers
from workbench.remote.outcome import Outcome
from workbench.remote.profiles import CredentialProfile
from workbench.remote.recipes import Recipe, RecipeLibrary, Target, load_library
from workbench.services.profiles import ProfileService
from workbench.services.recipes import RecipeService, ServiceHosts, setting_hint, where_it_runs

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow
    from workbench.remote.jobs import JobRequest, JobRunner
    from workbench.services.remote import RemoteService

MAX_CONCURRENCY = 16


@dataclass
class _Run:
    recipe: Recipe
    values: dict[str, str] = field(repr=False)  # may hold secrets: dropped when the run ends
    targets: list[tuple[str, str, int | None]]
    profile: str
    ticket_id: str | None
    requests: dict[str, JobRequest] = field(default_factory=dict, repr=False)
    prepared: bool = False  # the requests were built and handed to the bridge (or not: cancelled)
    cancelled: bool = False  # Cancel pressed (or the window closed) before that


class RemoteConsole(DockPane):
    recorded = Signal(object)  # the WorklogEntry of a finished job, once stored
    run_finished = Signal()  # every target of the run has ended

    def __init__(
        self,
        window: MainWindow,
        profiles: ProfileService,
        library: RecipeLibrary | None = None,
    ) -> None:
        super().__init__()
        self.window_ = window
        self.profiles = profiles
        self.bridge = JobBridge(self._make_runner, self)
        self.library = library or load_library()
        self.form = ParamForm()
        self.ui = ConsoleLayout(self, self.form, MAX_CONCURRENCY)
        self.dialog: QMessageBox | None = None  # the last dialog opened (tests press its buttons)
        self.editor: ProfileEditor | None = None
        self._known: dict[str, CredentialProfile] = {}
        self._asset: Asset | None = None
        self._ticket_id: str | None = None
        self._run: _Run | None = None
        self._service_hosts: dict[Target, str | None] = {}
        self._aimed = ""  # the targets this console filled in (typed ones are kept)
        self.last_log: Path | None = None  # the log of the last job that ended
        self._connect()
        self._fill_recipes()
        self.reload_profiles()
        self._read_service_hosts()
        window.installEventFilter(self)
        if window.detail.detail is not None:  # built after a ticket was opened: start from it
            self._ticket_shown(window.detail.detail.ticket.id)

    @property
    def running(self) -> bool:
        """A run has started and not every target has ended (or its records are pending)."""
        return self._run is not None

    def _make_runner(self) -> JobRunner:
        # paramiko and pywinrm load with the first job: the window opens without them.
        from workbench.remote.jobs import JobRunner  # noqa: PLC0415

        return JobRunner(self.window_.service.store.path.parent, MAX_CONCURRENCY)

    def _remote(self) -> RemoteService:
        from workbench.services.remote import RemoteService  # noqa: PLC0415  (imports jobs)

        return RemoteService(self.window_.service)

    def _connect(self) -> None:
        ui = self.ui
        ui.recipe.currentIndexChanged.connect(self._recipe_chosen)
        ui.all_platforms.toggled.connect(lambda _checked: self._fill_recipes())
        ui.open_log.clicked.connect(self.open_log)
        ui.run.clicked.connect(self.run)
        ui.cancel.clicked.connect(self.cancel)
        ui.retry.clicked.connect(self.retry_unreachable)
        ui.profiles_button.clicked.connect(self.edit_profiles)
        for kind, button in ui.launch.items():
            button.clicked.connect(lambda _=False, k=kind: self.launch_session(k))
        self.bridge.lines_ready.connect(self._show_lines)
        self.bridge.started.connect(self.ui.results.set_running)
        self.bridge.finished.connect(self._job_done)
        self.bridge.failed.connect(self._job_failed)
        self.window_.detail.shown.connect(self._ticket_shown)

    # -- following the ticket ------------------------------------------------------------------
    def _ticket_shown(self, ticket_id: str) -> None:
        detail: TicketDetail | None = self.window_.detail.detail
        if detail is None or ticket_id == self._ticket_id:
            return  # the same ticket refreshed: keep what the technician typed
        self._ticket_id = ticket_id
        self._asset = detail.asset
        asset = detail.asset
        # A ticket without a machine clears the target: never run on the previous ticket's.
        self.ui.targets.clear()
        self._aimed = ""
        if asset is not None and asset.hostname:
            self.window_.worker.submit(
                lambda: self.profiles.profile_for_asset(asset.id), self._preselect, self._show_error
            )
        self._fill_recipes(keep=False)  # a new machine starts from its own default
        self._read_service_hosts()  # `remote service-host` may have named one since

    def _read_service_hosts(self) -> None:
        hosts = ServiceHosts(self.window_.service.store)
        self.window_.worker.submit(hosts.all, self._set_service_hosts, self._show_error)

    def _set_service_hosts(self, hosts: dict[Target, str | None]) -> None:
        self._service_hosts = hosts
        self._recipe_chosen()

    def _machine_targets(self) -> str:
        asset = self._asset
        if asset is None or not asset.hostname:
            return ""
        return asset.hostname + (f":{asset.port}" if asset.port else "")

    def _aim(self, recipe: Recipe | None) -> None:
        """The targets follow the recipe: the ticket's machine, or the service host it runs
        on (the directory host, the FOG server). Targets the technician typed stay."""
        typed = self.ui.targets.toPlainText()
        if typed and typed != self._aimed:
            return
        if recipe is not None and recipe.target is not Target.ASSET:
            wanted = self._service_hosts.get(recipe.target) or ""
            self.ui.targets.setPlaceholderText(
                f"Runs on {recipe.target.label}: type its name (none is set)"
            )
        else:
            wanted = self._machine_targets()
            self.ui.targets.setPlaceholderText("One host a line: HOST or HOST:PORT")
        self.ui.targets.setPlainText(wanted)
        self._aimed = wanted

    def _runs_on(self, recipe: Recipe) -> str:
        """Where a recipe for a service host runs, or that none is set and how to set it."""
        host = self._service_hosts.get(recipe.target)
        if host:
            return f"Runs on {recipe.target.label}: {host}, not on the user's machine. "
        return (
            f"Runs on {recipe.target.label}, not on the user's machine; none is set "
            f"(type it in Targets, or set it with {setting_hint(recipe.target)}). "
        )

    def _preselect(self, profile: CredentialProfile | None) -> None:
        if profile is not None:
            self.ui.profile.setCurrentText(profile.name)

    def reload_profiles(self) -> None:
        self.window_.worker.submit(self.profiles.profiles, self._set_profiles, self._show_error)

    def _set_profiles(self, profiles: list[CredentialProfile]) -> None:
        current = self.ui.profile.currentText()
        self._known = {p.name: p for p in profiles}
        self.ui.profile.clear()
        for profile in profiles:
            self.ui.profile.addItem(profile.name)
            self.ui.profile.setItemData(
                self.ui.profile.count() - 1,
                f"{profile.protocol} {profile.auth} as {profile.user}",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.ui.profile.setCurrentText(current)

    def _fill_recipes(self, keep: bool = True) -> None:
        """List the recipes for the machine's platform; the chosen one stays chosen (with
        ``keep``), else the platform's default (its diagnostics)."""
        combo: QComboBox = self.ui.recipe
        chosen = combo.currentData() if keep else None
        platform = platform_of(self._asset.os) if self._asset else None
        everything = self.ui.all_platforms.isChecked() or platform is None
        combo.blockSignals(True)
        combo.clear()
        for recipe in self.library:
            # Directory and FOG recipes run elsewhere: offered whatever the machine runs.
            if everything or recipe.protocol is platform or recipe.target is not Target.ASSET:
                combo.addItem(visible(recipe.title), recipe.id)
                combo.setItemData(combo.count() - 1, recipe.id, Qt.ItemDataRole.ToolTipRole)
        combo.blockSignals(False)
        index = combo.findData(chosen) if chosen is not None else -1
        if index < 0:
            default = self.library.default_for(platform)
            index = combo.findData(default.id) if default is not None else 0
        combo.setCurrentIndex(max(index, 0))
        self._recipe_chosen()

    def use_library(self, library: RecipeLibrary) -> None:
        """The recipes read again; the chosen one stays chosen if it is still there."""
        if library != self.library:
            self.library = library
            self._fill_recipes()

    def recipe(self) -> Recipe | None:
        recipe_id = self.ui.recipe.currentData()
        return self.library.get(recipe_id) if recipe_id else None

    def choose_recipe(self, recipe_id: str) -> None:
        self.ui.recipe.setCurrentIndex(self.ui.recipe.findData(recipe_id))

    def _recipe_chosen(self) -> None:
        recipe = self.recipe()
        if recipe is None:
            self.ui.description.setText("No recipe for this platform: tick All platforms.")
        else:
            changes = "Changes the machine: asks first. " if recipe.confirm else ""
            runs_on = "" if recipe.target is Target.ASSET else self._runs_on(recipe)
            self.ui.description.setText(
                visible(
                    f"{runs_on}{changes}{(recipe.description or recipe.title).strip()} "
                    f"({recipe.protocol.value}, timeout {recipe.timeout} s)"
                )
            )
        if self.form.recipe != recipe:
            self.form.set_recipe(recipe)
        self._aim(recipe)

    # -- running -------------------------------------------------------------------------------
    def run(self) -> None:
        recipe = self.recipe()
        if recipe is None or self.running or self.bridge.busy():
            return
        try:
            targets = self._checked_targets(recipe)
            profile = self.ui.profile.currentText()
            if not profile:
                raise BadInput("choose a credential profile (Profiles… creates one)")
            values = self.form.values()
            check_entered(recipe, values)
        except BadInput as exc:
            self._banner("failed", f"Not run: {exc}")
            return
        run = _Run(recipe, values, targets, profile, self._ticket_id)
        if not recipe.confirm:
            self._start(run)
            return
        self.dialog = confirm_dialog(self, recipe, [t[0] for t in targets], values)
        self.dialog.accepted.connect(lambda: self._start(run))
        self.dialog.rejected.connect(lambda: self._banner("cancelled", "Not run: declined."))
        self.dialog.open()

    def _checked_targets(self, recipe: Recipe) -> list[tuple[str, str, int | None]]:
        """The typed targets; a recipe for a service host is refused on the user's machine,
        and without a target says that no service host is set."""
        text = self.ui.targets.toPlainText()
        if recipe.target is Target.ASSET:
            return parse_targets(text)
        if not text.strip():  # the service host this cache names; BadInput when none is
            text = where_it_runs(recipe, None, self._service_hosts, None)
        targets = parse_targets(text)
        asset = self._asset
        for typed, host, _port in targets:
            mine = asset is not None and host.lower() == (asset.hostname or "").lower()
            machine = f"{typed} (asset {asset.tag})" if mine and asset is not None else None
            where_it_runs(recipe, host, self._service_hosts, machine)
        return targets

    def _start(self, run: _Run, accept_host_key: str | None = None) -> None:
        self._run = run
        self.form.clear_secrets()
        self.ui.results.reset([t[0] for t in run.targets])
        self.ui.output.clear()
        where = run.targets[0][0] if len(run.targets) == 1 else f"{len(run.targets)} hosts"
        self._banner("running", f"Running {run.recipe.title} on {where}…")
        self._set_running(True)
        limit = self.ui.concurrency.value()

        def prepare() -> bool:
            technician = self._remote().technician()
            values = dict(run.values)
            add_keyring_secrets(run.recipe, values)
            login = self.profiles.login(run.profile)  # the keyring once, not once per host
            for text, host, port in run.targets:
                run.requests[text] = login.request(
                    run.recipe,
                    values,
                    host,
                    technician,
                    ticket_ref=run.ticket_id,
                    accept_host_key=accept_host_key,
                    port=port,
                )
            if run.cancelled:
                return False
            self.bridge.start(list(run.requests.items()), limit)
            return True

        self.window_.worker.submit(
            prepare, lambda started: self._prepared(run, started), self._not_started
        )

    def _prepared(self, run: _Run, started: bool) -> None:
        run.prepared = True
        if not run.cancelled:
            return
        if started:
            self.cancel()
            return
        for text, _host, _port in run.targets:
            self.ui.results.set_failed(text, Outcome.CANCELLED.value, "not started")
        self._maybe_finished()

    def _not_started(self, error: Exception) -> None:
        self._set_running(False)
        self._run = None
        self.ui.results.reset([])
        self._banner("failed", f"Not run: {error_text(error)}")

    def cancel(self) -> None:
        if self._run is not None and not self._run.prepared:
            self._run.cancelled = True  # the worker has not handed the jobs over yet
            return
        for key in self.bridge.cancel_all():
            self.ui.results.set_failed(key, Outcome.CANCELLED.value, "not started")
        self._maybe_finished()

    def retry_unreachable(self) -> None:
        hosts = self.ui.results.unreachable()
        if hosts and not self.bridge.busy():
            self.ui.targets.setPlainText("\n".join(hosts))
            self.run()

    def _show_lines(self) -> None:
        lines = self.bridge.take_lines()
        if not lines:
            return
        # The machine being diagnosed writes these: its control characters are shown, not run.
        shown = [(key, stream, visible(text)) for key, stream, text in lines]
        self.ui.append_lines(shown, self._run is not None and len(self._run.targets) > 1)

    def _job_done(self, done: JobDone) -> None:
        self._show_lines()  # lines queued before the end are shown first
        result, run = done.result, self._run
        self.ui.results.set_result(done.key, result)
        self.last_log = result.log_path
        self.ui.open_log.setEnabled(True)
        if run is not None and run.ticket_id is not None:
            # The ticket on screen shows the record through the change hub.
            self.window_.worker.submit(
                lambda: self._remote().record(result), self.recorded.emit, self._show_error
            )
        fingerprint = result.host_key_fingerprint
        if result.outcome is Outcome.HOST_KEY_REJECTED and run is not None and fingerprint:
            if done.key_changed:
                self.dialog = changed_key_dialog(self, result.message)
                self.dialog.open()
            elif len(run.targets) == 1:
                self.dialog = host_key_dialog(self, result.host, result.port, fingerprint)
                self.dialog.accepted.connect(lambda: self._start(run, fingerprint))
                self.dialog.rejected.connect(run.values.clear)  # no rerun: drop the secrets
                self.dialog.open()
        self._maybe_finished()

    def _job_failed(self, key: str, error: Exception) -> None:
        self.ui.results.set_failed(key, "failed", error_text(error))
        self._maybe_finished()

    def _maybe_finished(self) -> None:
        if self.bridge.busy() or self._run is None:
            return
        states = list(self.ui.results.states().values())
        self._run = None  # drops the secrets with the requests
        self._set_running(False)
        if len(states) == 1:
            [row] = self.ui.results.rows()
            code = f", exit code {row.exit_code}" if row.exit_code is not None else ""
            took = f" in {row.seconds:.1f} s" if row.seconds is not None else ""
            said = "" if row.message in ("", f"exit code {row.exit_code}") else f" — {row.message}"
            self._banner(row.state, f"{row.target}: {state_label(row.state)}{code}{took}{said}")
        else:
            ok = sum(s in (Outcome.OK, Outcome.REBOOT_NEEDED) for s in states)
            worst = next((s for s in states if s not in ("ok", "reboot_needed")), "ok")
            self._banner(
                worst,
                f"{ok} of {len(states)} hosts ok"
                + "".join(
                    f"; {states.count(s)} {state_label(s)}"
                    for s in dict.fromkeys(states)
                    if s != "ok"
                ),
            )
        self.run_finished.emit()

    def _set_running(self, running: bool) -> None:
        self.ui.run.setEnabled(not running)
        self.ui.cancel.setEnabled(running)
        self.ui.retry.setEnabled(not running and bool(self.ui.results.unreachable()))

    def _banner(self, state: str, text: str) -> None:
        self.ui.show_banner(state, visible(text))  # it may quote a recipe or a remote message

    # -- sessions and profiles -----------------------------------------------------------------
    def launch_session(self, kind: str) -> None:
        """An interactive client for the first target; its port is the remote-job port, which
        an RDP client does not use."""
        try:
            [(_text, host, port)] = parse_targets(self.ui.targets.toPlainText())[:1]
            profile = self._known.get(self.ui.profile.currentText())
            plan = launchers.plan(
                kind,
                host,
                profile,
                known_hosts=self.window_.service.store.path.parent / hostkeys.FILENAME,
                port=None if kind == "rdp" else port,
            )
            launchers.launch(plan)
        except WorkbenchError as exc:
            self.dialog = message_box(self, "Cannot open a session", str(exc))
            return
        self.window_.statusBar().showMessage(f"Started: {plan.description}", 10_000)

    def open_log(self) -> None:
        """The last job's full output in the desktop's viewer for text files."""
        if self.last_log is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_log)))

    def edit_profiles(self) -> None:
        editor = ProfileEditor(self.profiles, self.window_.worker, self._asset, self)
        editor.changed.connect(self.reload_profiles)
        editor.assigned.connect(self.ui.profile.setCurrentText)
        editor.open()
        self.editor = editor

    def _show_error(self, error: Exception) -> None:
        self._banner("failed", error_text(error))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.window_ and event.type() == QEvent.Type.Close:
            # Also a run still being prepared: its jobs must not start once the window is gone.
            self.cancel()  # jobs stop within a poll; nothing waits for them here
        return False


def remote_console_dock(window: MainWindow) -> QWidget:
    """The dock factory (workbench.gui.docks). It runs on the GUI thread, so the recipes (the
    shipped ones and the cache's) are read on the worker: first, and whenever a ticket is
    shown, since a sync may have brought some."""
    store = window.service.store
    recipes = RecipeService(store)
    console = RemoteConsole(window, ProfileService(store), RecipeLibrary({}))
    console.ui.description.setText("Reading the recipes…")

    def reload(_ticket_id: str = "") -> None:
        window.worker.submit(recipes.library, console.use_library, console._show_error)

    window.detail.shown.connect(reload)
    reload()
    return console
