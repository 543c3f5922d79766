"""Credential profiles: stored in the cache without secrets, secrets in the keyring (or the
encrypted vault, ``workbench.core.secrets``).

The keyring entry of a profile is (``KEYRING_SERVICE``, profile name). Every check runs before
anything is written, so bad input changes nothing; a failing keyring is reported without the
secret (keyring errors never carry it, and neither do ours).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from workbench.core import secrets
from workbench.core.errors import BadInput, NotFound
from workbench.remote.profiles import (
    KEYRING_SERVICE,
    CredentialProfile,
    check_login,
    connection,
    keeps_secret,
)
from workbench.store import Store
from workbench.store import profiles as sql

if TYPE_CHECKING:
    from workbench.remote.jobs import JobRequest
    from workbench.remote.recipes import Recipe
    from workbench.remote.ssh import SshAuth, SshTarget
    from workbench.remote.winrm import WinrmTarget

Connection = tuple["SshTarget | WinrmTarget", "SshAuth | None", "tuple[SshTarget, SshAuth] | None"]


@dataclass(frozen=True)
class ProfileLogin:
    """A profile with its keyring secret, read and checked once (``ProfileService.login``): one
    run reaches all its hosts with it. The secret stays out of ``repr``, so out of logs."""

    profile: CredentialProfile
    secret: str | None = field(repr=False)

    def connection(self, host: str, port: int | None = None) -> Connection:
        """(target, ssh auth, ssh jump) for ``host``; ``port`` (the asset's own) wins."""
        return connection(self.profile, host, self.secret, port)

    def request(
        self,
        recipe: Recipe,
        values: Mapping[str, str],
        host: str,
        technician: str,
        ticket_ref: str | None = None,
        accept_host_key: str | None = None,
        port: int | None = None,
    ) -> JobRequest:
        """A job request for ``recipe`` on ``host`` logging in with the profile."""
        from workbench.remote.jobs import JobRequest  # noqa: PLC0415  (loads paramiko)

        # The profile picks the transport, as `remote run --protocol` does.
        target, auth, jump = self.connection(host, port)
        if accept_host_key is not None and auth is None:
            raise BadInput("host keys are an SSH matter; WinRM checks the TLS certificate")
        return JobRequest(
            recipe=recipe,
            values=values,
            target=target,
            auth=auth,
            technician=technician,
            ticket_ref=ticket_ref,
            accept_host_key=accept_host_key,
            jump=jump,
        )


class ProfileService:
    def __init__(self, store: Store, keyring_backend: secrets.SecretBackend | None = None) -> None:
        self.store = store
        self._backend = keyring_backend  # None: the one ``workbench.core.secrets`` picks

    # -- keyring -----------------------------------------------------------------------------
    def _secret(self, name: str) -> str | None:
        return secrets.get_secret(
            KEYRING_SERVICE, name, f"read the secret of profile {name!r}", self._backend
        )

    def _store_secret(self, name: str, secret: str) -> None:
        secrets.set_secret(
            KEYRING_SERVICE, name, secret, f"store the secret of profile {name!r}", self._backend
        )

    def _forget_secret(self, name: str) -> None:
        secrets.delete_secret(
            KEYRING_SERVICE, name, f"remove the secret of profile {name!r}", self._backend
        )

    # -- profiles ----------------------------------------------------------------------------
    def profiles(self) -> list[CredentialProfile]:
        with self.store.read() as db:
            return sql.profiles(db)

    def profile(self, name: str) -> CredentialProfile:
        with self.store.read() as db:
            found = sql.profile(db, name)
        if found is None:
            raise NotFound(f"no credential profile {name!r}; see `workbench profile list`")
        return found

    def save(
        self, profile: CredentialProfile, secret: str | None = None, keep_secret: bool = True
    ) -> CredentialProfile:
        """Create or replace the profile; ``secret`` replaces its keyring entry.

        Without a secret the stored one is kept (``keep_secret``) or removed; it is removed too
        when the user or the way of logging in changes (``keeps_secret``). ``has_secret`` of the
        result says which; the value passed in is ignored.
        """
        profile.check()
        if secret is not None and not secret:
            raise BadInput("the secret is empty: type it, or leave it out")
        if secret is not None and profile.auth == "certificate":
            raise BadInput("certificate profiles have no password: the PEM file is the credential")
        with self.store.read() as db:
            before = sql.profile(db, profile.name)
        had_secret = before is not None and before.has_secret
        keep_secret = keep_secret and before is not None and keeps_secret(before, profile)
        has_secret = secret is not None or (keep_secret and had_secret)
        saved = replace(profile, has_secret=has_secret)
        if secret is not None:
            self._store_secret(profile.name, secret)
        elif had_secret and not keep_secret:
            self._forget_secret(profile.name)
        with self.store.write() as tx:
            sql.save_profile(tx, saved)
        return saved

    def delete(self, name: str) -> list[str]:
        """Remove the profile, its keyring entry and its asset links; the unlinked asset ids."""
        found = self.profile(name)
        if found.has_secret:
            self._forget_secret(name)
        with self.store.write() as tx:
            return sql.delete_profile(tx, name)

    # -- assets ------------------------------------------------------------------------------
    def assign(self, asset_id: str, name: str | None) -> None:
        """Name the asset's profile here (None: remove the link)."""
        with self.store.write() as tx:
            if tx.asset(asset_id) is None:
                raise NotFound(f"no asset with id {asset_id!r}")
            if name is not None and sql.profile(tx, name) is None:
                raise NotFound(f"no credential profile {name!r}; create it with `profile add`")
            sql.link_asset(tx, asset_id, name)

    def profile_for_asset(self, asset_id: str) -> CredentialProfile | None:
        """The linked profile; else the one the asset's own settings name, if it exists here."""
        with self.store.read() as db:
            name = sql.asset_profile(db, asset_id)
            if name is None:
                asset = db.asset(asset_id)
                name = asset.credential_profile if asset else None
            return sql.profile(db, name) if name else None

    def assets_of(self, name: str) -> list[str]:
        with self.store.read() as db:
            return sql.assets_of_profile(db, name)

    # -- connections -------------------------------------------------------------------------
    def login(self, profile_name: str) -> ProfileLogin:
        """The profile and its keyring secret, read once. NotFound or BadInput for what is wrong
        with the profile itself (no such profile, its secret missing, a bad setting): callers
        ask for it before anything is asked of the technician."""
        found = self.profile(profile_name)
        secret = self._secret(found.name) if found.has_secret else None
        if found.has_secret and secret is None:
            raise BadInput(
                f"the keyring has no secret for profile {found.name!r} any more: set it again "
                f"with `workbench profile edit {found.name} --ask-secret`"
            )
        check_login(found, secret)
        return ProfileLogin(found, secret)

    def connection_for(self, profile_name: str, host: str, port: int | None = None) -> Connection:
        """(target, ssh auth, ssh jump) for ``host`` with the profile's secret from the keyring."""
        return self.login(profile_name).connection(host, port)

    def connection_for_host(self, host: str) -> Connection | None:
        """The connection to the asset with this hostname (or tag, serial) through its profile.

        None when no asset or no profile is known for it: the caller treats the host as out of
        reach and the technician answers by hand.
        """
        try:
            with self.store.read() as db:
                asset = db.asset_by_key(host)
        except NotFound:
            return None
        found = self.profile_for_asset(asset.id)
        if found is None:
            return None
        # The machine itself (even when the check named it by tag or serial), at its own port
        # when that is the port of the profile's protocol: an SSH profile does not knock on
        # the asset's WinRM port.
        same_protocol = asset.protocol in (None, found.protocol)
        port = asset.port if same_protocol else None
        return self.connection_for(found.name, asset.hostname or host, port)
