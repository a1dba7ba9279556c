"""The stack's templates as the unit tests read them: their resources by type, a resource's
properties, and the resource a reference points at."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from cloison_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]


@cache
def template(name: str = "template.yaml") -> dict[str, Any]:
    """The template at `name` (from the repository's root), its intrinsic functions in long form."""
    return load_template(ROOT / name)


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    """The resources of type `kind` in template.yaml, by logical id."""
    return {
        logical_id: resource
        for logical_id, resource in template()["Resources"].items()
        if resource["Type"] == kind
    }


def properties_of(logical_id: str) -> dict[str, Any]:
    return dict(template()["Resources"][logical_id].get("Properties", {}))


def target_of(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points at."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None
