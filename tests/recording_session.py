"""A Telegram session that records every outgoing method and answers without a network.

Answers are made up from the method's return type (a Message for send*, True for bools), or
taken from a queue of scripted replies, so 429/403 paths raise the same exceptions as in
production (they go through BaseSession.check_response)."""

from __future__ import annotations

import itertools
import json
import os
from collections import deque
from collections.abc import AsyncGenerator
from datetime import datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, File, FSInputFile, Message, User, Video

from tests.telegram_text import refusal

BOT_ID = 424242
TOKEN = f"{BOT_ID}:TEST-token-0123456789abcdefghijkl"


class RecordingSession(BaseSession):
    def __init__(self, *, check_texts: bool = True) -> None:
        """check_texts: refuse a text Telegram would refuse (HTML, length), as Telegram does.
        Only the update benchmark turns it off: parsing HTML is Telegram's work, not the bot's,
        and it was an eighth of the bot's measured time."""
        super().__init__()
        self.check_texts = check_texts
        self.requests: list[TelegramMethod[Any]] = []
        self._scripted: deque[tuple[type[TelegramMethod[Any]] | None, dict[str, Any]]] = deque()
        self._ids = itertools.count(1000)
        self.uploads: list[tuple[str, int]] = []  # (file name, bytes) of each file sent
        self.results: list[Any] = []  # what each request answered (same order as requests)
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile + download
        self.documents: dict[str, bytes] = {}  # file name -> content of each small file sent

    def script(self, method: type[TelegramMethod[Any]] | None, **envelope: Any) -> None:
        """Answer the next call of `method` (None: of any method) with this Bot API envelope,
        e.g. script(SendVideo, ok=False, error_code=429, description="Too Many Requests",
        parameters={"retry_after": 1})."""
        self._scripted.append((method, envelope))

    def refuse(
        self, method: type[TelegramMethod[Any]] | None, code: int, description: str, **params: Any
    ) -> None:
        """Telegram refuses the next call of `method` (None: of any) as it would: the error
        code, its description and, for a 429, parameters={"retry_after": n}."""
        envelope: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if params:
            envelope["parameters"] = params
        self.script(method, **envelope)

    def sent(self, method: type[TelegramMethod[Any]]) -> list[Any]:
        return [r for r in self.requests if isinstance(r, method)]

    def texts(self) -> list[str]:
        return [
            t
            for r in self.requests
            if (t := getattr(r, "text", None) or getattr(r, "caption", None))
        ]

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        for field_name in type(method).model_fields:
            value = getattr(method, field_name, None)
            if isinstance(value, FSInputFile):
                path = value.path
                self.uploads.append((value.filename or "", os.path.getsize(path)))
                if os.path.getsize(path) <= 4 * 1024 * 1024:  # small files kept for reading
                    self.documents[value.filename or ""] = Path(path).read_bytes()
        refused = self._refusal(bot, method) if self.check_texts else None
        if refused is not None:  # what Telegram answers to a text it cannot take
            self.results.append(None)
            envelope = {"ok": False, "error_code": 400, "description": refused}
            self.check_response(bot, method, 400, json.dumps(envelope))
        for i, (kind, envelope) in enumerate(self._scripted):
            if kind is None or isinstance(method, kind):
                del self._scripted[i]
                self.results.append(None)
                response = self.check_response(
                    bot, method, envelope.get("error_code", 200), json.dumps(envelope)
                )
                self.results[-1] = response.result
                return response.result  # type: ignore[return-value]
        result = self._default(bot, method)
        self.results.append(result)
        return result

    @staticmethod
    def _refusal(bot: Bot, method: TelegramMethod[Any]) -> str | None:
        parse_mode = getattr(method, "parse_mode", None)
        if isinstance(parse_mode, Default):
            parse_mode = bot.default[parse_mode.name]
        for name, caption in (("text", False), ("caption", True)):
            if name in type(method).model_fields:
                found = refusal(getattr(method, name, None), parse_mode, caption=caption)
                if found is not None:
                    return found
        return None

    def _default(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        returning = method.__returning__
        if returning is bool:
            return True
        if returning is Message or "Message" in str(returning):
            chat_id = getattr(method, "chat_id", None) or 1
            message_id = next(self._ids)
            video = None
            if type(method).__name__ == "SendVideo":
                video = Video(
                    file_id=f"video-file-{message_id}",
                    file_unique_id=f"u{message_id}",
                    width=1280,
                    height=720,
                    duration=8,
                )
            message = Message(
                message_id=message_id,
                video=video,
                date=datetime.now(),
                chat=Chat(id=int(chat_id), type="private"),
                from_user=User(id=BOT_ID, is_bot=True, first_name="Bot"),
                text=getattr(method, "text", None),
                caption=getattr(method, "caption", None),
            )
            return message.as_(bot)
        if type(method).__name__ == "GetFile":
            file_id = method.file_id  # type: ignore[attr-defined]
            if file_id not in self.files:
                raise AssertionError(f"test did not provide file {file_id}")
            return File(
                file_id=file_id,
                file_unique_id=f"u-{file_id}",
                file_size=len(self.files[file_id]),
                file_path=f"files/{file_id}",
            )
        if returning is User:
            return User(id=BOT_ID, is_bot=True, first_name="Bot", username="video_bot")
        raise AssertionError(f"no default answer for {type(method).__name__}: script one")

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        file_id = url.rsplit("/files/", 1)[-1]
        data = self.files[file_id]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]


def recording_bot(session: RecordingSession | None = None) -> tuple[Bot, RecordingSession]:
    """A Bot as production builds it (HTML by default) on a recording session."""
    session = session or RecordingSession()
    return Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML")), session
