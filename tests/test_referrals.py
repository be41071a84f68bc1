"""Referrals through the production Dispatcher on both storage engines: /invite, a new user
attributed once through a start link (never an existing user, never oneself), the inviter's
bonus once for the first Stars purchase, taken back (never below zero) when it is refunded."""

from __future__ import annotations

import asyncio

import pytest

from services.billing import Kind
from services.payments import Package, make_payload
from tests.harness import Harness
from tests.servers import engine_settings

INVITER, FRIEND, OTHER, ADMIN = 1001, 2002, 3003, 9


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request, tmp_path):
    async with engine_settings(request.param) as engine:
        harness = await Harness.start(
            tmp_path, **engine, admin_ids="9", token_packages="100:50,500:225,1000:400"
        )
        await harness.as_user(INVITER).send("/start")
        yield harness
        await harness.close()


async def balance(h, user: int) -> int:
    return await h.services.billing.balance(user)


async def ledger_sums_equal_balances(h) -> bool:
    rows = await h.services.db.fetchall(
        "SELECT u.id, u.balance, coalesce(sum(l.amount), 0) FROM users u"
        " LEFT JOIN ledger l ON l.user_id = u.id GROUP BY u.id, u.balance"
    )
    return all(r[1] == r[2] for r in rows)


async def buy(h, user: int, tokens: int, stars: int, charge: str) -> None:
    await h.as_user(user).pay(make_payload(Package(tokens, stars), user), stars, charge)


async def test_invite_shows_the_link_and_what_it_brought(h):
    inviter = h.as_user(INVITER)
    await inviter.send("/invite")
    text = inviter.last_text()
    assert "Your link: https://t.me/video_bot?start=ref-1001" in text
    assert "you get 10% of the tokens they buy" in text
    assert "Joined through your link: 0 · made a purchase: 0" in text
    assert "Earned: 0 tokens" in text

    friend = h.as_user(FRIEND)
    await friend.send("/start ref-1001")
    assert "You came with an invitation" in " ".join(friend.texts())
    told = inviter.last_text()
    assert told.startswith("🎉 Ann joined through your invitation link.")
    assert "you get 10% of them" in told
    await buy(h, FRIEND, 500, 225, "ch-500")
    assert friend.last_text() == (
        "✅ Payment received: 500 tokens added. Balance: 500 tokens.\n"
        "🤝 The friend who invited you got a thank-you bonus."
    )
    assert inviter.last_text() == (
        "🎁 Ann made their first purchase: 50 tokens for the invitation. Your balance: 50 tokens."
    )
    await inviter.send("/invite")
    assert "Joined through your link: 1 · made a purchase: 1" in inviter.last_text()
    assert "Earned: 50 tokens" in inviter.last_text()


async def test_only_a_new_user_is_attributed_and_only_once(h):
    other = h.as_user(OTHER)
    await other.send("/start")  # already knows the bot
    await other.send("/start ref-1001")
    assert await h.services.referrals.referrer_of(OTHER) is None
    friend = h.as_user(FRIEND)
    await friend.send("/start ref-1001")
    assert await h.services.referrals.referrer_of(FRIEND) == INVITER
    await friend.send(f"/start ref-{OTHER}")  # a later link changes nothing
    assert await h.services.referrals.referrer_of(FRIEND) == INVITER
    # The inviter was told once, about the friend only.
    told = [t for t in h.as_user(INVITER).texts() if "joined through your" in t]
    assert len(told) == 1
    assert (await h.services.referrals.figures(INVITER)).joined == 1


async def test_self_referral_and_bad_links_change_nothing(h):
    # A new user following their own link (as if they had copied it): refused, said why.
    newcomer = h.as_user(4004)
    await newcomer.send("/start ref-4004")
    assert "That is your own invitation link" in " ".join(newcomer.texts())
    assert await h.services.referrals.referrer_of(4004) is None
    for payload in ("ref-", "ref-abc", "ref-99999999", "ref-1001x", "ref-" + "9" * 30):
        stranger = h.as_user(5000 + len(payload))
        await stranger.send(f"/start {payload}")
        [greeting] = stranger.texts()  # the greeting alone: nothing broke, nothing claimed
        assert greeting.startswith("Hi, Ann!")
        assert await h.services.referrals.referrer_of(stranger.user_id) is None
    assert await h.services.db.fetchval("SELECT count(*) FROM referrals") == 0


async def test_the_bonus_is_paid_once_for_the_first_purchase_only(h):
    await h.as_user(FRIEND).send("/start ref-1001")
    await buy(h, FRIEND, 100, 50, "ch-1")
    await buy(h, FRIEND, 100, 50, "ch-1")  # the same payment arriving again
    await buy(h, FRIEND, 1000, 400, "ch-2")  # a second purchase earns nothing
    assert await balance(h, INVITER) == 10
    assert await balance(h, FRIEND) == 1100
    rows = await h.services.db.fetchall(
        "SELECT amount, kind, reference FROM ledger WHERE user_id = ?", (INVITER,)
    )
    assert [tuple(r) for r in rows] == [(10, "bonus", "referral:ch-1")]
    assert await ledger_sums_equal_balances(h)


