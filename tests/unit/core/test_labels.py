"""The one place codes become words: every code a person can read has words, and reads back."""

from __future__ import annotations

from enum import StrEnum

import pytest

from workbench.core import labels
from workbench.core.errors import BadInput
from workbench.core.models import AssetStatus, Channel, Status, WaitReason, WorklogKind
from workbench.core.policy import LEVELS

SHOWN = (Status, Channel, WaitReason, WorklogKind, AssetStatus)
ALL_MEMBERS = [member for kind in SHOWN for member in kind]


@pytest.mark.parametrize("member", ALL_MEMBERS, ids=str)
def test_every_code_a_person_reads_has_words(member: StrEnum) -> None:
    assert "_" not in labels.word(member) and "_" not in labels.label(member)
    assert labels.label(member)[0].isupper()
    assert labels.label(member).lower() == labels.word(member)


@pytest.mark.parametrize(
    ("code", "word", "label"),
    [
        (Channel.WALK_IN, "walk-in", "Walk-in"),
        (Channel.EMAIL, "e-mail", "E-mail"),
        (Status.IN_PROGRESS, "in progress", "In progress"),
        (WorklogKind.STATUS_CHANGE, "status change", "Status change"),
        (WorklogKind.FIELD_CHANGE, "field change", "Field change"),
        (WorklogKind.TREE_TRANSCRIPT, "tree transcript", "Tree transcript"),
        ("requester_id", "requester", "Requester"),
        ("priority_reason", "priority reason", "Priority reason"),
    ],
)
def test_words_and_labels(code: str, word: str, label: str) -> None:
    assert (labels.word(code), labels.label(code)) == (word, label)


def test_status_label_reads_its_words_from_the_labels() -> None:
    assert [s.label for s in Status] == [labels.word(s) for s in Status]


@pytest.mark.parametrize("member", ALL_MEMBERS, ids=str)
def test_code_words_and_label_all_read_back(member: StrEnum) -> None:
    kind = type(member)
    for typed in (member.value, labels.word(member), labels.label(member), member.value.upper()):
        assert labels.parse(kind, typed, "it") is member


@pytest.mark.parametrize(
    ("kind", "typed", "expected"),
    [
        (Channel, "walk in", Channel.WALK_IN),
        (Channel, " Walk-In ", Channel.WALK_IN),
        (Channel, "walk_in", Channel.WALK_IN),
        (Channel, "E-Mail", Channel.EMAIL),
        (Status, "in progress", Status.IN_PROGRESS),
        (Status, "in-progress", Status.IN_PROGRESS),
        (WaitReason, "Customer", WaitReason.CUSTOMER),
    ],
)
def test_parse_accepts_the_ways_people_write(
    kind: type[StrEnum], typed: str, expected: StrEnum
) -> None:
    assert labels.parse(kind, typed, "it") is expected


@pytest.mark.parametrize("typed", ["fax", "", "walkin", "in progres", "walk__in_"])
def test_parse_refuses_others_naming_the_choices_in_words(typed: str) -> None:
    with pytest.raises(BadInput) as refused:
        labels.parse(Channel, typed, "channel")
    assert str(refused.value) == (
        f"channel must be one of phone, e-mail, walk-in, field, portal, not {typed!r}"
    )


@pytest.mark.parametrize(
    ("count", "singular", "many", "text"),
    [
        (0, "ticket", None, "0 tickets"),
        (1, "ticket", None, "1 ticket"),
        (2, "ticket", None, "2 tickets"),
        (1204, "ticket", None, "1,204 tickets"),
        (1, "entry", "entries", "1 entry"),
        (3, "entry", "entries", "3 entries"),
        (1, "selected ticket", None, "1 selected ticket"),
    ],
)
def test_plural(count: int, singular: str, many: str | None, text: str) -> None:
    assert labels.plural(count, singular, many) == text


def test_impact_and_urgency_have_one_text_per_level() -> None:
    assert [labels.impact_label(level) for level in LEVELS] == [
        "1 — high: many people or a whole site",
        "2 — medium: a team or a group",
        "3 — low: one person",
    ]
    assert labels.urgency_label(1) == "1 — high: work has stopped"
    assert labels.urgency_label(3) == "3 — low: can wait"
