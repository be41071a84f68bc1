"""Drive the production Dispatcher (built by bot.app) with updates, over a recording session.

h = await Harness.start(tmp_path)
await h.send("/start")
await h.tap("Text to video")       # presses the button whose label contains the text
assert "choose a model" in h.last_text()
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import (
    AnswerCallbackQuery,
    AnswerPreCheckoutQuery,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    SendVideo,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    PreCheckoutQuery,
    SuccessfulPayment,
    Update,
)
from aiogram.types import User as TgUser

from bot.app import Services, build_dispatcher, build_services
from bot.settings import load_settings
from services.billing import Kind
from tests.recording_session import TOKEN, RecordingSession, recording_bot

SCREEN_METHODS = (
    SendMessage,
    EditMessageText,
    SendVideo,
    EditMessageReplyMarkup,
    EditMessageCaption,
)


@dataclass
class Screen:
    message_id: int
    chat_id: int
    text: str
    markup: InlineKeyboardMarkup | None


@dataclass
class Harness:
    services: Services
    dp: Dispatcher
    bot: Bot
    session: RecordingSession
    user_id: int = 1001
    language: str = "en"
    chat_type: str = "private"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    async def start(cls, folder: Path, **settings: Any) -> Harness:
        config = load_settings(
            _env_file=None,
            bot_token=TOKEN,
            runware_api_key="rw-test-key-0123456789",
            database_path=folder / "bot.sqlite3",
            admin_ids=settings.pop("admin_ids", "9"),
            **settings,
        )
        services = await build_services(config)
        bot, session = recording_bot()
        return cls(services, build_dispatcher(services), bot, session)

    async def restart(self) -> Harness:
        """A new Dispatcher on the same database, as after a redeploy."""
        await self.dp.storage.close()
        return Harness(
            self.services,
            build_dispatcher(self.services),
            self.bot,
            self.session,
            self.user_id,
            self.language,
        )

    async def replica(self) -> Harness:
        """A second bot process on the same database (and Redis, when set), as another replica
        behind a load balancer: its own services and Dispatcher, the same user and chat."""
        services = await build_services(self.services.settings)
        other = Harness(
            services,
            build_dispatcher(services),
            self.bot,
            self.session,
            self.user_id,
            self.language,
            self.chat_type,
        )
        other._ids = self._ids
        return other

    async def close(self) -> None:
        await self.services.close()

    def as_user(self, user_id: int, language: str | None = None) -> Harness:
        other = Harness(
            self.services,
            self.dp,
            self.bot,
            self.session,
            user_id,
            language or self.language,
            self.chat_type,
        )
        other._ids = self._ids
        return other

    async def give(self, tokens: int, user_id: int | None = None) -> None:
        uid = user_id or self.user_id
        await self.services.users.touch(uid, f"user{uid}", self.language)
        await self.services.billing.credit(uid, tokens, Kind.ADMIN_TOPUP, f"test-{next(self._ids)}")

    # --- sending updates -----------------------------------------------------------------------

    def _user(self) -> TgUser:
        return TgUser(
            id=self.user_id,
            is_bot=False,
            first_name="Ann",
            username=f"user{self.user_id}",
            language_code=self.language,
        )

    def _chat(self) -> Chat:
        chat_id = self.user_id if self.chat_type == "private" else -100123
        return Chat(id=chat_id, type=self.chat_type)

    async def _feed(self, **update: Any) -> int:
        before = len(self.session.requests)
        await self.dp.feed_update(self.bot, Update(update_id=next(self._ids), **update))
        flush = getattr(self.dp.storage, "flush", None)  # the database's is written behind
        if flush is not None:
            await flush()
        return before

    async def send(self, text: str, **extra: Any) -> None:
        extra.setdefault("message_id", next(self._ids))
        message = Message(
            date=datetime.now(), chat=self._chat(), from_user=self._user(), text=text, **extra
        )
        await self._feed(message=message)

    async def send_photo(self, data: bytes, caption: str | None = None) -> None:
        file_id = f"photo-{next(self._ids)}"
        self.session.files[file_id] = data
        photo = [
            PhotoSize(
                file_id=file_id, file_unique_id=file_id, width=1000, height=800, file_size=len(data)
            )
        ]
        message = Message(
            message_id=next(self._ids),
            date=datetime.now(),
            chat=self._chat(),
            from_user=self._user(),
            photo=photo,
            caption=caption,
        )
        await self._feed(message=message)

    async def send_document(self, data: bytes, name: str, mime: str) -> None:
        file_id = f"doc-{next(self._ids)}"
        self.session.files[file_id] = data
        document = Document(
            file_id=file_id,
            file_unique_id=file_id,
            file_name=name,
            mime_type=mime,
            file_size=len(data),
        )
        message = Message(
            message_id=next(self._ids),
            date=datetime.now(),
            chat=self._chat(),
            from_user=self._user(),
            document=document,
        )
        await self._feed(message=message)

    async def pre_checkout(self, payload: str, total: int, currency: str = "XTR") -> Any:
        """A pre_checkout_query; returns the bot's AnswerPreCheckoutQuery."""
        query = PreCheckoutQuery(
            id=str(next(self._ids)),
            from_user=self._user(),
            currency=currency,
            total_amount=total,
            invoice_payload=payload,
        )
        before = await self._feed(pre_checkout_query=query)
        [answer] = [
            r for r in self.session.requests[before:] if isinstance(r, AnswerPreCheckoutQuery)
        ]
        return answer

    async def pay(self, payload: str, total: int, charge_id: str) -> None:
        """The successful_payment service message Telegram sends after a payment."""
        paid = SuccessfulPayment(
            currency="XTR",
            total_amount=total,
            invoice_payload=payload,
            telegram_payment_charge_id=charge_id,
            provider_payment_charge_id="",
        )
        message = Message(
            message_id=next(self._ids),
            date=datetime.now(),
            chat=self._chat(),
            from_user=self._user(),
            successful_payment=paid,
        )
        await self._feed(message=message)

    async def press(self, data: str, screen: Screen | None = None) -> str | None:
        """Send a callback with this data; returns the alert/toast text the bot answered."""
        screen = screen or self.screen()
        message = Message(
            message_id=screen.message_id,
            date=datetime.now(),
            chat=Chat(id=screen.chat_id, type=self.chat_type),
            text=screen.text or "x",
        )
        query = CallbackQuery(
            id=str(next(self._ids)),
            from_user=self._user(),
            chat_instance="ci",
            message=message,
            data=data,
        )
        before = await self._feed(callback_query=query)
        answers = [r for r in self.session.requests[before:] if isinstance(r, AnswerCallbackQuery)]
        assert len(answers) == 1, f"callback answered {len(answers)} times"
        return answers[0].text

    async def tap(self, label: str, screen: Screen | None = None) -> str | None:
        screen = screen or self.screen()
        return await self.press(self.button(label, screen), screen)

    # --- reading what the bot did --------------------------------------------------------------

    async def open_card(
        self, model: str, prompt: str, *, mode: str = "Text to video", more_models: bool = False
    ) -> Screen:
        """What most stories start with: /start, the mode, the model (from "More models" when
        it is not among the recommended), its default parameters, the prompt: the card."""
        await self.send("/start")
        await self.tap(mode)
        if more_models:
            await self.tap("More models")
        await self.tap(model)
        await self.tap("Next")
        await self.send(prompt)
        return self.screen()

    def screens(self) -> list[Screen]:
        found = []
        for request, result in zip(self.session.requests, self.session.results, strict=False):
            if not isinstance(request, SCREEN_METHODS):
                continue
            chat = getattr(request, "chat_id", None)
            if chat is not None and int(chat) != self.chat():
                continue
            message_id = getattr(request, "message_id", None)
            if message_id is None and isinstance(result, Message):
                message_id = result.message_id
            text = getattr(request, "text", None) or getattr(request, "caption", None) or ""
            found.append(
                Screen(
                    message_id or 0,
                    int(chat or self.chat()),
                    text,
                    getattr(request, "reply_markup", None),
                )
            )
        return found

    def chat(self) -> int:
        return self.user_id if self.chat_type == "private" else -100123

    def screen(self) -> Screen:
        with_buttons = [s for s in self.screens() if s.markup is not None]
        assert with_buttons, "the bot showed no buttons"
        return with_buttons[-1]

    def last_text(self) -> str:
        return self.screens()[-1].text

    def texts(self) -> list[str]:
        return [s.text for s in self.screens()]

    def buttons(self, screen: Screen | None = None) -> list[tuple[str, str]]:
        screen = screen or self.screen()
        assert screen.markup is not None
        return [
            (b.text, b.callback_data or "") for row in screen.markup.inline_keyboard for b in row
        ]

    def button(self, label: str, screen: Screen | None = None) -> str:
        matches = [data for text, data in self.buttons(screen) if label in text]
        assert matches, f"no button {label!r} in {[t for t, _ in self.buttons(screen)]}"
        return matches[0]

    async def jobs(self) -> list[Any]:
        rows = await self.services.db.fetchall("SELECT id FROM jobs ORDER BY id")
        return [await self.services.jobs.get(r["id"]) for r in rows]
