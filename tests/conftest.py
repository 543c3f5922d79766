"""Suite-wide fixtures: real PostgreSQL and sshd (tests/support, DESIGN.md section 8)."""

# Plugins are only honoured in this top-level conftest; `tests` is a package so they import.
pytest_plugins = [
    "tests.support.workbench",
    "tests.support.postgres",
    "tests.support.sshd",
    "tests.support.slapd",
    "tests.support.winrm_server",
    "tests.support.keyrings",
]
