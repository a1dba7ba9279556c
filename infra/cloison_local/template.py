"""Reads CloudFormation: short tags, intrinsic functions, parameters and creation order.

The SAM transform itself is AWS's translator's (cloison_local.expand), never ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cloison_local.model import JsonDict

NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class TemplateError(Exception):
    """The template uses something the local stack cannot run; the message says what and where."""


class _Loader(yaml.SafeLoader):
    """YAML loader that turns `!Ref x` and `!GetAtt a.b` into their long `Fn::` forms."""


def _construct_tag(loader: _Loader, suffix: str, node: yaml.Node) -> JsonDict:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> JsonDict:
    """Parse a CloudFormation/SAM YAML template into plain data with long-form intrinsics."""
    with path.open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return data


AttributeGetter = Callable[[str, str], Any]


@dataclass
class Resolver:
    """Evaluates intrinsic functions against parameters, pseudo parameters and created resources."""

    template: JsonDict
    parameters: Mapping[str, Any]
    pseudo: Mapping[str, str]
    ref: Callable[[str], Any]
    get_att: AttributeGetter
    conditions: dict[str, bool] = field(default_factory=dict)
    # `Fn::ImportValue`: the exports of the stacks created before this one, by export name.
    imports: Mapping[str, str] = field(default_factory=dict)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            expression = self.template.get("Conditions", {}).get(name)
            if expression is None:
                raise TemplateError(f"unknown condition {name!r}")
            self.conditions[name] = bool(self.resolve(expression))
        return self.conditions[name]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.get_att(logical_id, self.resolve(attribute))
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                separator, items = arg
                return str(separator).join(str(item) for item in self.resolve(items))
            if key == "Fn::Select":
                index, items = self.resolve(arg)
                return items[int(index)]
            if key == "Fn::Split":
                separator, text = self.resolve(arg)
                return str(text).split(separator)
            if key == "Fn::ImportValue":
                name = str(self.resolve(arg))
                if name not in self.imports:
                    raise TemplateError(f"Fn::ImportValue {name!r}: no stack exports it")
                return self.imports[name]
            if key == "Fn::FindInMap":
                mapping, top, second = self.resolve(arg)
                return self.template["Mappings"][mapping][top][second]
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::And":
                return all(self.resolve(item) for item in arg)
            if key == "Fn::Or":
                return any(self.resolve(item) for item in arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                raise TemplateError(f"intrinsic {key} is not supported by the local stack")
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.ref(name)

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self._ref(name))

        # `${!Name}` is CloudFormation's escape for a literal `${Name}`.
        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")


def parameter_values(template: JsonDict, overrides: Mapping[str, str]) -> dict[str, Any]:
    """Template parameters with their defaults, overridden by `overrides`; unknown names fail."""
    declared = template.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in spec:
            values[name] = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no default and no value")
        allowed = spec.get("AllowedValues")
        if allowed and values[name] not in allowed:
            raise TemplateError(f"parameter {name}={values[name]!r} is not one of {allowed}")
    return values


def dependencies(value: Any) -> Iterator[str]:
    """Logical ids that a piece of the template refers to (Ref, GetAtt, Sub)."""
    if isinstance(value, list):
        for item in value:
            yield from dependencies(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str) and not item.startswith("AWS::"):
                yield item
            elif key == "Fn::GetAtt":
                yield item[0] if isinstance(item, list) else str(item).split(".", 1)[0]
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                for name in _SUB_VARIABLE.findall(text):
                    if not name.startswith("AWS::"):
                        yield name.split(".", 1)[0]
                if not isinstance(item, str):
                    yield from dependencies(item[1])
            else:
                yield from dependencies(item)


def creation_order(resources: Mapping[str, JsonDict]) -> list[str]:
    """Logical ids ordered so that each resource comes after those it refers to."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(logical_id: str, path: tuple[str, ...]) -> None:
        if state.get(logical_id) == "done":
            return
        if state.get(logical_id) == "visiting":
            raise TemplateError(f"circular dependency: {' -> '.join((*path, logical_id))}")
        state[logical_id] = "visiting"
        resource = resources[logical_id]
        needs = set(dependencies(resource.get("Properties", {})))
        depends_on = resource.get("DependsOn", [])
        needs.update([depends_on] if isinstance(depends_on, str) else depends_on)
        for name in sorted(needs):
            if name in resources:
                visit(name, (*path, logical_id))
        state[logical_id] = "done"
        order.append(logical_id)

    for logical_id in resources:
        visit(logical_id, ())
    return order
