"""The pilot evaluation on the emulators: a month of activity for two teams, counted by the
hourly update as it happened, checked figure by figure against what was done, and equal to a
rebuild of the month."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.emulators import Emulators
from local.evaluation import main as rebuild_command
from shared.adapters.cosmos import provision_database
from shared.bootstrap import get_runtime, reset_runtime
from shared.evaluation import service as evaluation
from tests.functional.api import InProcessApi
from tests.functional.world import link_family_member, staff, uid

WEEKS = ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
TUESDAYS = [datetime(2026, 11, 3, 10, 0, tzinfo=UTC) + timedelta(weeks=n) for n in range(4)]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(stack: Emulators, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A database of this test's own (the updater and the rebuild count every team in theirs),
    at a frozen clock, with suppression off so every figure is shown."""
    monkeypatch.setenv("EVALUATION_MIN_COUNT", "0")
    monkeypatch.setenv("COSMOS_DATABASE", f"evaluation-{uid()[:8]}")
    reset_runtime()
    provision_database(get_runtime().cosmos_client, get_runtime().settings.cosmos_database)
    frozen = Clock(TUESDAYS[0])
    get_runtime().clock = frozen
    return frozen


def family_of(api: InProcessApi, worker: str, team: str) -> tuple[str, str]:
    """A family of ``team`` and the token of its parent, who has signed in."""
    made = api.post("/families", worker, {"displayName": "Evans", "teamId": team})
    assert made.status == 201, made.body
    parent = api.post(f"/families/{made.body['id']}/members", worker,
                      {"displayName": "Rae Evans", "relationship": "mother"})  # fmt: skip
    assert parent.status == 201, parent.body
    signed_in = link_family_member(made.body["id"], parent.body["id"], "+447700900555")
    return made.body["id"], signed_in.token


def child_of(api: InProcessApi, worker: str, family_id: str) -> str:
    child = api.post(f"/families/{family_id}/members", worker,
                     {"displayName": "Mo Evans", "relationship": "son", "child": True,
                      "dateOfBirth": "2016-03-01"})  # fmt: skip
    assert child.status == 201, child.body
    return str(child.body["id"])


