"""Each adapter is built in one place, its own `from_settings`, and once per function: the
handlers, the API's wiring and its routes call it, never the constructor, and never twice for one adapter."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

CLOISON = Path(__file__).resolve().parents[2] / "functions" / "cloison"
WIRING = sorted(
    [
        *(CLOISON / "handlers").glob("*.py"),
        CLOISON / "http" / "wiring.py",
        *(CLOISON / "http" / "routes").glob("*.py"),
    ]
)


def _adapters_built_from_settings() -> set[str]:
    """The classes of `adapters/` that define `from_settings`."""
    found: set[str] = set()
    for path in (CLOISON / "adapters").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(item, ast.FunctionDef) and item.name == "from_settings"
                for item in node.body
            ):
                found.add(node.name)
    return found


ADAPTERS = _adapters_built_from_settings()


def _calls(path: Path) -> tuple[list[str], Counter[str]]:
    """Constructor calls of those adapters, and `<Adapter>.from_settings` calls, in `path`."""
    constructed: list[str] = []
    built: Counter[str] = Counter()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in ADAPTERS:
            constructed.append(f"{node.func.id} (line {node.lineno})")
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "from_settings"
            and isinstance(node.func.value, ast.Name)
        ):
            built[node.func.value.id] += 1
    return constructed, built


def test_the_stores_sealer_hasher_and_carrier_know_how_they_are_built() -> None:
    assert {
        "CampaignStore",
        "SuppressionStore",
        "EnvelopeSealer",
        "PepperedHasher",
        "SmsCarrier",
        "ReplyVault",
    } <= ADAPTERS


@pytest.mark.parametrize("path", WIRING, ids=lambda path: path.stem)
def test_a_function_builds_each_adapter_from_its_settings_once(path: Path) -> None:
    constructed, built = _calls(path)

    assert constructed == [], f"{path.name} calls constructors: use from_settings"
    assert [name for name, count in built.items() if count > 1] == []
