"""The Cosmos DB and blob containers in the Bicep are exactly those of shared/storage_layout.py."""

from __future__ import annotations

import dataclasses
from typing import Any

from local.subscriptions import BLOB_CREATED_SUBSCRIPTIONS
from shared.services.media_processing import (
    BLOB_CREATED,
    UPLOAD_SUBJECT_PREFIX,
    uploaded_blob_name,
)
from shared.storage_layout import BLOB_CONTAINERS, COSMOS_CONTAINERS, UPLOADS_CONTAINER
from tests.infra.bicep import INFRA, cosmos_container_problems, parse

COSMOS = INFRA / "app" / "cosmos.bicep"


def _bicep_containers() -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = parse(COSMOS)["variables"]["containers"]["value"]
    return containers


def test_cosmos_containers_match_the_storage_layout() -> None:
    assert cosmos_container_problems(_bicep_containers(), COSMOS_CONTAINERS) == []


def test_container_comparison_reports_each_difference() -> None:
    drifted = [
        dataclasses.replace(COSMOS_CONTAINERS[0], partition_key="/caseId"),
        dataclasses.replace(COSMOS_CONTAINERS[1], default_ttl=3600),
        *COSMOS_CONTAINERS[2:],
        dataclasses.replace(COSMOS_CONTAINERS[2], name="invitations"),
    ]
    assert cosmos_container_problems(_bicep_containers(), drifted) == [
        "container records: partitionKey is {'paths': ['/familyId'], 'kind': 'Hash', 'version': 2} "
        "in the Bicep, {'paths': ['/caseId'], 'kind': 'Hash', 'version': 2} in storage_layout.py",
        "container audit: defaultTtl is None in the Bicep, 3600 in storage_layout.py",
        "container invitations: missing from the Bicep",
    ]
    without_operations = [c for c in COSMOS_CONTAINERS if c.name != "operations"]
    assert cosmos_container_problems(_bicep_containers(), without_operations) == [
        "container operations: in the Bicep but not in storage_layout.py"
    ]


def test_every_container_resource_comes_from_the_checked_list() -> None:
    resource = parse(COSMOS)["resources"]["sqlContainers"]["config"]
    assert resource["loop_type"]["detail"]["array_name"] == "containers"
    assert (
        resource["config"]["properties"]["resource"] == resource["loop_type"]["detail"]["item_name"]
    )


def test_media_blob_containers_match_the_storage_layout() -> None:
    main = parse(INFRA / "main.bicep")
    assert tuple(main["variables"]["mediaContainerNames"]["value"]) == BLOB_CONTAINERS


def test_upload_events_subscribe_to_the_uploads_container_and_the_upload_function() -> None:
    parameters = parse(INFRA / "app" / "upload-events.bicep")["parameters"]
    assert parameters["uploadsContainerName"]["default"] == UPLOADS_CONTAINER
    assert parameters["functionName"]["default"] == "media_process_upload"


def test_the_local_host_raises_the_blob_events_the_bicep_subscribes_to() -> None:
    """local.subscriptions stands in for upload-events.bicep: same function, same container,
    same event type, and the function is an Event Grid-triggered function of the app."""
    bicep = parse(INFRA / "app" / "upload-events.bicep")
    parameters = bicep["parameters"]
    (local,) = BLOB_CREATED_SUBSCRIPTIONS
    assert local.function == parameters["functionName"]["default"]
    assert local.container == parameters["uploadsContainerName"]["default"]
    subscription = bicep["resources"]["uploads"]["config"]["properties"]
    assert subscription["filter"]["includedEventTypes"] == [BLOB_CREATED]
    assert subscription["destination"]["endpointType"] == "AzureFunction"
    assert uploaded_blob_name(BLOB_CREATED, f"{UPLOAD_SUBJECT_PREFIX}f/m") == "f/m"


def test_every_local_subscription_names_an_event_grid_function(app_functions: Any) -> None:
    triggers = {f.get_function_name(): f.get_trigger().get_binding_name() for f in app_functions}
    for subscription in BLOB_CREATED_SUBSCRIPTIONS:
        assert triggers[subscription.function] == "eventGridTrigger"
