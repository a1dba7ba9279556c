"""How the patches reach moto: its modules, imported by name."""

from __future__ import annotations

import importlib
from typing import Any


def _module(name: str) -> Any:
    """A moto module, typed loosely: the patches reach into its internals."""
    return importlib.import_module(name)
