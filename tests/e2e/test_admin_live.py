"""Admins through the real process: their words shown as written, a refund that stops a job."""

from __future__ import annotations

from services.payments import Package, make_payload
from tests.e2e.conftest import ADMIN, BONUS, VEO_FAST, price
from tests.e2e.flows import card_from_text, generate
from tests.telegram_text import parse_html


async def test_an_admins_reason_with_markup_characters_shows_as_written(bot, telegram):
    telegram.send_text(961, "/start")
    await telegram.wait_message(961, "What shall we make?")
    reason = 'bonus <3 & "thanks"'
    telegram.send_text(ADMIN, f"/topup 961 50 {reason}")
    await telegram.wait_message(ADMIN, f"New balance: {BONUS + 50} tokens")
    mark = telegram.mark(961)
    telegram.send_text(961, "/balance")
    balance = await telegram.wait_message(961, "Your balance", after=mark)
    assert f"top-up by an admin ({reason})" in parse_html(balance.text)
    mark = telegram.mark(ADMIN)
    telegram.send_text(ADMIN, "/user 961")
    user = await telegram.wait_message(ADMIN, "id 961", after=mark)
    assert f"top-up by an admin ({reason})" in parse_html(user.text)


async def test_refund_during_generation_stops_the_job_and_nothing_is_delivered(
    bot, telegram, runware
):
    runware.latency = 3600  # generating for as long as the test needs
    await generate(telegram, 962, await card_from_text(telegram, 962, "a video to stop"))
    await bot.wait_jobs("status = 'submitted'", 1, timeout=30)
    [job] = [r[0] for r in bot.query("SELECT id FROM jobs WHERE user_id = 962")]
    telegram.send_text(ADMIN, f"/refund {job}")
    await telegram.wait_message(ADMIN, "was still in progress: stopped")
    notice = await telegram.wait_message(962, "an admin stopped it", timeout=30)
    assert f"{price(VEO_FAST)} tokens are back" in notice.text
    for task in runware.tasks.values():
        task.latency = 0  # Runware finishes it anyway
    await bot.wait_jobs("status = 'failed' AND notified = 1", 1, timeout=30)
    assert telegram.videos(962) == []
    assert bot.query("SELECT balance FROM users WHERE id = 962")[0][0] == BONUS
    bot.assert_books_balance()


async def test_a_stars_refund_whose_answer_was_lost_is_completed_by_the_next_attempt(bot, telegram):
    telegram.send_text(963, "/start")
    await telegram.wait_message(963, "What shall we make?")
    telegram.pay(963, make_payload(Package(100, 50), 963), 50, "charge-963")
    await telegram.wait_message(963, "100 tokens")
    telegram.lost_answers["refundStarPayment"] = 1  # Telegram refunds; the bot never hears it
    telegram.send_text(ADMIN, "/refundstars charge-963")
    await telegram.wait_message(ADMIN, "run the same command again", timeout=30)
    assert telegram.star_refunds == ["charge-963"]
    # the user has the Stars back and, for now, the tokens: the refund is pending
    [row] = bot.query("SELECT refunded_at, refund_pending_at FROM payments")
    assert row["refunded_at"] is None and row["refund_pending_at"] is not None
    telegram.send_text(ADMIN, "/refundstars charge-963")  # Telegram: CHARGE_ALREADY_REFUNDED
    await telegram.wait_message(ADMIN, "100 tokens taken back", timeout=30)
    assert bot.query("SELECT balance FROM users WHERE id = 963")[0][0] == BONUS
    assert telegram.star_refunds == ["charge-963"]  # the Stars went back once
    bot.assert_books_balance()
