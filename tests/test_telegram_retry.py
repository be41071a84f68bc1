import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import EditMessageText, GetUpdates, SendMessage, SendVideo

from bot.telegram_retry import RetryMiddleware
from tests.recording_session import TOKEN, RecordingSession


class FlakySession(RecordingSession):
    def __init__(self, failures: int, error=TelegramNetworkError) -> None:
        super().__init__()
        self.failures = failures
        self.error = error

    async def make_request(self, bot, method, timeout=None):
        if self.failures:
            self.failures -= 1
            self.requests.append(method)
            raise self.error(method=method, message="connection reset")
        if isinstance(method, GetUpdates):
            self.requests.append(method)
            return []
        return await super().make_request(bot, method, timeout)


class Sleeps(list):
    async def __call__(self, seconds):
        self.append(seconds)


def bot_with(session, attempts=5):
    sleeps = Sleeps()
    session.middleware(RetryMiddleware(attempts=attempts, sleep=sleeps))
    return Bot(TOKEN, session=session), sleeps


async def test_network_errors_are_retried_with_backoff_for_calls_safe_to_repeat():
    session = FlakySession(failures=2)
    bot, sleeps = bot_with(session)
    await bot.edit_message_text("hi", chat_id=1, message_id=5)
    assert len(session.sent(EditMessageText)) == 3
    assert len(sleeps) == 2 and all(0 <= s <= 2.0 for s in sleeps)


@pytest.mark.parametrize("error", [TelegramNetworkError, TelegramServerError])
async def test_a_send_that_may_have_arrived_is_not_repeated(error):
    session = FlakySession(failures=1, error=error)
    bot, sleeps = bot_with(session)
    with pytest.raises(error):
        await bot.send_message(1, "hi")
    with pytest.raises(error):
        session.failures = 1
        await bot.send_video(1, "https://v/x.mp4")
    assert len(session.requests) == 2 and sleeps == []  # one call each: no second copy


async def test_429_is_waited_out_for_sends_too():
    session = RecordingSession()
    bot, sleeps = bot_with(session)
    session.refuse(SendVideo, 429, "Too Many", retry_after=3)
    await bot.send_video(1, "https://v/x.mp4")
    assert len(session.sent(SendVideo)) == 2 and sleeps == [3.0]


async def test_retries_are_bounded():
    session = FlakySession(failures=10)
    bot, _sleeps = bot_with(session, attempts=3)
    with pytest.raises(TelegramNetworkError):
        await bot.delete_message(1, 5)
    assert len(session.requests) == 3


async def test_a_long_retry_after_is_not_waited_out():
    session = RecordingSession()
    bot, sleeps = bot_with(session)
    session.refuse(SendMessage, 429, "Too Many Requests", retry_after=3600)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(1, "hi")
    assert sleeps == []


async def test_get_updates_is_left_to_aiogram():
    session = FlakySession(failures=1)
    bot, sleeps = bot_with(session)
    with pytest.raises(TelegramNetworkError):
        await bot.get_updates()
    assert sleeps == []


class TooLargeSession(RecordingSession):
    async def make_request(self, bot, method, timeout=None):
        self.requests.append(method)
        raise TelegramEntityTooLarge(method=method, message="Request Entity Too Large")


async def test_413_is_not_retried():
    session = TooLargeSession()
    bot, sleeps = bot_with(session)
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_message(1, "hi")
    assert len(session.requests) == 1 and sleeps == []
