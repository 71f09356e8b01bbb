"""Dependency outages, over real HTTP against the local host and real emulators.

Cosmos DB runs behind a fault proxy (tests/fault_proxy.py) that refuses, hangs or cuts
connections, or fails chosen requests, while the in-memory emulator behind it keeps its data.
Azurite, which keeps its data on disk, is really stopped and started again on the same ports.
The ACS test server sits behind the same proxy in plain TCP mode, or fails or loses answers
itself. The app is one local host process for the whole module: recovery never restarts it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.cosmos.exceptions import CosmosHttpResponseError

from local.certs import ensure_dev_certificate
from local.emulators import Emulators, free_ports
from shared.adapters.blob_anchors import BlobAnchors
from shared.adapters.blobs import build_blob_service, provision_containers
from shared.adapters.cosmos import build_cosmos_client, provision_database
from shared.adapters.cosmos_audit import CosmosAudit
from shared.audit_chain import seal_order, verify_chain
from shared.audit_seal import Sealer, load_seal_key
from shared.ports import StorageUnavailableError
from shared.reminders.memory import FrozenClock, InMemoryFamilies
from shared.reminders.models import Claim, Member, Visit
from shared.reminders.ports import ClaimStore
from shared.reminders.service import ReminderService, RunReport
from shared.settings import Settings
from shared.storage_layout import AUDIT, DIRECTORY, RECORDS
from tests.acs_server import AcsSmsServer
from tests.fault_proxy import Action, FaultProxy, SeenRequest, Tls
from tests.integration.conftest import HostFactory, RunningHost
from tests.tokens import bearer, staff_token

PROBLEM = "application/problem+json"
UNAVAILABLE = "urn:familystory:problem:dependency-unavailable"
PATIENCE = httpx.Timeout(60.0)
FAST_FAILURE = {
    "COSMOS_CONNECT_TIMEOUT_SECONDS": "2",
    "COSMOS_READ_TIMEOUT_SECONDS": "2",
    "COSMOS_RETRY_TOTAL": "1",
    "STORAGE_CONNECT_TIMEOUT_SECONDS": "2",
    "STORAGE_READ_TIMEOUT_SECONDS": "2",
    "STORAGE_RETRY_TOTAL": "1",
    "HEALTH_CACHE_SECONDS": "0",  # every /health call asks again, for the outages to show at once
}


@dataclass
class FaultStack:
    emulators: Emulators
    cosmos: FaultProxy
    settings: dict[str, str]

    def direct(self) -> Settings:
        """Settings that reach the emulators without the proxy (to look behind the app)."""
        return Settings.model_validate({**self.settings, **self.emulators.settings()})

    def container(self, name: str) -> Any:
        client = build_cosmos_client(self.direct())
        return client.get_database_client(self.settings["COSMOS_DATABASE"]).get_container_client(
            name
        )


@pytest.fixture(scope="module")
def faults(
    tmp_path_factory: pytest.TempPathFactory, base_settings: dict[str, str]
) -> Iterator[FaultStack]:
    emulators = Emulators(ports=free_ports(), state_dir=tmp_path_factory.mktemp("fault-emulators"))
    emulators.start()
    key, cert = ensure_dev_certificate(emulators.state_dir / "certs")
    proxy = FaultProxy(emulators.ports.cosmos, tls=Tls(cert, key)).start()
    try:
        settings = {
            **base_settings,
            **emulators.settings(),
            "COSMOS__accountEndpoint": f"https://localhost:{proxy.port}",
            **FAST_FAILURE,
        }
        stack = FaultStack(emulators, proxy, settings)
        direct = stack.direct()
        provision_database(build_cosmos_client(direct), direct.cosmos_database)
        provision_containers(build_blob_service(direct))
        yield stack
    finally:
        proxy.stop()
        emulators.stop()


@pytest.fixture(scope="module")
def api(host_factory: HostFactory, faults: FaultStack) -> RunningHost:
    return host_factory(**faults.settings)


@pytest.fixture(autouse=True)
def healthy_again(faults: FaultStack) -> Iterator[None]:
    """Whatever a test broke is mended before the next one."""
    yield
    faults.cosmos.clear_rules()
    faults.cosmos.up()
    faults.emulators.start_azurite()


@dataclass
class Family:
    id: str
    headers: dict[str, str]
    manager: dict[str, str]


@pytest.fixture
def family(api: RunningHost, faults: FaultStack) -> Family:
    team = str(uuid.uuid4())
    worker = _staff(faults, "SocialWorker", team)
    created = httpx.post(
        f"{api.url}/api/v1/families",
        headers=worker,
        json={"displayName": "Doe", "teamId": team},
        timeout=PATIENCE,
    )
    assert created.status_code == 201, created.text
    return Family(created.json()["id"], worker, _staff(faults, "TeamManager", team))


def _staff(faults: FaultStack, role: str, team: str) -> dict[str, str]:
    oid = str(uuid.uuid4())
    settings = faults.direct()
    faults.container(DIRECTORY.name).upsert_item(
        {
            "id": f"staff:{settings.staff_tenant_id}:{oid}",
            "type": "staff",
            "oid": oid,
            "displayName": "Sam Patel",
            "teamIds": [team],
        }
    )
    return bearer(staff_token(role, oid=oid))


def call(api: RunningHost, method: str, path: str, **options: Any) -> httpx.Response:
    return httpx.request(method, f"{api.url}/api/v1{path}", timeout=PATIENCE, **options)


def assert_unavailable(response: httpx.Response, dependency: str) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert int(response.headers["retry-after"]) > 0
    body: dict[str, Any] = response.json()
    assert body["type"] == UNAVAILABLE
    assert body["status"] == 503
    assert dependency in body["detail"]
    return body


def note_requests(
    api: RunningHost, family: Family, note_id: str, *, at_once: bool = False
) -> dict[str, httpx.Response]:
    """One of each: health, a read, a list, a create and an update; ``at_once`` sends them side
    by side (during an outage that hangs, each waits out its own timeouts)."""
    base = f"/families/{family.id}/notes"
    requests: dict[str, Callable[[], httpx.Response]] = {
        "health": lambda: call(api, "GET", "/health"),
        "read": lambda: call(api, "GET", f"{base}/{note_id}", headers=family.headers),
        "list": lambda: call(api, "GET", base, headers=family.headers),
        "create": lambda: call(api, "POST", base, headers=family.headers, json={"body": "New."}),
        "update": lambda: call(
            api, "PATCH", f"{base}/{note_id}", headers=family.headers, json={"body": "Edited."}
        ),
    }
    if not at_once:
        return {name: send() for name, send in requests.items()}
    with ThreadPoolExecutor(len(requests)) as pool:
        sent = {name: pool.submit(send) for name, send in requests.items()}
        return {name: future.result() for name, future in sent.items()}


def create_note(api: RunningHost, family: Family, body: str = "Visit went well.") -> str:
    note = call(api, "POST", f"/families/{family.id}/notes", headers=family.headers,
                json={"body": body})  # fmt: skip
    assert note.status_code == 201, note.text
    return str(note.json()["id"])


# --- Cosmos DB down ---------------------------------------------------------------------------


@pytest.mark.parametrize("outage", ["refuse", "blackhole"])
def test_a_cosmos_outage_answers_503_with_retry_after_and_the_same_host_recovers(
    api: RunningHost, faults: FaultStack, family: Family, outage: str
) -> None:
    note_id = create_note(api, family)

    getattr(faults.cosmos, outage)()
    during = note_requests(api, family, note_id, at_once=True)
    faults.cosmos.up()
    after = note_requests(api, family, note_id)

    health = assert_unavailable(during.pop("health"), "cosmos")
    assert health["checks"] == {"cosmos": "unavailable", "storage": "ok"}
    for response in during.values():
        assert_unavailable(response, "Cosmos DB")
    assert after["health"].json() == {"status": "ok", "checks": {"cosmos": "ok", "storage": "ok"}}
    assert [after[name].status_code for name in ("read", "list", "create", "update")] == [
        200, 200, 201, 200,
    ]  # fmt: skip
    assert after["update"].json()["body"] == "Edited."
    assert api.process.poll() is None, "the host stopped"


def test_connections_cut_in_the_middle_of_requests_answer_503_and_nothing_is_half_written(
    api: RunningHost, faults: FaultStack, family: Family
) -> None:
    note_id = str(uuid.uuid4())
    faults.cosmos.fail(lambda request: True, "drop", times=None)

    response = call(api, "POST", f"/families/{family.id}/notes", headers=family.headers,
                    json={"id": note_id, "body": "Cut off."})  # fmt: skip
    faults.cosmos.clear_rules()

    assert_unavailable(response, "Cosmos DB")
    assert stored_note(faults, family.id, note_id) is None
    assert events_about(faults, family.id, note_id) == []


# --- no partial writes: where a note and its audit event go, cut at each step ------------------


def stored_note(faults: FaultStack, family_id: str, note_id: str) -> dict[str, Any] | None:
    rows = list(
        faults.container(RECORDS.name).query_items(
            "SELECT * FROM c WHERE c.familyId = @familyId AND c.id = @id",
            parameters=[
                {"name": "@familyId", "value": family_id},
                {"name": "@id", "value": note_id},
            ],
            partition_key=family_id,
        )
    )
    assert len(rows) <= 1
    return rows[0] if rows else None


def events_about(faults: FaultStack, family_id: str, record_id: str) -> list[tuple[str, str]]:
    rows = faults.container(AUDIT.name).query_items(
        "SELECT * FROM c WHERE c.familyId = @familyId AND c.recordId = @id",
        parameters=[{"name": "@familyId", "value": family_id}, {"name": "@id", "value": record_id}],
        partition_key=family_id,
    )
    return [(row["action"], row["outcome"]) for row in sorted(rows, key=seal_order)]


def chain_is_intact(faults: FaultStack, family_id: str) -> bool:
    """Seal the family's events (behind the app's back, as its timer would) and verify them."""
    direct = faults.direct()
    store = CosmosAudit(faults.container(AUDIT.name))
    anchors = BlobAnchors(build_blob_service(direct))
    key = load_seal_key(direct)
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)
    sealer = Sealer(store, anchors, key, lambda: datetime.now(UTC), settle_seconds=1)
    for _ in range(2):  # a second pass finishes what the host's own timer raced for
        sealer.seal_family(family_id)
    report = verify_chain(store, anchors, key, family_id)
    assert report.ok, report.problems
    assert report.events > 0
    return True


def write_to(container: str, method: str) -> Callable[[SeenRequest], bool]:
    def matches(request: SeenRequest) -> bool:
        return (
            request.method == method
            and f"/colls/{container}/docs" in request.path
            and not request.is_query
        )

    return matches


STEPS = {
    "create": [("audit", "POST"), ("records", "POST")],
    "update": [("audit", "POST"), ("records", "PUT")],
}
ACTIONS: list[Action] = ["drop", "lose-answer", 503]


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("step", [0, 1], ids=["audit-step", "record-step"])
def test_a_note_create_cut_at_any_step_is_never_stored_unaudited_and_a_retry_stores_it_once(
    api: RunningHost, faults: FaultStack, family: Family, step: int, action: Action
) -> None:
    note_id = str(uuid.uuid4())
    container, method = STEPS["create"][step]
    body = {"id": note_id, "body": "Kept once."}
    faults.cosmos.fail(write_to(container, method), action)

    cut = call(api, "POST", f"/families/{family.id}/notes", headers=family.headers, json=body)
    stored = stored_note(faults, family.id, note_id)
    events = events_about(faults, family.id, note_id)
    retried = call(api, "POST", f"/families/{family.id}/notes", headers=family.headers, json=body)

    assert_unavailable(cut, "Cosmos DB")
    if stored is not None:
        assert ("create", "ok") in events, "a note was stored without its audit event"
    assert retried.status_code in (200, 201), retried.text
    assert retried.json()["body"] == "Kept once."
    assert stored_note(faults, family.id, note_id) is not None
    assert events_about(faults, family.id, note_id)[-1][0] == "create"
    assert chain_is_intact(faults, family.id)


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("step", [0, 1], ids=["audit-step", "record-step"])
def test_a_note_update_cut_at_any_step_is_never_stored_unaudited_and_a_retry_applies_it(
    api: RunningHost, faults: FaultStack, family: Family, step: int, action: Action
) -> None:
    note_id = create_note(api, family, "Before.")
    container, method = STEPS["update"][step]
    path = f"/families/{family.id}/notes/{note_id}"
    faults.cosmos.fail(write_to(container, method), action)

    cut = call(api, "PATCH", path, headers=family.headers, json={"body": "After."})
    stored = stored_note(faults, family.id, note_id)
    events = events_about(faults, family.id, note_id)
    retried = call(api, "PATCH", path, headers=family.headers, json={"body": "After."})

    assert_unavailable(cut, "Cosmos DB")
    assert stored is not None
    if stored["body"] == "After.":
        assert ("update", "ok") in events, "an update was stored without its audit event"
    assert retried.status_code == 200, retried.text
    assert (stored_note(faults, family.id, note_id) or {}).get("body") == "After."
    assert ("update", "ok") in events_about(faults, family.id, note_id)
    assert chain_is_intact(faults, family.id)


def test_a_note_and_its_audit_event_need_no_blob_storage(
    api: RunningHost, faults: FaultStack, family: Family
) -> None:
    faults.emulators.stop_azurite()

    note_id = create_note(api, family, "Written while Storage is down.")
    edited = call(api, "PATCH", f"/families/{family.id}/notes/{note_id}",
                  headers=family.headers, json={"body": "Edited."})  # fmt: skip
    health = call(api, "GET", "/health")

    assert edited.status_code == 200, edited.text
    assert events_about(faults, family.id, note_id) == [("create", "ok"), ("update", "ok")]
    assert assert_unavailable(health, "storage")["checks"] == {
        "cosmos": "ok",
        "storage": "unavailable",
    }


# --- Azurite down -----------------------------------------------------------------------------


def test_a_storage_outage_is_503_on_health_and_uploads_wait_for_storage_to_return(
    api: RunningHost, faults: FaultStack, family: Family
) -> None:
    """Locally upload URLs are signed with the account key, without calling Storage, so a slot
    is still issued; the client's PUT fails until Storage is back, then succeeds."""
    before = build_blob_service(faults.direct()).get_blob_client("originals", f"{uuid.uuid4()}")
    before.upload_blob(b"kept across the outage")

    faults.emulators.stop_azurite()
    health = call(api, "GET", "/health")
    slot = call(api, "POST", f"/families/{family.id}/media", headers=family.headers,
                json={"kind": "photo", "contentType": "image/png", "sizeBytes": 68})  # fmt: skip
    upload = slot.json()["upload"]
    with pytest.raises(httpx.TransportError):
        httpx.put(upload["url"], content=b"x", headers=upload["headers"], timeout=PATIENCE)
    faults.emulators.start_azurite()
    recovered = call(api, "GET", "/health")
    uploaded = httpx.put(upload["url"], content=b"x", headers=upload["headers"], timeout=PATIENCE)

    body = assert_unavailable(health, "storage")
    assert body["checks"] == {"cosmos": "ok", "storage": "unavailable"}
    assert slot.status_code == 201, slot.text
    assert recovered.status_code == 200, recovered.text
    assert uploaded.status_code == 201, uploaded.text
    assert before.download_blob().readall() == b"kept across the outage"
    assert api.process.poll() is None, "the host stopped"


