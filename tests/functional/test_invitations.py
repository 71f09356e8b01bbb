"""Redeeming invitations: which contact claims are trusted, the attempt limit under concurrency
and over a rolling hour, and which of a member's codes stay valid."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.emulators import Emulators
from shared.bootstrap import get_runtime
from tests.functional.world import World
from tests.tokens import family_token

GUESSERS = 40


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


def test_forty_concurrent_wrong_codes_are_evaluated_at_most_five_times(
    world: World, stack: Emulators
) -> None:
    guesser = verified_phone("+447700900612")
    start = threading.Barrier(GUESSERS)
    answers: list[Any] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        start.wait()
        answer = redeem(world, guesser, f"WRONG{i:05d}")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = [answer.status for answer in answers]
    assert set(statuses) <= {404, 429}
    assert 1 <= statuses.count(404) <= 5
    for answer in answers:
        if answer.status == 429:
            assert answer.body["status"] == 429
            assert 0 < int(answer.header("Retry-After")) <= 3600


def test_the_limit_is_five_failures_in_any_rolling_hour(world: World, stack: Emulators) -> None:
    runtime = get_runtime()
    now = datetime(2026, 12, 7, 10, 59, tzinfo=UTC)
    runtime.clock = lambda: now
    guesser = verified_phone("+447700900613")
    assert [redeem(world, guesser, f"WRONG{i:05d}").status for i in range(3)] == [404] * 3
    now = now.replace(hour=11, minute=30)
    assert [redeem(world, guesser, f"WRONG1{i:04d}").status for i in range(2)] == [404] * 2

    now = now.replace(minute=31)
    refused = redeem(world, guesser, "WRONG99999")
    assert refused.status == 429
    assert refused.header("Retry-After") == str(28 * 60)

    now = now.replace(minute=59)
    assert [redeem(world, guesser, f"WRONG2{i:04d}").status for i in range(4)] == [404] * 3 + [429]
    now += timedelta(minutes=31)
    assert redeem(world, guesser, "WRONG88888").status == 404


def test_a_successful_redemption_does_not_use_up_an_attempt(world: World, stack: Emulators) -> None:
    phone = "+447700900614"
    code = invite(world, new_member(world, phone))
    caller = verified_phone(phone)
    assert [redeem(world, caller, f"WRONG{i:05d}").status for i in range(4)] == [404] * 4
    assert redeem(world, caller, code).status == 200
    assert redeem(world, caller, "WRONG55555").status == 404
    assert redeem(world, caller, "WRONG66666").status == 429


def test_a_new_invitation_makes_the_members_older_code_invalid(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900615"
    member = new_member(world, phone)
    older = invite(world, member)
    newer = invite(world, member)
    assert redeem(world, verified_phone(phone), older).status == 404
    redeemed = redeem(world, verified_phone(phone), newer)
    assert redeemed.status == 200
    assert redeemed.body == {"familyId": world.family, "memberId": member}


def test_an_invitation_for_another_member_leaves_a_members_code_valid(
    world: World, stack: Emulators
) -> None:
    phone = "+447700900616"
    member = new_member(world, phone)
    code = invite(world, member)
    invite(world, new_member(world, "+447700900617"))
    assert redeem(world, verified_phone(phone), code).status == 200
