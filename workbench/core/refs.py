"""Ticket references: central numbers (HD-000123) and provisional ones made offline.

A ticket created on a laptop gets a provisional reference built from the device's client id
and a local counter, so two offline laptops never hand out the same one. The central number
replaces it at the first sync; the provisional one stays searchable as an alias.
"""

from __future__ import annotations

import re

NUMBER_PREFIX = "HD"
_NUMBER = re.compile(r"^\s*(?:HD-?)?0*(\d{1,9})\s*$", re.IGNORECASE)
_PROVISIONAL = re.compile(r"^\s*P-([0-9A-F]{8})-(\d+)\s*$", re.IGNORECASE)
# Eight hex digits of the client id: with four, two laptops among a few hundred would share a
# prefix and their provisional refs would collide in a cache that holds both.
_CLIENT_DIGITS = 8


def format_number(sequence: int) -> str:
    return f"{NUMBER_PREFIX}-{sequence:06d}"


def provisional_ref(client_id: str, counter: int) -> str:
    return f"P-{client_id.replace('-', '')[-_CLIENT_DIGITS:].upper()}-{counter:04d}"


def normalize_ref(text: str) -> str:
    """The canonical spelling of what a technician typed: '123', 'hd-123' → 'HD-000123'."""
    number = _NUMBER.match(text)
    if number:
        return format_number(int(number.group(1)))
    provisional = _PROVISIONAL.match(text)
    if provisional:
        return f"P-{provisional.group(1).upper()}-{int(provisional.group(2)):04d}"
    return text.strip()


def looks_like_ref(text: str) -> bool:
    """'HD-123' or a provisional ref: what a technician means as a ticket, not a host name."""
    return bool(
        re.match(rf"^\s*{NUMBER_PREFIX}-\d", text, re.IGNORECASE) or _PROVISIONAL.match(text)
    )
