"""ProfileService with a real cache and a keyring file: secrets only ever in the keyring."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError

from tests.support.keyrings import JsonFileKeyring
from tests.support.workbench import ASSET
from workbench.core.errors import BadInput, NotFound, WorkbenchError
from workbench.remote.profiles import KEYRING_SERVICE, CredentialProfile
from workbench.remote.recipes import load_library
from workbench.remote.ssh import SshAuth, SshTarget
from workbench.remote.winrm import WinrmTarget
from workbench.services.profiles import ProfileService
from workbench.store import Store

SECRET = "Winter-2026!correct horse"
WIN = CredentialProfile("corp-ntlm", "winrm", "CORP\\tech", "ntlm")
KEY = CredentialProfile("lab-key", "ssh", "tech", "key", key_path="/k/id", jump="gw:2200")


@pytest.fixture
def keys(tmp_path: Path) -> JsonFileKeyring:
    return JsonFileKeyring(tmp_path / "keyring.json")


@pytest.fixture
def profiles(store: Store, keys: JsonFileKeyring) -> ProfileService:
    return ProfileService(store, keys)


def _cache_bytes(store: Store) -> bytes:
    """The cache file and its WAL, as they are on disk."""
    wal = store.path.with_name(store.path.name + "-wal")
    return store.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_secret_goes_to_the_keyring_file_and_never_into_the_cache(
    profiles: ProfileService, keys: JsonFileKeyring, store: Store
) -> None:
    saved = profiles.save(WIN, SECRET)
    assert saved == replace(WIN, has_secret=True) == profiles.profile("corp-ntlm")
    assert keys.entries() == {f"{KEYRING_SERVICE}/corp-ntlm": SECRET}
    assert SECRET.encode() in keys.path.read_bytes()
    cache = _cache_bytes(store)
    assert b"corp-ntlm" in cache  # the profile itself is there...
    assert SECRET.encode() not in cache and SECRET.encode("utf-16-le") not in cache  # ...not this
    target, auth, jump = profiles.connection_for("corp-ntlm", "pc-17")
    assert isinstance(target, WinrmTarget) and target.password == SECRET
    assert auth is None and jump is None


def test_keep_replace_and_forget_the_secret(
    profiles: ProfileService, keys: JsonFileKeyring
) -> None:
    profiles.save(WIN, SECRET)
    kept = profiles.save(replace(WIN, port=5999))  # edit without a secret keeps it
    assert kept.has_secret and keys.get_password(KEYRING_SERVICE, WIN.name) == SECRET
    profiles.save(WIN, "new-one")
    assert keys.get_password(KEYRING_SERVICE, WIN.name) == "new-one"
    forgot = profiles.save(WIN, keep_secret=False)
    assert not forgot.has_secret and keys.entries() == {}
    with pytest.raises(BadInput, match="profile edit corp-ntlm --ask-secret"):
        profiles.connection_for(WIN.name, "pc-17")


def test_a_new_user_or_login_kind_drops_the_old_secret(
    profiles: ProfileService, keys: JsonFileKeyring
) -> None:
    profiles.save(WIN, SECRET)
    assert not profiles.save(replace(WIN, user="CORP\\other")).has_secret
    assert keys.entries() == {}
    profiles.save(WIN, SECRET)
    assert not profiles.save(replace(WIN, auth="kerberos")).has_secret
    assert keys.entries() == {}


def test_bad_input_changes_nothing(profiles: ProfileService, keys: JsonFileKeyring) -> None:
    profiles.save(WIN, SECRET)
    certificate = CredentialProfile("corp-ntlm", "winrm", "t", "certificate", key_path="/c.pem")
    for bad, secret in (
        (replace(WIN, auth="basic", https=False), "other"),
        (WIN, ""),
        (certificate, "other"),
    ):
        with pytest.raises(BadInput):
            profiles.save(bad, secret)
    assert profiles.profiles() == [replace(WIN, has_secret=True)]
    assert keys.get_password(KEYRING_SERVICE, WIN.name) == SECRET
    with pytest.raises(NotFound, match="no credential profile 'nope'"):
        profiles.profile("nope")
    with pytest.raises(NotFound):
        profiles.assign(ASSET.id, "nope")
    with pytest.raises(NotFound, match="no asset"):
        profiles.assign("no-asset", WIN.name)


def test_key_profile_with_passphrase_and_jump(profiles: ProfileService) -> None:
    profiles.save(KEY, "phrase")
    target, auth, jump = profiles.connection_for("lab-key", "srv-1", port=2022)
    assert target == SshTarget("srv-1", "tech", 2022)
    assert auth == SshAuth(identity=Path("/k/id"), passphrase="phrase")
    assert jump == (SshTarget("gw", "tech", 2200), auth)


def test_secret_gone_from_the_keyring_is_reported(
    profiles: ProfileService, keys: JsonFileKeyring
) -> None:
    profiles.save(WIN, SECRET)
    keys.path.unlink()
    with pytest.raises(BadInput, match="keyring has no secret for profile 'corp-ntlm' any more"):
        profiles.connection_for(WIN.name, "pc-17")


def test_assign_fallback_and_delete(profiles: ProfileService, store: Store,
                                    keys: JsonFileKeyring) -> None:  # fmt: skip
    assert profiles.profile_for_asset(ASSET.id) is None
    profiles.save(WIN, SECRET)
    profiles.save(KEY)
    profiles.assign(ASSET.id, KEY.name)
    assert profiles.profile_for_asset(ASSET.id) == KEY
    assert profiles.assets_of(KEY.name) == [ASSET.id]
    # Without a link here, the asset's own setting (from the central database) names it.
    profiles.assign(ASSET.id, None)
    with store.write() as tx:
        tx._db.exec_driver_sql("UPDATE assets SET credential_profile = 'corp-ntlm'")
    assert profiles.profile_for_asset(ASSET.id) == replace(WIN, has_secret=True)
    profiles.assign(ASSET.id, KEY.name)
    assert profiles.delete(KEY.name) == [ASSET.id]
    assert profiles.profile_for_asset(ASSET.id) == replace(WIN, has_secret=True)
    assert profiles.delete(WIN.name) == []
    assert keys.entries() == {} and profiles.profiles() == []
    with pytest.raises(NotFound):
        profiles.delete(WIN.name)


def test_request_builds_a_job_request(profiles: ProfileService) -> None:
    profiles.save(KEY)
    recipe = load_library().get("linux.diagnostics")
    request = profiles.login(KEY.name).request(recipe, {}, "srv-1", "ana.lopez", ticket_ref="HD-1",
                                               accept_host_key="SHA256:abc")  # fmt: skip
    assert request.target == SshTarget("srv-1", "tech", 22)
    assert request.jump is not None and request.ticket_ref == "HD-1"
    assert (request.technician, request.accept_host_key) == ("ana.lopez", "SHA256:abc")
    profiles.save(WIN, SECRET)
    with pytest.raises(BadInput, match="host keys are an SSH matter"):
        profiles.login(WIN.name).request(recipe, {}, "pc-1", "ana.lopez", accept_host_key="SHA:x")


def test_login_reads_the_secret_once_for_many_hosts_and_never_shows_it(
    profiles: ProfileService, keys: JsonFileKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles.save(WIN, SECRET)
    reads: list[str] = []
    read = keys.get_password

    def counted(service: str, username: str) -> str | None:
        reads.append(username)
        return read(service, username)

    monkeypatch.setattr(keys, "get_password", counted)
    login = profiles.login(WIN.name)
    targets = [login.connection(host)[0] for host in ("pc-1", "pc-2", "pc-3")]
    assert reads == [WIN.name]
    assert [(t.host, t.password) for t in targets if isinstance(t, WinrmTarget)] == [
        ("pc-1", SECRET), ("pc-2", SECRET), ("pc-3", SECRET)
    ]  # fmt: skip
    assert SECRET not in repr(login) and SECRET not in str(login)
    # What is wrong with the profile itself shows at login, before any host is named.
    profiles.save(WIN, keep_secret=False)
    with pytest.raises(BadInput, match="needs a password"):
        profiles.login(WIN.name)


class BrokenKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, _service: str, _username: str) -> str | None:
        raise KeyringError("no D-Bus session")

    def set_password(self, _service: str, _username: str, _password: str) -> None:
        raise KeyringError("no D-Bus session")

    def delete_password(self, _service: str, _username: str) -> None:
        raise KeyringError("no D-Bus session")


def test_unusable_keyring_is_an_error_without_the_secret(store: Store) -> None:
    broken = ProfileService(store, BrokenKeyring())
    with pytest.raises(WorkbenchError) as caught:
        broken.save(WIN, SECRET)
    assert "cannot store the secret of profile 'corp-ntlm' in the keyring" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert broken.profiles() == []  # nothing saved without its secret


def test_a_tree_check_reaches_the_asset_at_its_own_hostname_and_port(
    profiles: ProfileService, store: Store
) -> None:
    asset = replace(ASSET, id="asset-port", tag="PORT-0001", serial="PORT1",
                    hostname="pc-port.example", port=2222)  # fmt: skip
    with store.write() as tx:
        tx.load_snapshot(assets=[asset])
    profiles.save(KEY)
    profiles.assign(asset.id, KEY.name)
    for key in (asset.hostname, asset.tag):  # a check may name the machine either way
        found = profiles.connection_for_host(key)
        assert found is not None
        target, _auth, _jump = found
        assert isinstance(target, SshTarget)
        assert (target.host, target.port) == (asset.hostname, asset.port)
