"""The CLI in words: requesters by name, escalation to a chosen queue and person, codes as words.

Through a real subprocess on a real cache (tests/cli/test_cli.py's helpers).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.test_cli import assert_one_line_error, new_args, ok_json, workbench
from tests.support.workbench import AGENT, ASSET, FIELD, LEAD, REQUESTER
from workbench.services.tickets import TicketService
from workbench.store import Store

# A code as the store keeps it: lower-case words joined by underscores (in_progress, walk_in).
CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture
def cache(store: Store, service: TicketService, data_dir: Path) -> Path:
    service.add_requester("Olga Reyes", "olga.reyes@agency.example", "360-555-0100", "Payroll")
    service.add_requester("Olga Reyes", "o.reyes@parks.example", "", "Parks")
    store.close()
    return data_dir


def _new(cache: Path, *extra: str) -> str:
    made = ok_json(cache, *new_args("Dock flickers", "hardware", "3", "2", *extra))
    return str(made["ticket"]["ref"])


@pytest.mark.parametrize("channel", ["walk-in", "walk in", "Walk-In", "walk_in"])
def test_channel_and_status_are_taken_as_words_or_codes(cache: Path, channel: str) -> None:
    ref = _new(cache, "--channel", channel)
    shown = ok_json(cache, "ticket", "show", ref)
    assert shown["ticket"]["channel"] == "walk_in"  # JSON keeps the code
    assert "opened via walk-in:" in shown["worklog"][0]["text"]
    ok_json(cache, "ticket", "start", ref)
    for status in ("in progress", "In-Progress", "in_progress"):
        listed = ok_json(cache, "ticket", "list", "--status", status)
        assert [t["ref"] for t in listed["tickets"]] == [ref]
    waiting = ok_json(cache, "ticket", "wait", ref, "--reason", "Customer")
    assert waiting["ticket"]["wait_reason"] == "customer"


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (["--channel", "fax"], "channel must be one of phone, e-mail, walk-in, field, portal"),
        (["--channel", ""], "channel must be one of"),
    ],
)
def test_an_unknown_word_is_refused_in_words(cache: Path, args: list[str], refusal: str) -> None:
    result = workbench(cache, *new_args("Dock", "hardware", "3", "2", *args))
    assert result.returncode == 2 and refusal in result.stderr
    assert "walk_in" not in result.stderr and "Traceback" not in result.stderr


def test_text_output_reads_words_not_codes(cache: Path) -> None:
    ref = _new(cache, "--channel", "walk-in", "--requester", REQUESTER.name)
    for action in (["assign", ref], ["start", ref], ["update", ref, "--channel", "e-mail"],
                   ["note", ref, "Reseated the cable", "--minutes", "5"],
                   ["log-time", ref, "10"]):  # fmt: skip
        assert workbench(cache, "ticket", *action).returncode == 0
    outputs = [
        workbench(cache, "ticket", "show", ref).stdout,
        workbench(cache, "ticket", "list").stdout,
        workbench(cache, "requester", "show", REQUESTER.name).stdout,
        workbench(cache, "ticket", "escalate", ref, "--reason", "visit").stdout,
    ]
    text = "\n".join(outputs)
    assert "walk-in" in text and "in progress" in text and "status change" in text
    assert "field change" in text and "time spent" in text
    assert not CODE.findall(text), CODE.findall(text)
    assert "1 of 1 ticket\n" in outputs[1]
    assert "Open tickets: 1 ticket" in outputs[2] and "Assets: 1 asset" in outputs[2]


@pytest.mark.parametrize("key", [REQUESTER.name, "dana whitfield", "DANA WHITFIELD", REQUESTER.id])
def test_requester_is_named_by_name_e_mail_or_id(cache: Path, key: str) -> None:
    ref = _new(cache, "--requester", key)
    assert ok_json(cache, "ticket", "show", ref)["requester"]["id"] == REQUESTER.id
    other = _new(cache)
    updated = ok_json(cache, "ticket", "update", other, "--requester", key)
    assert updated["requester"]["id"] == REQUESTER.id


@pytest.mark.parametrize(
    "args",
    [new_args("D", "hardware", "3", "2", "--requester", "olga reyes"),
     ["requester", "show", "olga reyes"]],
)  # fmt: skip
def test_an_ambiguous_name_is_refused_with_the_candidates(cache: Path, args: list[str]) -> None:
    result = workbench(cache, *args)
    assert_one_line_error(result, 2, "2 requesters are named 'olga reyes'")
    assert "<o.reyes@parks.example>" in result.stderr
    assert "<olga.reyes@agency.example>" in result.stderr and "give the e-mail" in result.stderr


def test_an_unknown_requester_is_refused(cache: Path) -> None:
    result = workbench(cache, *new_args("D", "hardware", "3", "2", "--requester", "Nobody"))
    assert_one_line_error(result, 2, "no requester with id, e-mail or name 'Nobody'")


def test_requester_list_search_and_show(cache: Path) -> None:
    listed = ok_json(cache, "requester", "list", "--limit", "2")
    assert listed["total"] == 3 and listed["offset"] == 0
    assert [r["name"] for r in listed["requesters"]] == ["Dana Whitfield", "Olga Reyes"]
    text = workbench(cache, "requester", "list").stdout
    assert "Olympia HQ" in text and text.rstrip().endswith("3 of 3 requesters")
    found = ok_json(cache, "requester", "search", "olga parks")
    assert [r["email"] for r in found["requesters"]] == ["o.reyes@parks.example"]
    assert workbench(cache, "requester", "search", "olga").stdout.rstrip().endswith("2 requesters")
    assert "No requester matches 'zzz'." in workbench(cache, "requester", "search", "zzz").stdout
    ref = _new(cache, "--requester", REQUESTER.email, "--asset", ASSET.tag)
    shown = ok_json(cache, "requester", "show", "Dana Whitfield")
    assert shown["requester"]["email"] == REQUESTER.email
    assert shown["site"]["name"] == "Olympia HQ"
    assert [t["ref"] for t in shown["open_tickets"]] == [ref]
    assert [a["tag"] for a in shown["assets"]] == [ASSET.tag]
    human = workbench(cache, "requester", "show", REQUESTER.email).stdout
    assert ref in human and ASSET.hostname in human and "Olympia HQ" in human


def test_escalate_to_a_chosen_queue_and_technician(cache: Path) -> None:
    ref = _new(cache)
    ok_json(cache, "ticket", "assign", ref)
    to_lead = ok_json(cache, "ticket", "escalate", ref, "--reason", "firmware bug",
                      "--queue", "engineering", "--to", LEAD.login)  # fmt: skip
    t = to_lead["ticket"]
    assert (t["tier"], t["queue"], t["assignee"], t["status"]) == (
        3, "engineering", LEAD.login, "assigned")  # fmt: skip
    assert to_lead["worklog"][-1]["text"] == (
        f"assigned: escalated to tier 3 (engineering), assigned to {LEAD.login}, "
        f"unassigned from {AGENT.login}: firmware bug"
    )
    human = workbench(cache, "ticket", "escalate", _new(cache), "--reason", "visit")
    assert human.stdout.strip().endswith(
        "escalated to field-support (tier 2), unassigned (status new)"
    )


def test_escalation_releases_the_previous_assignee(cache: Path) -> None:
    ref = _new(cache)
    ok_json(cache, "ticket", "assign", ref)
    released = ok_json(cache, "ticket", "escalate", ref, "--reason", "visit")["ticket"]
    assert (released["assignee"], released["status"], released["tier"]) == (None, "new", 2)


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (["--queue", "service-desk"], "to service-desk: that is a tier-1 queue and the ticket "
         "is at tier 1; escalate to field-support or engineering"),
        (["--queue", "helpdesk"], "unknown queue 'helpdesk'; queues are service-desk"),
        (["--queue", "engineering", "--to", FIELD.login], f"{FIELD.login} is tier 2: a ticket "
         "in the tier-3 queue (engineering) goes to a technician of tier 3 or above"),
        (["--to", AGENT.login], f"{AGENT.login} is tier 1: a ticket in the tier-2 queue"),
        (["--to", "nobody"], "no technician with login 'nobody'"),
    ],
)  # fmt: skip
def test_escalation_refuses_a_lower_queue_or_a_technician_of_another_tier(
    cache: Path, args: list[str], refusal: str
) -> None:
    ref = _new(cache)
    before = ok_json(cache, "ticket", "show", ref)
    result = workbench(cache, "ticket", "escalate", ref, "--reason", "why", *args)
    assert_one_line_error(result, 2, refusal)
    assert ok_json(cache, "ticket", "show", ref) == before


def test_escalation_from_the_top_tier_is_refused(cache: Path) -> None:
    ref = _new(cache, "--queue", "engineering")
    result = workbench(
        cache, "ticket", "escalate", ref, "--reason", "why", "--queue", "engineering"
    )
    assert_one_line_error(result, 2, f"cannot escalate {ref}: it is already at tier 3")
