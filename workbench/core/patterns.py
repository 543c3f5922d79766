"""Bounded regular expressions: every pattern of a tree or a recipe is compiled and matched here.

Trees and recipes are written by other people and sync to every laptop, and a check's output
comes from a host that may be compromised, so a pattern must not pin a CPU (issue 23). Two
bounds:

- At validation `compile_pattern` refuses a pattern that is not valid, that is longer than
  MAX_PATTERN_LENGTH, or that has one of the shapes that backtrack catastrophically: a
  quantified group whose body is, up to optional parts, itself quantified (`(a+)+`, `(a*)*`,
  `(\\w+\\s?)*`), two quantified parts of a quantified group that can match the same character
  next to each other (`(x+x+)+`), or alternatives in a quantified group that can start with the
  same character (`(a|a)*`, `(a|aa)+`, `(\\d+|\\w+)*`). This is a check of the usual shapes, not
  a proof; the deadline catches the rest.
- Every match runs with a deadline of MATCH_SECONDS and raises MatchTimeout when it is reached.

The engine is the `regex` module: its `timeout=` stops a match inside the C matching loop, and
it reads the Python `re` syntax the trees README documents, so shipped and stored patterns keep
their meaning. google-re2 (linear time, so no deadline needed) was ruled out: it has no
lookaround, which a shipped tree uses (`spooler: (?!Running)` in printer-not-printing), nor
backreferences. The shapes are found on the parse tree of the standard library's `re` parser;
a pattern must be valid for both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import combinations
from re import _parser as sre  # type: ignore[attr-defined]  # no public parse tree API
from typing import Any

import regex

MAX_PATTERN_LENGTH = 500
MATCH_SECONDS = 0.5

# The characters a part of a pattern can start with are worked out over this sample: Latin
# letters, digits, punctuation and controls, which is where the shapes above show up.
_SAMPLE = frozenset(chr(code) for code in range(0x250))
_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}
_CATEGORY_CHARS = {
    category: frozenset(c for c in _SAMPLE if re.fullmatch(escape, c))
    for category, escape in _CATEGORIES.items()
}
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)  # possessive repeats do not backtrack
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)

Item = tuple[Any, Any]  # one (opcode, argument) of re's parse tree


class PatternError(ValueError):
    """A pattern that cannot be used, or a text it could not be matched against in time."""


class UnsafePattern(PatternError):
    """A pattern refused: not valid, too long, or prone to catastrophic backtracking."""


class MatchTimeout(PatternError):
    def __init__(self) -> None:
        super().__init__(f"could not be checked against the pattern in time ({MATCH_SECONDS} s)")


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """The compiled pattern, or UnsafePattern saying why it is refused."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"longer than {MAX_PATTERN_LENGTH} characters")
    try:
        parsed = sre.parse(pattern)
        compiled = regex.compile(pattern)
    except (re.error, regex.error) as exc:
        raise UnsafePattern(str(exc)) from None
    folded = bool(parsed.state.flags & re.IGNORECASE)
    problem = _backtracking_problem(list(parsed), folded)
    if problem:
        raise UnsafePattern(f"{problem}: matching can take exponential time")
    return compiled


def is_found(pattern: str, text: str) -> bool:
    """Whether the pattern matches somewhere in `text` (re.search)."""
    return _deadline(compile_pattern(pattern).search, text)


def is_full_match(pattern: str, text: str) -> bool:
    """Whether the pattern matches all of `text` (re.fullmatch)."""
    return _deadline(compile_pattern(pattern).fullmatch, text)


def _deadline(match: Any, text: str) -> bool:
    try:
        return match(text, timeout=MATCH_SECONDS) is not None
    except TimeoutError:
        raise MatchTimeout from None


# -- the shapes ----------------------------------------------------------------------------------


def _backtracking_problem(items: list[Item], folded: bool) -> str | None:
    """What makes the parsed pattern backtrack catastrophically, or None."""
    for op, arg in items:
        if op in _REPEATS and arg[1] > 1:
            body = _flat(arg[2])
            problem = (
                _nested_repeat(body) or _adjacent_repeats(body, folded) or _ambiguous(body, folded)
            )
            if problem:
                return problem
        for nested in _children(op, arg):
            problem = _backtracking_problem(nested, folded)
            if problem:
                return problem
    return None


def _children(op: Any, arg: Any) -> Iterable[list[Item]]:
    if op in _REPEATS or op is sre.POSSESSIVE_REPEAT:
        yield list(arg[2])
    elif op is sre.SUBPATTERN:
        yield list(arg[3])
    elif op is sre.ATOMIC_GROUP:
        yield list(arg)
    elif op in (sre.ASSERT, sre.ASSERT_NOT):
        yield list(arg[1])
    elif op is sre.BRANCH:
        yield from (list(alternative) for alternative in arg[1])
    elif op is sre.GROUPREF_EXISTS:
        yield from (list(part) for part in arg[1:] if part is not None)


