"""Reading a file a technician names: trees, recipes, answers, policies, host lists, CSV exports.

A name on the command line can be anything: a directory, `/dev/zero` (endless), a named pipe
(reading it waits for a writer forever), a socket, a 10 MB binary file. Each is refused, in one
line naming the file, before it is read: the kind is checked with a stat before opening, and the
open itself does not block (O_NONBLOCK) in case the name was swapped for a pipe in between. Text
files are read up to a cap and must be UTF-8 without NUL bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from workbench.core.errors import BadInput

# Trees, recipes, answers, policies and host lists are a few KB; the largest shipped one is
# about 60 KB. The YAML loader holds the same bound.
MAX_TEXT_BYTES = 1024 * 1024


class UnreadableFile(BadInput):
    """A file named by the user that is not a readable text file; `reason` says why without
    the path (validators put the path in front as FILE:LINE:COL)."""

    def __init__(self, path: Path, what: str, reason: str) -> None:
        super().__init__(f"cannot read {what} {path}: {reason}")
        self.path = path
        self.reason = reason


def _kind_refused(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "it is a directory"
    if stat.S_ISFIFO(mode):
        return "it is a named pipe, not a file"
    if stat.S_ISSOCK(mode):
        return "it is a socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device, not a file"
    return "it is not a regular file"


def _size_text(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def check_regular_file(path: Path, what: str) -> os.stat_result:
    """The file's stat when it is a regular file (symbolic links followed), else
    UnreadableFile: missing, unreadable, a directory, a device, a pipe or a socket."""
    try:
        found = os.stat(path)
    except OSError as exc:
        raise UnreadableFile(path, what, (exc.strerror or str(exc)).lower()) from None
    except ValueError:  # a NUL in the name (from a file or the environment)
        raise UnreadableFile(path, what, "the name has a NUL character") from None
    refused = _kind_refused(found.st_mode)
    if refused:
        raise UnreadableFile(path, what, refused)
    return found


def read_text_file(path: Path, what: str, limit_bytes: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `limit_bytes`; UnreadableFile otherwise.
    `what` names the file's role in the message ("the recipe", "the answers file")."""
    found = check_regular_file(path, what)
    too_large = f"it is larger than the {_size_text(limit_bytes)} allowed"
    if found.st_size > limit_bytes:
        raise UnreadableFile(path, what, too_large)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UnreadableFile(path, what, (exc.strerror or str(exc)).lower()) from None
    with open(fd, "rb") as file:
        refused = _kind_refused(os.fstat(fd).st_mode)  # swapped since the stat
        if refused:
            raise UnreadableFile(path, what, refused)
        try:
            data = file.read(limit_bytes + 1)
        except OSError as exc:
            raise UnreadableFile(path, what, (exc.strerror or str(exc)).lower()) from None
    if len(data) > limit_bytes:  # it grew since the stat
        raise UnreadableFile(path, what, too_large)
    return _decode_text(data, path, what)


def refuse_binary(data: bytes, path: Path, what: str) -> None:
    """UnreadableFile naming the line of the first NUL byte: no text has one."""
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise UnreadableFile(path, what, f"line {line} has a NUL byte: a binary file, not text")


def _decode_text(data: bytes, path: Path, what: str) -> str:
    """`data` as UTF-8 text; UnreadableFile naming the line of a NUL byte or of bytes that
    are not UTF-8 (a binary file, or text saved in another encoding)."""
    refuse_binary(data, path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnreadableFile(
            path, what, f"line {line} is not UTF-8 text (save the file as UTF-8)"
        ) from None


def is_directory(path: Path) -> bool:
    """Whether `path` names a directory; a name that cannot even be looked up (too long, a
    loop of links) is none, and reading it then says why."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