def test_a_month_for_two_teams_counted_as_it_happened_and_as_rebuilt(
    clock: Clock, api: InProcessApi
) -> None:
    team_a, team_b = uid(), uid()
    worker_a = staff("SocialWorker", "Sam Patel", [team_a]).token
    manager_a = staff("TeamManager", "Ali Khan", [team_a]).token
    worker_b = staff("SocialWorker", "Kim Lee", [team_b]).token
    head = staff("HeadOfService", "Chris Ward", []).token
    family_a, parent_a = family_of(api, worker_a, team_a)
    family_b, _ = family_of(api, worker_b, team_b)
    child = child_of(api, worker_a, family_a)
    base = f"/families/{family_a}"

    for week, tuesday in enumerate(TUESDAYS):
        clock.now = tuesday
        shared_note = ""
        for n in range(week + 2):  # week + 2 staff notes, week + 1 of them shared
            visibility = "family" if n <= week else "professionals"
            note = api.post(f"{base}/notes", worker_a, {"body": "Visit", "visibility": visibility})
            assert note.status == 201, note.body
            shared_note = shared_note or note.body["id"]
        assert api.post(f"{base}/notes", parent_a, {"body": "From us"}).status == 201
        for _ in range(2):
            said = api.post(f"{base}/notes/{shared_note}/comments", parent_a, {"body": "Thanks"})
            assert said.status == 201, said.body
        agenda = api.post(f"{base}/agendas", worker_a, {"title": "Next", "visibility": "family"})
        added = api.post(f"{base}/agendas/{agenda.body['id']}/items", parent_a, {"text": "School"})
        assert added.status == 201, added.body
        photo = {"kind": "photo", "contentType": "image/jpeg", "sizeBytes": 1000}
        assert api.post(f"{base}/media", worker_a, photo).status == 201
        visit = api.post(f"{base}/visits", worker_a, {
            "startsAt": (tuesday - timedelta(hours=1)).isoformat(),
            "endsAt": tuesday.isoformat(), "location": "Home"})  # fmt: skip
        done = api.patch(f"{base}/visits/{visit.body['id']}", worker_a, {"status": "completed"})
        assert done.status == 200, done.body
        if week < 3:  # recorded (week + 1) * 2 hours after the visit ended; the last one not yet
            clock.now = tuesday + timedelta(hours=2 * (week + 1))
            alone = week != 1
            seen = {"memberId": child, "seen": True, "seenAlone": alone}
            if not alone:
                seen["notSeenAloneReason"] = "He asked for his mother to stay."
            outcome = {"happened": True, "childrenSeen": [seen], "present": ["Rae Evans"]}
            recorded = api.patch(
                f"{base}/visits/{visit.body['id']}", worker_a, {"outcome": outcome}
            )
            assert recorded.status == 200, recorded.body
            clock.now = tuesday
        answers = {"listenedTo": 4, "understoodPlan": 3 + week % 2}
        said = api.post(
            f"{base}/words", parent_a, {"kind": "after-visit", "text": "Good.", "answers": answers}
        )
        assert said.status == 201, said.body
        if week == 1:  # a device pushes an edit made offline against an old version
            old = api.get(f"{base}/notes/{shared_note}", worker_a).body["version"]
            assert api.patch(f"{base}/notes/{shared_note}", worker_a, {"body": "Now"}).status == 200
            edit = {
                "opId": uid(),
                "type": "note",
                "action": "update",
                "id": shared_note,
                "familyId": family_a,
                "baseVersion": old,
                "data": {"body": "Offline"},
            }
            pushed = api.post("/sync", worker_a, {"operations": [edit]})
            assert pushed.body["results"][0]["status"] == "conflict", pushed.body
        if week == 0:
            for _ in range(3):
                shared = {"body": "B", "visibility": "family"}
                assert api.post(f"/families/{family_b}/notes", worker_b, shared).status == 201
        if week in (0, 2):  # the hourly timer, now and then
            clock.now = tuesday + timedelta(hours=1)
            evaluation.update(get_runtime())
    clock.now = TUESDAYS[-1] + timedelta(days=1)
    evaluation.update(get_runtime())

    month = {"from": "2026-11-02", "to": "2026-11-29"}
    mine = api.get("/evaluation", manager_a, params=month)
    assert mine.status == 200, mine.body
    assert [t["teamId"] for t in mine.body["teams"]] == [team_a]
    weeks = mine.body["teams"][0]["weeks"]
    assert [w["week"] for w in weeks] == WEEKS

    def value(week: dict[str, Any], question: str, name: str) -> Any:
        assert week[question][name]["suppressed"] is False
        return week[question][name]["value"]

    for n, week in enumerate(weeks):
        assert value(week, "time", "staffNotes") == n + 2
        assert value(week, "understanding", "notesSharedShare") == round((n + 1) / (n + 2), 2)
        assert value(week, "relationship", "familyNotes") == 1
        assert value(week, "relationship", "familyComments") == 2
        assert value(week, "relationship", "familyAgendaItems") == 1
        assert value(week, "understanding", "mediaPhoto") == 1
        assert value(week, "understanding", "mediaAudio") == 0
        assert value(week, "time", "visitsHeld") == 1
        assert value(week, "practice", "visitsRecorded") == (1 if n < 3 else 0)
        assert value(week, "practice", "childrenSeen") == (1 if n < 3 else 0)
        assert value(week, "practice", "childrenSeenAlone") == (1 if n in (0, 2) else 0)
        assert value(week, "time", "medianHoursToRecord") == (2.0 * (n + 1) if n < 3 else None)
        assert value(week, "time", "syncConflicts") == (1 if n == 1 else 0)
        assert value(week, "relationship", "wordsEntries") == 1
        assert value(week, "relationship", "listenedToAnswers") == 1
        assert value(week, "relationship", "listenedToMean") == 4.0
        assert value(week, "understanding", "understoodPlanMean") == 3.0 + n % 2

    everyone = api.get("/evaluation", head, params=month).body
    assert sorted(t["teamId"] for t in everyone["teams"]) == sorted([team_a, team_b])
    team_b_weeks = next(t for t in everyone["teams"] if t["teamId"] == team_b)["weeks"]
    assert value(team_b_weeks[0], "time", "staffNotes") == 3
    assert value(team_b_weeks[0], "understanding", "notesSharedShare") == 1.0
    assert api.get("/evaluation", manager_a, params={**month, "teamId": team_b}).status == 404
    assert api.get("/evaluation", worker_a, params=month).status == 403
    assert api.get("/evaluation", parent_a, params=month).status == 404
    assert api.get("/evaluation", head, params={"from": "2026-11-02"}).status == 400
    assert api.get("/evaluation", head, params={**month, "format": "xml"}).status == 400

    as_csv = api.get("/evaluation", manager_a, params={**month, "format": "csv"}, parse=False)
    assert as_csv.status == 200
    lines = list(csv.reader(io.StringIO(as_csv.raw.decode())))
    assert [team_a, "2026-W46", "time", "syncConflicts", "1", "false"] in lines

    store = get_runtime().evaluation_store

    def stored() -> dict[str, dict[str, int]]:
        """Each team-week with any activity (a rebuild also writes the empty ones)."""
        rows = store.rows([team_a, team_b], WEEKS[0], WEEKS[-1])
        return {r["id"]: r["counts"] for r in rows if any(r["counts"].values())}

    incremental = stored()
    assert rebuild_command(["rebuild", "--from", "2026-11-02", "--to", "2026-11-29"]) == 0
    assert stored() == incremental
    assert len(incremental) == 5  # team A's four weeks, team B's first