def _flat(items: Iterable[Item]) -> list[Item]:
    """The items with groups opened: `(a)(b+)` is the sequence a, b+."""
    flat: list[Item] = []
    for op, arg in items:
        if op is sre.SUBPATTERN:
            flat.extend(_flat(arg[3]))
        else:
            flat.append((op, arg))
    return flat


def _nested_repeat(body: list[Item]) -> str | None:
    """`(a+)+`: the repeated body is, apart from parts that may be empty, a repeat itself."""
    for index, (op, arg) in enumerate(body):
        others = body[:index] + body[index + 1 :]
        if _is_loose(op, arg) and _first(others, False)[1]:
            return "a quantifier inside a quantified group (as in (a+)+)"
    return None


def _is_loose(op: Any, arg: Any) -> bool:
    """A repeat of more than one, or an optional part or alternative made of one."""
    if op in _REPEATS:
        return bool(arg[1] > 1 or _nested_repeat(_flat(arg[2])))
    if op is sre.BRANCH:
        return any(_nested_repeat(_flat(alternative)) for alternative in arg[1])
    return False


def _adjacent_repeats(body: list[Item], folded: bool) -> str | None:
    """`(x+x+)+`: two repeats that can take the same character with only parts that may be
    empty between them, in the body or round the loop (the body's end meets its start)."""
    repeats = [i for i, (op, arg) in enumerate(body) if op in _REPEATS and arg[1] > 1]
    for left, right in combinations(repeats, 2):
        for between in (body[left + 1 : right], body[right + 1 :] + body[:left]):
            if _first(between, folded)[1] and _overlap(body[left], body[right], folded):
                return "two quantifiers that can match the same text next to each other"
    return None


def _overlap(one: Item, other: Item, folded: bool) -> bool:
    return bool(_first(one[1][2], folded)[0] & _first(other[1][2], folded)[0])


def _ambiguous(body: list[Item], folded: bool) -> str | None:
    """`(a|a)*`: alternatives of the repeated body that can begin the same way. What follows a
    branch counts for an alternative that may be empty, and after the body comes the body."""
    loop_start = _first(body, folded)[0]
    for index, (op, arg) in enumerate(body):
        if op is not sre.BRANCH:
            continue
        after, after_empty = _first(body[index + 1 :], folded)
        follow = after | loop_start if after_empty else after
        seen: set[str] = set()
        empty_alternatives = 0
        for alternative in arg[1]:
            starts, empty = _first(alternative, folded)
            if empty:
                empty_alternatives += 1
                starts |= follow
            if starts & seen or empty_alternatives > 1:
                return "alternatives that can match the same text inside a quantified group"
            seen |= starts
    return None


def _first(items: Sequence[Item], folded: bool) -> tuple[frozenset[str], bool]:
    """The characters (of the sample) a match of `items` can start with; whether it can be
    empty."""
    starts: set[str] = set()
    for op, arg in items:
        chars, empty = _first_of(op, arg, folded)
        starts |= chars
        if not empty:
            return frozenset(starts), False
    return frozenset(starts), True


def _first_of(op: Any, arg: Any, folded: bool) -> tuple[frozenset[str], bool]:
    if op is sre.LITERAL:
        return _fold(frozenset(chr(arg)), folded), False
    if op is sre.NOT_LITERAL:
        return _SAMPLE - {chr(arg)}, False
    if op is sre.IN:
        return _fold(_class_chars(arg), folded), False
    if op is sre.ANY:
        return _SAMPLE, False
    if op is sre.SUBPATTERN:
        return _first(arg[3], folded)
    if op is sre.ATOMIC_GROUP:
        return _first(arg, folded)
    if op in _REPEATS or op is sre.POSSESSIVE_REPEAT:
        chars, empty = _first(arg[2], folded)
        return chars, empty or arg[0] == 0
    if op is sre.BRANCH:
        firsts = [_first(alternative, folded) for alternative in arg[1]]
        return frozenset().union(*(c for c, _ in firsts)), any(e for _, e in firsts)
    if op in _ZERO_WIDTH:
        return frozenset(), True
    return _SAMPLE, True  # backreferences and the like: anything, maybe nothing


def _class_chars(items: Iterable[Item]) -> frozenset[str]:
    chars: set[str] = set()
    negate = False
    for op, arg in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            chars.add(chr(arg))
        elif op is sre.RANGE:
            low, high = arg
            chars.update(chr(code) for code in range(low, min(high, 0x24F) + 1))
            chars.update((chr(low), chr(high)))
        elif op is sre.CATEGORY:
            chars |= _CATEGORY_CHARS.get(arg, _SAMPLE)
    return _SAMPLE - chars if negate else frozenset(chars)


def _fold(chars: frozenset[str], folded: bool) -> frozenset[str]:
    return frozenset(c.lower() for c in chars) if folded else chars
