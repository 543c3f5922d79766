"""The words a person reads for the codes the store, the outbox and the JSON keep.

Statuses, channels, worklog kinds and the other enum values are stored as codes
(``in_progress``, ``walk_in``, ``status_change``); the CLI's text and the window show them
through this module only, and the CLI reads either form back (`parse`). JSON keeps the codes.

This module imports nothing of the domain (the enums are `StrEnum`s, so a member looks up as
its code): `models.Status.label` reads its words from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from workbench.core.errors import BadInput

# Codes whose words are not simply the code with its underscores as spaces.
_WORDS = {
    "walk_in": "walk-in",
    "email": "e-mail",
    "in_service": "in service",
    "in_repair": "in repair",
    "remote_job": "remote job",
    "time_spent": "time spent",
    "requester_id": "requester",
    "asset_id": "asset",
    "site_id": "site",
}

# Impact and urgency, 1 (high) to 3 (low): what each level means, for intake and detail pane.
IMPACT_WORDS = {1: "many people or a whole site", 2: "a team or a group", 3: "one person"}
URGENCY_WORDS = {1: "work has stopped", 2: "work is slowed", 3: "can wait"}
LEVEL_WORDS = {1: "high", 2: "medium", 3: "low"}

E = TypeVar("E", bound=StrEnum)


def word(code: str) -> str:
    """The lower-case words for a code: 'in_progress' → 'in progress', 'walk_in' → 'walk-in'."""
    return _WORDS.get(code, code.replace("_", " "))


def label(code: str) -> str:
    """The words for a code as a column or field shows them: 'in_progress' → 'In progress'."""
    text = word(code)
    return text[:1].upper() + text[1:]


def impact_label(level: int) -> str:
    """'3 — low: one person': the same text wherever impact is chosen or shown."""
    return f"{level} — {LEVEL_WORDS[level]}: {IMPACT_WORDS[level]}"


def urgency_label(level: int) -> str:
    return f"{level} — {LEVEL_WORDS[level]}: {URGENCY_WORDS[level]}"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """'1 ticket', '2 tickets', '1,204 tickets' (``many`` for irregular plurals: 'entries')."""
    return f"{count:,} {singular if count == 1 else many or singular + 's'}"


def _key(text: str) -> str:
    # 'In progress', 'in-progress', 'IN_PROGRESS' and 'walk in' all read as the same words.
    return re.sub(r"[\s_-]+", " ", text.strip().lower())


def parse(kind: type[E], text: str, what: str) -> E:
    """The member of `kind` named by its code or its words (any case, '-', '_' or spaces)."""
    wanted = _key(text)
    for member in kind:
        if wanted in (_key(member.value), _key(word(member.value))):
            return member
    raise BadInput(f"{what} must be one of {choices(kind)}, not {text!r}")


def choices(kind: Iterable[str]) -> str:
    return ", ".join(word(member) for member in kind)
