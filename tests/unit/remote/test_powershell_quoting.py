"""One PowerShell quoting for recipes and session launchers: any string comes back whole
through PowerShell's single-quoted string rules (typographic quotes included)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from workbench.remote.launchers import plan
from workbench.remote.profiles import CredentialProfile
from workbench.remote.recipes import Shell, powershell_literal, quote

# PowerShell's tokenizer: any of these opens or closes a single-quoted string, and two of
# them in a row inside one stand for the first.
QUOTES = "'\u2018\u2019\u201a\u201b"


def read_single_quoted(code: str) -> tuple[str, str]:
    """(the string's value, what follows it) as PowerShell reads a single-quoted string."""
    assert code[0] in QUOTES
    value, at = [], 1
    while at < len(code):
        char = code[at]
        if char in QUOTES:
            if at + 1 < len(code) and code[at + 1] in QUOTES:
                value.append(char)
                at += 2
                continue
            return "".join(value), code[at + 1 :]
        value.append(char)
        at += 1
    raise AssertionError(f"unterminated string: {code!r}")


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(QUOTES)))
def test_any_text_is_one_literal_that_reads_back_whole(text: str) -> None:
    value, rest = read_single_quoted(powershell_literal(text) + "; Remove-Item C:\\")
    assert value == text and rest == "; Remove-Item C:\\"
    assert quote(Shell.POWERSHELL, text) == powershell_literal(text)


def test_a_user_name_pasted_from_a_word_processor_stays_a_user_name(tmp_path: Path) -> None:
    profile = CredentialProfile("corp", "winrm", "CORP\\o\u2019brien'; calc; '", "ntlm")
    command = plan(
        "powershell", "pc-1", profile, known_hosts=tmp_path / "known_hosts", platform="win32",
        which=lambda name: "/x/powershell" if name == "powershell" else None,
    ).argv[3]  # fmt: skip
    credential = command.split("-Credential ", 1)[1]
    value, rest = read_single_quoted(credential)
    assert value == profile.user and rest.startswith(" -Authentication ")
