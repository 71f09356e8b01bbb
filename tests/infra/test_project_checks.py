"""The project's own checks, for what Checkov does not check or checks too loosely.

Each check runs over every template under ``infra/`` and must find nothing, and over a small bad
fixture in ``fixtures/`` where it must find exactly the faults planted there.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.infra.bicep import (
    FIXTURES,
    INFRA,
    Template,
    autoscale_parameters,
    autoscale_problems,
    bicep_files,
    blob_protection_problems,
    cosmos_problems,
    declares_role_assignments,
    description_problems,
    local_auth_problems,
    mentions,
    output_secret_problems,
    parse,
    role_assignment_problems,
    storage_account_problems,
)

Check = Callable[[Template], list[str]]


def _over_stack(check: Check) -> list[str]:
    return [
        f"{path.relative_to(INFRA)}: {problem}"
        for path in bicep_files()
        for problem in check(parse(path))
    ]


@pytest.mark.parametrize(
    "check",
    [
        storage_account_problems,
        blob_protection_problems,
        cosmos_problems,
        local_auth_problems,
        output_secret_problems,
        description_problems,
    ],
)
def test_stack_passes_project_check(check: Check) -> None:
    assert _over_stack(check) == []


def test_the_checks_have_something_to_check() -> None:
    stack = [parse(path) for path in bicep_files()]
    types = {
        resource["type"]
        for template in stack
        for resource in template.get("resources", {}).values()
    }
    assert {
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Storage/storageAccounts/blobServices",
        "Microsoft.DocumentDB/databaseAccounts",
        "Microsoft.CognitiveServices/accounts",
        "Microsoft.Communication/communicationServices",
        "Microsoft.Insights/components",
        "Microsoft.OperationalInsights/workspaces",
    } <= types
    assert sum(len(template.get("outputs", {})) for template in stack) >= 20


def test_shared_key_check_fails_on_a_bad_account() -> None:
    assert storage_account_problems(parse(FIXTURES / "shared_key_on.bicep")) == [
        "storage account account: allowSharedKeyAccess must be false",
        "storage account account: allowBlobPublicAccess must be false",
        "storage account account: minimumTlsVersion must be TLS1_2",
    ]


def test_blob_protection_check_fails_without_soft_delete_and_versioning() -> None:
    assert blob_protection_problems(parse(FIXTURES / "blob_unprotected.bicep")) == [
        "storage account bare: no blob service sets soft delete and versioning",
        "blob service blobService: containerDeleteRetentionPolicy must be enabled",
        "blob service blobService: isVersioningEnabled must be true",
    ]


def test_cosmos_check_fails_without_kind_and_with_local_auth() -> None:
    assert cosmos_problems(parse(FIXTURES / "cosmos_unsafe.bicep")) == [
        "Cosmos DB account account: kind must be stated as GlobalDocumentDB",
        "Cosmos DB account account: disableLocalAuth must be true",
    ]


def test_local_auth_check_fails_on_keyed_services() -> None:
    assert local_auth_problems(parse(FIXTURES / "local_auth_on.bicep")) == [
        "Microsoft.CognitiveServices/accounts speech: properties.disableLocalAuth must be true",
        "Microsoft.Insights/components appInsights: properties.DisableLocalAuth must be true",
    ]


def test_output_check_fails_on_keys_connection_strings_and_secure_parameters() -> None:
    assert output_secret_problems(parse(FIXTURES / "output_secret.bicep")) == [
        "output primary: its value reads a key, secret or connection string",
        "output telemetryConnectionString: its name says it holds a secret",
        "output telemetryConnectionString: its value reads a key, secret or connection string",
        "output echoed: its value uses a @secure() parameter",
    ]


def test_description_check_fails_on_undescribed_parameter_and_output() -> None:
    assert description_problems(parse(FIXTURES / "missing_description.bicep")) == [
        "parameter name: no @description",
        "output upper: no @description",
    ]


def test_development_issuer_setting_appears_nowhere_in_infra() -> None:
    assert mentions(["AUTH_DEV_ISSUER_ENABLED"], INFRA) == []


def test_development_issuer_check_finds_the_setting() -> None:
    assert mentions(["AUTH_DEV_ISSUER_ENABLED"], FIXTURES / "dev_issuer") == [
        "app.bicep:4: AUTH_DEV_ISSUER_ENABLED"
    ]


def test_every_role_assignment_is_in_rbac_bicep() -> None:
    assert [path.name for path in bicep_files() if declares_role_assignments(parse(path))] == [
        "rbac.bicep"
    ]


def test_role_assignments_have_deterministic_names_and_named_roles() -> None:
    rbac = INFRA / "app" / "rbac.bicep"
    assert role_assignment_problems(parse(rbac), rbac.read_text()) == []


def test_role_assignment_check_fails_on_random_names_and_unnamed_roles() -> None:
    bad = FIXTURES / "role_assignment_unnamed.bicep"
    assert role_assignment_problems(parse(bad), bad.read_text()) == [
        "role assignment assignment: name must be guid(scope id, principal id, role id)",
        "line 6: role id without a comment naming the role",
    ]


def test_cosmos_autoscale_maximum_accepts_only_what_cosmos_db_takes() -> None:
    assert autoscale_parameters(INFRA / "main.bicep") == {"cosmosMaxThroughput"}
    assert [
        f"{path.relative_to(INFRA)}: {problem}"
        for path in bicep_files()
        for problem in autoscale_problems(path)
    ] == []


def test_autoscale_check_fails_on_a_minimum_below_1000_and_off_step_values() -> None:
    assert autoscale_problems(FIXTURES / "autoscale" / "main.bicep") == [
        "autoscale maximum: 2500 is not 1000 to 1000000 RU/s in steps of 1000",
        "parameter maxThroughput: becomes an autoscale maximum, so @minValue must be at least 1000",
        "parameter maxThroughput: becomes an autoscale maximum, so @maxValue must be at most "
        "1000000",
        "parameter maxThroughput: default 0 is not 1000 to 1000000 RU/s in steps of 1000",
        "parameter otherMaxThroughput: becomes an autoscale maximum, so @maxValue must be at most "
        "1000000",
        "parameter otherMaxThroughput: default 1500 is not 1000 to 1000000 RU/s in steps of 1000",
    ]
