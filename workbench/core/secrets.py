"""Where secrets live: the OS keyring, else an encrypted vault file unlocked by a passphrase.

Every password, passphrase and token of the Workbench goes through here (DESIGN.md §2): the
keyring library is loaded only when a secret is needed, its failures become one line that
says what is missing and what to do, and none of them ever carries a secret.

The vault is for computers without an OS keyring (a minimal or headless Linux): one file,
created by `workbench secrets vault`, whose whole content (names and secrets) is AES-256-GCM
encrypted under a key derived from the passphrase with scrypt. Once it exists it holds every
secret of this user. The passphrase comes from $WORKBENCH_VAULT_PASSPHRASE, else from the
prompt the command line or the window installs (``ask_passphrase_with``).
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from workbench.core.errors import BadInput, WorkbenchError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

T = TypeVar("T")

VAULT_VARIABLE = "WORKBENCH_VAULT"  # where the vault file is (default: the user config dir)
PASSPHRASE_VARIABLE = "WORKBENCH_VAULT_PASSPHRASE"
VAULT_FORMAT = "workbench-vault 1"
MIN_PASSPHRASE = 8
# scrypt at 2**15 x 8: 32 MiB and about a tenth of a second per unlock, once per process.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
VAULT_HINT = "create an encrypted vault with `workbench secrets vault`"
NO_KEYRING = (
    "no keyring to keep secrets in on this computer (no Secret Service, KWallet or "
    f"macOS/Windows keychain is running): start one, or {VAULT_HINT}"
)


class SecretsUnavailable(WorkbenchError):
    """No place to keep secrets in, or it is locked: the message says what to do."""


class SecretBackend(Protocol):
    """What a keyring backend offers, and the vault too."""

    def get_password(self, service: str, username: str) -> str | None: ...

    def set_password(self, service: str, username: str, password: str) -> None: ...

    def delete_password(self, service: str, username: str) -> None: ...


def vault_path() -> Path:
    given = os.environ.get(VAULT_VARIABLE)
    if given:
        return Path(given).expanduser()
    import platformdirs  # noqa: PLC0415  (only when a secret is needed)

    return Path(platformdirs.user_config_dir("workbench", appauthor=False)) / "secrets.vault"


# -- the vault -------------------------------------------------------------------------------
class Vault:
    """The encrypted file of secrets; ``unlock`` derives the key and proves it on the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: bytes | None = None
        self._salt = b""

    @property
    def locked(self) -> bool:
        return self._key is None

    @staticmethod
    def _derive(passphrase: str, salt: bytes) -> bytes:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt  # noqa: PLC0415

        return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(
            passphrase.encode("utf-8")
        )

    def create(self, passphrase: str) -> None:
        """A new, empty vault; refuses to replace one (its secrets would be lost)."""
        if len(passphrase) < MIN_PASSPHRASE:
            raise BadInput(f"the vault passphrase needs at least {MIN_PASSPHRASE} characters")
        if self.path.exists():
            raise BadInput(f"a secrets vault exists already at {self.path}")
        self._salt = os.urandom(16)
        self._key = self._derive(passphrase, self._salt)
        self._write({})

    def unlock(self, passphrase: str) -> None:
        """Derive the key; a wrong passphrase leaves the vault locked and reads nothing."""
        sealed = self._sealed()
        key = self._derive(passphrase, sealed["salt"])
        self._decrypt(sealed, key)
        self._salt, self._key = sealed["salt"], key

    def _sealed(self) -> dict[str, bytes]:
        """The file's salt, nonce and encrypted data."""
        try:
            header = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SecretsUnavailable(f"no secrets vault at {self.path}: {VAULT_HINT}") from None
        except (OSError, ValueError) as exc:
            raise SecretsUnavailable(f"cannot read the secrets vault {self.path}: {exc}") from None
        if not isinstance(header, dict) or header.get("format") != VAULT_FORMAT:
            raise SecretsUnavailable(f"{self.path} is not a Workbench secrets vault")
        try:
            return {part: base64.b64decode(header[part]) for part in ("salt", "nonce", "data")}
        except (KeyError, TypeError, ValueError):
            raise SecretsUnavailable(f"the secrets vault {self.path} is damaged") from None

    def _decrypt(self, sealed: dict[str, bytes], key: bytes) -> dict[str, str]:
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        try:
            plain = AESGCM(key).decrypt(sealed["nonce"], sealed["data"], VAULT_FORMAT.encode())
        except InvalidTag:
            raise SecretsUnavailable(
                f"wrong passphrase for the secrets vault {self.path} (or the file is damaged); "
                "nothing was read"
            ) from None
        except ValueError:  # e.g. a nonce of the wrong size
            raise SecretsUnavailable(f"the secrets vault {self.path} is damaged") from None
        entries: dict[str, str] = json.loads(plain)
        return entries

    def _unlocked_key(self) -> bytes:
        if self._key is None:
            raise SecretsUnavailable(f"the secrets vault {self.path} is locked")
        return self._key

    def _entries(self) -> dict[str, str]:
        return self._decrypt(self._sealed(), self._unlocked_key())

    def _write(self, entries: dict[str, str]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        nonce = os.urandom(12)  # fresh for every write under the same key
        data = AESGCM(self._unlocked_key()).encrypt(
            nonce, json.dumps(entries).encode("utf-8"), VAULT_FORMAT.encode()
        )
        header = {
            "format": VAULT_FORMAT,
            "kdf": f"scrypt n={SCRYPT_N} r={SCRYPT_R} p={SCRYPT_P}",
            "salt": base64.b64encode(self._salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "data": base64.b64encode(data).decode(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        # Readable by its owner only, from its first byte on.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(header, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, self.path)

    def _change(self, change: Callable[[dict[str, str]], object]) -> None:
        from filelock import FileLock  # noqa: PLC0415

        # Two processes saving at once would each drop the other's entry.
        with FileLock(self.path.with_name(self.path.name + ".lock")):
            entries = self._entries()
            change(entries)
            self._write(entries)

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._change(lambda entries: entries.__setitem__(f"{service}\n{username}", password))

    def delete_password(self, service: str, username: str) -> None:
        self._change(lambda entries: entries.pop(f"{service}\n{username}", None))


# -- choosing the backend ----------------------------------------------------------------------
_lock = threading.Lock()
_vaults: dict[Path, Vault] = {}  # unlocked once per process
_ask_passphrase: Callable[[Path], str] | None = None


def ask_passphrase_with(ask: Callable[[Path], str] | None) -> None:
    """How this process asks for the vault's passphrase (a terminal prompt, a dialog)."""
    global _ask_passphrase  # noqa: PLW0603  (one way of asking per process)
    _ask_passphrase = ask


def unlocked_vault(passphrase: str | None = None) -> Vault:
    """The vault, unlocked with ``passphrase``, else $WORKBENCH_VAULT_PASSPHRASE, else the
    installed prompt."""
    path = vault_path()
    with _lock:
        vault = _vaults.setdefault(path, Vault(path))
        if not vault.locked:
            return vault
        given = passphrase or os.environ.get(PASSPHRASE_VARIABLE)
        if given is None and _ask_passphrase is not None:
            given = _ask_passphrase(path)
        if not given:
            raise SecretsUnavailable(
                f"the secrets vault {path} is locked: type its passphrase on a terminal, or "
                f"set {PASSPHRASE_VARIABLE}"
            )
        vault.unlock(given)
        return vault


def create_vault(passphrase: str) -> Path:
    """A new vault at ``vault_path()``, unlocked for this process; from now on it holds the
    secrets (those already in an OS keyring stay there: set them again)."""
    path = vault_path()
    with _lock:
        vault = Vault(path)
        vault.create(passphrase)
        _vaults[path] = vault
    return path


def _keyring() -> KeyringBackend:
    import keyring  # noqa: PLC0415  (loads the OS backend only when a secret is needed)

    try:
        return keyring.get_keyring()
    except Exception as exc:  # a backend named in the environment may fail in any way
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        named = os.environ.get("PYTHON_KEYRING_BACKEND")
        if named is None:
            raise SecretsUnavailable(
                f"the keyring cannot be loaded ({reason}): {VAULT_HINT}"
            ) from None
        raise SecretsUnavailable(
            f"PYTHON_KEYRING_BACKEND names {named}, which cannot be loaded ({reason}): install "
            f"it, unset the variable, or {VAULT_HINT}"
        ) from None


def _backend(given: SecretBackend | None) -> SecretBackend:
    if given is not None:
        return given
    if vault_path().exists():
        return unlocked_vault()
    return _keyring()


def _call(
    doing: str,
    call: Callable[[SecretBackend], T],
    given: SecretBackend | None,
    no_keyring: Callable[[], T] | None = None,
) -> T:
    from keyring.errors import KeyringError, NoKeyringError  # noqa: PLC0415

    try:
        return call(_backend(given))
    except NoKeyringError:
        if no_keyring is not None:
            return no_keyring()
        raise SecretsUnavailable(f"cannot {doing}: {NO_KEYRING}") from None
    except KeyringError as exc:  # never carries the secret
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SecretsUnavailable(f"cannot {doing} in the keyring: {reason}") from None


def get_secret(
    service: str,
    account: str,
    doing: str,
    backend: SecretBackend | None = None,
    *,
    no_keyring_is_none: bool = False,
) -> str | None:
    """The secret kept under (service, account), None when there is none. ``doing`` names
    it in an error ("read the password of …"). no_keyring_is_none: a computer without any
    keyring has none stored, for callers that have another way (a prompt, PGPASSWORD); a
    locked vault or a broken setting is still an error."""
    return _call(
        doing,
        lambda b: b.get_password(service, account),
        backend,
        (lambda: None) if no_keyring_is_none else None,
    )


def set_secret(
    service: str, account: str, secret: str, doing: str, backend: SecretBackend | None = None
) -> None:
    _call(doing, lambda b: b.set_password(service, account, secret), backend)


def delete_secret(
    service: str, account: str, doing: str, backend: SecretBackend | None = None
) -> None:
    """Remove the entry; one that is gone already is no error."""

    def forget(b: SecretBackend) -> None:
        # Deleting a missing entry raises in most backends.
        if b.get_password(service, account) is not None:
            b.delete_password(service, account)

    _call(doing, forget, backend)


def describe_backend() -> str:
    """Which backend holds the secrets, in words, without unlocking or changing anything."""
    path = vault_path()
    if path.exists():
        return f"encrypted vault {path}"
    try:
        backend = _keyring()
    except SecretsUnavailable as exc:
        return f"none: {exc}"
    from keyring.backends import fail  # noqa: PLC0415

    if isinstance(backend, fail.Keyring):
        return f"none: {NO_KEYRING}"
    return f"system keyring ({backend.name})"
