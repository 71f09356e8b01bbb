"""Every Bicep file parses, and the modules fit together, without a Bicep CLI.

Parsing uses pycep, the parser Checkov uses, so a file that passes here is one Checkov scans.
The module checks catch what ``bicep build`` would: a missing module file, a parameter the module
does not declare, a required parameter left out, or an output the module does not have.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import INFRA, Template, bicep_files, body, parse

FILES = bicep_files()


def test_the_stack_has_a_main_template_and_its_modules() -> None:
    names = {path.relative_to(INFRA).as_posix() for path in FILES}
    assert {"main.bicep", "app/api.bicep", "app/storage.bicep", "app/cosmos.bicep"} <= names
    assert {
        "app/messaging.bicep",
        "app/speech.bicep",
        "app/monitoring.bicep",
        "app/rbac.bicep",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.relative_to(INFRA).as_posix())
def test_bicep_file_parses(path: Path) -> None:
    template = parse(path)
    assert template.get("resources") or template.get("modules")


def _module_calls() -> list[Any]:
    return [
        pytest.param(path, name, module, id=f"{path.relative_to(INFRA).as_posix()}:{name}")
        for path in FILES
        for name, module in parse(path).get("modules", {}).items()
    ]


def _outputs_used(template: Template, module: str) -> set[str]:
    """Names X in every ``<module>.outputs.X`` of a template, in expressions and interpolations."""
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            operator = node.get("operator")
            if isinstance(operator, dict) and operator.get("type") == "property_accessor":
                first, rest = operator["operands"]["operand_1"], operator["operands"]["operand_2"]
                if first == module and isinstance(rest, dict):
                    inner = rest.get("operator", {}).get("operands", {})
                    if inner.get("operand_1") == "outputs":
                        target = inner["operand_2"]
                        while isinstance(target, dict):
                            target = target["operator"]["operands"]["operand_1"]
                        used.add(target)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            used.update(re.findall(rf"(?<![\w.]){re.escape(module)}\.outputs\.(\w+)", node))

    walk({key: template.get(key) for key in ("resources", "modules", "variables", "outputs")})
    return used


@pytest.mark.parametrize(("path", "name", "module"), _module_calls())
def test_module_call_matches_the_module(path: Path, name: str, module: dict[str, Any]) -> None:
    target = (path.parent / module["detail"]["path"]).resolve()
    assert target.is_file(), f"{name}: {target} does not exist"
    declared = parse(target).get("parameters", {})
    passed = set(body(module).get("params", {}))
    required = {param for param, spec in declared.items() if spec.get("default") is None}
    assert passed - set(declared) == set(), f"{name}: parameters the module does not declare"
    assert required - passed == set(), f"{name}: required parameters not passed"
    outputs = set(parse(target).get("outputs", {}))
    assert _outputs_used(parse(path), name) - outputs == set(), f"{name}: outputs the module lacks"
