"""azure.yaml, the deploy hook and the GitHub workflows fit the stack and hold no secrets."""

from __future__ import annotations

import os
import re
import subprocess

from tests.infra.bicep import INFRA, REPO, parse

WORKFLOWS = REPO / ".github" / "workflows"


def test_azure_yaml_deploys_the_function_app_that_main_bicep_tags() -> None:
    text = (REPO / "azure.yaml").read_text()
    assert re.search(
        r"^services:\n  api:\n    project: \.\n    language: python\n    host: function$",
        text,
        re.M,
    )
    site = parse(INFRA / "app" / "api.bicep")["resources"]["site"]["config"]
    service_tag = site["tags"]["function"]["parameters"]["arg_2"]
    assert service_tag == {"'azd-service-name'": "api"}


def test_azure_yaml_hooks_exist_and_the_shell_hook_is_valid() -> None:
    hooks = re.findall(r"run: (\S+)", (REPO / "azure.yaml").read_text())
    # The web service's hooks (tests/infra/test_web.py) run from its folder, clients/web.
    assert hooks == [
        "../../infra/hooks/web-config.sh",
        "../../infra/hooks/web-config.ps1",
        "infra/hooks/postdeploy.sh",
        "infra/hooks/postdeploy.ps1",
    ]
    hooks = hooks[2:]
    shell_hook = REPO / hooks[0]
    assert os.access(shell_hook, os.X_OK)
    subprocess.run(["sh", "-n", str(shell_hook)], check=True)


def test_postdeploy_hook_reads_only_outputs_main_bicep_has() -> None:
    outputs = set(parse(INFRA / "main.bicep")["outputs"])
    for hook in ("postdeploy.sh", "postdeploy.ps1"):
        text = (INFRA / "hooks" / hook).read_text()
        used = set(re.findall(r"(?:value|Get-Output) '?([A-Z_]+)'?", text))
        assert used, hook
        assert used <= outputs, hook


def test_azd_parameters_cover_every_required_parameter() -> None:
    parameters = parse(INFRA / "main.bicep")["parameters"]
    required = {name for name, spec in parameters.items() if spec.get("default") is None}
    mapped = set(
        re.findall(r'"(\w+)": \{\n\s+"value"', (INFRA / "main.parameters.json").read_text())
    )
    assert required <= mapped <= set(parameters)


def test_ci_runs_make_test() -> None:
    # Variables only (CHROMIUM=...): the same targets a developer runs.
    assert re.search(
        r"^\s+run: make test( [A-Z_]+=\S+)*$", (WORKFLOWS / "ci.yml").read_text(), re.M
    )


def test_deploy_workflow_uses_oidc_and_no_stored_secret() -> None:
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert "secrets." not in text
    assert re.search(r"^  id-token: write$", text, re.M)
    assert "--federated-credential-provider github" in text


def test_deploy_workflow_offers_exactly_the_boroughs_with_parameter_files() -> None:
    text = (WORKFLOWS / "deploy.yml").read_text()
    options = re.findall(r"^          - ([a-z-]+)$", text, re.M)
    assert sorted(options) == sorted(path.stem for path in (INFRA / "tenants").glob("*.bicepparam"))


def test_deploy_guide_mentions_every_parameter_of_main_bicep() -> None:
    guide = (REPO / "docs" / "deploy.md").read_text()
    parameters = parse(INFRA / "main.bicep")["parameters"]
    assert [
        name for name in parameters if f"`{name}`" not in guide and f"param {name} " not in guide
    ] == []
