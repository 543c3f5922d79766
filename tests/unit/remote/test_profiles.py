"""Credential profiles: validation with actionable messages, and what a job needs built from one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.remote.profiles import CredentialProfile, check_host, connection
from workbench.remote.ssh import SshAuth, SshTarget
from workbench.remote.winrm import WinrmTarget

SSH_KEY = CredentialProfile("lab-key", "ssh", "tech", "key", key_path="~/.ssh/id_ed25519")
WINRM = CredentialProfile("corp-ntlm", "winrm", "CORP\\tech", "ntlm")


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (replace(SSH_KEY, name="-x"), "profile name '-x' must start with a letter"),
        (replace(SSH_KEY, name="a b"), "profile name 'a b'"),
        (replace(SSH_KEY, protocol="telnet"), "must be ssh or winrm"),
        (replace(SSH_KEY, auth="ntlm"), "ssh profiles authenticate with key, agent, password"),
        (replace(WINRM, auth="key"), "winrm profiles authenticate with ntlm, kerberos"),
        (replace(SSH_KEY, key_path=None), "needs the private key file: give --key PATH"),
        (replace(SSH_KEY, user="-oProxyCommand=x"), "not starting with '-'"),
        (replace(SSH_KEY, user="two words"), "without blanks"),
        (replace(SSH_KEY, port=70000), "out of range"),
        (replace(SSH_KEY, jump="-J"), "starts with '-'"),
        (replace(SSH_KEY, jump="a@b:99999"), "jump host takes [USER@]HOST[:PORT]"),
        (replace(SSH_KEY, ca_file="/ca.pem"), "a CA file is for WinRM"),
        (replace(WINRM, auth="basic", https=False), "only allowed over HTTPS: drop --http"),
        (replace(WINRM, auth="certificate"), "needs a PEM file with the client certificate"),
        (replace(WINRM, key_path="/c.pem"), "only used by WinRM certificate authentication"),
        (replace(WINRM, jump="gw"), "jump hosts are for SSH"),
        (replace(WINRM, ca_file=" "), "the CA file path is empty"),
    ],
)
def test_check_refuses_inconsistent_profiles(profile: CredentialProfile, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        profile.check()
    assert message in str(caught.value)


def test_valid_profiles_pass_and_ports_default_by_protocol() -> None:
    assert SSH_KEY.check().effective_port == 22
    assert WINRM.check().effective_port == 5986
    assert replace(WINRM, https=False).check().effective_port == 5985
    assert replace(WINRM, port=5999).effective_port == 5999
    assert replace(SSH_KEY, jump="[::1]:2222").check() is not None
    assert (SSH_KEY.needs_secret, WINRM.needs_secret) == (False, True)


@pytest.mark.parametrize("host", ["-oProxyCommand=touch /tmp/x", "a b", "", "host;rm", "$(id)"])
def test_hosts_that_a_command_line_could_misread_are_refused(host: str) -> None:
    with pytest.raises(BadInput):
        check_host(host)


def test_ssh_key_profile_with_passphrase_and_jump() -> None:
    profile = replace(SSH_KEY, port=2222, jump="gw.example:2200")
    target, auth, jump = connection(profile, " srv01.corp.example ", "pass-phrase")
    assert target == SshTarget("srv01.corp.example", "tech", 2222)
    assert auth == SshAuth(identity=Path("~/.ssh/id_ed25519").expanduser(),
                           passphrase="pass-phrase")  # fmt: skip
    assert jump == (SshTarget("gw.example", "tech", 2200), auth)
    # The asset's own port wins over the profile's.
    assert connection(profile, "srv01", None, port=22)[0] == SshTarget("srv01", "tech", 22)


def test_ssh_password_and_agent_profiles() -> None:
    password = CredentialProfile("pw", "ssh", "tech", "password")
    _, auth, jump = connection(password, "10.0.0.5", "hunter2")
    assert auth == SshAuth(password="hunter2") and jump is None
    with pytest.raises(BadInput, match="workbench profile edit pw --ask-secret"):
        connection(password, "10.0.0.5", None)
    _, agent_auth, _ = connection(CredentialProfile("ag", "ssh", "tech", "agent"), "h", None)
    assert agent_auth == SshAuth(allow_agent=True)


def test_winrm_profiles_build_targets() -> None:
    target, auth, jump = connection(replace(WINRM, ca_file="/etc/corp-ca.pem"), "pc-17", "pw")
    assert isinstance(target, WinrmTarget) and auth is None and jump is None
    assert (target.endpoint, target.username, target.transport) == (
        "https://pc-17:5986/wsman", "CORP\\tech", "ntlm")  # fmt: skip
    assert target.password == "pw" and target.ca_file == Path("/etc/corp-ca.pem")
    cert = CredentialProfile("cert", "winrm", "tech", "certificate", key_path="/k/client.pem")
    cert_target, _, _ = connection(cert, "pc-17", None)
    assert isinstance(cert_target, WinrmTarget)
    assert cert_target.cert_pem == cert_target.cert_key_pem == Path("/k/client.pem")
    kerberos, _, _ = connection(replace(WINRM, auth="kerberos"), "pc-17", None)
    assert isinstance(kerberos, WinrmTarget) and kerberos.password is None


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    secret = "Sup3r-Secret!"
    target, auth, _ = connection(WINRM, "pc-17", secret)
    assert secret not in repr(target)
    _, ssh_auth, _ = connection(CredentialProfile("pw", "ssh", "t", "password"), "h", secret)
    assert secret not in repr(ssh_auth) and auth is None
    with pytest.raises(BadInput) as caught:
        connection(WINRM, "-evil", secret)
    assert secret not in str(caught.value)
