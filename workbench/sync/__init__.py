"""Offline cache ↔ central PostgreSQL sync (not built yet).

The outbox it will push is written by workbench.store.
"""
