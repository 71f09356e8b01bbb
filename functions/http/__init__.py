"""The HTTP edge: what every feature module's endpoints are declared and answered with.

``endpoint`` declares an HTTP function, its route, models and OpenAPI facts in one place
(``endpoints``); a handler gets a ``Call`` and answers a ``Reply``; errors become problem+json
in ``problems`` only; ``runs`` makes every function run (HTTP or not) one traced invocation;
``records`` holds the routes every kind of case record shares; ``openapi``
builds the document from the declarations. Feature modules import from here and from the
services, never from one another.
"""

from functions.http.call import Call
from functions.http.endpoints import (
    ENDPOINTS,
    NEXT_PAGE,
    UUID,
    EndpointSpec,
    Query,
    Schema,
    endpoint,
)
from functions.http.problems import PROBLEM_TYPE_BASE, problem_body
from functions.http.records import crud, deleted, filters, listed_page, not_modified, updated
from functions.http.replies import Reply, listing, record_reply
from functions.http.runs import traced

__all__ = [
    "ENDPOINTS",
    "NEXT_PAGE",
    "PROBLEM_TYPE_BASE",
    "UUID",
    "Call",
    "EndpointSpec",
    "Query",
    "Reply",
    "Schema",
    "crud",
    "deleted",
    "endpoint",
    "filters",
    "listed_page",
    "listing",
    "not_modified",
    "problem_body",
    "record_reply",
    "traced",
    "updated",
]
