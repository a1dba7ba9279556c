"""Modules small enough to hold in mind: none of `functions/` over 400 lines, none of `infra/`
over 600."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMITS = {"functions": 400, "infra": 600}


def _lines(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n")


def _modules() -> list[tuple[str, int, int]]:
    return [
        (str(path.relative_to(ROOT)), _lines(path), limit)
        for folder, limit in LIMITS.items()
        for path in sorted((ROOT / folder).rglob("*.py"))
    ]


def test_every_folder_has_modules_to_measure() -> None:
    measured = {module.split("/", 1)[0] for module, _, _ in _modules()}
    assert measured == set(LIMITS)


@pytest.mark.parametrize(("module", "lines", "limit"), _modules())
def test_no_module_is_longer_than_its_limit(module: str, lines: int, limit: int) -> None:
    assert lines <= limit, f"{module} has {lines} lines (at most {limit}): split it"
