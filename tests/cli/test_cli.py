"""The CLI through a real subprocess: JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.workbench import AGENT, ASSET, FIELD, REQUESTER
from workbench.store import Store


def workbench(
    data_dir: Path, *args: str, who: str | None = AGENT.login
) -> subprocess.CompletedProcess[str]:
    who_args = ["--as", who] if who else []
    return subprocess.run(
        [sys.executable, "-m", "workbench", "--data-dir", str(data_dir), *who_args, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def new_args(title: str, category: str, impact: str, urgency: str, *extra: str) -> list[str]:
    # fmt: off
    return ["ticket", "new", "--title", title, "--category", category,
            "--impact", impact, "--urgency", urgency, *extra]
    # fmt: on


def ok_json(data_dir: Path, *args: str) -> Any:
    result = workbench(data_dir, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("workbench: error: ") and text in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def cache(store: Store, data_dir: Path) -> Path:
    store.close()
    return data_dir


def test_new_assign_escalate_resolve_close_cycle(cache: Path) -> None:
    created = ok_json(
        cache,
        *new_args(
            "Laptop will not boot after update",
            "driver",
            "3",
            "1",
            "--requester",
            REQUESTER.email,
            "--asset",
            ASSET.hostname,
        ),
    )
    ref = created["ticket"]["ref"]
    assert created["ticket"]["priority"] == "P3" and created["ticket"]["status"] == "new"
    assert created["asset"]["warranty_expired"] is True
    ok_json(cache, "ticket", "assign", ref)
    escalated = ok_json(cache, "ticket", "escalate", ref, "--reason", "Needs reimage on site")
    assert (escalated["ticket"]["tier"], escalated["ticket"]["queue"]) == (2, "field-support")
    resolved = ok_json(cache, "ticket", "resolve", ref, "--resolution", "Rolled back the driver")
    assert resolved["ticket"]["resolution"] == "Rolled back the driver"
    ok_json(cache, "ticket", "close", ref)

    shown = ok_json(cache, "ticket", "show", ref)
    assert shown["ticket"]["status"] == "closed"
    assert set(shown) == {
        "ticket",
        "requester",
        "asset",
        "site",
        "worklog",
        "minutes_spent",
        "outbox",
    }
    kinds = [entry["kind"] for entry in shown["worklog"]]
    assert kinds.count("status_change") == 5  # opened, assigned, escalated, resolved, closed
    assert [op["op"] for op in shown["outbox"] if op["entity"] == "ticket"] == [
        "insert",
        "update",
        "update",
        "update",
        "update",
    ]
    ids = [op["mutation_id"] for op in shown["outbox"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_list_filters_and_search(cache: Path) -> None:
    for title, impact in (("Printer offline in records", 3), ("Outage: e-mail down", 1)):
        ok_json(cache, *new_args(title, "printing", str(impact), "1"))
    listed = ok_json(cache, "ticket", "list", "--priority", "P1")
    assert listed["total"] == 1 and listed["tickets"][0]["title"] == "Outage: e-mail down"
    assert {"ref", "priority", "sla_due", "breaching", "requester_name", "asset_tag"} <= set(
        listed["tickets"][0]
    )
    everything = ok_json(cache, "ticket", "list", "--sort", "title")
    assert [t["title"] for t in everything["tickets"]] == sorted(
        ["Printer offline in records", "Outage: e-mail down"]
    )
    found = ok_json(cache, "search", "printer")
    assert [h["title"] for h in found["hits"]] == ["Printer offline in records"]
    assert found["hits"][0]["snippet"]
    human = workbench(cache, "ticket", "list", "--unassigned")
    assert human.returncode == 0 and "2 of 2 tickets" in human.stdout


def test_notes_time_and_wait(cache: Path) -> None:
    ref = ok_json(
        cache, *new_args("Phone has no dial tone", "phone", "3", "2", "--assignee", FIELD.login)
    )["ticket"]["ref"]
    ok_json(cache, "ticket", "note", ref, "Called the user back", "--call", "--minutes", "5")
    ok_json(cache, "ticket", "log-time", ref, "25", "--note", "Traced the cable")
    waiting = ok_json(cache, "ticket", "wait", ref, "--reason", "parts", "--note", "new handset")
    assert waiting["ticket"]["status"] == "waiting" and waiting["ticket"]["sla_paused"]
    assert waiting["minutes_spent"] == 30
    assert [e["kind"] for e in waiting["worklog"]][1:3] == ["call", "time_spent"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ticket", "show", "HD-999999"], 2, "no ticket 'HD-999999'"),
        (
            new_args("x", "other", "5", "1"),
            2,
            "Invalid value for '--impact'",
        ),
        (
            new_args("x", "plumbing", "1", "1"),
            2,
            "unknown category 'plumbing'",
        ),
        (
            new_args("x", "other", "3", "3", "--priority", "P1"),
            2,
            "needs a reason",
        ),
        (["ticket", "frobnicate"], 2, "No such command"),
        (["ticket", "list", "--sort", "color"], 2, "Invalid value for '--sort'"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    cache: Path, args: list[str], code: int, message: str
) -> None:
    assert_one_line_error(workbench(cache, *args), code, message)


def test_refused_transitions_name_the_allowed_ones(cache: Path) -> None:
    ref = ok_json(cache, *new_args("Account locked", "account", "3", "1"))["ticket"]["ref"]
    assert_one_line_error(
        workbench(cache, "ticket", "close", ref), 2, "close is allowed from resolved"
    )
    assert_one_line_error(workbench(cache, "ticket", "resolve", ref), 2, "needs a resolution")
    result = workbench(cache, "ticket", "reopen", ref, "--reason", "again")
    assert_one_line_error(result, 2, "From new you can: assign, start, escalate, resolve, edit")
    shown = ok_json(cache, "ticket", "show", ref)
    assert shown["ticket"]["status"] == "new" and len(shown["worklog"]) == 1


def test_missing_technician_is_explained(cache: Path) -> None:
    result = workbench(cache, *new_args("x", "other", "3", "3"), who=None)
    assert_one_line_error(result, 2, "no technician is set")


def test_fts_syntax_in_search_is_harmless(cache: Path) -> None:
    for query in ['"', "*", "(", "NEAR(", "printer)*"]:
        assert ok_json(cache, "search", query)["hits"] == []


def test_unusable_data_dirs(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert_one_line_error(
        workbench(blocker / "data", "ticket", "list"), 1, "cannot create data directory"
    )
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "workbench.sqlite3").write_bytes(b"PK\x03\x04 zip archive")
    assert_one_line_error(workbench(foreign, "ticket", "list"), 1, "not an SQLite database")
    assert (foreign / "workbench.sqlite3").read_bytes() == b"PK\x03\x04 zip archive"


def test_gui_screenshot_and_missing_display(cache: Path, tmp_path: Path) -> None:
    ok_json(cache, *new_args("Monitor flickers", "hardware", "3", "3"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    png = tmp_path / "window.png"
    shot = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "--data-dir",
            str(cache),
            "gui",
            "--screenshot",
            str(png),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr
    assert shot.stderr == ""
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    no_display = subprocess.run(
        [sys.executable, "-m", "workbench", "--data-dir", str(cache)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert_one_line_error(no_display, 1, "no display to open the window on")
