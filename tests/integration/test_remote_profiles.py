"""Jobs through credential profiles against a real OpenSSH sshd: secrets from the keyring file."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.keyrings import JsonFileKeyring
from tests.support.services import ServiceStartError, require_or_skip
from tests.support.sshd import SshServer, find_sshd, running_sshd
from workbench.remote.jobs import JobRequest, JobResult, JobRunner
from workbench.remote.outcome import Outcome
from workbench.remote.profiles import KEYRING_SERVICE, CredentialProfile
from workbench.remote.recipes import Recipe, parse_recipe
from workbench.services.profiles import ProfileService
from workbench.store import Store

pytestmark = pytest.mark.services

WHO = parse_recipe(
    "id: test.whoami\ntitle: Who\nprotocol: ssh\nshell: sh\ntimeout: 30\nscript: id -un\n",
    Path("whoami.yaml"),
)


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[JobRunner]:
    job_runner = JobRunner(tmp_path / "jobs")
    yield job_runner
    job_runner.shutdown()


def _run(runner: JobRunner, request: JobRequest) -> JobResult:
    return runner.submit(request).result(60)


def _request(service: ProfileService, recipe: Recipe, server: SshServer, name: str) -> JobRequest:
    fingerprint = server.host_key_fingerprint
    return service.login(name).request(
        recipe, {}, server.host, "ana.lopez", accept_host_key=fingerprint, port=server.port
    )


def _secret_nowhere(secret: str, store: Store, runner: JobRunner, result: JobResult) -> None:
    wal = store.path.with_name(store.path.name + "-wal")
    files = [store.path, runner.audit_path, result.log_path, *([wal] if wal.exists() else [])]
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
    assert secret not in result.summary()


def test_key_profile_with_its_passphrase_from_the_keyring(
    sshd_server: SshServer, store: Store, tmp_path: Path, runner: JobRunner
) -> None:
    passphrase = "key passphrase " + secrets.token_hex(8)
    key = Ed25519PrivateKey.generate()
    key_path = tmp_path / "encrypted_ed25519"
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ))  # fmt: skip
    key_path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    with sshd_server.authorized_keys_path.open("a", encoding="ascii") as keys:
        keys.write(public.decode() + " profile-test\n")
    keyring = JsonFileKeyring(tmp_path / "keyring.json")
    service = ProfileService(store, keyring)
    service.save(CredentialProfile("lab", "ssh", sshd_server.username, "key",
                                   key_path=str(key_path)), passphrase)  # fmt: skip
    assert keyring.get_password(KEYRING_SERVICE, "lab") == passphrase

    result = _run(runner, _request(service, WHO, sshd_server, "lab"))
    assert result.outcome is Outcome.OK, result.message
    assert result.stdout_tail == (sshd_server.username,)
    _secret_nowhere(passphrase, store, runner, result)


@pytest.fixture(scope="module")
def password_server() -> Iterator[tuple[SshServer, str, str]]:
    """An sshd taking passwords, and a throw-away account (user, password) it checks them for.

    With ``UsePAM no`` sshd checks /etc/shadow, so the account must be real: creating one needs
    root and useradd; it is deleted afterwards.
    """
    sshd = find_sshd()
    tools = [shutil.which(t) for t in ("useradd", "chpasswd", "userdel")]
    if sshd is None or os.geteuid() != 0 or not all(tools):
        require_or_skip("password login needs sshd, root and useradd/chpasswd/userdel")
    useradd, chpasswd, userdel = tools
    user = "wbpw" + secrets.token_hex(4)
    password = "Pw-" + secrets.token_urlsafe(12)
    home = Path(tempfile.mkdtemp(prefix="workbench-pw-"))
    try:
        subprocess.run([useradd, "-M", "-d", str(home), "-s", "/bin/sh", user], check=True,
                       capture_output=True, timeout=30)  # fmt: skip
        os.chown(home, *_ids(user))
        subprocess.run([chpasswd], input=f"{user}:{password}\n", text=True, check=True,
                       capture_output=True, timeout=30)  # fmt: skip
        with running_sshd(sshd, extra_config=["PasswordAuthentication yes"]) as server:
            yield server, user, password
    except (ServiceStartError, subprocess.CalledProcessError) as exc:
        require_or_skip(f"cannot set up password login: {exc}")
    finally:
        subprocess.run([userdel, user], capture_output=True, timeout=30, check=False)
        shutil.rmtree(home, ignore_errors=True)


def _ids(user: str) -> tuple[int, int]:
    import pwd  # noqa: PLC0415

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def test_password_profile_with_the_password_from_the_keyring(
    password_server: tuple[SshServer, str, str], store: Store, tmp_path: Path, runner: JobRunner
) -> None:
    server, user, password = password_server
    keyring = JsonFileKeyring(tmp_path / "keyring.json")
    service = ProfileService(store, keyring)
    service.save(CredentialProfile("pw", "ssh", user, "password"), password)

    result = _run(runner, _request(service, WHO, server, "pw"))
    assert result.outcome is Outcome.OK, result.message
    assert result.stdout_tail == (user,)
    _secret_nowhere(password, store, runner, result)

    service.save(CredentialProfile("pw", "ssh", user, "password"), "not-the-password")
    wrong = _run(runner, _request(service, WHO, server, "pw"))
    assert wrong.outcome is Outcome.AUTH_FAILED
