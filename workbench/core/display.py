"""Text shown to a person: control characters made visible, so data cannot drive the screen.

Titles, descriptions, notes, names, recipe and tree texts and above all the output of a remote
command are written by others (a requester, a synced cache, the machine being diagnosed). Sent
raw to a terminal, an escape sequence in them can clear the screen, retitle the window or write
the clipboard (OSC 52); bidi controls reorder what is displayed ("Trojan Source"). The rule:

- Stored data stays exactly as typed or received; escaping happens only where text is shown.
- Line feed and tab stay as they are: they lay text out and drive nothing.
- The other C0 controls and DEL become caret notation: ESC ``^[``, BEL ``^G``, CR ``^M``,
  NUL ``^@``, DEL ``^?``.
- C1 controls (U+0080 to U+009F; some terminals read U+009B as CSI and U+009D as OSC) and the
  bidi embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069) become their
  code point in angle brackets: ``<U+009B>``, ``<U+202E>``.
- Everything else, accents, CJK and emoji included, is shown unchanged.

In the window, rich text takes `visible_html`: visible first, then HTML-escaped.

A caret or a ``<U+...>`` typed as text looks the same as one made here: the rendering is for
reading, not for turning back into the original (the JSON output and the store keep that).
"""

from __future__ import annotations

import html
import re

# Every character `visible` rewrites; one class so a clean text costs a single scan.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

_CARET_LAST = 0x7F  # C0 and DEL have a caret form; C1 and bidi controls do not


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= _CARET_LAST:
        return "^" + chr(code ^ 0x40)  # the caret convention: ESC (0x1b) is ^[, DEL is ^?
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """``text`` with every control character that could act on a terminal shown as text."""
    return UNSAFE.sub(_shown, text)


def visible_html(text: str) -> str:
    """``visible(text)`` escaped for HTML (the window's rich-text views)."""
    return html.escape(visible(text))


# What a text written by a person (a tree, a recipe) never needs: C0 controls but tab and line
# feed, DEL and C1. `visible` shows such characters; files that would store them are refused.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def control_character(text: str) -> tuple[int, str] | None:
    """The offset and code point (``U+001B``) of the first CONTROL character; None if none."""
    found = CONTROL.search(text)
    return None if found is None else (found.start(), f"U+{ord(found.group()):04X}")
