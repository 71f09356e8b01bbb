"""The chronology through the API on the emulators: its own events, the records marked
significant, one query to build it, the court's CSV and a Word document opened with python-docx
and compared with the JSON."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import docx
import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from shared.reminders.memory import FrozenClock
from tests.functional.world import World


@pytest.fixture
def family(world: World, stack: Emulators) -> str:
    """A family of its own for each test, allocated to the world's social worker, whose member
    is the world's family member."""
    get_runtime().clock = FrozenClock(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    sw = world.token("social_worker")
    made = world.api.post("/families", sw, {"displayName": "The Ahmed family",
                                            "teamId": world.team_a})  # fmt: skip
    assert made.status == 201, made.body
    return str(made.body["id"])


def post(world: World, family: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    made = world.api.post(f"/families/{family}/{path}", world.token("social_worker"), body)
    assert made.status == 201, made.body
    return dict(made.body)


def story(world: World, family: str) -> dict[str, str]:
    ids = {}
    ids["referral"] = post(
        world, family, "chronology",
        {"date": "2026-03-02", "category": "safeguarding", "summary": "Referral from school."},
    )["id"]  # fmt: skip
    ids["school"] = post(
        world, family, "chronology",
        {"date": "2026-10-14", "category": "education", "visibility": "family",
         "summary": "Mia started at Greenfield Primary."},
    )["id"]  # fmt: skip
    ids["note"] = post(
        world, family, "notes", {"body": 'Mum said: "we\'re managing".', "significant": True}
    )["id"]
    post(world, family, "notes", {"body": "Routine call."})
    ids["visit"] = post(
        world, family, "visits",
        {"startsAt": "2026-11-26T16:00:00Z", "endsAt": "2026-11-26T17:00:00Z", "location": "Home",
         "status": "completed", "outcome": {"happened": True}},
    )["id"]  # fmt: skip
    return ids


def test_events_are_added_changed_and_removed_by_staff_only(world: World, family: str) -> None:
    base = f"/families/{family}/chronology"
    sw = world.token("social_worker")
    made = world.api.post(
        base, sw, {"date": "2026-03-02", "category": "legal", "summary": "Care order."}
    )
    assert made.status == 201, made.body
    assert made.header("Location") == f"/api/v1{base}/{made.body['id']}"
    assert made.body["visibility"] == "professionals"
    assert made.body["type"] == "chronologyEvent"
    item = f"{base}/{made.body['id']}"
    bad = world.api.post(base, sw, {"date": "2026-03-02", "category": "gossip", "summary": "x"})
    assert bad.status == 422

    changed = world.api.patch(
        item, sw, {"summary": "Interim care order."}, headers={"If-Match": made.header("ETag")}
    )
    assert changed.status == 200, changed.body
    assert world.api.get(base, sw).body["items"][0]["summary"] == "Interim care order."
    assert world.api.delete(item, sw, headers={"If-Match": changed.header("ETag")}).status == 204
    assert world.api.get(base, sw).body == {"items": []}


def test_the_chronology_is_built_from_the_records_oldest_first(world: World, family: str) -> None:
    ids = story(world, family)

    found = world.api.get(f"/families/{family}/chronology", world.token("social_worker"))

    assert found.status == 200, found.body
    assert [(i["serial"], i["date"], i["source"]) for i in found.body["items"]] == [
        (1, "2026-03-02", {"type": "chronologyEvent", "id": ids["referral"]}),
        (2, "2026-10-14", {"type": "chronologyEvent", "id": ids["school"]}),
        (3, "2026-11-26", {"type": "visit", "id": ids["visit"]}),
        (4, "2026-12-01", {"type": "note", "id": ids["note"]}),
    ]
    assert found.body["items"][2] == {
        "serial": 3, "date": "2026-11-26", "category": "safeguarding",
        "summary": "Visit at Home.", "source": {"type": "visit", "id": ids["visit"]},
        "visibility": "family",
    }  # fmt: skip


def test_a_family_member_sees_their_part_numbered_from_one(world: World, family: str) -> None:
    ids = story(world, family)
    member = post(world, family, "members", {"displayName": "Pat", "relationship": "mother"})
    from tests.functional.world import link_family_member

    parent = link_family_member(family, member["id"], "+447700900555")

    found = world.api.get(f"/families/{family}/chronology", parent.token)

    assert [(i["serial"], i["source"]["id"]) for i in found.body["items"]] == [
        (1, ids["school"]),
        (2, ids["visit"]),
    ]
    refused = world.api.post(
        f"/families/{family}/chronology",
        parent.token,
        {"date": "2026-11-01", "category": "family", "summary": "We moved."},
    )
    assert refused.status == 403
    outsider = world.api.get(f"/families/{family}/chronology", world.token("other_team_manager"))
    assert outsider.status == 404


def test_the_csv_has_the_courts_columns(world: World, family: str) -> None:
    ids = story(world, family)

    found = world.api.get(
        f"/families/{family}/chronology",
        world.token("social_worker"),
        params={"format": "csv"},
        parse=False,
    )

    assert found.status == 200
    assert found.header("Content-Type") == "text/csv; charset=utf-8"
    assert found.header("Content-Disposition") == (
        f'attachment; filename="chronology-{family}.csv"'
    )
    rows = list(csv.reader(io.StringIO(found.raw.decode("utf-8-sig"))))
    assert rows == [
        ["serial", "date", "event", "source"],
        ["1", "02/03/2026", "Referral from school.", f"Chronology entry {ids['referral']}"],
        ["2", "14/10/2026", "Mia started at Greenfield Primary.",
         f"Chronology entry {ids['school']}"],
        ["3", "26/11/2026", "Visit at Home.", f"Visit {ids['visit']}"],
        ["4", "01/12/2026", "Mum said: \"we're managing\".", f"Case note {ids['note']}"],
    ]  # fmt: skip


def test_the_word_document_holds_the_same_table_as_the_json(world: World, family: str) -> None:
    story(world, family)
    sw = world.token("social_worker")
    items = world.api.get(f"/families/{family}/chronology", sw).body["items"]

    found = world.api.get(
        f"/families/{family}/chronology", sw, params={"format": "docx"}, parse=False
    )

    assert found.status == 200
    assert found.header("Content-Type") == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    document = docx.Document(io.BytesIO(found.raw))
    assert document.paragraphs[0].text == "The Ahmed family: chronology at 1 December 2026"
    [table] = document.tables
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    labels = {"chronologyEvent": "Chronology entry", "visit": "Visit", "note": "Case note"}
    assert cells == [
        ["Serial", "Date", "Event", "Source"],
        *[
            [
                str(i["serial"]),
                datetime.strptime(i["date"], "%Y-%m-%d").strftime("%d/%m/%Y"),
                i["summary"],
                f"{labels[i['source']['type']]} {i['source']['id']}",
            ]
            for i in items
        ],
    ]
    assert len(cells) == 5


def test_unknown_formats_are_a_400(world: World, family: str) -> None:
    found = world.api.get(
        f"/families/{family}/chronology", world.token("social_worker"), params={"format": "pdf"}
    )
    assert found.status == 400
    assert found.body["type"] == "urn:familystory:problem:bad-request"
