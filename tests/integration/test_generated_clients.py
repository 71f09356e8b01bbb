"""Clients generated from the served document, as a client app's developer would make them:
a Python client (``openapi-python-client``) and TypeScript types (``openapi-typescript``), each
generated without a warning, and the Python one calling the local host and parsing its errors,
a 409's and a 412's ``current`` included, into the types the document names."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import repo_root
from tests.integration.conftest import HostFactory, RunningHost
from tests.tokens import staff_token

PACKAGE = "familystory_generated_client"


@dataclass
class Generated:
    document: Path
    python: Path
    output: str


@pytest.fixture(scope="module")
def api(host_factory: HostFactory) -> RunningHost:
    return host_factory()


def _run(command: list[str], cwd: Path) -> str:
    tools = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": os.pathsep.join([tools, os.environ.get("PATH", "")])}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def generated(api: RunningHost, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("generated")
    document = folder / "openapi.json"
    served = httpx.get(f"{api.url}/api/v1/openapi.json", timeout=10)
    assert served.status_code == 200
    document.write_bytes(served.content)
    tools = Path(sys.executable).parent
    python_output = _run(
        [
            str(tools / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
        ],
        folder,
    )
    typescript_output = _run(
        [
            str(repo_root() / "node_modules" / ".bin" / "openapi-typescript"),
            str(document),
            "--output",
            str(folder / "api.d.ts"),
        ],
        folder,
    )
    return Generated(document, folder / PACKAGE, python_output + typescript_output)


@pytest.fixture(scope="module")
def client_package(generated: Generated) -> Iterator[ModuleType]:
    sys.path.insert(0, str(generated.python.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(generated.python.parent))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


class Clients:
    """Generated clients of the local host, each closed when its test ends."""

    def __init__(self, api: RunningHost, stack: ExitStack) -> None:
        self.url = f"{api.url}/api/v1"
        self.stack = stack

    def signed_in(self, token: str) -> Any:
        client = _module("client").AuthenticatedClient(
            base_url=self.url, token=token, raise_on_unexpected_status=True
        )
        return self.stack.enter_context(client)

    def anonymous(self) -> Any:
        client = _module("client").Client(base_url=self.url, raise_on_unexpected_status=True)
        return self.stack.enter_context(client)


@pytest.fixture
def clients(api: RunningHost, client_package: ModuleType) -> Iterator[Clients]:
    with ExitStack() as stack:
        yield Clients(api, stack)


def test_the_python_client_and_typescript_types_generate_without_a_warning(
    generated: Generated,
) -> None:
    """The Python generator says "Warning(s) encountered" and what it left out, or that it
    skipped formatting; the TypeScript one marks each problem with a warning or error sign."""
    output = generated.output
    for sign in ("warning", "skipping", "not in path", "\u26a0", "\u2718"):
        assert sign not in output.lower(), output
    models = {path.stem for path in (generated.python / "models").glob("*.py")}
    assert {
        "problem",
        "validation_problem",
        "conflict_problem",
        "precondition_failed_problem",
    } <= models
    types = (generated.document.parent / "api.d.ts").read_text()
    for name in ("ConflictProblem", "PreconditionFailedProblem", "ValidationProblem"):
        assert f"components['schemas']['{name}']" in types.replace('"', "'"), name


def test_the_python_client_parses_every_declared_status(generated: Generated) -> None:
    """No response fell out of the generated parsers: every status each operation declares
    with a body is parsed, each error into the problem schema the document names for it."""
    document = json.loads(generated.document.read_text())
    modules = {path.stem: path for path in (generated.python / "api").glob("*/*.py")}
    parsed = 0
    for item in document["paths"].values():
        for operation in item.values():
            source = modules[operation["operationId"]].read_text()
            for status, response in operation["responses"].items():
                if "$ref" in response:
                    response = document["components"]["responses"][response["$ref"].split("/")[-1]]
                if "content" not in response:
                    continue
                assert f"response.status_code == {status}:" in source, (operation, status)
                schema = response["content"].get("application/problem+json", {}).get("schema")
                if schema is not None:
                    name = schema["$ref"].split("/")[-1]
                    assert f"response_{status} = {name}.from_dict(" in source, (operation, status)
                    parsed += 1
    assert parsed >= 500


def test_the_generated_client_signs_in_creates_and_reads_its_typed_answers(
    clients: Clients,
) -> None:
    oid = str(uuid.uuid4())
    me_get = _module("api.me.me_get")
    me = me_get.sync(client=clients.signed_in(staff_token("SocialWorker", oid=oid)))
    assert type(me).__name__ == "Me"
    assert str(me.id) == oid
    assert [str(role) for role in me.roles] == ["SocialWorker"]

    refused = me_get.sync_detailed(client=clients.anonymous())
    assert refused.status_code == 401
    assert type(refused.parsed).__name__ == "Problem"
    assert refused.parsed.status == 401
    assert refused.parsed.type_ == "urn:familystory:problem:unauthorized"
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def _social_worker_with_a_family(clients: Clients) -> tuple[str, str]:
    """A social worker put in a team by an admin, and a family they created there, each
    through the generated client."""
    models = _module("models")
    team, oid = uuid.uuid4(), uuid.uuid4()
    admin = clients.signed_in(staff_token("Admin"))
    put = _module("api.staff.staff_put").sync_detailed(
        oid, client=admin, body=models.StaffIn(display_name="Sam Patel", team_ids=[str(team)])
    )
    assert put.status_code == 201, put.content
    token = staff_token("SocialWorker", oid=str(oid))
    family = _module("api.families.families_create").sync_detailed(
        client=clients.signed_in(token),
        body=models.FamilyIn(display_name="Jones", team_id=str(team)),
    )
    assert isinstance(family.parsed, models.FamilyOut), family.content
    return token, str(family.parsed.id)


def test_a_409_parses_into_a_conflict_problem_carrying_the_stored_note(
    clients: Clients,
) -> None:
    models = _module("models")
    notes_create = _module("api.notes.notes_create")
    token, family = _social_worker_with_a_family(clients)
    worker = clients.signed_in(token)
    note_id = uuid.uuid4()
    created = notes_create.sync_detailed(
        uuid.UUID(family), client=worker, body=models.NoteIn(id=note_id, body="First words")
    )
    assert created.status_code == 201
    assert isinstance(created.parsed, models.NoteOut)
    assert created.parsed.body == "First words"

    clash = notes_create.sync_detailed(
        uuid.UUID(family), client=worker, body=models.NoteIn(id=note_id, body="Other words")
    )
    assert clash.status_code == 409
    problem = clash.parsed
    assert isinstance(problem, models.ConflictProblem)
    assert problem.status == 409
    assert problem.type_ == "urn:familystory:problem:conflict"
    assert isinstance(problem.current, models.StoredRecord)
    assert problem.current["id"] == str(note_id)
    assert problem.current["body"] == "First words"
    assert problem.current["version"] == created.parsed.version


def test_a_stale_if_match_parses_into_a_precondition_failed_problem_with_current(
    clients: Clients,
) -> None:
    models = _module("models")
    token, family = _social_worker_with_a_family(clients)
    worker = clients.signed_in(token)
    created = _module("api.notes.notes_create").sync_detailed(
        uuid.UUID(family), client=worker, body=models.NoteIn(body="Before")
    )
    assert created.status_code == 201
    note = created.parsed
    stale = created.headers["ETag"]
    notes_update = _module("api.notes.notes_update")
    changed = notes_update.sync_detailed(
        uuid.UUID(family),
        note.id,
        client=worker,
        body=models.NotePatch(body="After"),
        if_match=stale,
    )
    assert changed.status_code == 200
    assert changed.parsed.body == "After"
    unchanged = _module("api.notes.notes_get").sync_detailed(
        uuid.UUID(family), note.id, client=worker, if_none_match=changed.headers["ETag"]
    )
    assert unchanged.status_code == 304

    refused = notes_update.sync_detailed(
        uuid.UUID(family),
        note.id,
        client=worker,
        body=models.NotePatch(body="Too late"),
        if_match=stale,
    )
    assert refused.status_code == 412
    problem = refused.parsed
    assert isinstance(problem, models.PreconditionFailedProblem)
    assert problem.status == 412
    assert problem.current["body"] == "After"
    assert problem.current["version"] == changed.parsed.version


def test_a_422_parses_into_a_validation_problem_saying_where(
    clients: Clients,
) -> None:
    models = _module("models")
    token, family = _social_worker_with_a_family(clients)
    worker = clients.signed_in(token)
    invalid = _module("api.notes.notes_create").sync_detailed(
        uuid.UUID(family), client=worker, body=models.NoteIn(body="")
    )
    assert invalid.status_code == 422
    problem = invalid.parsed
    assert isinstance(problem, models.ValidationProblem)
    assert [(list(error.loc), error.type_) for error in problem.errors] == [
        (["body", "body"], "string_too_short")
    ]
