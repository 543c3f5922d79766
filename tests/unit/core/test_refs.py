"""Ticket references: central numbers, provisional refs made offline, and what people type."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.refs import format_number, looks_like_ref, normalize_ref, provisional_ref

UUID = "0192f3a0-7c1e-7d2a-9b3c-4d5e6f708192"


@pytest.mark.parametrize(
    ("sequence", "number"),
    [(1, "HD-000001"), (123, "HD-000123"), (999_999, "HD-999999"), (1_234_567, "HD-1234567")],
)
def test_format_number(sequence: int, number: str) -> None:
    assert format_number(sequence) == number


@pytest.mark.parametrize(
    "typed",
    [
        "123",
        "0123",
        "000123",
        "HD-000123",
        "hd-000123",
        "Hd-123",
        "HD-123",
        " HD-123 ",
        "HD123",
        "hd000123",
        "\tHD-000123\n",
    ],
)
def test_numbers_in_any_spelling(typed: str) -> None:
    assert normalize_ref(typed) == "HD-000123"


def test_big_and_zero_numbers() -> None:
    assert normalize_ref("1234567") == "HD-1234567"
    assert normalize_ref("0") == "HD-000000"


@pytest.mark.parametrize(
    "typed",
    ["P-70AB12CD-0007", "p-70ab12cd-0007", "P-70ab12CD-7", " p-70AB12CD-00007 "],
)
def test_provisional_refs_are_case_insensitive(typed: str) -> None:
    assert normalize_ref(typed) == "P-70AB12CD-0007"


def test_provisional_ref_from_a_ticket_id() -> None:
    assert provisional_ref(UUID, 7) == "P-6F708192-0007"
    assert provisional_ref("0000abcd", 12345) == "P-0000ABCD-12345"
    assert normalize_ref(provisional_ref(UUID, 7)) == "P-6F708192-0007"


def test_provisional_refs_of_different_tickets_differ_with_the_same_counter() -> None:
    # A restored cache, or a second copy of one, counts from the same number again.
    other = "0192f3a0-7c1e-7d2a-9b3c-4d5e6f70beef"
    assert provisional_ref(UUID, 1) != provisional_ref(other, 1)


@pytest.mark.parametrize(
    "typed",
    [UUID, UUID.upper(), "0192f3a07c1e7d2a9b3c4d5e6f708192"],
)
def test_uuids_pass_through_unchanged(typed: str) -> None:
    assert normalize_ref(typed) == typed
    assert normalize_ref(f"  {typed} ") == typed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1234567890", "1234567890"),  # too long to be a ticket number
        ("HD-", "HD-"),
        ("HX-123", "HX-123"),
        ("P-AB1-0007", "P-AB1-0007"),  # three characters is not a device tag
        ("P-GHIJ-0007", "P-GHIJ-0007"),  # not hexadecimal
        ("-123", "-123"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_anything_else_is_only_trimmed(typed: str, expected: str) -> None:
    assert normalize_ref(typed) == expected


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=999_999_999))
def test_formatted_numbers_normalize_to_themselves(sequence: int) -> None:
    number = format_number(sequence)
    assert normalize_ref(number) == number
    assert normalize_ref(number.lower()) == number
    assert normalize_ref(str(sequence)) == number


@settings(max_examples=50, deadline=None)
@given(st.uuids(), st.integers(min_value=0, max_value=99_999))
def test_provisional_refs_normalize_to_themselves(ticket: object, counter: int) -> None:
    ref = provisional_ref(str(ticket), counter)
    assert normalize_ref(ref) == ref
    assert normalize_ref(ref.lower()) == ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [("HD-000123", True), ("hd-123", True), (" P-0A1B2C3D-0007", True), ("hd123", False),
     ("srv9", False), ("hdserver", False), ("10.1.2.3", False), ("OLY-ACC-LT0421", False)],
)  # fmt: skip
def test_looks_like_ref_tells_ticket_refs_from_host_names(text: str, expected: bool) -> None:
    assert looks_like_ref(text) is expected
