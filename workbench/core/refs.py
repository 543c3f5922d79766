"""Ticket references: central numbers (HD-000123) and provisional ones made offline.

A ticket created on a laptop gets a provisional reference built from random digits of the
ticket's id and a local counter: two offline laptops, two copies of one data directory or a
cache restored from a backup (its counter comes back with it) never hand out the same one. The
central number replaces it at the first sync; the provisional one stays searchable as an alias.
"""

from __future__ import annotations

import re

NUMBER_PREFIX = "HD"
# ASCII only: \d and int() also take other scripts' digits, and 'HD-١' is not HD-000001.
_NUMBER = re.compile(r"^\s*(?:HD-?)?0*([0-9]{1,9})\s*$", re.IGNORECASE | re.ASCII)
_PROVISIONAL = re.compile(r"^\s*P-([0-9A-F]{8})-([0-9]+)\s*$", re.IGNORECASE | re.ASCII)
# The last eight hex digits of the ticket's id (random in a UUID v4 or v7): two tickets share
# them once in four billion, and then only if their counters are equal as well.
_ID_DIGITS = 8


def format_number(sequence: int) -> str:
    return f"{NUMBER_PREFIX}-{sequence:06d}"


def provisional_ref(ticket_id: str, counter: int) -> str:
    return f"P-{ticket_id.replace('-', '')[-_ID_DIGITS:].upper()}-{counter:04d}"


def normalize_ref(text: str) -> str:
    """The canonical spelling of what a technician typed: '123', 'hd-123' → 'HD-000123'."""
    number = _NUMBER.match(text.strip())  # str.strip: a pasted no-break space goes too
    if number:
        return format_number(int(number.group(1)))
    provisional = _PROVISIONAL.match(text.strip())
    if provisional:
        return f"P-{provisional.group(1).upper()}-{int(provisional.group(2)):04d}"
    return text.strip()


def looks_like_ref(text: str) -> bool:
    """'HD-123' or a provisional ref: what a technician means as a ticket, not a host name."""
    return bool(
        re.match(rf"^\s*{NUMBER_PREFIX}-[0-9]", text, re.IGNORECASE | re.ASCII)
        or _PROVISIONAL.match(text)
    )
