"""What every command shares: the data directory, the store, the services, the log file."""

from __future__ import annotations

import logging
import logging.handlers
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import platformdirs

from workbench.core.errors import BadInput
from workbench.core.sla import SlaClock
from workbench.services.policy import policy_for, sla_clock
from workbench.services.tickets import TicketService, utc_now
from workbench.store import Store

APP_NAME = "workbench"
_log_file: Path | None = None
_log_to_stderr = False


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def demo_data_dir() -> Path:
    return default_data_dir().with_name(f"{APP_NAME}-demo")


def chosen_data_dir(given: str | None, demo: bool) -> Path:
    """--data-dir (or $WORKBENCH_DATA_DIR) with ~ expanded, else the demo or the per-user
    directory. An empty one would quietly mean the current directory: refused, as is a ~USER
    that names no user."""
    if given is None:
        return demo_data_dir() if demo else default_data_dir()
    if not given.strip():
        raise BadInput("--data-dir is empty: name a directory, or leave it out for the default")
    try:
        return Path(given).expanduser()
    except RuntimeError:  # ~USER of no user, or ~ without a home directory
        home = given.split("/", 1)[0]
        who = "no home directory is set" if home == "~" else f"there is no user {home[1:]!r}"
        raise BadInput(f"--data-dir {given!r} starts with {home}, but {who}") from None


def log_path() -> Path | None:
    return _log_file


def logs_to_stderr() -> bool:
    """Whether --verbose sends the log to stderr as well."""
    return _log_to_stderr


def setup_logging(data_dir: Path, verbose: bool) -> None:
    """Log to a rotating file in the data dir (stderr only with --verbose)."""
    global _log_file, _log_to_stderr  # noqa: PLW0603  (one log per process, set once at start)
    _log_file, _log_to_stderr = None, verbose  # not an earlier run's (tests run many)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.raiseExceptions = False  # a log with no room on a full disk prints no traceback
    if verbose:
        root.addHandler(logging.StreamHandler())
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            data_dir / "workbench.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return  # the store reports an unusable data dir in words; no log file then
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    _log_file = data_dir / "workbench.log"


@dataclass
class AppContext:
    data_dir: Path
    technician: str | None
    _store: Store | None = field(default=None, init=False)
    _tickets: TicketService | None = field(default=None, init=False)
    _sla_clock: SlaClock | None = field(default=None, init=False)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.data_dir)
        return self._store

    @property
    def tickets(self) -> TicketService:
        if self._tickets is None:
            self._tickets = TicketService(self.store, policy_for(self.store), self.technician)
        return self._tickets

    @property
    def sla_clock(self) -> SlaClock:
        """How SLA targets and due times read (the policy's clocks, each site's zone)."""
        if self._sla_clock is None:
            self._sla_clock = sla_clock(self.store, self.tickets.policy)
        return self._sla_clock

    def now(self) -> datetime:
        return utc_now()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
