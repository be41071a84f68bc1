"""Broadcasts on both storage engines: the admin's preview, confirmation and cancel through the
production Dispatcher; the runner copying to 500 users through a Telegram fake that blocks some
users and answers 429 to others, killed mid-way (or stopped) and taken over: nobody gets a
second copy, every reachable user but the copies in flight at the kill gets exactly one, the
blocked ones are marked, the send rate never passes the budget. tests/e2e/test_broadcast.py
does the same with 1,000 users and the real process killed with SIGKILL."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.methods import CopyMessage, EditMessageText, SendMessage, TelegramMethod
from aiogram.types import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, User

from bot.telegram_retry import RetryMiddleware
from handlers.i18n import build_i18n
from services.broadcasts import Audience, Broadcasts
from telegram_side.broadcaster import BroadcastRunner
from telegram_side.budget import COUNTED, BudgetMiddleware, LocalBudget
from tests.harness import Harness
from tests.recording_session import TOKEN, RecordingSession
from tests.servers import engine_settings
from tests.test_budget import busiest_second

ADMIN = 9


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request, tmp_path):
    async with engine_settings(request.param) as engine:
        harness = await Harness.start(tmp_path, **engine, admin_ids="9")
        await harness.as_user(ADMIN).send("/start")
        yield harness
        await harness.close()


class FloodTelegram(RecordingSession):
    """Telegram as a broadcast meets it: users who blocked the bot (403), users whose chat
    answers 429 a few times first, and the bot's own flood limit (429 past `flood` sends in a
    second). Records when each counted call arrived."""

    def __init__(self, blocked: set[int], flaky: dict[int, int], flood: int) -> None:
        super().__init__()
        self.blocked = blocked
        self.flaky = dict(flaky)  # chat -> 429s still to answer
        self.flood = flood
        self.times: list[float] = []
        self.copies: Counter[int] = Counter()

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        now = time.monotonic()
        if method.__api_method__ in COUNTED:
            self.times.append(now)
            if sum(1 for t in self.times[-self.flood - 1 :] if t > now - 1.0) > self.flood:
                self.refuse(None, 429, "Too Many Requests: retry after 1", retry_after=1)
        if isinstance(method, CopyMessage):
            chat = int(method.chat_id)
            if chat in self.blocked:
                self.refuse(CopyMessage, 403, "Forbidden: bot was blocked by the user")
            elif self.flaky.get(chat, 0) > 0:
                self.flaky[chat] -= 1
                self.refuse(CopyMessage, 429, "Too Many Requests: retry after 1", retry_after=1)
        result = await super().make_request(bot, method, timeout)
        if isinstance(method, CopyMessage):
            self.copies[int(method.chat_id)] += 1
        return result

    def _default(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, CopyMessage):
            from aiogram.types import MessageId

            return MessageId(message_id=len(self.requests))
        return super()._default(bot, method)


def flood_bot(session: FloodTelegram, budget: LocalBudget) -> Bot:
    # Telegram's "retry after 1" waited a twentieth of it: the same path, the suite's time.
    session.middleware(RetryMiddleware(sleep=lambda seconds: asyncio.sleep(seconds / 20)))
    session.middleware(BudgetMiddleware(budget))
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))


async def add_users(h: Harness, count: int, first: int = 100_000) -> list[int]:
    ids = list(range(first, first + count))
    async with h.services.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (id, language) VALUES (?, ?)",
            [(i, "ru" if i % 3 == 0 else "en") for i in ids],
        )
    return ids


async def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def source_message(message_id: int = 777) -> Message:
    return Message(
        message_id=message_id,
        date=datetime.now(),
        chat=Chat(id=ADMIN, type="private"),
        from_user=User(id=ADMIN, is_bot=False, first_name="Admin"),
        text="Big news: <b>Veo</b> is back",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Open", url="https://example.com/news")]]
        ),
    )


async def test_preview_confirm_and_the_copies_carry_the_buttons(h):
    await add_users(h, 6)
    admin = h.as_user(ADMIN)
    await admin.send("/broadcast lang=ru", reply_to_message=source_message())
    [preview] = h.session.sent(CopyMessage)
    assert (preview.chat_id, preview.from_chat_id, preview.message_id) == (ADMIN, ADMIN, 777)
    assert preview.reply_markup.inline_keyboard[0][0].url == "https://example.com/news"
    ask = admin.last_text()
    assert ask == "📣 The preview is above. Send it to 2 users (filter: lang=ru)?"
    await admin.tap("Send to 2")
    assert admin.last_text().startswith("📣 <b>Broadcast #1</b> · sending (filter: lang=ru)")
    rows = await h.services.db.fetchall("SELECT user_id FROM broadcast_deliveries ORDER BY user_id")
    assert [r[0] for r in rows] == [100_002, 100_005]  # ids divisible by 3 speak Russian
    screen = admin.screen()
    assert await admin.press(admin.button("Cancel the broadcast", screen), screen) == "Cancelled."
    assert "cancelled" in admin.last_text()


async def test_bad_input_changes_nothing(h):
    await add_users(h, 3)
    admin = h.as_user(ADMIN)
    await admin.send("/broadcast")
    assert admin.last_text().startswith("Reply with /broadcast to the message to send")
    await admin.send("/broadcast lang=de", reply_to_message=source_message())
    assert admin.last_text().startswith("I don't know the filter lang=de.")
    await admin.send("/broadcast active=0", reply_to_message=source_message())
    assert admin.last_text().startswith("I don't know the filter active=0.")
    await admin.send("/broadcast buyers", reply_to_message=source_message())
    assert admin.last_text() == "No user matches this audience; nothing was sent."
    await admin.send("/broadcast cancel")
    assert admin.last_text() == "No broadcast is running."
    assert await h.services.db.fetchval("SELECT count(*) FROM broadcast_deliveries") == 0
    assert h.session.sent(CopyMessage) == []
    # For anyone else the command does not exist.
    user = h.as_user(100_000)
    await user.send("/broadcast", reply_to_message=source_message())
    assert user.last_text() == "I don't know this command. /help shows what I can do."
    assert await h.services.db.fetchval("SELECT count(*) FROM broadcasts") == 0


async def test_a_dropped_draft_and_a_double_tap_send_nothing_twice(h):
    await add_users(h, 4)
    admin = h.as_user(ADMIN)
    await admin.send("/broadcast", reply_to_message=source_message())
    ask = admin.screen()
    assert await admin.press(admin.button("Cancel", ask), ask) == "Dropped."
    assert await admin.press(admin.button("Send to 4", ask), ask) == (
        "This broadcast was started or dropped already."
    )
    await admin.send("/broadcast active=30", reply_to_message=source_message())
    ask = admin.screen()
    await admin.press(admin.button("Send to 4", ask), ask)
    assert await admin.press(admin.button("Send to 4", ask), ask) == (
        "This broadcast was started or dropped already."
    )
    assert await h.services.db.fetchval("SELECT count(*) FROM broadcast_deliveries") == 4


async def test_filters_pick_their_audience(h):
    ids = await add_users(h, 9)
    async with h.services.db.transaction() as tx:
        await tx.execute(
            "UPDATE users SET seen_at = '2020-01-01T00:00:00Z' WHERE id = ?", (ids[0],)
        )
        await tx.execute(
            "INSERT INTO payments (charge_id, user_id, stars, tokens, payload, source,"
            " created_at) VALUES ('c1', ?, 50, 100, 'buy:100:50:1', 'update', 0)",
            (ids[1],),
        )
    b = h.services.broadcasts
    assert await b.count(Audience(), ADMIN) == 9
    assert await b.count(Audience.parse(["lang=ru"]), ADMIN) == 3
    assert await b.count(Audience.parse(["active=7"]), ADMIN) == 8
    assert await b.count(Audience.parse(["buyers"]), ADMIN) == 1
    assert await b.count(Audience.parse(["buyers", "lang=ru"]), ADMIN) == 0


@pytest.mark.alone
@pytest.mark.usefixtures("no_gc_pauses")
@pytest.mark.parametrize(("users", "how"), [(500, "kill"), (300, "stop")])
async def test_killed_or_stopped_mid_way_nobody_gets_a_second_copy(h, users, how):
    ids = await add_users(h, users)
    blocked = set(ids[7::50])  # 2% of the users blocked the bot
    flaky = {i: 2 for i in ids[3::40]}  # 2.5% of the chats answer 429 twice first
    flaky.update({i: 7 for i in ids[11::400]})  # 3 more past the retries: tried again later
    rate = 200  # the budget, scaled up from 25 for the suite's time; the fake floods past it
    session = FloodTelegram(blocked, flaky, flood=rate)
    budget = LocalBudget(rate)
    bot = flood_bot(session, budget)
    i18n = build_i18n()
    draft, count = await h.services.broadcasts.draft(ADMIN, "en", ADMIN, 777, None, Audience())
    assert count == users
    await h.services.broadcasts.start(draft.id, ADMIN, ADMIN, 1)

    first = BroadcastRunner(
        Broadcasts(h.services.db), bot, budget, i18n, lease=1.0, tick=0.05, progress_every=0.5
    )
    started = time.monotonic()
    first.start()

    async def settled_over(n: int):
        return (
            await h.services.db.fetchval(
                "SELECT count(*) FROM broadcast_deliveries WHERE status <> 'pending'"
            )
            >= n
        )

    await wait_for(lambda: settled_over(users * 2 // 5))
    if how == "kill":
        await first.kill()  # as a crash: no release, copies in flight left as they are
    else:
        await first.stop()  # a redeploy: the batch in hand finished, the broadcast released
    killed_at = await h.services.db.fetchval(
        "SELECT count(*) FROM broadcast_deliveries WHERE status <> 'pending'"
    )
    assert killed_at < users

    second = BroadcastRunner(
        Broadcasts(h.services.db), bot, budget, i18n, lease=1.0, tick=0.05, progress_every=0.5
    )
    second.start()

    async def done():  # finished in the database, and the admin told (just after)
        b = await h.services.broadcasts.get(draft.id)
        told = any(isinstance(r, SendMessage) and r.text.startswith("✅") for r in session.requests)
        return b.status == "done" and told

    try:
        await wait_for(done, timeout=90)
    finally:
        await second.kill()
    elapsed = time.monotonic() - started

    rows = await h.services.db.fetchall(
        "SELECT user_id, status FROM broadcast_deliveries WHERE broadcast_id = ?", (draft.id,)
    )
    status = {r[0]: r[1] for r in rows}
    assert len(status) == users
    reachable = [i for i in ids if i not in blocked]
    assert max(session.copies.values()) == 1  # nobody got a second copy
    assert all(session.copies[i] == 0 for i in blocked)
    # Rows in flight at the kill: their copy may or may not have gone; never sent again.
    in_flight = [i for i in ids if status[i] == "unknown"]
    assert len(in_flight) <= first.batch
    assert {status[i] for i in blocked if i not in in_flight} == {"blocked"}
    assert {status[i] for i in reachable} <= {"sent", "unknown"}
    assert all(session.copies[i] == 1 for i in reachable if status[i] == "sent")
    unknown = [i for i in reachable if status[i] == "unknown"]
    if how == "stop":
        assert in_flight == []
        assert all(session.copies[i] == 1 for i in reachable)
    missed = [i for i in reachable if session.copies[i] == 0]
    assert set(missed) <= set(unknown)
    assert busiest_second(session.times) <= rate  # never above the budget (timer slack aside)
    admin_texts = [r.text for r in session.requests if isinstance(r, SendMessage | EditMessageText)]
    assert any(t.startswith("✅ <b>Broadcast #") for t in admin_texts)
    final = [r for r in session.requests if isinstance(r, SendMessage)][-1].text
    assert f"Sent {users - len(blocked) - len(unknown)} of {users}" in final
    assert f"blocked the bot {len(blocked) - (len(in_flight) - len(unknown))}" in final
    print(f"\nbroadcast: {users} users in {elapsed:.1f} s ({users / elapsed:.0f}/s), "
          f"{len(unknown)} unknown ({len(missed)} without a copy), duplicates 0")  # fmt: skip


async def test_broadcast_cancel_stops_the_sending(h):
    await add_users(h, 4)
    admin = h.as_user(ADMIN)
    await admin.send("/broadcast", reply_to_message=source_message())
    await admin.tap("Send to 4")
    await admin.send("/broadcast cancel")
    reply = admin.last_text()
    assert reply.startswith("✖ <b>Broadcast #1</b> cancelled (all users)")
    assert "Sent 0 of 4" in reply and "Not sent: 4" in reply
    session = FloodTelegram(set(), {}, flood=30)
    budget = LocalBudget(30)
    runner = BroadcastRunner(h.services.broadcasts, flood_bot(session, budget), budget,
                             build_i18n())  # fmt: skip
    assert await runner.step() is False  # nothing to send: the broadcast is over
    assert session.copies == Counter()
    await admin.send("/broadcast cancel")
    assert admin.last_text() == "No broadcast is running."


async def test_russian_admin_sees_russian_screens(tmp_path):
    harness = await Harness.start(tmp_path, admin_ids="9")
    try:
        admin = harness.as_user(ADMIN, "ru")
        await admin.send("/start")
        await add_users(harness, 2)
        await admin.send("/broadcast", reply_to_message=source_message())
        assert admin.last_text().startswith("📣 Предпросмотр выше.")
        await admin.tap("Отправить 2")
        assert admin.last_text().startswith("📣 <b>Рассылка #1</b>")
        await admin.send("/broadcast lang=xx", reply_to_message=source_message())
        assert admin.last_text().startswith("Не знаю фильтр lang=xx.")
    finally:
        await harness.close()
