"""Alembic environment: migrations always run on a connection the store hands over."""

from alembic import context

from workbench.store.schema import include_in_autogenerate, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    include_name=include_in_autogenerate,
)
with context.begin_transaction():
    context.run_migrations()
