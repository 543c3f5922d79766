"""Control characters shown visibly: caret notation, <U+XXXX>, and plain text untouched."""

from __future__ import annotations

import pytest

from workbench.core.display import UNSAFE, visible, visible_html

C0_KEPT = "\n\t"
C0_SHOWN = [chr(code) for code in range(0x20) if chr(code) not in C0_KEPT]
C1 = [chr(code) for code in range(0x80, 0xA0)]
BIDI = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b", "^["),
        ("\x07", "^G"),
        ("\r", "^M"),
        ("\x00", "^@"),
        ("\x08", "^H"),
        ("\x0b", "^K"),
        ("\x1f", "^_"),
        ("\x7f", "^?"),
    ],
)
def test_c0_controls_and_del_take_caret_notation(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_every_c0_control_but_newline_and_tab_is_shown() -> None:
    for char in C0_SHOWN:
        result = visible(char)
        assert result.startswith("^") and len(result) == 2 and result.isprintable(), repr(char)
    assert visible("one\n\ttwo") == "one\n\ttwo"


@pytest.mark.parametrize("char", C1 + BIDI)
def test_c1_and_bidi_controls_show_their_code_point(char: str) -> None:
    assert visible(char) == f"<U+{ord(char):04X}>"


def test_a_hostile_title_shows_every_sequence_as_text() -> None:
    title = "Printer\x1b]52;c;aGVsbG8=\x07\x1b[2J jam"
    assert visible(title) == "Printer^[]52;c;aGVsbG8=^G^[[2J jam"
    assert visible("\x9b2J") == "<U+009B>2J"  # the one-byte CSI of 8-bit terminals
    # Trojan Source: the override would make the end of the line read as its start.
    shown = visible("access\u202e\u2066 admin\u2069\u2066")
    assert shown == "access<U+202E><U+2066> admin<U+2069><U+2066>"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Outlook asks for password",
        "Café, naïve, Ærøskøbing, Zürich, São Paulo",
        "Ελληνικά, русский, עברית, العربية, 日本語, 한국어",
        "Printer jam 🖨️🔥 👩🏽‍💻 🇩🇪",
        "non\u00a0breaking space, soft\u00adhyphen, zero\u200bwidth, ‹quotes› — dash",
        "U+00A0 is the first character after C1: \u00a0\u00ff\u2029\u206a",
        "caret ^[ typed by hand and <U+202E> as text",
    ],
)
def test_plain_text_is_unchanged(text: str) -> None:
    assert visible(text) == text


def test_the_pattern_matches_exactly_what_visible_rewrites() -> None:
    rewritten = {chr(code) for code in range(0x3000) if visible(chr(code)) != chr(code)}
    assert rewritten == set(C0_SHOWN) | {"\x7f"} | set(C1) | set(BIDI)
    assert all(UNSAFE.fullmatch(char) for char in rewritten)


def test_visible_html_shows_controls_then_escapes_markup() -> None:
    assert visible_html("<b>\x1b[1m&</b>") == "&lt;b&gt;^[[1m&amp;&lt;/b&gt;"
