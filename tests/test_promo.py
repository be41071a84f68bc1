"""Promo codes through the production Dispatcher on both storage engines: admins make, list and
switch off codes; users redeem by command or by link; each bad input gets its own answer and
changes nothing; twenty users racing for the last use: exactly one wins."""

from __future__ import annotations

import asyncio

import pytest

from services.promos import PromoRefused
from tests.harness import Harness
from tests.servers import engine_settings

ADMIN = 9


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request, tmp_path):
    async with engine_settings(request.param) as engine:
        harness = await Harness.start(tmp_path, **engine)
        yield harness
        await harness.close()


async def balance(h, user: int) -> int:
    return await h.services.billing.balance(user)


async def ledger_rows(h) -> int:
    return await h.services.db.fetchval("SELECT count(*) FROM ledger")


async def test_an_admin_makes_lists_and_switches_off_a_code(h):
    admin = h.as_user(ADMIN)
    await admin.send("/promo create Spring_25 120 2 7")
    made = admin.last_text()
    assert made.startswith("Made:\n<b>SPRING_25</b>: 120 tokens · 0/2 · ")
    assert "t.me/video_bot?start=promo-SPRING_25" in made
    await admin.send("/promo create spring_25 50 1")
    assert admin.last_text() == "Promo code SPRING_25 exists already."
    for bad, answer in (
        ("/promo create ab 10 1", "A promo code is 3 to 32 letters, digits, _ or -."),
        ("/promo create BAD!CODE 10 1", "A promo code is 3 to 32 letters, digits, _ or -."),
        ("/promo create OK_CODE 0 1", "The tokens must be a whole number above zero."),
        ("/promo create OK_CODE 10 0", "The uses must be a whole number above zero."),
        ("/promo create OK_CODE 10 1 0", "The days must be a number from 1 to 3650."),
        ("/promo create OK_CODE ten 1", "Usage: /promo create &lt;CODE&gt;"),
        ("/promo create", "Usage: /promo create &lt;CODE&gt;"),
    ):
        await admin.send(bad)
        assert admin.last_text().startswith(answer), (bad, admin.last_text())
    assert [p.code for p in await h.services.promos.all()] == ["SPRING_25"]
    await admin.send("/promo list")
    assert "<b>SPRING_25</b>: 120 tokens · 0/2" in admin.last_text()
    await admin.send("/promo off spring_25")
    assert admin.last_text() == "Promo code SPRING_25 is off."
    await h.send("/promo spring_25")
    assert h.last_text() == "Promo code SPRING_25 is no longer valid."
    # For anyone else, /promo create is a code to redeem, not a command.
    await h.send("/promo create X 1 1")
    assert h.last_text() == "Send /promo and the code, for example: /promo SPRING25"


async def test_redeeming_once_each_and_every_refusal_its_own_answer(h):
    admin = h.as_user(ADMIN)
    await admin.send("/promo create GIFT 100 2")
    await admin.send("/promo create OLD 100 5 1")
    async with h.services.db.transaction() as tx:
        await tx.execute("UPDATE promo_codes SET expires_at = 1 WHERE code = 'OLD'")
    await h.send("/start")
    before = await balance(h, h.user_id)
    await h.send("/promo gift")
    assert (
        h.last_text()
        == f"🎁 Promo code GIFT: 100 tokens added. Your balance: {before + 100} tokens."
    )
    rows = await ledger_rows(h)
    for text, answer in (
        ("/promo gift", "You have already used promo code GIFT."),
        ("/promo NOPE", "There is no promo code NOPE. Please check the spelling."),
        ("/promo OLD", "Promo code OLD has expired."),
        ("/promo <b>x</b>", "A promo code is 3 to 32 letters, digits, _ or -."),
        ("/promo x<", "A promo code is 3 to 32 letters, digits, _ or -."),
        ("/promo", "Send /promo and the code"),
    ):
        await h.send(text)
        assert h.last_text().startswith(answer), (text, h.last_text())
    assert await ledger_rows(h) == rows and await balance(h, h.user_id) == before + 100
    other = h.as_user(2002)
    await other.send("/promo GIFT")
    third = h.as_user(2003)
    await third.send("/promo GIFT")
    assert third.last_text() == "Promo code GIFT has been used up: all its uses are taken."
    assert [p.used for p in await h.services.promos.all() if p.code == "GIFT"] == [2]


async def test_the_link_redeems_through_start_in_russian(h):
    await h.as_user(ADMIN).send("/promo create LINK7 70 10")
    ru = h.as_user(3003, "ru")
    await ru.send("/start promo-link7")
    texts = ru.texts()
    assert "🎁 Промокод LINK7: начислено 70 токенов." in texts[-2]
    assert "Ваш баланс" in texts[-1]  # then the greeting and the menu as always
    await ru.send("/start promo-link7")
    assert "Вы уже использовали промокод LINK7." in ru.texts()[-2]


async def test_twenty_users_race_for_the_last_use_and_exactly_one_wins(h):
    promos = h.services.promos
    await promos.create("LAST", 50, 3, None, ADMIN)
    users = list(range(5000, 5022))
    for user in users:
        await h.services.users.touch(user, f"u{user}", "en")
    await promos.redeem(users[0], "LAST")
    await promos.redeem(users[1], "LAST")  # one use left
    results = await asyncio.gather(
        *(promos.redeem(user, "last") for user in users[2:]), return_exceptions=True
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, PromoRefused)]
    assert len(won) == 1 and len(lost) == 19 and {e.reason for e in lost} == {"used_up"}
    assert (await promos.all())[0].used == 3
    credited = await h.services.db.fetchval(
        "SELECT count(*) FROM ledger WHERE reference LIKE 'promo:LAST:%'"
    )
    assert credited == 3
    # The same user twice at once (a repeated update): one redemption, one credit.
    await promos.create("TWICE", 10, 100, None, ADMIN)
    again = await asyncio.gather(
        promos.redeem(users[5], "TWICE"), promos.redeem(users[5], "TWICE"), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in again) == ["PromoRefused", "tuple"]
    count = await h.services.db.fetchval(
        "SELECT count(*) FROM ledger WHERE reference = ?", (f"promo:TWICE:{users[5]}",)
    )
    assert count == 1