# --- the SMS provider down ---------------------------------------------------------------------

MOBILE = "+447700900123"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
RUN_EVERY = timedelta(minutes=5)


@dataclass
class Reminders:
    acs: AcsSmsServer
    proxy: FaultProxy
    clock: FrozenClock
    service: ReminderService
    family_id: str
    claims: ClaimStore

    def run(self) -> RunReport:
        report = self.service.run()
        self.clock.advance(RUN_EVERY)
        return report


@pytest.fixture
def reminders(
    faults: FaultStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Reminders]:
    """One visit a day ahead and one member to remind, the real ACS client through a fault
    proxy to the ACS test server, and the claims in Cosmos DB (through its fault proxy)."""
    from shared.bootstrap import get_runtime, reset_runtime
    from shared.reminders.notifications import reminder_config

    acs = AcsSmsServer(tmp_path / "acs-certs").start()
    proxy = FaultProxy(acs.port).start()
    for name, value in faults.settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(
        "SMS_ACS_CONNECTION_STRING",
        f"endpoint=https://localhost:{proxy.port}/;accesskey={acs.state.access_key}",
    )
    monkeypatch.setenv("SMS_ACS_CA_CERTIFICATE", str(acs.certificate))
    reset_runtime()
    runtime = get_runtime()
    family_id = str(uuid.uuid4())
    families = InMemoryFamilies()
    families.put_visit(
        Visit(id="v1", family_id=family_id, starts_at=NOW + timedelta(hours=24), status="scheduled")
    )
    families.put_member(
        Member(id="m1", family_id=family_id, display_name="Sam", phone=MOBILE, sms_reminders=True)
    )
    clock = FrozenClock(NOW)
    service = ReminderService(
        visits=families,
        members=families,
        claims=runtime.claim_store,
        sender=runtime.sms_sender,
        templates=runtime.sms_templates,
        config=reminder_config(runtime),
        clock=clock,
    )
    try:
        yield Reminders(acs, proxy, clock, service, family_id, runtime.claim_store)
    finally:
        proxy.stop()
        acs.stop()
        reset_runtime()


