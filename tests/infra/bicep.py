"""Read the Bicep under ``infra/`` and check what Checkov does not.

Templates are parsed with ``pycep`` (the parser Checkov itself uses), which turns a ``.bicep`` file
into JSON. Two quirks of that JSON matter here: a reference to a parameter or variable and a string
literal both come out as plain strings, and object keys keep their quotes (``'azd-service-name'``).

Each ``*_problems`` function returns a list of human-readable problems, empty when the template
is fine, so a test can assert both that the real templates pass and that a bad fixture fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

Template = dict[str, Any]


def bicep_files(root: Path = INFRA) -> list[Path]:
    return sorted(root.rglob("*.bicep"))


@cache
def _parser() -> BicepParser:
    return BicepParser()


@cache
def _parse_cached(path: Path, modified: float) -> Template:
    return dict(_parser().parse(text=path.read_text()))


def parse(path: Path) -> Template:
    return _parse_cached(path, path.stat().st_mtime)


def unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == "'" else key


def body(resource: dict[str, Any]) -> dict[str, Any]:
    """The object a resource or module declares, unwrapping ``if (...)`` and ``[for ...]``."""
    config: dict[str, Any] = resource["config"]
    while (
        isinstance(config, dict)
        and "config" in config
        and ("condition" in config or "loop_type" in config)
    ):
        config = config["config"]
    return config


def resources(
    template: Template, type_: str, *, existing: bool = False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Resources of a type (case-insensitive), with their bodies; declared ones only by default."""
    for name, resource in template.get("resources", {}).items():
        if resource["type"].lower() == type_.lower() and resource["existing"] is existing:
            yield name, body(resource)


def literal(node: Any) -> Any:
    """A parsed value with negative numbers (parsed as a minus operator) turned back into ints."""
    if isinstance(node, dict):
        operator = node.get("operator")
        if isinstance(operator, dict) and operator.get("type") == "minus":
            value = operator["operands"].get("integer_value")
            if isinstance(value, int):
                return -value
        return {key: literal(value) for key, value in node.items()}
    if isinstance(node, list):
        return [literal(value) for value in node]
    return node


def description(decorators: Iterable[dict[str, Any]]) -> str:
    for decorator in decorators:
        if decorator["type"] == "description":
            return str(decorator["argument"]).strip()
    return ""


# Storage: shared keys, anonymous access, TLS -------------------------------------------------


def storage_account_problems(template: Template) -> list[str]:
    problems = []
    for name, account in resources(template, "Microsoft.Storage/storageAccounts"):
        properties = account.get("properties", {})
        if properties.get("allowSharedKeyAccess") is not False:
            problems.append(f"storage account {name}: allowSharedKeyAccess must be false")
        if properties.get("allowBlobPublicAccess") is not False:
            problems.append(f"storage account {name}: allowBlobPublicAccess must be false")
        if properties.get("minimumTlsVersion") != "TLS1_2":
            problems.append(f"storage account {name}: minimumTlsVersion must be TLS1_2")
    return problems


def blob_protection_problems(template: Template) -> list[str]:
    """Every account declared in a file has a blob service there with soft delete and versioning."""
    problems = []
    accounts = [name for name, _ in resources(template, "Microsoft.Storage/storageAccounts")]
    services = list(resources(template, "Microsoft.Storage/storageAccounts/blobServices"))
    for account in accounts:
        if not any(service.get("parent") == account for _, service in services):
            problems.append(
                f"storage account {account}: no blob service sets soft delete and versioning"
            )
    for name, service in services:
        properties = service.get("properties", {})
        for policy in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy"):
            if properties.get(policy, {}).get("enabled") is not True:
                problems.append(f"blob service {name}: {policy} must be enabled")
        if properties.get("isVersioningEnabled") is not True:
            problems.append(f"blob service {name}: isVersioningEnabled must be true")
    return problems


# Cosmos DB and other services: kind stated, local (key) auth off ------------------------------


def cosmos_problems(template: Template) -> list[str]:
    problems = []
    for name, account in resources(template, "Microsoft.DocumentDB/databaseAccounts"):
        if account.get("kind") != "GlobalDocumentDB":
            problems.append(f"Cosmos DB account {name}: kind must be stated as GlobalDocumentDB")
        properties = account.get("properties", {})
        if properties.get("disableLocalAuth") is not True:
            problems.append(f"Cosmos DB account {name}: disableLocalAuth must be true")
        if properties.get("minimalTlsVersion") != "Tls12":
            problems.append(f"Cosmos DB account {name}: minimalTlsVersion must be Tls12")
        if properties.get("backupPolicy", {}).get("type") != "Continuous":
            problems.append(f"Cosmos DB account {name}: backupPolicy must be Continuous")
    return problems


