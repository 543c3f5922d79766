"""One safe YAML loader for every file the workbench reads: libyaml's when it is installed.

The C loader parses the shipped recipes and trees several times faster than the pure-Python
one (it matters at window start); both are safe loaders and both keep line and column marks.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506  (a safe loader)
