"""Which SDK failures are outages (503 with Retry-After), and which dependency they name."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.cosmos.exceptions import CosmosClientTimeoutError, CosmosHttpResponseError

from functions.http.problems import problem_body
from shared.bootstrap import as_dependency_error


def raised_inside(module: str, error: BaseException) -> BaseException:
    """``error`` as it arrives from code in ``module`` (its traceback passes through it)."""
    namespace: dict[str, Any] = {"__name__": module}
    exec(compile("def call(error):\n    raise error\n", module, "exec"), namespace)  # noqa: S102
    try:
        namespace["call"](error)
    except BaseException as caught:  # noqa: BLE001 - handed back to the test
        return caught
    raise AssertionError("not raised")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("azure.cosmos._synchronized_request", "Cosmos DB"),
        ("azure.storage.blob._blob_client", "Blob Storage"),
        ("somewhere.else", "A dependency"),
    ],
)
def test_a_connection_failure_names_the_sdk_it_came_through(module: str, name: str) -> None:
    for error in (ServiceRequestError("refused"), ServiceResponseError("no answer")):
        outage = as_dependency_error(raised_inside(module, error))
        assert outage is not None
        assert outage.dependency == name


def test_the_cosmos_sdk_giving_up_on_its_time_limit_is_an_outage() -> None:
    outage = as_dependency_error(CosmosClientTimeoutError())
    assert outage is not None
    assert outage.dependency == "Cosmos DB"


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_throttling_and_server_errors_left_after_retries_are_outages(status: int) -> None:
    assert as_dependency_error(CosmosHttpResponseError(status_code=status)) is not None


@pytest.mark.parametrize(
    "error", [CosmosHttpResponseError(status_code=400), ResourceNotFoundError("gone"), KeyError()]
)
def test_bugs_and_answers_about_the_request_are_not_outages(error: BaseException) -> None:
    assert as_dependency_error(error) is None


def test_an_outage_is_a_503_problem_with_retry_after_naming_the_dependency() -> None:
    error = raised_inside("azure.cosmos.container", ServiceRequestError("refused"))
    assert isinstance(error, Exception)

    body, headers = problem_body(error)

    assert body["status"] == 503
    assert body["type"] == "urn:familystory:problem:dependency-unavailable"
    assert body["detail"] == "Cosmos DB is unavailable; try again shortly."
    assert int(headers["Retry-After"]) > 0


def test_a_plain_http_error_without_a_status_is_not_an_outage() -> None:
    assert as_dependency_error(HttpResponseError("odd")) is None
