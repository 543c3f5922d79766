"""Troubleshooting trees: format, loader, validator, runner (not built yet)."""
