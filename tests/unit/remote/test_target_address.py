"""`[USER@]HOST[:PORT]` as the CLI, the console and jump hosts read it: one parser, one message."""

from __future__ import annotations

import pytest

from workbench.core.errors import BadInput
from workbench.remote.profiles import TargetAddress, check_user, parse_jump, parse_target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pc1", TargetAddress(None, "pc1", None)),
        (" pc1.corp.example ", TargetAddress(None, "pc1.corp.example", None)),
        ("tech@pc1", TargetAddress("tech", "pc1", None)),
        ("tech@10.0.0.5:2222", TargetAddress("tech", "10.0.0.5", 2222)),
        ("pc1:65535", TargetAddress(None, "pc1", 65535)),
        ("CORP\\tech@pc1", TargetAddress("CORP\\tech", "pc1", None)),
        # The last '@' ends the user: a user@domain login.
        ("tech@corp.example@pc1:5986", TargetAddress("tech@corp.example", "pc1", 5986)),
        ("[::1]:2222", TargetAddress(None, "::1", 2222)),
        ("tech@[fe80::1]", TargetAddress("tech", "fe80::1", None)),
        ("[127.0.0.1]:22", TargetAddress(None, "127.0.0.1", 22)),
        ("::1", TargetAddress(None, "::1", None)),  # bare: all of it is the address
        ("tech@2001:db8::5", TargetAddress("tech", "2001:db8::5", None)),
    ],
)
def test_good_forms(text: str, expected: TargetAddress) -> None:
    assert parse_target(text, "--host") == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the host is empty"),
        ("tech@", "the host is empty"),
        (":22", "the host is empty"),
        ("pc1:", "the port after ':' is missing"),
        ("pc1:x", "port 'x' is not a number from 1 to 65535"),
        ("pc1:0", "port '0' is not a number from 1 to 65535"),
        ("pc1:65536", "port '65536' is not a number from 1 to 65535"),
        ("pc1:0000022", "port '0000022' is not a number from 1 to 65535"),
        ("pc1:-1", "port '-1' is not a number from 1 to 65535"),
        ("pc1:\u0661\u0662", "is not a number from 1 to 65535"),  # Arabic-Indic digits
        ("@pc1", "the user before '@' is missing"),
        ("-oProxyCommand=x@pc1", "user '-oProxyCommand=x' must be a login name"),
        ("two words@pc1", "without blanks"),
        ("-oProxyCommand=x", "starts with '-'"),
        ("pc1;reboot", "is not a host name or IP address"),
        ("[::1", "write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT"),
        ("[::1]2222", "write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT"),
        ("[pc1]:22", "'pc1' in brackets is not an IP address"),
        ("[::1]:", "the port after ':' is missing"),
        ("[::1]:70000", "port '70000' is not a number"),
        ("pc1::22", "not an IPv6 address; with a port write [ADDRESS]:PORT"),
        ("2001:db8::5:x", "not an IPv6 address; with a port write [ADDRESS]:PORT"),
    ],
)
def test_bad_forms_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_target(text, "--host")
    message = str(caught.value)
    assert message.startswith(f"--host takes [USER@]HOST[:PORT], not {text!r}: "), message
    assert problem in message


def test_without_users_the_form_is_host_and_port() -> None:
    assert parse_target("pc1:2222", "a target", allow_user=False) == TargetAddress(
        None, "pc1", 2222
    )
    with pytest.raises(BadInput) as caught:
        parse_target("tech@pc1", "a target", allow_user=False)
    assert str(caught.value) == (
        "a target takes HOST[:PORT], not 'tech@pc1': the credential profile names the user"
    )


def test_a_login_name_alone_is_checked_like_the_user_of_a_target() -> None:
    assert check_user("CORP\\tech", "--user") == "CORP\\tech"
    assert check_user("tech@corp.example", "--user") == "tech@corp.example"
    for bad in ("-oProxyCommand=x", "two words", " tech"):
        with pytest.raises(BadInput) as caught:
            check_user(bad, "--user")
        assert str(caught.value) == (
            f"--user: user {bad!r} must be a login name without blanks, not starting with '-'"
        )


def test_a_jump_host_defaults_to_the_profile_user_and_the_ssh_port() -> None:
    assert parse_jump("gw", "tech") == ("tech", "gw", 22)
    assert parse_jump("admin@[::1]:2200", "tech") == ("admin", "::1", 2200)
    # The user name is checked as for any other target (it was not before).
    with pytest.raises(BadInput, match="jump host takes .* must be a login name"):
        parse_jump("-oProxyCommand=x@gw", "tech")