# Resource type -> where its "local auth disabled" flag lives.
LOCAL_AUTH_FLAGS = {
    "Microsoft.CognitiveServices/accounts": ("properties", "disableLocalAuth"),
    "Microsoft.Communication/communicationServices": ("properties", "disableLocalAuth"),
    "Microsoft.Insights/components": ("properties", "DisableLocalAuth"),
    "Microsoft.OperationalInsights/workspaces": ("properties", "features", "disableLocalAuth"),
}


def local_auth_problems(template: Template) -> list[str]:
    problems = []
    for type_, path in LOCAL_AUTH_FLAGS.items():
        for name, resource in resources(template, type_):
            value: Any = resource
            for key in path:
                value = value.get(key, {}) if isinstance(value, dict) else {}
            if value is not True:
                problems.append(f"{type_} {name}: {'.'.join(path)} must be true")
    return problems


# Outputs and parameters --------------------------------------------------------------------

SECRET_NAME = re.compile(r"key|secret|password|connection_?string|sas|token|credential", re.I)
SECRET_VALUE = re.compile(
    r'"list_func"|"function_accessor"|\blist[A-Z]\w*|connectionstring|primarykey|secondarykey'
    r"|masterkey|systemkeys|functionkeys|accountkey|secret|password",
    re.I,
)


def output_secret_problems(template: Template) -> list[str]:
    secure_params = {
        name
        for name, param in template.get("parameters", {}).items()
        if any(decorator["type"] == "secure" for decorator in param["decorators"])
    }
    problems = []
    for name, output in template.get("outputs", {}).items():
        value = json.dumps(output["value"])
        if SECRET_NAME.search(name):
            problems.append(f"output {name}: its name says it holds a secret")
        if SECRET_VALUE.search(value):
            problems.append(f"output {name}: its value reads a key, secret or connection string")
        if any(re.search(rf"(?<![\w.]){re.escape(param)}(?!\w)", value) for param in secure_params):
            problems.append(f"output {name}: its value uses a @secure() parameter")
    return problems


def description_problems(template: Template) -> list[str]:
    problems = []
    for kind in ("parameters", "outputs"):
        for name, element in template.get(kind, {}).items():
            if not description(element["decorators"]):
                problems.append(f"{kind[:-1]} {name}: no @description")
    return problems


# Text over a whole folder ------------------------------------------------------------------


def mentions(names: Iterable[str], root: Path = INFRA) -> list[str]:
    """Where any of the setting names appears as a whole name in a text file under root.

    ``MEDIA_STORAGE`` must not match ``MEDIA_STORAGE__blobServiceUri``: a name counts only when
    no letter, digit or underscore touches it.
    """
    patterns = {
        name: re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])") for name in names
    }
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for name, pattern in patterns.items():
                if pattern.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {name}")
    return found


# App settings ------------------------------------------------------------------------------


def app_settings(template: Template) -> dict[str, Any]:
    """The app settings of the one Function App in a template, from the variable it iterates."""
    sites = list(resources(template, "Microsoft.Web/sites"))
    assert len(sites) == 1, "expected exactly one Function App"
    _, site = sites[0]
    loop = site["properties"]["siteConfig"]["appSettings"]
    assert loop["loop_type"]["type"] == "object", (
        "siteConfig.appSettings must be built with items()"
    )
    variable = loop["loop_type"]["detail"]["object_name"]
    settings: dict[str, Any] = template["variables"][variable]["value"]
    return {unquote(key): value for key, value in settings.items()}


def drift_problems(
    bicep_settings: Iterable[str], declared: Mapping[str, str], host_level: Iterable[str]
) -> list[str]:
    """Compare the Bicep's app setting names with the settings module's {name: scope}."""
    bicep = set(bicep_settings)
    host = set(host_level)
    problems = [
        f"{name}: scope azure in the code, but the Bicep does not set it"
        for name, scope in sorted(declared.items())
        if scope == "azure" and name not in bicep
    ]
    problems += [
        f"{name}: the Bicep sets it but shared/settings.py does not declare it"
        for name in sorted(bicep - host)
        if name not in declared
    ]
    problems += [
        f"{name}: a local-only setting must never be set in Azure"
        for name in sorted(bicep)
        if declared.get(name) == "local"
    ]
    return problems


