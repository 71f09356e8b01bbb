"""What wakes the on-call engineer: every alert the issue asks for exists in every borough's
stack, each has a severity and a one-line description and notifies the action group, and the
runbook (docs/operations.md) explains each one with the very query the alert runs."""

from __future__ import annotations

import re

import pytest

from tests.infra.bicep import FIXTURES, INFRA, REPO, alert_problems, alerts, body, parse
from tests.infra.test_tenants import BOROUGHS, TENANTS, read_bicepparam

ALERTS_BICEP = INFRA / "app" / "alerts.bicep"
RUNBOOK = REPO / "docs" / "operations.md"
EXPECTED = {
    "http-5xx-rate",
    "function-failures",
    "reminders-not-running",
    "reminders-failing",
    "media-rejected",
    "uploads-poison",
    "uploads-dead-lettered",
    "cosmos-throttled",
    "cosmos-availability",
    "health-ready-failing",
}


def _runbook_sections() -> dict[str, str]:
    """The runbook's alert sections by alert name: ``### `name` `` up to the next heading."""
    text = RUNBOOK.read_text()
    alerts_part = text.split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### `([a-z0-9-]+)`.*$", alerts_part, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_the_stack_has_exactly_the_alerts_the_runbook_explains() -> None:
    names = [alert.name for alert in alerts(parse(ALERTS_BICEP))]
    assert sorted(names) == sorted(EXPECTED)
    assert set(_runbook_sections()) == EXPECTED


def test_every_alert_has_a_severity_a_one_line_description_and_notifies() -> None:
    assert alert_problems(parse(ALERTS_BICEP)) == []


def test_alert_check_fails_on_a_bad_severity_a_blank_description_and_a_silent_alert() -> None:
    assert alert_problems(parse(FIXTURES / "alerts_unsafe.bicep")) == [
        "alert loud: severity must be 0 to 4",
        "alert loud: no description",
        "alert silent: must be enabled",
        "alert silent: notifies no action group",
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_runbook_says_what_an_alert_means_how_to_look_and_what_to_do(name: str) -> None:
    section = _runbook_sections()[name]
    assert "**Means.**" in section
    assert "```kusto" in section
    assert "**Do.**" in section


def test_the_runbook_shows_each_log_alerts_own_query() -> None:
    template = parse(ALERTS_BICEP)
    queries = {item["name"]: item["query"] for item in template["variables"]["logAlerts"]["value"]}
    sections = _runbook_sections()
    for name, query in queries.items():
        first = re.search(r"```kusto\n(.*?)```", sections[name], re.S)
        assert first is not None, name
        assert first.group(1).strip() == query.strip(), name


def test_every_borough_deploys_the_alerts_to_its_on_call_address() -> None:
    alerts_module = parse(INFRA / "main.bicep")["modules"]["alerts"]
    assert alerts_module["detail"]["path"] == "app/alerts.bicep"
    assert alerts_module["config"].get("condition") is None  # not optional anywhere
    assert body(alerts_module)["params"]["alertEmailAddress"] == "alertEmailAddress"
    for borough in BOROUGHS:
        _, values = read_bicepparam(TENANTS / f"{borough}.bicepparam")
        assert values["alertEmailAddress"] == "readEnvironmentVariable('FAMILYSTORY_ALERT_EMAIL')"


def test_the_action_group_mails_the_address_and_calls_a_webhook_only_when_given() -> None:
    template = parse(ALERTS_BICEP)
    properties = body(template["resources"]["actionGroup"])["properties"]
    assert properties["emailReceivers"][0]["emailAddress"] == "alertEmailAddress"
    webhooks = properties["webhookReceivers"]
    assert "alertWebhookUrl" in str(webhooks)
    decorators = template["parameters"]["alertWebhookUrl"]["decorators"]
    assert {"type": "secure"} in decorators


def test_the_availability_test_calls_health_ready_from_five_locations() -> None:
    template = parse(ALERTS_BICEP)
    test = body(template["resources"]["readyTest"])
    assert test["kind"] == "standard"
    properties = test["properties"]
    assert properties["Request"]["RequestUrl"] == "https://${functionHostName}/api/v1/health/ready"
    assert properties["ValidationRules"]["ExpectedHttpStatusCode"] == 200
    assert len(properties["Locations"]) == 5
    assert properties["Frequency"] == 300
    criteria = body(template["resources"]["readyUnavailable"])["properties"]["criteria"]
    assert criteria["'odata.type'"] == "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria"
