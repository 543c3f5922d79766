"""Credential profiles: who logs in and how, kept apart from the machines (DESIGN.md section 7).

A profile names a user and an authentication kind; one profile serves many assets. It never
holds a secret: ``has_secret`` only says that a password or key passphrase waits in the OS
keyring under (``KEYRING_SERVICE``, profile name). No I/O here; paramiko and pywinrm load only
when ``connection()`` builds the transport's objects.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.errors import BadInput

if TYPE_CHECKING:
    from workbench.remote.ssh import SshAuth, SshTarget
    from workbench.remote.winrm import WinrmTarget

KEYRING_SERVICE = "workbench-profile"
PROTOCOLS = ("ssh", "winrm")
AUTH_KINDS: dict[str, tuple[str, ...]] = {
    "ssh": ("key", "agent", "password"),
    "winrm": ("ntlm", "kerberos", "credssp", "certificate", "basic"),
}
# Kinds that cannot log in without the secret; for the others it is optional (key passphrase,
# a Kerberos password instead of the ticket cache).
NEEDS_SECRET = frozenset({"password", "ntlm", "credssp", "basic"})

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Domain users (DOMAIN\user, user@domain; Windows names may hold blanks) are fine; control
# characters, blanks at the ends and a leading '-' (read as an option by ssh and friends) not.
_USER = re.compile(r"^[^\s\x00-\x1f\-](?:[^\x00-\x1f]{0,126}[^\s\x00-\x1f])?$")
_HOST = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|[0-9A-Fa-f:.]{2,45})$")


def check_host(host: str) -> str:
    """The host name or address, stripped; BadInput for anything a command line could misread."""
    text = host.strip()
    problem = _host_problem(text)
    if problem is not None:
        raise BadInput(problem)
    return text


def _host_problem(host: str) -> str | None:
    if not host:
        return "the host is empty"
    if host.startswith("-"):
        return f"host {host!r} starts with '-': not a host name"
    if not _HOST.match(host):
        return f"host {host!r} is not a host name or IP address (letters, digits, '.', '-', ':')"
    return None


@dataclass(frozen=True)
class TargetAddress:
    """``[USER@]HOST[:PORT]`` as typed: None where a part was left out, so that each caller
    fills in its own default user and ``default_port``."""

    user: str | None
    host: str
    port: int | None


def parse_target(text: str, what: str, allow_user: bool = True) -> TargetAddress:
    """``[USER@]HOST[:PORT]`` (an IPv6 address bare, or in brackets when a port follows);
    BadInput "<what> takes [USER@]HOST[:PORT], not ...: <the problem>" when malformed.

    Without ``allow_user`` the form is HOST[:PORT]: a credential profile names the user.
    """
    user, at, address = text.strip().rpartition("@")  # the last '@': user@domain@host works
    try:
        host, port = _split_port(address)
        problem = _host_problem(host) or (_user_problem(user, allow_user) if at else None)
    except ValueError as exc:
        problem = str(exc)
    if problem is not None:
        form = "[USER@]HOST[:PORT]" if allow_user else "HOST[:PORT]"
        raise BadInput(f"{what} takes {form}, not {text!r}: {problem}")
    return TargetAddress(user if at else None, host, port)


def _split_port(address: str) -> tuple[str, int | None]:
    """(host, port or None); ValueError saying what is wrong."""
    if address.startswith("["):
        inside, bracket, rest = address[1:].partition("]")
        if not bracket or rest[:1] not in ("", ":"):
            raise ValueError("write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT")
        if not _is_ip(inside):
            raise ValueError(f"{inside!r} in brackets is not an IP address")
        return inside, _port(rest[1:]) if rest else None
    if address.count(":") > 1:  # no brackets: all of it is the address, there is no port
        if not _is_ip(address):
            raise ValueError(
                f"{address!r} is not an IPv6 address; with a port write [ADDRESS]:PORT"
            )
        return address, None
    host, colon, port = address.partition(":")
    return host, _port(port) if colon else None


def _port(text: str) -> int:
    if not text:
        raise ValueError("the port after ':' is missing")
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= 5 else 0
    if not 0 < number < 65536:
        raise ValueError(f"port {text!r} is not a number from 1 to 65535")
    return number


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_user(user: str, what: str) -> str:
    """The login name; BadInput "<what>: <the problem>" when it is no login name as the user of
    a target (``parse_target``) may be."""
    problem = _user_problem(user, allowed=True)
    if problem is not None:
        raise BadInput(f"{what}: {problem}")
    return user


def _user_problem(user: str, allowed: bool) -> str | None:
    if not allowed:
        return "the credential profile names the user"
    if not user:
        return "the user before '@' is missing"
    # No blanks at all here: a list of targets is split at them.
    if _USER.match(user) and not any(c.isspace() for c in user):
        return None
    return f"user {user!r} must be a login name without blanks, not starting with '-'"


def default_port(protocol: str, https: bool = True) -> int:
    if protocol == "ssh":
        return 22
    return 5986 if https else 5985


@dataclass(frozen=True)
class CredentialProfile:
    name: str
    protocol: str  # "ssh" | "winrm"
    user: str
    auth: str  # ssh: "key" | "agent" | "password"; winrm: "ntlm" | "kerberos" | ... | "basic"
    port: int | None = None
    key_path: str | None = None  # ssh private key, or winrm client certificate + key (one PEM)
    jump: str | None = None  # ssh "[user@]host[:port]"
    https: bool = True  # winrm
    ca_file: str | None = None  # winrm internal CA
    has_secret: bool = False  # a password/passphrase is in the keyring

    @property
    def needs_secret(self) -> bool:
        """True when logging in is impossible without the keyring entry."""
        return self.auth in NEEDS_SECRET

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else default_port(self.protocol, self.https)

    def check(self) -> CredentialProfile:
        """Self, if consistent; else BadInput saying what to change."""
        if not _NAME.match(self.name):
            raise BadInput(
                f"profile name {self.name!r} must start with a letter or digit and hold only "
                "letters, digits, '.', '_' and '-' (at most 64)"
            )
        if self.protocol not in PROTOCOLS:
            raise BadInput(f"profile protocol must be ssh or winrm, not {self.protocol!r}")
        kinds = AUTH_KINDS[self.protocol]
        if self.auth not in kinds:
            raise BadInput(
                f"{self.protocol} profiles authenticate with {', '.join(kinds)}, not {self.auth!r}"
            )
        if not _USER.match(self.user) or (self.protocol == "ssh" and " " in self.user):
            raise BadInput(
                f"user {self.user!r} must be a login name (SSH: without blanks), not starting "
                "with '-'"
            )
        if self.port is not None and not 0 < self.port < 65536:
            raise BadInput(f"port {self.port} is out of range (1-65535)")
        for label, value in (("key file", self.key_path), ("CA file", self.ca_file)):
            if value is not None and not value.strip():
                raise BadInput(f"the {label} path is empty: give a path or leave it out")
        if self.protocol == "ssh":
            self._check_ssh()
        else:
            self._check_winrm()
        return self

    def _check_ssh(self) -> None:
        if self.auth == "key" and not self.key_path:
            raise BadInput("ssh key authentication needs the private key file: give --key PATH")
        if self.ca_file is not None:
            raise BadInput("a CA file is for WinRM profiles; SSH trusts host keys instead")
        if not self.https:
            raise BadInput("plain HTTP is a WinRM setting; SSH profiles are always encrypted")
        if self.jump is not None:
            parse_jump(self.jump, self.user)

    def _check_winrm(self) -> None:
        if self.jump is not None:
            raise BadInput("jump hosts are for SSH profiles; WinRM has none")
        if self.auth in ("basic", "certificate") and not self.https:
            raise BadInput(
                f"WinRM {self.auth} authentication is only allowed over HTTPS: drop --http"
            )
        if self.auth == "certificate" and not self.key_path:
            raise BadInput(
                "WinRM certificate authentication needs a PEM file with the client certificate "
                "and its key: give --key PATH"
            )
        if self.auth != "certificate" and self.key_path is not None:
            raise BadInput("a key file is only used by WinRM certificate authentication")
        if self.ca_file is not None and not self.https:
            raise BadInput("a CA file checks the server's HTTPS certificate: not with --http")


def keeps_secret(before: CredentialProfile, after: CredentialProfile) -> bool:
    """Whether ``before``'s keyring secret still fits ``after``: a password belongs to one user
    and one way of logging in (it is no key passphrase)."""
    return (before.protocol, before.auth, before.user) == (after.protocol, after.auth, after.user)


def parse_jump(text: str, default_user: str) -> tuple[str, str, int]:
    """``[user@]host[:port]`` as (user, host, port); BadInput when malformed."""
    jump = parse_target(text, "jump host")
    return jump.user or default_user, jump.host, jump.port or default_port("ssh")


def check_login(profile: CredentialProfile, secret: str | None) -> None:
    """BadInput if the profile cannot log in anywhere with this keyring entry: a problem of the
    profile itself, whatever the host."""
    profile.check()
    if profile.needs_secret and secret is None:
        raise BadInput(
            f"profile {profile.name!r} ({profile.protocol} {profile.auth}) needs a password: "
            f"set it with `workbench profile edit {profile.name} --ask-secret`"
        )


def connection(
    profile: CredentialProfile, host: str, secret: str | None, port: int | None = None
) -> tuple[SshTarget | WinrmTarget, SshAuth | None, tuple[SshTarget, SshAuth] | None]:
    """What a JobRequest needs: (target, ssh auth or None, ssh jump or None).

    ``port`` (the asset's own) wins over the profile's. ``secret`` is the keyring entry: the
    password, or an SSH key's passphrase. BadInput if the profile cannot log in without it.
    """
    check_login(profile, secret)
    host = check_host(host)
    port = port if port is not None else profile.effective_port
    if profile.protocol == "winrm":
        from workbench.remote.winrm import WinrmTarget  # noqa: PLC0415  (loads pywinrm)

        cert = profile.key_path if profile.auth == "certificate" else None
        target = WinrmTarget(
            host, profile.user, port, transport=profile.auth, https=profile.https,
            ca_file=_path(profile.ca_file), password=secret,
            cert_pem=_path(cert), cert_key_pem=_path(cert),
        )  # fmt: skip
        target.check()
        return target, None, None
    from workbench.remote.ssh import SshAuth, SshTarget  # noqa: PLC0415  (loads paramiko)

    auth = SshAuth(
        identity=_path(profile.key_path) if profile.auth != "password" else None,
        passphrase=secret if profile.auth != "password" else None,
        password=secret if profile.auth == "password" else None,
        allow_agent=profile.auth == "agent",
    )
    jump = None
    if profile.jump is not None:
        jump_user, jump_host, jump_port = parse_jump(profile.jump, profile.user)
        jump = (SshTarget(jump_host, jump_user, jump_port), auth)
    return SshTarget(host, profile.user, port), auth, jump


def _path(text: str | None) -> Path | None:
    return None if text is None else Path(text).expanduser()