# Role assignments --------------------------------------------------------------------------

ROLE_ASSIGNMENT_TYPES = (
    "Microsoft.Authorization/roleAssignments",
    "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments",
)


ROLE_ID_VARIABLE = re.compile(
    r"var \w+ = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'"
)


def role_assignment_problems(template: Template, source: str) -> list[str]:
    """Names are guid(scope, principal, role); every role id variable has a comment naming it."""
    problems = []
    for type_ in ROLE_ASSIGNMENT_TYPES:
        for name, assignment in resources(template, type_):
            guid = assignment.get("name", {})
            arguments = (
                guid.get("function", {}).get("parameters", {}) if isinstance(guid, dict) else {}
            )
            if not (
                isinstance(guid, dict)
                and guid["function"]["type"] == "guid"
                and len(arguments) == 3
            ):
                problems.append(
                    f"role assignment {name}: name must be guid(scope id, principal id, role id)"
                )
    lines = source.splitlines()
    for number, line in enumerate(lines):
        named = number > 0 and lines[number - 1].lstrip().startswith("//")
        if ROLE_ID_VARIABLE.match(line) and not named:
            problems.append(f"line {number + 1}: role id without a comment naming the role")
    return problems


def declares_role_assignments(template: Template) -> bool:
    return any(any(True for _ in resources(template, type_)) for type_ in ROLE_ASSIGNMENT_TYPES)


# Cosmos DB containers against shared/storage_layout.py -------------------------------------


def expected_cosmos_container(container: Any) -> dict[str, Any]:
    """The ARM resource body of a storage_layout.CosmosContainer."""
    expected: dict[str, Any] = {
        "id": container.name,
        "partitionKey": {"paths": [container.partition_key], "kind": "Hash", "version": 2},
        "indexingPolicy": container.indexing_policy,
    }
    if container.default_ttl is not None:
        expected["defaultTtl"] = container.default_ttl
    if container.unique_keys:
        expected["uniqueKeyPolicy"] = {
            "uniqueKeys": [{"paths": paths} for paths in container.unique_keys]
        }
    return expected