def only_claim(reminders: Reminders) -> Claim:
    visit = Visit(
        id="v1", family_id=reminders.family_id, starts_at=NOW + timedelta(hours=24),
        status="scheduled",
    )  # fmt: skip
    [claim] = reminders.claims.for_visits([visit])
    return claim


@pytest.mark.parametrize("outage", ["refused", "5xx"])
def test_an_sms_provider_outage_is_retried_by_later_runs_and_texts_exactly_once(
    reminders: Reminders, outage: str
) -> None:
    if outage == "refused":
        reminders.proxy.refuse()
    else:
        reminders.acs.fail_next(503, times=6)

    during = [reminders.run(), reminders.run()]
    reminders.proxy.up()
    after = [reminders.run(), reminders.run(), reminders.run()]

    assert [(r.sent, r.failed) for r in during] == [(0, 1), (0, 1)]
    assert [r.sent for r in after] == [1, 0, 0]
    [message] = reminders.acs.messages
    claim = only_claim(reminders)
    assert (claim.status, claim.attempts, claim.message_id) == ("sent", 3, message.message_id)
    if outage == "5xx":
        assert [r.status for r in reminders.acs.requests] == [503] * 6 + [202]


def test_an_sms_outage_longer_than_the_attempts_allowed_fails_for_good_and_never_texts(
    reminders: Reminders,
) -> None:
    reminders.proxy.refuse()

    during = [reminders.run() for _ in range(3)]
    reminders.proxy.up()
    after = reminders.run()

    assert [r.failed for r in during] == [1, 1, 1]
    assert after.sent == 0
    assert reminders.acs.messages == []
    claim = only_claim(reminders)
    assert (claim.status, claim.reason, claim.attempts) == ("failed", "attempts-exhausted", 3)


