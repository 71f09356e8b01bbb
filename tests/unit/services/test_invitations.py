"""Invitations and their redemption on the in-memory ports: links made, codes single-use and
newest-only, and five failed attempts an hour."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.access import Caller
from shared.errors import NotFoundError, TooManyRequestsError
from shared.records.models import InvitationIn, RedeemIn
from shared.services.invitations import (
    code_hash,
    create_invitation,
    redeem_invitation,
    text_invitation,
)
from tests.unit.services.casebook import Casebook, signed_in


@pytest.fixture
def book() -> Casebook:
    return Casebook()


def invite(book: Casebook) -> str:
    body = InvitationIn.model_validate({"memberId": book.member_id})
    made = create_invitation(
        book.runtime, book.worker, book.family_id, body, text_invitation(book.runtime)
    )
    return made["code"]


def redeem(book: Casebook, caller: Caller, code: str) -> dict[str, str]:
    return redeem_invitation(book.runtime, caller, RedeemIn.model_validate({"code": code}))


def test_an_invitation_is_texted_and_only_its_hash_is_stored(book: Casebook) -> None:
    code = invite(book)

    [text] = book.runtime.sms_sender.sent
    assert f"{code[:5]}-{code[5:]}" in text.text
    stored = book.runtime.directory.read(f"invitation:{code_hash(code)}") or {}
    assert stored["memberId"] == book.member_id
    assert code not in str(stored)


def test_redeeming_links_the_sign_in_to_the_member_once(book: Casebook) -> None:
    code = invite(book)
    newcomer = signed_in(book.runtime, {})

    assert redeem(book, newcomer, code) == {"familyId": book.family_id, "memberId": book.member_id}

    link = book.runtime.directory.read(f"familylink:{newcomer.principal.key}") or {}
    assert link["memberships"] == {book.family_id: book.member_id}
    member = book.runtime.records.read(book.family_id, book.member_id) or {}
    assert member["identity"] == {
        "tid": newcomer.principal.tenant_id,
        "oid": newcomer.principal.object_id,
    }
    with pytest.raises(NotFoundError):
        redeem(book, signed_in(book.runtime, {}), code)


def test_only_the_newest_invitation_of_a_member_is_valid(book: Casebook) -> None:
    older, newer = invite(book), invite(book)
    with pytest.raises(NotFoundError):
        redeem(book, signed_in(book.runtime, {}), older)
    assert redeem(book, signed_in(book.runtime, {}), newer)["memberId"] == book.member_id


def test_an_expired_code_or_another_phone_is_refused_alike(book: Casebook) -> None:
    code = invite(book)
    with pytest.raises(NotFoundError) as other_phone:
        redeem(book, signed_in(book.runtime, {}, phone="+447700900999"), code)
    book.runtime.clock.advance(timedelta(hours=72, seconds=1))
    with pytest.raises(NotFoundError) as expired:
        redeem(book, signed_in(book.runtime, {}), code)
    assert other_phone.value.detail == expired.value.detail


def test_five_wrong_codes_an_hour_then_429_until_the_oldest_frees(book: Casebook) -> None:
    guesser = signed_in(book.runtime, {})
    for _ in range(5):
        with pytest.raises(NotFoundError):
            redeem(book, guesser, "WRONGCODE1")
        book.runtime.clock.advance(timedelta(minutes=1))

    with pytest.raises(TooManyRequestsError) as refused:
        redeem(book, guesser, invite(book))
    assert refused.value.retry_after_seconds == 55 * 60  # the first failure, 5 minutes ago

    book.runtime.clock.advance(timedelta(minutes=55))
    with pytest.raises(NotFoundError):
        redeem(book, guesser, "WRONGCODE1")


def test_a_successful_redemption_does_not_count_against_the_limit(book: Casebook) -> None:
    sign_in = signed_in(book.runtime, {})
    for _ in range(4):
        with pytest.raises(NotFoundError):
            redeem(book, sign_in, "WRONGCODE1")
    redeem(book, sign_in, invite(book))

    with pytest.raises(NotFoundError):
        redeem(book, sign_in, "WRONGCODE1")  # the fifth failure is still allowed
