"""The workbench's own known-hosts file (OpenSSH format) and SHA256 fingerprints.

It is separate from ~/.ssh/known_hosts on purpose: a key is trusted only after a technician
accepted its fingerprint in the workbench, and forgetting a host does not touch the user's files.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import paramiko
from paramiko.hostkeys import HostKeyEntry

from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.files import UnreadableFile, read_text_file
from workbench.remote.locks import path_lock

FILENAME = "known_hosts"
MAX_FILE_BYTES = 64 * 1024 * 1024  # a line is about 100 bytes: room for a large fleet


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's ``SHA256:<base64 without padding>`` of a public key."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def host_entry_name(host: str, port: int) -> str:
    """The name OpenSSH (and paramiko) file a host key under."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(frozen=True, slots=True)
class KnownHost:
    name: str
    key_type: str
    fingerprint: str


class KnownHosts:
    """Read and change the known-hosts file; each change rewrites it whole (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = path_lock(path)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> KnownHosts:
        return cls(data_dir / FILENAME)

    def load(self) -> paramiko.HostKeys:
        """The trusted keys. A damaged file trusts nothing: WorkbenchError naming its line,
        which paramiko raises as an exception of its own (InvalidHostKey) or a bare one."""
        keys = paramiko.HostKeys()
        if not self.path.exists():
            return keys
        try:
            text = read_text_file(self.path, "the known-hosts file", MAX_FILE_BYTES)
        except UnreadableFile as exc:
            raise WorkbenchError(str(exc)) from None
        for number, line in enumerate(text.splitlines(), 1):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            try:
                # As paramiko's HostKeys.load reads a line (it skips one with too few fields
                # or an unknown key type), and each hashed name's salt as a lookup decodes it.
                # A damaged line raises anything from binascii.Error to an AssertionError.
                parsed = HostKeyEntry.from_line(entry, number)
                for name in parsed.hostnames if parsed else ():
                    if name.startswith("|1|"):
                        paramiko.HostKeys.hash_host("", name)
            except Exception:
                raise WorkbenchError(
                    f"{self.path}:{number}: not a valid HOST KEY-TYPE BASE64-KEY line, so no "
                    "host is trusted: correct or delete that line"
                ) from None
        keys.load(str(self.path))
        return keys

    def entries(self) -> list[KnownHost]:
        keys = self.load()
        return sorted(
            (KnownHost(name, key_type, fingerprint(key))
             for name in keys.keys() for key_type, key in keys[name].items()),
            key=lambda e: (e.name, e.key_type),
        )  # fmt: skip

    def add(self, host: str, port: int, key: paramiko.PKey) -> None:
        with self._lock:
            keys = self.load()
            keys.add(host_entry_name(host, port), key.get_name(), key)
            self._save(keys)

    def forget(self, host: str, port: int = 22) -> int:
        """Drop every key of ``host``; how many were dropped (BadInput if none)."""
        name = host_entry_name(host, port)
        with self._lock:
            keys = self.load()
            found = keys.lookup(name)
            if found is None:
                raise BadInput(f"no known host key for {name}")
            count = len(found.keys())
            kept = paramiko.HostKeys()
            for other in keys.keys():
                if other != name:
                    for key_type, key in keys[other].items():
                        kept.add(other, key_type, key)
            self._save(kept)
            return count

    def _save(self, keys: paramiko.HostKeys) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        keys.save(str(tmp))
        os.replace(tmp, self.path)
