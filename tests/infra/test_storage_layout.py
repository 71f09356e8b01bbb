"""The Cosmos DB containers, blob containers and queues in the Bicep are exactly those of
shared/storage_layout.py, and upload events reach the queue the app reads."""

from __future__ import annotations

import dataclasses
from typing import Any

from local.subscriptions import BLOB_CREATED_SUBSCRIPTIONS, QueueDestination
from shared.services.media_processing import (
    BLOB_CREATED,
    UPLOAD_SUBJECT_PREFIX,
    uploaded_blob_name,
)
from shared.storage_layout import (
    AUDIT_ANCHORS_CONTAINER,
    BLOB_CONTAINERS,
    COSMOS_CONTAINERS,
    STORAGE_QUEUES,
    UPLOAD_EVENTS_POISON_QUEUE,
    UPLOAD_EVENTS_QUEUE,
    UPLOADS_CONTAINER,
)
from tests.infra.bicep import (
    INFRA,
    app_settings,
    body,
    cosmos_container_problems,
    grants,
    parse,
    resources,
)

COSMOS = INFRA / "app" / "cosmos.bicep"
UPLOAD_EVENTS = INFRA / "app" / "upload-events.bicep"
HOOKS = ("postdeploy.sh", "postdeploy.ps1")


def _accessor(node: Any) -> list[str]:
    """``a.b.c`` as parsed by pycep, as ["a", "b", "c"]."""
    path = []
    while isinstance(node, dict):
        operands = node["operator"]["operands"]
        path.append(operands["operand_1"])
        node = operands["operand_2"]
    return [*path, node]


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
    without_sync = [c for c in COSMOS_CONTAINERS if c.name != "sync"]
    assert cosmos_container_problems(_bicep_containers(), without_sync) == [
        "container sync: in the Bicep but not in storage_layout.py"
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


def test_the_audit_anchors_container_is_the_code_s_and_immutable_with_appends_allowed() -> None:
    """Its blobs can grow by a line per seal, never be written over or deleted while the policy
    holds: what makes an anchor something the database's writers cannot rewrite."""
    main = parse(INFRA / "main.bicep")
    assert main["variables"]["auditAnchorsContainerName"]["value"] == AUDIT_ANCHORS_CONTAINER
    assert AUDIT_ANCHORS_CONTAINER not in BLOB_CONTAINERS  # disposal leaves it alone
    params = body(main["modules"]["mediaStorage"])["params"]
    assert params["immutableContainerName"] == "auditAnchorsContainerName"
    storage = parse(INFRA / "app" / "storage.bicep")
    (_, policy) = _declared(storage, "blobServices/containers/immutabilityPolicies")[0]
    properties = body(policy)["properties"]
    assert properties["allowProtectedAppendWrites"] is True
    assert properties["immutabilityPeriodSinceCreationInDays"] == "immutabilityDays"
    assert body(policy)["parent"] == "immutableContainer"


def _main() -> dict[str, Any]:
    return parse(INFRA / "main.bicep")


def _variable(name: str) -> Any:
    return _main()["variables"][name]["value"]


def test_media_queues_match_the_storage_layout() -> None:
    queues = tuple(_variable(name) for name in _variable("mediaQueueNames"))
    assert queues == STORAGE_QUEUES
    assert _variable("uploadEventsQueueName") == UPLOAD_EVENTS_QUEUE
    assert _variable("uploadEventsPoisonQueueName") == UPLOAD_EVENTS_POISON_QUEUE
    assert body(_main()["modules"]["mediaStorage"])["params"]["queueNames"] == "mediaQueueNames"
    storage = parse(INFRA / "app" / "storage.bicep")
    (queue,) = (body(q) for _, q in [*_declared(storage, "queueServices/queues")])
    assert storage["resources"]["queues"]["config"]["loop_type"]["detail"]["array_name"] == (
        "queueNames"
    )
    assert (
        queue["name"]
        == storage["resources"]["queues"]["config"]["loop_type"]["detail"]["item_name"]
    )


def _declared(template: dict[str, Any], suffix: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, resource)
        for name, resource in template["resources"].items()
        if resource["type"] == f"Microsoft.Storage/storageAccounts/{suffix}"
        and not resource["existing"]
    ]


def _subscription_resource() -> dict[str, Any]:
    (subscription,) = (
        config
        for _, config in resources(
            parse(UPLOAD_EVENTS), "Microsoft.EventGrid/systemTopics/eventSubscriptions"
        )
    )
    return subscription


def _subscription() -> dict[str, Any]:
    properties: dict[str, Any] = _subscription_resource()["properties"]
    return properties


def _subscription_name() -> str:
    return str(_subscription_resource()["name"])


def test_upload_events_go_to_the_upload_queue_with_the_topics_own_identity() -> None:
    subscription = _subscription()
    assert "destination" not in subscription
    delivery = subscription["deliveryWithResourceIdentity"]
    assert delivery["identity"] == {"type": "SystemAssigned"}
    destination = delivery["destination"]
    assert destination["endpointType"] == "StorageQueue"
    assert destination["properties"]["queueName"] == "queueName"
    assert _accessor(destination["properties"]["resourceId"]) == ["mediaAccount", "id"]
    ttl = parse(UPLOAD_EVENTS)["parameters"]["queueMessageTimeToLiveInSeconds"]
    assert destination["properties"]["queueMessageTimeToLiveInSeconds"] == (
        "queueMessageTimeToLiveInSeconds"
    )
    assert 0 < ttl["default"] <= 7 * 24 * 3600
    params = body(_main()["modules"]["uploadEvents"])["params"]
    assert _variable(params["queueName"]) == UPLOAD_EVENTS_QUEUE


