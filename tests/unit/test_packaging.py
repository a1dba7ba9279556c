"""What `sam build` installs is what pyproject.toml declares: the two lists never drift apart."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _requirements_txt() -> list[str]:
    lines = (ROOT / "functions" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    kept = (line.split("#", 1)[0].strip() for line in lines)
    return [line for line in kept if line]


def _project_dependencies() -> list[str]:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        return list(tomllib.load(stream)["project"]["dependencies"])


def _normalized(requirements: list[str]) -> list[str]:
    """Requirement strings in one spelling: canonical name, sorted extras and specifiers."""
    return sorted(_spelled(Requirement(requirement)) for requirement in requirements)


def _spelled(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    specifier = ",".join(sorted(str(spec) for spec in requirement.specifier))
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return f"{canonicalize_name(requirement.name)}{extras}{specifier}{marker}"


def test_lambda_requirements_are_exactly_the_project_dependencies() -> None:
    # Given the runtime dependencies of the project
    declared = _normalized(_project_dependencies())

    # When the requirements file that sam build installs is read
    shipped = _normalized(_requirements_txt())

    # Then both list the same requirements with the same bounds
    assert shipped == declared


def test_lambda_requirements_list_each_package_once() -> None:
    # Given the requirements file that sam build installs
    names = [
        canonicalize_name(Requirement(requirement).name) for requirement in _requirements_txt()
    ]

    # When duplicates are looked for
    duplicates = {name for name in names if names.count(name) > 1}

    # Then there are none
    assert duplicates == set()
