"""Schemathesis against the local host's own OpenAPI document, as four kinds of caller: an
admin, a family member, an allocated social worker and a partner agency granted the family.

A bounded, seeded run of every phase: no 5xx, every 4xx is problem+json, and every response
conforms to the document. Every caller runs the examples, fuzzing and stateful phases on every
operation; the coverage phase's deterministic cases (the bulk of a run) are sent once per
operation, the operations dealt out to the four callers in turn (``FUZZ_COVERAGE=shared``).
``make fuzz`` runs the same set-up for longer, every caller sending every coverage case
(``FUZZ_COVERAGE=every``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import repo_root
from tests.functional.world import World
from tests.integration.conftest import UNLIMITED_RATES, HostFactory, RunningHost

ROLES = ("admin", "family_member", "social_worker", "partner")
SEED = int(os.environ.get("FUZZ_SEED", "20261126"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))
MAX_STEPS = int(os.environ.get("FUZZ_MAX_STEPS", "5"))
# Three scenarios of five steps sometimes followed no link at all (each may start with a create
# that is refused); ten cost a few seconds and always follow some.
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "10"))
PHASES = os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing,stateful")
TIMEOUT = int(os.environ.get("FUZZ_TIMEOUT", "480"))
COVERAGE = os.environ.get("FUZZ_COVERAGE", "shared")
DOCUMENT = "/openapi.json"
METHODS = ("get", "put", "post", "patch", "delete")
COVERED = re.compile(r"Coverage \(in [^)]*\)\n\s+\S+ (\d+) passed")
LINKS = re.compile(r"API Links:\s+(\d+) covered / (\d+) selected")
LOG_LINE = re.compile(r"\n\d{4}-\d\d-\d\d \d\d:")
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "client_errors_are_problem_details",
    )
)


@pytest.fixture(scope="module")
def host(host_factory: HostFactory) -> RunningHost:
    return host_factory(**UNLIMITED_RATES)


def operation_ids(host: RunningHost) -> list[str]:
    """The operations Schemathesis runs: every one but the document's own, which it leaves out."""
    document = httpx.get(f"{host.url}/api/v1{DOCUMENT}", timeout=30).json()
    return [
        operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS and path != DOCUMENT
    ]


def coverage_elsewhere(operations: list[str], role: str) -> list[str]:
    """The operations whose coverage cases another caller sends: none when every caller sends
    all of them; otherwise the operations are dealt out to the callers in turn."""
    if COVERAGE == "every":
        return []
    if COVERAGE != "shared":
        raise ValueError(f"FUZZ_COVERAGE must be shared or every, not {COVERAGE!r}")
    turn = ROLES.index(role)
    return [name for index, name in enumerate(operations) if index % len(ROLES) != turn]


def config(world: World, role: str, skip_coverage: list[str]) -> str:
    """A schemathesis.toml: path parameters mostly name the seeded world's real records; the
    coverage phase leaves out ``skip_coverage``."""
    token = world.token(role)
    dictionaries = {
        "families": [world.family, world.other_family],
        "records": sorted(world.records.values()),
        "targets": ["notes", "agendas", "plans", "media"],
        "teams": [world.team_a, world.team_b],
        "staff": [person.oid for person in world.people.values()],
        "grants": sorted(world.grants.values()),
    }
    bindings = {
        "familyId": "families",
        "recordId": "records",
        "noteId": "records",
        "agendaId": "records",
        "memberId": "records",
        "commentId": "records",
        "targetId": "records",
        "mediaId": "records",
        "grantId": "grants",
        "targetType": "targets",
        "oid": "staff",
    }
    body_bindings = {"teamId": "teams", "memberId": "records", "partnerOid": "staff"}
    lines = [
        f"seed = {SEED}",
        'hooks = "tests.integration.fuzz_hooks"',
        "workers = 1",
        "request-timeout = 30",  # a 100-operation sync push on emulators shared by four runs
        "[headers]",
        f'Authorization = "Bearer {token}"',
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        "[phases.stateful]",
        f"max-steps = {MAX_STEPS}",
        "[phases.stateful.generation]",
        f"max-examples = {STATEFUL_SCENARIOS}",
        "[phases.stateful.inference]",
        "algorithms = []",
        "[dictionaries]",
        *(f"{name} = {{ values = {json.dumps(values)} }}" for name, values in dictionaries.items()),
        "[parameters]",
        *(
            f'"path.{name}" = {{ dictionary = "{dictionary}", probability = 0.9 }}'
            for name, dictionary in bindings.items()
        ),
        *(
            f'"body.{name}" = {{ dictionary = "{dictionary}", probability = 0.9 }}'
            for name, dictionary in body_bindings.items()
        ),
    ]
    if skip_coverage:
        lines += [
            "[[operations]]",
            f"include-operation-id = {json.dumps(skip_coverage)}",
            "[operations.phases.coverage]",
            "enabled = false",
        ]
    return "\n".join(lines) + "\n"


def schemathesis_run(
    host: RunningHost, world: World, role: str, workdir: Path, operations: list[str]
) -> list[str]:
    config_file = workdir / f"schemathesis-{role}.toml"
    config_file.write_text(config(world, role, coverage_elsewhere(operations, role)))
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config_file),
        "--no-color",
        "run",
        f"{host.url}/api/v1{DOCUMENT}",
        "--phases",
        PHASES,
        "--checks",
        CHECKS,
        "--max-failures",
        "20",
    ]


@pytest.mark.emulators
@pytest.mark.timeout(TIMEOUT + 60)  # the runs' own bound (FUZZ_TIMEOUT), not the default 300 s
def test_contract_holds_for_every_generated_request_as_each_role(
    host: RunningHost, world: World, tmp_path: Path
) -> None:
    """The roles run side by side, each in its own Schemathesis process."""
    started = time.monotonic()
    operations = operation_ids(host)
    runs = {
        role: subprocess.Popen(
            schemathesis_run(host, world, role, tmp_path, operations),
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(repo_root())},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for role in ROLES
    }
    outputs = {role: run.communicate(timeout=TIMEOUT)[0] for role, run in runs.items()}
    for role, output in outputs.items():
        print(f"== {role}\n{output}")
    print(f"{len(ROLES)} roles in {time.monotonic() - started:.1f}s")
    failed = {role: outputs[role] for role, run in runs.items() if run.returncode != 0}
    reports = [f"== {role}\n{output}" for role, output in failed.items()]
    assert not failed, "\n\n".join([*reports, "== host errors", *host_errors(host)])
    if "coverage" in PHASES:
        covered = {role: COVERED.search(output) for role, output in outputs.items()}
        sent = sum(int(match[1]) for match in covered.values() if match)
        assert sent == len(operations) * (len(ROLES) if COVERAGE == "every" else 1), covered
    if "stateful" in PHASES:
        links = LINKS.search(outputs["social_worker"])
        assert links, "the stateful phase reported no links"
        assert int(links[1]) > 0, "the stateful phase followed no declared link"


def host_errors(host: RunningHost) -> list[str]:
    """The tracebacks the host logged, which name what the 5xx responses do not."""
    return [
        "Traceback" + LOG_LINE.split(block)[0] for block in host.output().split("Traceback")[1:]
    ]