def test_upload_events_are_blobs_created_in_uploads_in_the_event_grid_schema() -> None:
    subscription = _subscription()
    assert subscription["eventDeliverySchema"] == "EventGridSchema"
    assert subscription["filter"] == {
        "includedEventTypes": [BLOB_CREATED],
        "subjectBeginsWith": "/blobServices/default/containers/${uploadsContainerName}/",
    }
    parameters = parse(UPLOAD_EVENTS)["parameters"]
    assert parameters["uploadsContainerName"]["default"] == UPLOADS_CONTAINER
    prefix = subscription["filter"]["subjectBeginsWith"].replace(
        "${uploadsContainerName}", UPLOADS_CONTAINER
    )
    assert UPLOAD_SUBJECT_PREFIX.startswith(prefix)
    assert uploaded_blob_name(BLOB_CREATED, f"{UPLOAD_SUBJECT_PREFIX}f/m") == "f/m"


def test_undeliverable_upload_events_are_dead_lettered() -> None:
    subscription = _subscription()
    assert subscription["retryPolicy"] == {
        "maxDeliveryAttempts": "maxDeliveryAttempts",
        "eventTimeToLiveInMinutes": 1440,
    }
    dead_letter = subscription["deadLetterWithResourceIdentity"]
    assert dead_letter["identity"] == {"type": "SystemAssigned"}
    assert dead_letter["deadLetterDestination"]["endpointType"] == "StorageBlob"
    params = body(_main()["modules"]["uploadEvents"])["params"]
    assert params["deadLetterContainerName"] == "deadLetterContainerName"
    assert _variable("deadLetterContainerName") == "upload-events-deadletter"


def test_main_subscribes_upload_events_once_the_roles_exist() -> None:
    module = _main()["modules"]["uploadEvents"]
    assert module["detail"]["path"] == "app/upload-events.bicep"
    assert body(module)["dependsOn"] == ["rbac"]
    params = body(module)["params"]
    assert _accessor(params["systemTopicName"]) == ["messaging", "outputs", "systemTopicName"]
    assert _accessor(params["mediaAccountName"]) == ["mediaStorage", "outputs", "name"]
    hooks = "".join((INFRA / "hooks" / hook).read_text() for hook in HOOKS)
    assert "upload-events" not in hooks
    assert "media_process_upload" not in hooks


def test_the_topic_may_send_to_the_upload_queue_and_the_app_may_read_it() -> None:
    rbac = INFRA / "app" / "rbac.bicep"
    granted = grants(parse(rbac), rbac.read_text())
    assert ("uploadEventsQueue", "systemTopicPrincipalId", "Storage Queue Data Message Sender") in (
        granted
    )
    assert ("mediaStorage", "appPrincipalId", "Storage Queue Data Contributor") in granted
    (queue,) = (
        config
        for name, config in resources(
            parse(rbac), "Microsoft.Storage/storageAccounts/queueServices/queues", existing=True
        )
        if name == "uploadEventsQueue"
    )
    assert queue["name"] == "${mediaStorageAccountName}/default/${uploadEventsQueueName}"
    assert body(_main()["modules"]["rbac"])["params"]["uploadEventsQueueName"] == (
        "uploadEventsQueueName"
    )
    # The topic delivers with its system-assigned identity, the only kind a storage firewall
    # lets through, and only with trusted services allowed.
    topic = parse(INFRA / "app" / "messaging.bicep")["resources"]["mediaEvents"]["config"]
    assert topic["identity"] == {"type": "SystemAssigned"}
    account = parse(INFRA / "app" / "storage.bicep")["resources"]["account"]["config"]
    assert "AzureServices" in account["properties"]["networkAcls"]["bypass"]


def test_the_app_reads_the_queue_by_the_settings_the_host_needs() -> None:
    settings = app_settings(parse(INFRA / "app" / "api.bicep"))
    assert settings["MEDIA_STORAGE__queueServiceUri"] == "mediaQueueEndpoint"
    assert settings["MEDIA_STORAGE__credential"] == "managedidentity"
    assert settings["MEDIA_STORAGE__clientId"] == "identityClientId"
    params = body(_main()["modules"]["api"])["params"]
    assert _accessor(params["mediaQueueEndpoint"]) == ["mediaStorage", "outputs", "queueEndpoint"]


def test_the_local_host_raises_the_blob_events_the_bicep_subscribes_to() -> None:
    """local.subscriptions stands in for upload-events.bicep: same container, event type, queue
    and dead-letter container."""
    (local,) = BLOB_CREATED_SUBSCRIPTIONS
    assert local.name == _subscription_name()
    assert local.container == parse(UPLOAD_EVENTS)["parameters"]["uploadsContainerName"]["default"]
    assert local.destination == QueueDestination(UPLOAD_EVENTS_QUEUE, "MEDIA_STORAGE")
    assert local.dead_letter_container == _variable("deadLetterContainerName")
    assert _subscription()["filter"]["includedEventTypes"] == [BLOB_CREATED]


def test_the_upload_queue_is_the_one_the_queue_trigger_reads(app_functions: Any) -> None:
    triggers = {
        f.get_function_name(): f.get_trigger().get_dict_repr()
        for f in app_functions
        if f.get_trigger().get_binding_name() == "queueTrigger"
    }
    assert triggers["media_process_upload"]["queueName"] == UPLOAD_EVENTS_QUEUE
    assert triggers["media_process_upload"]["connection"] == "MEDIA_STORAGE"
    for subscription in BLOB_CREATED_SUBSCRIPTIONS:
        destination = subscription.destination
        assert isinstance(destination, QueueDestination)
        assert destination.queue in {trigger["queueName"] for trigger in triggers.values()}