def test_a_text_accepted_by_the_provider_whose_answer_was_lost_is_never_sent_again(
    reminders: Reminders,
) -> None:
    reminders.acs.drop_next()

    first = reminders.run()
    later = [reminders.run() for _ in range(3)]

    assert (first.failed, first.outcome_unknown) == (1, 1)
    assert [r.sent for r in later] == [0, 0, 0]
    assert len(reminders.acs.messages) == 1
    claim = only_claim(reminders)
    assert (claim.status, claim.reason) == ("failed", "outcome-unknown")


def test_a_text_sent_while_cosmos_fails_to_record_it_is_never_sent_again(
    reminders: Reminders, faults: FaultStack
) -> None:
    faults.cosmos.fail(write_to(RECORDS.name, "PUT"), 503, times=None)

    with pytest.raises(StorageUnavailableError) as outage:
        reminders.run()
    assert isinstance(outage.value.__cause__, CosmosHttpResponseError)
    assert outage.value.__cause__.status_code == 503
    faults.cosmos.clear_rules()
    later = [reminders.run() for _ in range(5)]

    assert len(reminders.acs.messages) == 1
    assert sum(r.sent for r in later) == 0
    assert sum(r.outcome_unknown for r in later) == 1
    claim = only_claim(reminders)
    assert (claim.status, claim.reason) == ("failed", "outcome-unknown")


def test_a_text_to_a_provider_that_hangs_has_an_unknown_outcome_and_is_never_sent_again(
    reminders: Reminders,
) -> None:
    reminders.proxy.blackhole()

    first = reminders.run()
    reminders.proxy.up()
    later = [reminders.run() for _ in range(3)]

    assert (first.failed, first.outcome_unknown) == (1, 1)
    assert [r.sent for r in later] == [0, 0, 0]
    assert reminders.acs.messages == []
    claim = only_claim(reminders)
    assert (claim.status, claim.reason) == ("failed", "outcome-unknown")


def test_a_host_started_during_a_cosmos_outage_serves_once_cosmos_is_back(
    host_factory: HostFactory, faults: FaultStack, family: Family
) -> None:
    """The Cosmos DB client asks the account for its regions when it is built; a build that
    fails is not kept, so the first request after the outage builds it again."""
    faults.cosmos.refuse()
    late = host_factory(**faults.settings)

    during = call(late, "GET", f"/families/{family.id}/notes", headers=family.headers)
    faults.cosmos.up()
    after = call(late, "GET", f"/families/{family.id}/notes", headers=family.headers)

    assert_unavailable(during, "Cosmos DB")
    assert after.status_code == 200, after.text
