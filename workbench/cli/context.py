"""What every command shares: the data directory, the store, the services, the log file."""

from __future__ import annotations

import logging
import logging.handlers
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import platformdirs

from workbench.services.policy import policy_for
from workbench.services.tickets import TicketService, utc_now
from workbench.store import Store

APP_NAME = "workbench"
_log_file: Path | None = None


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def demo_data_dir() -> Path:
    return default_data_dir().with_name(f"{APP_NAME}-demo")


def log_path() -> Path | None:
    return _log_file


def setup_logging(data_dir: Path, verbose: bool) -> None:
    """Log to a rotating file in the data dir (stderr only with --verbose)."""
    global _log_file  # noqa: PLW0603  (one log per process, set once at start)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
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

    def now(self) -> datetime:
        return utc_now()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
