"""A repeated create answers with the stored record only while the caller may still see it.

A family member's app that lost the answer to a note it posted sends it again; by then staff
may have un-shared the note and changed it. The repeat used to answer 200 with the record as
stored, staff's words included; a record out of reach is 404, as for any other read.
"""

from __future__ import annotations

import uuid

from local.emulators import Emulators
from tests.functional.world import World


def test_a_family_members_retried_note_is_not_served_once_staff_unshare_it(
    world: World, stack: Emulators
) -> None:
    family, worker = world.token("family_member"), world.token("social_worker")
    notes = f"/families/{world.family}/notes"
    body = {"id": str(uuid.uuid4()), "body": "We went to the park."}
    made = world.api.post(notes, family, body)
    assert made.status == 201, made.body
    note = f"{notes}/{body['id']}"
    hidden = world.api.patch(note, worker, {"visibility": "professionals"})
    assert hidden.status == 200, hidden.body
    edited = world.api.patch(note, worker, {"body": "Staff only: concerns about the park."})
    assert edited.status == 200, edited.body

    again = world.api.post(notes, family, body)

    assert again.status == 404, again.body
    assert "Staff only" not in str(again.body)
