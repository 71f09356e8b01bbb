"""The Functions host reaches every service of its storage account: blobs, queues and tables.

The host keeps keys, leases and the deployment package in blobs, its own work in queues and its
diagnostic events in tables, all with the app's identity (AzureWebJobsStorage__credential is
managedidentity). So the identity holds a data role for each, and with private networking each
service has a private endpoint whose DNS zone resolves the account's usual host name.
"""

from __future__ import annotations

from typing import Any

from tests.infra.bicep import INFRA, body, grants, parse

RBAC = INFRA / "app" / "rbac.bicep"


def _host_grants() -> set[str]:
    return {
        role
        for scope, principal, role in grants(parse(RBAC), RBAC.read_text())
        if (scope, principal) == ("hostStorage", "appPrincipalId")
    }


def test_app_identity_holds_a_data_role_for_each_host_storage_service() -> None:
    assert _host_grants() == {
        "Storage Blob Data Owner",
        "Storage Queue Data Contributor",
        "Storage Table Data Contributor",
    }


def _endpoints(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """{group id: (condition, params)} of the private endpoint modules of storage.bicep."""
    found = {}
    for module in template["modules"].values():
        if module["detail"]["path"] == "private-endpoint.bicep":
            params = body(module)["params"]
            found[params["groupId"]] = (module["config"]["condition"], params)
    return found


def test_with_private_networking_the_host_account_has_a_table_endpoint() -> None:
    storage = parse(INFRA / "app" / "storage.bicep")
    endpoints = _endpoints(storage)
    assert set(endpoints) == {"blob", "queue", "table"}
    condition, params = endpoints["table"]
    assert condition == "useTableEndpoint"
    zone = params["privateDnsZoneId"]["operator"]["operands"]["true_value"]
    assert zone["operator"]["operands"] == {"operand_1": "privateDnsZoneIds", "operand_2": "table"}
    assert storage["variables"]["useTableEndpoint"]["value"] == {
        "operator": {
            "type": "and",
            "operands": {
                "operand_1": "usePrivateEndpoints",
                "operand_2": "privateTableEndpoint",
            },
        }
    }
    main = parse(INFRA / "main.bicep")
    assert body(main["modules"]["hostStorage"])["params"]["privateTableEndpoint"] is True
    assert "privateTableEndpoint" not in body(main["modules"]["mediaStorage"])["params"]


def test_the_network_has_the_table_dns_zone() -> None:
    network = parse(INFRA / "app" / "network.bicep")
    zones = network["variables"]["zoneNames"]["value"]
    assert zones["table"] == "privatelink.table.${storageSuffix}"
    listed = [
        zone["operator"]["operands"] for zone in network["variables"]["zoneNameList"]["value"]
    ]
    assert {"operand_1": "zoneNames", "operand_2": "table"} in listed
    assert "table" in network["outputs"]["dnsZoneIds"]["value"]
