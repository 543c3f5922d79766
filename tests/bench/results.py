"""tests/bench/RESULTS.md: run.py writes its table, the others append rows or own a section."""

from __future__ import annotations

import platform
import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
TABLE_HEAD = "| what | measured | goal | note |\n|---|---|---|---|\n"


def run_stamp() -> str:
    """When and on what the figures were measured."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{stamp} on {platform.machine()}, {platform.python_version()}, {platform.platform()}"


def append_rows(rows: list[str]) -> None:
    """Rows of run.py's table (run first by `make bench`)."""
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write("\n".join(rows) + "\n")


def write_section(heading: str, script: str, rows: list[str]) -> None:
    """Replace the section under `heading`, or append it; other sections stay untouched."""
    section = (
        f"{heading}\n\nWritten by {script}; last run {run_stamp()}.\n\n"
        + TABLE_HEAD
        + "\n".join(rows)
        + "\n"
    )
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")