def _differences(
    actual: dict[str, Any], expected: dict[str, Any], prefix: str = ""
) -> Iterator[tuple[str, Any, Any]]:
    """(dotted key, actual, expected) per differing key, looking inside the indexing policy."""
    for key in sorted(set(actual) | set(expected)):
        mine, theirs = actual.get(key), expected.get(key)
        if mine == theirs:
            continue
        if key == "indexingPolicy" and isinstance(mine, dict) and isinstance(theirs, dict):
            yield from _differences(mine, theirs, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", mine, theirs


def cosmos_container_problems(
    bicep_containers: list[dict[str, Any]], layout: Iterable[Any]
) -> list[str]:
    by_id = {container["id"]: literal(container) for container in bicep_containers}
    problems = []
    for container in layout:
        expected = expected_cosmos_container(container)
        actual = by_id.pop(container.name, None)
        if actual is None:
            problems.append(f"container {container.name}: missing from the Bicep")
            continue
        problems += [
            f"container {container.name}: {key} is {bicep!r} in the Bicep, {code!r} in "
            "storage_layout.py"
            for key, bicep, code in _differences(actual, expected)
        ]
    problems += [
        f"container {name}: in the Bicep but not in storage_layout.py" for name in sorted(by_id)
    ]
    return problems


# Cosmos DB autoscale maximum ---------------------------------------------------------------

# Cosmos DB takes an autoscale maximum of 1000 to 1,000,000 RU/s (more by support request), in
# steps of 1000; it refuses anything else only mid-deployment, after the account exists.
AUTOSCALE_MIN_RUS = 1000
AUTOSCALE_MAX_RUS = 1_000_000
AUTOSCALE_STEP_RUS = 1000


def decorator_argument(decorators: Iterable[dict[str, Any]], kind: str) -> Any:
    for decorator in decorators:
        if decorator["type"] == kind:
            return decorator["argument"]
    return None


def _autoscale_maxima(node: Any) -> Iterator[Any]:
    """Every value given as ``autoscaleSettings.maxThroughput``, however deeply nested."""
    if isinstance(node, dict):
        settings = node.get("autoscaleSettings")
        if isinstance(settings, dict) and "maxThroughput" in settings:
            yield settings["maxThroughput"]
        for value in node.values():
            yield from _autoscale_maxima(value)
    elif isinstance(node, list):
        for value in node:
            yield from _autoscale_maxima(value)


def autoscale_parameters(path: Path) -> set[str]:
    """Parameters of a template that become an autoscale maximum, directly or through modules."""
    template = parse(path)
    found = {
        value
        for value in _autoscale_maxima(template.get("resources", {}))
        if isinstance(value, str)
    }
    for module in template.get("modules", {}).values():
        inner = autoscale_parameters((path.parent / module["detail"]["path"]).resolve())
        found |= {
            value
            for name, value in body(module).get("params", {}).items()
            if name in inner and isinstance(value, str)
        }
    return found & set(template.get("parameters", {}))


def autoscale_value_problem(value: Any) -> str | None:
    if not isinstance(value, int):
        return None
    if not AUTOSCALE_MIN_RUS <= value <= AUTOSCALE_MAX_RUS or value % AUTOSCALE_STEP_RUS:
        return (
            f"{value} is not {AUTOSCALE_MIN_RUS} to {AUTOSCALE_MAX_RUS} RU/s in steps of "
            f"{AUTOSCALE_STEP_RUS}"
        )
    return None


def autoscale_problems(path: Path) -> list[str]:
    """An autoscale maximum, or a parameter that becomes one, accepts only what Cosmos DB takes."""
    template = parse(path)
    problems = [
        f"autoscale maximum: {problem}"
        for value in _autoscale_maxima(template.get("resources", {}))
        if (problem := autoscale_value_problem(value))
    ]
    for name in sorted(autoscale_parameters(path)):
        spec = template["parameters"][name]
        minimum = decorator_argument(spec["decorators"], "min_value")
        maximum = decorator_argument(spec["decorators"], "max_value")
        if not isinstance(minimum, int) or minimum < AUTOSCALE_MIN_RUS:
            problems.append(
                f"parameter {name}: becomes an autoscale maximum, so @minValue must be at least "
                f"{AUTOSCALE_MIN_RUS}"
            )
        if not isinstance(maximum, int) or maximum > AUTOSCALE_MAX_RUS:
            problems.append(
                f"parameter {name}: becomes an autoscale maximum, so @maxValue must be at most "
                f"{AUTOSCALE_MAX_RUS}"
            )
        if problem := autoscale_value_problem(spec.get("default")):
            problems.append(f"parameter {name}: default {problem}")
    return problems


# Role assignments, read as (scope, principal, role) ----------------------------------------

# Built-in roles by the name the comment above each role id variable in rbac.bicep gives.
BUILT_IN_ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Delegator": "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Queue Data Message Sender": "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Cognitive Services User": "a97b65f3-24c7-4388-baec-2e87135dc908",
    "Communication and Email Service Owner": "09976791-48a7-449e-bb21-39d1a415f350",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}


def role_variables(source: str) -> dict[str, tuple[str, str]]:
    """{variable: (role named by the comment above it, role id)} of a template's role ids."""
    found = {}
    lines = source.splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"var (\w+) = '([0-9a-f-]{36})'", line)
        if not match:
            continue
        first = number
        while first > 0 and lines[first - 1].lstrip().startswith("//"):
            first -= 1
        comment = lines[first].lstrip().removeprefix("//").strip() if first < number else ""
        found[match.group(1)] = (comment.split(":")[0].strip(), match.group(2))
    return found


