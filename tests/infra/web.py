"""Check the web app's static host configuration (``staticwebapp.config.json``).

Azure Static Web Apps applies the file's ``globalHeaders`` to every response, a route's
``headers`` on top of them for that route, and ``navigationFallback`` to any path that names no
file. ``swa_config_problems`` returns human-readable problems, empty when the file is fine, so a
test can assert both that the real file passes and that a bad fixture fails.
"""

from __future__ import annotations

import re
from typing import Any

from tests.infra.bicep import REPO

SWA_CONFIG = REPO / "clients" / "web" / "public" / "staticwebapp.config.json"
NEVER_CACHED = ("/index.html", "/sw.js", "/config.json")
ONE_YEAR = 31_536_000


def csp(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}; the first of a repeated directive wins."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    return directives


def _lower_keys(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


def route_headers(config: dict[str, Any], path: str) -> dict[str, str]:
    """The headers a response for ``path`` gets: the global ones, then the first route's."""
    headers = _lower_keys(config.get("globalHeaders"))
    for route in config.get("routes", []):
        pattern = re.escape(str(route.get("route", ""))).replace(r"\*", ".*")
        if re.fullmatch(pattern, path):
            return headers | _lower_keys(route.get("headers"))
    return headers


def csp_problems(policy: str) -> list[str]:
    directives = csp(policy)
    problems = []
    if directives.get("default-src") not in (["'none'"], ["'self'"]):
        problems.append("CSP: default-src must be 'none' or 'self'")
    scripts = directives.get("script-src", directives.get("default-src", []))
    if scripts != ["'self'"]:
        problems.append(f"CSP: script-src must be 'self' alone, not {' '.join(scripts)}")
    for directive, value in (
        ("frame-ancestors", ["'none'"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'none'"]),
    ):
        if directives.get(directive) != value:
            problems.append(f"CSP: {directive} must be {' '.join(value)}")
    for directive, sources in directives.items():
        for source in sources:
            # Any host, plain http, or unsafe sources (inline styles aside) defeat the policy.
            unsafe = "'unsafe-" in source and directive != "style-src"
            if unsafe or source in ("*", "http:", "https:") or source.startswith("http://"):
                problems.append(f"CSP: {directive} allows {source}")
    return problems


def swa_config_problems(config: dict[str, Any]) -> list[str]:
    problems = []
    headers = _lower_keys(config.get("globalHeaders"))
    policy = headers.get("content-security-policy")
    if policy is None:
        problems.append("globalHeaders: no content-security-policy")
    else:
        problems += csp_problems(policy)
    hsts = re.search(r"max-age=(\d+)", headers.get("strict-transport-security", ""))
    if not hsts or int(hsts.group(1)) < ONE_YEAR:
        problems.append("globalHeaders: strict-transport-security must last a year or more")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append("globalHeaders: x-content-type-options must be nosniff")
    if "access-control-allow-origin" in headers:
        problems.append("globalHeaders: the app's files are not for other origins (no CORS)")
    fallback = config.get("navigationFallback", {})
    if fallback.get("rewrite") != "/index.html":
        problems.append("navigationFallback: must rewrite to /index.html")
    excluded = set(fallback.get("exclude", []))
    for path in ("/config.json", "/sw.js", "/assets/*"):
        if path not in excluded:
            problems.append(f"navigationFallback: must exclude {path}, or a missing one is HTML")
    # A path with no file falls back to index.html with the global headers alone.
    for path in (*NEVER_CACHED, "/families/any-route"):
        cache = route_headers(config, path).get("cache-control", "")
        if "no-cache" not in cache and "no-store" not in cache:
            problems.append(f"{path}: must not be cached (cache-control no-cache or no-store)")
    return problems
