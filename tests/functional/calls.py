"""Call functions the way the Azure Functions docs test them: through get_user_function()."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func


def call(
    builder: Any,
    method: str = "GET",
    path: str = "/api/v1/",
    *,
    headers: dict[str, str] | None = None,
    route_params: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    body: Any = None,
) -> tuple[int, Any, func.HttpResponse]:
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {"content-type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    request = func.HttpRequest(
        method,
        f"http://localhost:7071{path}",
        headers=all_headers,
        params=params or {},
        route_params=route_params or {},
        body=raw,
    )
    response = builder.build().get_user_function()(request)
    payload = json.loads(response.get_body()) if response.get_body() else None
    return response.status_code, payload, response