def grants(template: Template, source: str) -> list[tuple[str, str, str]]:
    """(scope, principal, role name) of every role assignment of the template.

    Also checks what a reader takes on trust: that the assignment is named
    guid(<scope>.id, <principal>, <role>) and that the role id is the built-in role's.
    """
    variables = role_variables(source)
    result = []
    for name, assignment in resources(template, "Microsoft.Authorization/roleAssignments"):
        scope, properties = assignment["scope"], assignment["properties"]
        role_variable = properties["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        role, role_id = variables[role_variable]
        assert BUILT_IN_ROLES.get(role) == role_id, f"{name}: {role} is not {role_id}"
        arguments = assignment["name"]["function"]["parameters"]
        assert arguments["base_string"]["operator"]["operands"] == {
            "operand_1": scope,
            "operand_2": "id",
        }, name
        assert arguments["extra_string_1"] == properties["principalId"], name
        assert arguments["extra_string_2"] == role_variable, name
        result.append((scope, properties["principalId"], role))
    return result


# Alerts ------------------------------------------------------------------------------------

ALERT_TYPES = ("Microsoft.Insights/scheduledQueryRules", "Microsoft.Insights/metricAlerts")
SEVERITIES = range(5)  # 0 critical .. 4 verbose


@dataclass(frozen=True)
class Alert:
    name: str
    severity: Any
    description: Any
    enabled: Any
    notifies: bool


def _loop_items(template: Template, resource: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The items of the variable array a ``[for item in array: {...}]`` resource iterates."""
    loop = resource["config"].get("loop_type") if isinstance(resource["config"], dict) else None
    if not loop or loop["type"] != "array":
        return None
    items: list[dict[str, Any]] = template["variables"][loop["detail"]["array_name"]]["value"]
    return items


def _suffix(name: Any) -> str:
    """An alert's own name: what follows the ``${namePrefix}-`` every name starts with."""
    text = name if isinstance(name, str) else json.dumps(name)
    return re.sub(r"^\$\{\w+\}-", "", text)


def alerts(template: Template) -> list[Alert]:
    """Every alert a template declares; a loop over a variable array gives one per item."""
    found = []
    for type_ in ALERT_TYPES:
        for key, resource in template.get("resources", {}).items():
            if resource["type"].lower() != type_.lower() or resource["existing"]:
                continue
            config = body(resource)
            properties = config.get("properties", {})
            notifies = bool(properties.get("actions"))
            items = _loop_items(template, resource)
            if items is None:
                found.append(
                    Alert(
                        _suffix(config.get("name", key)),
                        literal(properties.get("severity")),
                        properties.get("description"),
                        properties.get("enabled"),
                        notifies,
                    )
                )
                continue
            for item in items:
                found.append(
                    Alert(
                        str(item.get("name", key)),
                        literal(item.get("severity")),
                        item.get("description"),
                        properties.get("enabled"),
                        notifies,
                    )
                )
    return found


def alert_problems(template: Template) -> list[str]:
    """Each alert is on, notifies someone, and has a severity (0-4) and a one-line description."""
    problems = []
    for alert in alerts(template):
        if not isinstance(alert.severity, int) or alert.severity not in SEVERITIES:
            problems.append(f"alert {alert.name}: severity must be 0 to 4")
        if not isinstance(alert.description, str) or not alert.description.strip():
            problems.append(f"alert {alert.name}: no description")
        elif "\n" in alert.description.strip():
            problems.append(f"alert {alert.name}: the description must be one line")
        if alert.enabled is not True:
            problems.append(f"alert {alert.name}: must be enabled")
        if not alert.notifies:
            problems.append(f"alert {alert.name}: notifies no action group")
    return problems


# Browser access (CORS) ---------------------------------------------------------------------

# A browser may read media and PUT blocks and block lists with SAS URLs, and call the API; it
# never deletes, posts or merges through CORS.
CORS_METHODS = frozenset({"GET", "HEAD", "PUT"})


def _cors_settings(node: Any) -> Iterator[dict[str, Any]]:
    """Every object that configures CORS (has ``allowedOrigins``), however deeply nested."""
    if isinstance(node, dict):
        if "allowedOrigins" in node:
            yield node
        for value in node.values():
            yield from _cors_settings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _cors_settings(value)


def cors_problems(template: Template) -> list[str]:
    """CORS no wider than the web app needs: exact https origins, named headers, no credentials.

    A parameter given as the origins (a plain string here) is checked where its value is set.
    """
    problems = []
    for name, resource in template.get("resources", {}).items():
        for cors in _cors_settings(body(resource)):
            origins = cors["allowedOrigins"]
            if isinstance(origins, list):
                for origin in origins:
                    if not (
                        isinstance(origin, str)
                        and (origin.startswith("https://") or origin.startswith("${"))
                        and "*" not in origin
                    ):
                        problems.append(f"{name}: origin {origin!r} is not an exact https origin")
            for key in ("allowedHeaders", "exposedHeaders"):
                values = cors.get(key, [])
                if isinstance(values, list) and any("*" in str(value) for value in values):
                    problems.append(f"{name}: {key} must name each header, not use *")
            methods = cors.get("allowedMethods", [])
            if isinstance(methods, list) and set(map(str, methods)) - CORS_METHODS:
                extra = ", ".join(sorted(set(map(str, methods)) - CORS_METHODS))
                problems.append(f"{name}: allowedMethods must be GET, HEAD or PUT, not {extra}")
            if cors.get("supportCredentials") not in (None, False):
                problems.append(f"{name}: supportCredentials must be false")
    return problems
