"""Offline cache ↔ central PostgreSQL sync (DESIGN.md §5).

central: the central tables, connecting, `central init`; server: what the central database
does with a push batch and a pull window; client: one sync round of a cache. The cache's
side of the SQL is workbench.store.sync_state.
"""
