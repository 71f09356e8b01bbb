"""SMS delivery reports reach reminders_delivery_report through an Event Grid subscription.

Communication Services publishes delivery reports on a system topic of its own
(``messaging.bicep``); ``delivery-reports.bicep`` subscribes the Event Grid-triggered function to
them after the code is deployed, and the post-deploy hooks run it with the main deployment's
outputs.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from shared.reminders.delivery import EVENT_TYPE
from tests.infra.bicep import INFRA, REPO, body, parse, resources

MESSAGING = INFRA / "app" / "messaging.bicep"
DELIVERY_REPORTS = INFRA / "app" / "delivery-reports.bicep"
SUBSCRIPTIONS = "Microsoft.EventGrid/systemTopics/eventSubscriptions"


def _subscription() -> dict[str, Any]:
    subscriptions = list(resources(parse(DELIVERY_REPORTS), SUBSCRIPTIONS))
    assert len(subscriptions) == 1, subscriptions
    return subscriptions[0][1]


def _event_grid_functions() -> set[str]:
    """Names given with ``function_name`` to functions that also carry ``event_grid_trigger``."""
    names = set()
    for path in sorted((REPO / "functions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            name, triggered = None, False
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call else decorator
                attribute = target.attr if isinstance(target, ast.Attribute) else None
                if attribute == "event_grid_trigger":
                    triggered = True
                elif attribute == "function_name" and call and call.args:
                    argument = call.args[0]
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        name = argument.value
            if triggered and name:
                names.add(name)
    return names


def _accessor(node: Any) -> list[str]:
    """``a.b.c`` as parsed by pycep, as ["a", "b", "c"]."""
    path = []
    while isinstance(node, dict):
        operands = node["operator"]["operands"]
        path.append(operands["operand_1"])
        node = operands["operand_2"]
    return [*path, node]


def test_communication_services_has_a_system_topic() -> None:
    template = parse(MESSAGING)
    topics = [
        topic
        for _, topic in resources(template, "Microsoft.EventGrid/systemTopics")
        if topic["properties"]["topicType"] == "Microsoft.Communication.CommunicationServices"
    ]
    assert len(topics) == 1
    (topic,) = topics
    (acs_name,) = (
        name for name, _ in resources(template, "Microsoft.Communication/communicationServices")
    )
    assert _accessor(topic["properties"]["source"]) == [acs_name, "id"]
    assert topic["location"] == "global"
    assert topic["identity"] == {"type": "SystemAssigned"}


def test_subscription_sends_only_sms_delivery_reports() -> None:
    subscription = _subscription()["properties"]
    assert subscription["filter"] == {"includedEventTypes": [EVENT_TYPE]}
    assert subscription["eventDeliverySchema"] == "EventGridSchema"


def test_subscription_delivers_to_the_event_grid_triggered_delivery_report_function() -> None:
    destination = _subscription()["properties"]["destination"]
    assert destination["endpointType"] == "AzureFunction"
    site = next(
        name for name, _ in resources(parse(DELIVERY_REPORTS), "Microsoft.Web/sites", existing=True)
    )
    assert destination["properties"]["resourceId"] == f"${{{site}.id}}/functions/${{functionName}}"
    function_name = parse(DELIVERY_REPORTS)["parameters"]["functionName"]["default"]
    assert function_name == "reminders_delivery_report"
    assert function_name in _event_grid_functions()


def test_subscription_holds_no_key() -> None:
    assert "listKeys" not in json.dumps(_subscription())
    assert "listKeys" not in DELIVERY_REPORTS.read_text()


def test_subscription_retries_then_dead_letters_to_its_own_container() -> None:
    subscription = _subscription()["properties"]
    parameters = parse(DELIVERY_REPORTS)["parameters"]
    assert subscription["retryPolicy"] == {
        "maxDeliveryAttempts": "maxDeliveryAttempts",
        "eventTimeToLiveInMinutes": 1440,
    }
    assert parameters["maxDeliveryAttempts"]["default"] == 30
    dead_letter = subscription["deadLetterWithResourceIdentity"]
    assert dead_letter["identity"] == {"type": "SystemAssigned"}
    assert dead_letter["deadLetterDestination"]["endpointType"] == "StorageBlob"
    assert dead_letter["deadLetterDestination"]["properties"]["blobContainerName"] == (
        "deadLetterContainerName"
    )


def test_main_creates_the_dead_letter_container_and_lets_the_topic_write_to_it() -> None:
    main = parse(INFRA / "main.bicep")
    assert main["variables"]["smsDeadLetterContainerName"]["value"] == "sms-events-deadletter"
    containers = body(main["modules"]["mediaStorage"])["params"]["containerNames"]
    assert "smsDeadLetterContainerName" in json.dumps(containers)
    rbac = body(main["modules"]["rbac"])["params"]
    assert rbac["smsDeadLetterContainerName"] == "smsDeadLetterContainerName"
    assert _accessor(rbac["smsSystemTopicPrincipalId"]) == [
        "messaging",
        "outputs",
        "smsSystemTopicPrincipalId",
    ]
    writers = [
        assignment
        for _, assignment in resources(
            parse(INFRA / "app" / "rbac.bicep"), "Microsoft.Authorization/roleAssignments"
        )
        if assignment["properties"]["principalId"] == "smsSystemTopicPrincipalId"
    ]
    assert [writer["scope"] for writer in writers] == ["smsDeadLetterContainer"]


def _hook_parameters(hook: str) -> dict[str, str]:
    """{template parameter: main.bicep output} of the hook's delivery-reports deployment."""
    text = (INFRA / "hooks" / hook).read_text()
    variables = dict(re.findall(r"^(\w+)=\$\(value (\w+)\)$", text, re.M))
    variables |= dict(re.findall(r"^\$(\w+) = Get-Output '(\w+)'$", text, re.M))
    start = re.search(r"--template-file .*delivery-reports\.bicep", text)
    assert start, hook
    deployment = text[start.start() :]
    deployment = deployment[: deployment.index("--output none")]
    passed = re.findall(r"(\w+)=\"?\$(\w+)\"?", deployment)
    return {parameter: variables[variable] for parameter, variable in passed}


def test_post_deploy_hooks_deploy_the_subscription_with_main_outputs() -> None:
    outputs = parse(INFRA / "main.bicep")["outputs"]
    assert _accessor(outputs["SMS_EVENTS_SYSTEM_TOPIC"]["value"]) == [
        "messaging",
        "outputs",
        "smsSystemTopicName",
    ]
    assert outputs["SMS_EVENTS_DEADLETTER_CONTAINER"]["value"] == "smsDeadLetterContainerName"
    expected = {
        "functionAppName": "AZURE_FUNCTION_APP_NAME",
        "systemTopicName": "SMS_EVENTS_SYSTEM_TOPIC",
        "mediaAccountName": "MEDIA_ACCOUNT_NAME",
        "deadLetterContainerName": "SMS_EVENTS_DEADLETTER_CONTAINER",
    }
    parameters = parse(DELIVERY_REPORTS)["parameters"]
    required = {name for name, spec in parameters.items() if spec.get("default") is None}
    assert set(expected) == required
    for hook in ("postdeploy.sh", "postdeploy.ps1"):
        assert _hook_parameters(hook) == expected, hook
