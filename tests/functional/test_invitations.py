"""Redeeming invitations: which contact claims are trusted."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local.emulators import Emulators
from tests.functional.world import World
from tests.tokens import family_token


def uid() -> str:
    return str(uuid.uuid4())


def new_member(world: World, phone: str) -> str:
    made = world.api.post(
        f"/families/{world.family}/members",
        world.token("social_worker"),
        {"displayName": "Jamie Jones", "relationship": "brother", "phone": phone},
    )
    assert made.status == 201, made.body
    return str(made.body["id"])


def invite(world: World, member_id: str) -> str:
    made = world.api.post(
        f"/families/{world.family}/invitations",
        world.token("social_worker"),
        {"memberId": member_id},
    )
    assert made.status == 201, made.body
    return str(made.body["code"])


def redeem(world: World, token: str, code: str) -> Any:
    return world.api.post("/invitations/redeem", token, {"code": code})


def verified_phone(phone: str) -> str:
    return family_token(oid=uid(), phone_number=phone, phone_number_verified=True)


@pytest.mark.parametrize(
    "verified",
    [None, "true", 1, False],
    ids=["no verified claim", "string true", "number one", "false"],
)
def test_a_matching_contact_without_a_verified_claim_of_true_does_not_redeem(
    world: World, stack: Emulators, verified: Any
) -> None:
    phone, email = "+447700900611", "jamie@example.org"
    member = new_member(world, phone)
    code = invite(world, member)
    claims: dict[str, Any] = {"phone_number": phone, "email": email}
    if verified is not None:
        claims |= {"phone_number_verified": verified, "email_verified": verified}
    unverified = family_token(oid=uid(), **claims)

    assert redeem(world, unverified, code).status == 404
    assert redeem(world, verified_phone(phone), code).status == 200


def test_a_verified_email_redeems_for_a_member_with_that_email(
    world: World, stack: Emulators
) -> None:
    made = world.api.post(
        f"/families/{world.family}/members",
        world.token("social_worker"),
        {"displayName": "Robin Jones", "relationship": "aunt", "email": "Robin@Example.org"},
    )
    assert made.status == 201, made.body
    code = invite(world, made.body["id"])
    token = family_token(oid=uid(), email="robin@example.org", email_verified=True)
    assert redeem(world, token, code).status == 200
