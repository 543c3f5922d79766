"""The only package with SQL for the local cache: schema, migrations, repositories, search."""

from workbench.store.store import Reader, Store, Writer

__all__ = ["Reader", "Store", "Writer"]
