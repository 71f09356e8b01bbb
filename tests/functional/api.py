"""Call the app in process: routes matched as the local host does, functions called directly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from local.host.http import HttpHost, http_functions, route_prefix


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class InProcessApi:
    def __init__(self, functions: list[func.Function]) -> None:
        self.host = HttpHost(http_functions(functions), route_prefix())

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        parse: bool = True,
    ) -> Response:
        url_path = f"{route_prefix()}{path}"
        matched = self.host.match(method, url_path)
        if not isinstance(matched, tuple):
            return Response(matched.status_code, json.loads(bytes(matched.body)), {})
        function, route_params = matched
        all_headers: dict[str, str] = {}
        raw = b""
        if body is not None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers["content-type"] = "application/json"
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        request = func.HttpRequest(
            method,
            f"http://localhost{url_path}",
            headers=all_headers,
            params=params or {},
            route_params=route_params,
            body=raw,
        )
        response = function.function(request)
        payload = response.get_body()
        parsed = json.loads(payload) if payload and parse else None
        return Response(response.status_code, parsed, dict(response.headers), payload)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.request("GET", path, token, **kwargs)

    def post(
        self, path: str, token: str | None = None, body: Any = None, **kwargs: Any
    ) -> Response:
        return self.request("POST", path, token, body, **kwargs)

    def patch(
        self, path: str, token: str | None = None, body: Any = None, **kwargs: Any
    ) -> Response:
        return self.request("PATCH", path, token, body, **kwargs)

    def put(self, path: str, token: str | None = None, body: Any = None, **kwargs: Any) -> Response:
        return self.request("PUT", path, token, body, **kwargs)

    def delete(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.request("DELETE", path, token, **kwargs)
