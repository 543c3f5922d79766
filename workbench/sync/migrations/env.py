"""Alembic environment of the central database: runs on the connection `central init` gives."""

from alembic import context

from workbench.sync.central import metadata

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
