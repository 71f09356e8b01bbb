"""The deployment's outputs reach the environment under the names main.bicep declares.

ARM hands deployment outputs back with their names camel-cased the way Newtonsoft.Json does it:
the leading capitals are lowered up to the last one before a character that is not a capital,
so ``AZURE_RESOURCE_GROUP`` comes back as ``azurE_RESOURCE_GROUP``. The GitHub workflow and the
``az deployment`` route of docs/deploy.md turn the outputs into variables with jq; here the very
jq programs they hold run over such an answer, and every output must come out with its declared
name and value (postdeploy.sh stops on the first name it cannot find).
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import jq  # type: ignore[import-not-found]
import pytest

from tests.infra.bicep import INFRA, REPO, parse

DEPLOY_WORKFLOW = REPO / ".github" / "workflows" / "deploy.yml"
DEPLOY_GUIDE = REPO / "docs" / "deploy.md"
JQ_PROGRAM = re.compile(r"jq -r '([^']+)'")


def arm_case(name: str) -> str:
    """An output name as ARM returns it (Newtonsoft.Json's camel casing)."""
    chars = list(name)
    for i, char in enumerate(chars):
        if i == 1 and not char.isupper():
            break
        following = chars[i + 1] if i + 1 < len(chars) else None
        if i > 0 and following is not None and not following.isupper():
            if following.isspace():
                chars[i] = char.lower()
            break
        chars[i] = char.lower()
    return "".join(chars)


def declared_outputs() -> dict[str, str]:
    """Every output of main.bicep, with a value of the kind a deployment gives it."""
    return {
        name: f"https://func-familystory-x7.azurewebsites.net/api/{name.lower()}"
        if name.endswith("_URL")
        else f"{name.lower().replace('_', '-')}-x7"
        for name in parse(INFRA / "main.bicep")["outputs"]
    }


def arm_answer(outputs: dict[str, str]) -> dict[str, Any]:
    """``az deployment sub create|show --query properties.outputs`` as ARM answers it."""
    return {arm_case(name): {"type": "String", "value": value} for name, value in outputs.items()}


def _programs(text: str) -> list[str]:
    programs = JQ_PROGRAM.findall(text)
    assert programs
    return programs


def test_arm_changes_the_case_of_output_names() -> None:
    assert arm_case("AZURE_RESOURCE_GROUP") == "azurE_RESOURCE_GROUP"
    assert arm_case("API_BASE_URL") == "apI_BASE_URL"
    assert arm_case("AZURE_CLIENT_ID") == "azurE_CLIENT_ID"
    assert arm_case("name") == "name"
    assert arm_case("URL") == "url"


def test_every_output_is_upper_snake_case_so_its_name_can_be_restored() -> None:
    names = list(declared_outputs())
    assert len(names) >= 10
    assert [name for name in names if not re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", name)] == []
    assert all(arm_case(name) != name for name in names)


@pytest.mark.parametrize("program", _programs(DEPLOY_WORKFLOW.read_text()))
def test_workflow_exports_every_output_by_its_declared_name(program: str) -> None:
    outputs = declared_outputs()
    lines = jq.compile(program).input_value(arm_answer(outputs)).all()
    # $GITHUB_ENV takes one NAME=value per line.
    assert dict(line.split("=", 1) for line in lines) == outputs


@pytest.mark.parametrize("program", _programs(DEPLOY_GUIDE.read_text()))
def test_deploy_guide_exports_every_output_by_its_declared_name(program: str) -> None:
    outputs = declared_outputs() | {"MEDIA_ACCOUNT_NAME": "it's; $(not run)"}
    lines = jq.compile(program).input_value(arm_answer(outputs)).all()
    echo = "".join(f'printf "%s\\0" "${name}"\n' for name in outputs)
    completed = subprocess.run(
        ["sh", "-c", f'eval "$1"\n{echo}', "sh", "\n".join(lines)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert dict(zip(outputs, completed.stdout.split("\0")[:-1], strict=True)) == outputs
