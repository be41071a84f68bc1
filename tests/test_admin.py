"""Admin commands through the production Dispatcher: success, every bad input, non-admins."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommandScopeChat

from bot.commands import register_commands
from services.billing import Kind
from services.catalog import Mode
from services.jobs import Draft, Status
from tests.conftest import catalog_priced
from tests.harness import Harness
from tests.recording_session import TOKEN, RecordingSession
from tests.servers import engine_settings
from tests.telegram_text import parse_html

ADMIN = 9
USER = 1001


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request, tmp_path):
    """The bot on each storage engine."""
    async with engine_settings(request.param) as engine:
        harness = await Harness.start(
            tmp_path, **engine, admin_ids="9", catalog_path=str(catalog_priced(tmp_path, 0.025))
        )
        await harness.give(100, USER)
        yield harness
        await harness.close()


@pytest.fixture
def admin(h):
    return h.as_user(ADMIN)


async def balance(h, user=USER):
    return await h.services.billing.balance(user)


async def ledger_rows(h):
    return await h.services.db.fetchval("SELECT count(*) FROM ledger")


def sent_to(h, chat_id):
    return [
        r.text
        for r in h.session.requests
        if type(r).__name__ == "SendMessage" and int(r.chat_id) == chat_id
    ]


async def test_topup_credits_confirms_and_tells_the_user(h, admin):
    await admin.send("/topup 1001 50 birthday gift")
    assert "Added 50 tokens to @user1001 (id 1001). New balance: 150 tokens." in admin.last_text()
    [entry, *_] = await h.services.billing.history(USER)
    assert (entry.amount, entry.admin_id, entry.reason) == (50, ADMIN, "birthday gift")
    [note] = sent_to(h, USER)
    assert "An admin added 50 tokens to your balance. Balance: 150 tokens." in note
    await admin.send("/topup @USER1001 +5")
    assert await balance(h) == 155


async def test_the_user_is_told_in_their_own_language(h, admin):
    russian = h.as_user(2002, "ru")
    await russian.give(10)
    await admin.send("/topup 2002 21")
    assert "Администратор пополнил ваш баланс на 21 токен. Баланс: 31 токен." in sent_to(h, 2002)[0]
    assert "Added 21 tokens" in admin.last_text()  # the admin reads English


async def test_the_same_command_update_is_carried_out_once(h, admin):
    await admin.send("/topup 1001 50", message_id=777)
    await admin.send("/topup 1001 50", message_id=777)
    assert "carried out before" in admin.last_text()
    assert await balance(h) == 150


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("/topup", None),
        ("/topup 1001", None),
        ("/topup 555 10", "No user 555"),
        ("/topup @nobody 10", "No user @nobody"),
        ("/topup 1001 abc", "whole number of tokens"),
        ("/topup 1001 2.5", "whole number of tokens"),
        ("/topup 1001 0", "positive whole number"),
        ("/topup 1001 -5", "positive whole number"),
        ("/topup 1001 99999999999", "too large"),
        ("/debit 1001 abc", "whole number of tokens"),
        ("/debit 1001", None),
        ("/user", None),
        ("/user 1001 extra", None),
        ("/user 555", "No user 555"),
        ("/refund", None),
        ("/refund abc", None),
        ("/refund 1 2", None),
        ("/refund 999", "No job #999"),
        ("/stats now", None),
        ("/pause please", None),
        ("/resume now", None),
    ],
)
async def test_bad_input_gets_a_usage_line_and_changes_nothing(h, admin, command, problem):
    rows = await ledger_rows(h)
    await admin.send(command)
    text = admin.last_text()
    assert "Usage: /" in text
    if problem:
        assert problem in text
    assert await ledger_rows(h) == rows and await balance(h) == 100
    assert await h.services.jobs.paused() is None


async def test_debit_never_goes_below_zero(h, admin):
    await admin.send("/debit 1001 101 typo")
    assert "has only 100 tokens; nothing was taken" in admin.last_text()
    await admin.send("/debit 1001 40 typo")
    assert "Took 40 tokens from @user1001 (id 1001). New balance: 60 tokens." in admin.last_text()
    assert "corrected your balance by -40 tokens" in sent_to(h, USER)[-1]
    [entry, *_] = await h.services.billing.history(USER)
    assert (entry.amount, entry.kind.value, entry.admin_id) == (-40, "admin_debit", ADMIN)


async def make_job(
    h, user=USER, model="runway:1@2", cost=None, status=Status.DELIVERED, duration=5
):
    job = await h.services.jobs.create(
        Draft(user, user, Mode.T2V, model, {"duration": duration}, "a prompt")
    )
    if status is Status.QUEUED:
        return job
    if status is Status.FAILED:
        return await h.services.jobs.fail(job, "content", "refused")
    job = await h.services.jobs.move(job, Status.SUBMITTED)
    job = await h.services.jobs.move(
        job, Status.SUCCEEDED, video_url="https://v/x.mp4", cost_usd=cost
    )
    return await h.services.jobs.move(job, Status.DELIVERED, file_id="F", delivered_as="video")


async def test_user_shows_balance_language_jobs_and_ledger(h, admin):
    await make_job(h)
    await make_job(h, status=Status.FAILED)
    await admin.send("/user @user1001")
    text = admin.last_text()
    assert "@user1001 (id 1001)" in text and "Balance: 75 tokens" in text
    assert "Language: en" in text and "Jobs: delivered 1, failed 1" in text
    assert "refund for video #2" in text and "video #1" in text


async def test_stats_match_a_known_set_of_jobs_and_ledger_rows(h, admin):
    await h.give(400, 2000)
    await make_job(h, cost=0.5)  # Runway Gen-4.5, 5 s: 25 tokens at $0.025 a token
    await make_job(h, user=2000, duration=10, cost=1.5)  # 50 tokens
    await make_job(h, user=2000, status=Status.FAILED)  # 25 tokens, refunded
    await make_job(h, status=Status.QUEUED)  # 25 tokens, running
    await h.services.billing.debit(USER, 10, Kind.ADMIN_DEBIT, "fix")
    await admin.send("/stats")
    lines = admin.last_text().splitlines()
    assert lines[1] == "Users: 3 · active in 7 days: 3"  # two users and the admin
    assert lines[2] == "Jobs by status: delivered 2, failed 1, queued 1"
    assert lines[3] == "Jobs by model: runway:1@2 4"
    assert lines[4] == "Delivered: as video 2 · as a link 0 · user unreachable 0 · not sent 0"
    assert lines[5] == "Tokens credited: 500 · taken back: 10"
    assert lines[6] == "Tokens spent on videos: 100 (charged 125, refunded 25 in 1 refunds)"
    assert lines[7] == "Runware cost: $2.00 · tokens per USD: 37.5"
    # Per model: 4 jobs, 100 tokens charged net of the refund, $2.00, and the margin of the
    # two costed jobs' 75 tokens at $0.025 each ($1.875) over $2.00: -6.7%, a markup of x0.94.
    assert lines[10] == "Runway Gen-4.5: 4 · 100 · $2.00 · -6.7% (×0.94)"


async def test_refund_once_and_tell_the_owner(h, admin):
    job = await make_job(h)
    assert await balance(h) == 75
    await admin.send(f"/refund {job.id}")
    assert f"Refunded 25 tokens for job #{job.id} to user 1001." in admin.last_text()
    assert await balance(h) == 100
    assert f"refunded 25 tokens for video #{job.id}" in sent_to(h, USER)[-1]
    await admin.send(f"/refund #{job.id}")
    assert "refunded before; nothing changed" in admin.last_text()
    assert await balance(h) == 100
    [refund] = [e for e in await h.services.billing.history(USER) if e.kind.value == "job_refund"]
    assert refund.admin_id == ADMIN


async def test_pause_and_resume(h, admin):
    user = h.as_user(USER)
    await admin.send("/pause")
    assert "Paused" in admin.last_text()
    await admin.send("/pause")
    assert "Already paused (admin)" in admin.last_text()
    await user.send("a paused idea")
    await user.tap("Generate")
    assert await h.jobs() == []
    assert "paused for maintenance" in h.session.requests[-1].text
    await admin.send("/resume")
    assert "Resumed" in admin.last_text()
    await user.send("a resumed idea")
    await user.tap("Generate")
    assert len(await h.jobs()) == 1
    await admin.send("/resume")
    assert "was not paused" in admin.last_text()


@pytest.mark.parametrize(
    "command",
    ["/topup 1001 50", "/debit 1001 50", "/user 1001", "/stats", "/refund 1", "/pause", "/resume"],
)
async def test_for_non_admins_the_commands_do_not_exist(h, command):
    await make_job(h)
    user = h.as_user(USER)
    rows = await ledger_rows(h)
    await user.send(command)
    assert "don't know this command" in user.last_text()
    assert await ledger_rows(h) == rows and await balance(h) == 75
    assert await h.services.jobs.paused() is None


async def test_admin_commands_are_registered_for_admin_chats_only():
    session = RecordingSession()
    await register_commands(Bot(TOKEN, session=session), frozenset({ADMIN}))
    calls = session.sent(SetMyCommands)
    admin_calls = [c for c in calls if isinstance(c.scope, BotCommandScopeChat)]
    assert [c.scope.chat_id for c in admin_calls] == [ADMIN]
    assert "topup" in {c.command for c in admin_calls[0].commands}
    for call in calls:
        if call not in admin_calls:
            assert not {"topup", "debit", "stats", "refund", "pause"} & {
                c.command for c in call.commands
            }


async def test_an_admins_reason_with_markup_characters_shows_as_written(h, admin):
    reason = 'bonus <3 & "thanks" <b>'
    await admin.send(f"/topup 1001 50 {reason}")
    assert "New balance: 150 tokens" in admin.last_text()
    user = h.as_user(USER)
    await user.send("/balance")
    assert f"top-up by an admin ({reason})" in parse_html(user.last_text())
    await admin.send("/user 1001")
    assert f"top-up by an admin ({reason})" in parse_html(admin.last_text())
    await admin.send(f"/debit 1001 5 {reason}")
    await user.send("/balance")
    assert f"correction by an admin ({reason})" in parse_html(user.last_text())


async def test_refund_of_a_running_job_says_it_was_stopped(h, admin):
    job = await make_job(h, status=Status.QUEUED)
    await admin.send(f"/refund {job.id}")
    assert f"Job #{job.id} was still in progress: stopped, and 25 tokens refunded" in (
        admin.last_text()
    )
    assert (await h.services.jobs.get(job.id)).status is Status.FAILED
    assert await balance(h) == 100