async def test_two_first_purchases_landing_together_pay_one_bonus(h):
    await h.as_user(FRIEND).send("/start ref-1001")
    payments = h.services.payments
    await asyncio.gather(
        *(
            payments.record(f"race-{i}", FRIEND, make_payload(Package(100, 50), FRIEND), 50)
            for i in range(6)
        )
    )
    assert await balance(h, INVITER) == 10
    assert (
        await h.services.db.fetchval(
            "SELECT count(*) FROM ledger WHERE reference LIKE 'referral:%'"
        )
        == 1
    )


async def test_a_refund_takes_the_bonus_back_never_below_zero(h):
    await h.as_user(FRIEND).send("/start ref-1001")
    await buy(h, FRIEND, 1000, 400, "ch-big")
    assert await balance(h, INVITER) == 100
    await h.services.billing.charge_for_job(INVITER, 77, 70)  # the inviter spent most of it
    admin = h.as_user(ADMIN)
    await admin.send("/refundstars ch-big")
    assert "The inviter's bonus for this purchase: 30 tokens taken back (user 1001)." in (
        admin.texts()
    )
    assert await balance(h, INVITER) == 0
    assert (
        h.as_user(INVITER)
        .last_text()
        .startswith(
            "↩️ A purchase that earned you an invitation bonus was refunded: 30 tokens taken back."
        )
    )
    await admin.send("/refundstars ch-big")  # again: nothing more taken
    assert await balance(h, INVITER) == 0
    await h.services.billing.credit(INVITER, 5, Kind.BONUS, "unrelated")
    figures = await h.services.referrals.figures(INVITER)
    assert figures.earned == 70  # 100 paid, 30 taken back; the unrelated bonus not counted
    assert await ledger_sums_equal_balances(h)


async def test_a_refund_before_any_spending_takes_the_whole_bonus(h):
    await h.as_user(FRIEND).send("/start ref-1001")
    await buy(h, FRIEND, 500, 225, "ch-5")
    await h.as_user(ADMIN).send("/refundstars ch-5")
    assert await balance(h, INVITER) == 0
    assert (await h.services.referrals.figures(INVITER)).earned == 0
    # The refunded purchase stays the first: a later one pays no new bonus.
    await buy(h, FRIEND, 100, 50, "ch-6")
    assert await balance(h, INVITER) == 0


async def test_russian_inviter_and_friend(h):
    inviter = h.as_user(6006, "ru")
    await inviter.send("/start")
    await inviter.send("/invite")
    assert "Ваша ссылка: https://t.me/video_bot?start=ref-6006" in inviter.last_text()
    friend = h.as_user(FRIEND, "ru")
    await friend.send("/start ref-6006")
    assert "Вы пришли по приглашению" in " ".join(friend.texts())
    assert inviter.last_text().startswith("🎉 Ann")
    assert "по вашей ссылке" in inviter.last_text()
    await buy(h, FRIEND, 100, 50, "ch-ru")
    assert "Ann впервые купил" in inviter.last_text()


async def test_no_bonus_when_the_percent_is_zero(tmp_path):
    harness = await Harness.start(
        tmp_path, admin_ids="9", token_packages="100:50", referral_bonus_percent=0
    )
    try:
        await harness.as_user(INVITER).send("/start")
        await harness.as_user(FRIEND).send("/start ref-1001")
        assert await harness.services.referrals.referrer_of(FRIEND) == INVITER
        await buy(harness, FRIEND, 100, 50, "ch-0")
        assert await balance(harness, INVITER) == 0
        await harness.as_user(INVITER).send("/invite")
        assert "%" not in harness.as_user(INVITER).last_text()
    finally:
        await harness.close()


async def test_each_person_is_told_in_their_own_language(h):
    # The inviter speaks English, the friend Russian: the inviter's news comes in English.
    friend = h.as_user(FRIEND, "ru")
    await friend.send("/start ref-1001")
    assert "Вы пришли по приглашению" in " ".join(friend.texts())
    inviter = h.as_user(INVITER)
    assert inviter.last_text().startswith("🎉 Ann joined through your invitation link.")
    await buy(h, FRIEND, 100, 50, "ch-mixed")
    assert inviter.last_text().startswith("🎁 Ann made their first purchase: 10 tokens")
    assert "Друг, который вас пригласил" in friend.last_text()
    await h.as_user(ADMIN).send("/refundstars ch-mixed")
    assert inviter.last_text().startswith("↩️ A purchase that earned you an invitation bonus")
