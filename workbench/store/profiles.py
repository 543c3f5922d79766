"""Credential profiles and asset links: the SQL for workbench.services.profiles.

They are this technician's own settings, so no write here queues an outbox operation: nothing
of them reaches the central database. The rows hold no secret (see workbench.remote.profiles).
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update

from workbench.remote.profiles import CredentialProfile
from workbench.store import codec, schema
from workbench.store.store import Reader, Writer

_p = schema.credential_profiles
_links = schema.asset_profiles
_FIELDS = tuple(CredentialProfile.__dataclass_fields__)


def profiles(db: Reader) -> list[CredentialProfile]:
    rows = db._db.execute(select(_p).order_by(func.lower(_p.c.name))).mappings()
    return [codec.record_from_row(CredentialProfile, row) for row in rows]


def profile(db: Reader, name: str) -> CredentialProfile | None:
    row = db._db.execute(select(_p).where(_p.c.name == name)).mappings().first()
    return codec.record_from_row(CredentialProfile, row) if row else None


def save_profile(tx: Writer, saved: CredentialProfile) -> None:
    """Insert the profile, or replace the one of the same name."""
    fields = {name: getattr(saved, name) for name in _FIELDS if name != "name"}
    if tx._db.execute(update(_p).where(_p.c.name == saved.name).values(**fields)).rowcount == 0:
        tx._db.execute(insert(_p).values(name=saved.name, **fields))


def delete_profile(tx: Writer, name: str) -> list[str]:
    """Remove the profile and its asset links; the ids of the assets that used it."""
    assets = assets_of_profile(tx, name)
    tx._db.execute(delete(_links).where(_links.c.profile == name))
    tx._db.execute(delete(_p).where(_p.c.name == name))
    return assets


def assets_of_profile(db: Reader, name: str) -> list[str]:
    statement = select(_links.c.asset_id).where(_links.c.profile == name)
    return list(db._db.scalars(statement.order_by(_links.c.asset_id)))


def asset_profile(db: Reader, asset_id: str) -> str | None:
    """The profile name linked to the asset here, None without a link."""
    name: str | None = db._db.scalar(select(_links.c.profile).where(_links.c.asset_id == asset_id))
    return name


def link_asset(tx: Writer, asset_id: str, name: str | None) -> None:
    """Link the asset to the profile (replacing its link), or unlink it with None."""
    tx._db.execute(delete(_links).where(_links.c.asset_id == asset_id))
    if name is not None:
        tx._db.execute(insert(_links).values(asset_id=asset_id, profile=name))
