"""A fake Telegram Bot API server on 127.0.0.1, for running the real `python -m bot` process.

The bot's side: getUpdates long polling with offsets, or a webhook (setWebhook, getWebhookInfo,
deleteWebhook; HTTPS only, as Telegram; updates POSTed with the secret header, one user's at a
time, again until the bot answers 200; a method in the answer carried out; getUpdates refused
with 409 while a webhook is set), the send/edit/delete methods the bot uses,
multipart uploads, sendVideo by URL (downloaded here, 20 MB cap) or by file_id, getFile and file
downloads, invoices and Stars payments, and Telegram's real error envelope and texts.
The user's side (for tests): send texts, commands, photos, documents, button presses and
payments; read what the bot sent; inject faults (an error for the next calls of a method, a
blocked user, dropped getUpdates connections) and hold calls to catch the bot mid-step."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.telegram_text import refusal

BOT_USER = {"id": 424242, "is_bot": True, "first_name": "Video", "username": "video_bot"}
MB = 1024 * 1024
SEND_METHODS = {"sendMessage", "sendVideo", "sendPhoto", "sendDocument", "sendInvoice"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class BotMessage:
    chat_id: int
    message_id: int
    kind: str  # text | video | invoice | copy
    text: str = ""
    markup: dict[str, Any] | None = None
    file_id: str | None = None
    payload: str | None = None
    deleted: bool = False
    edits: int = 0

    def buttons(self) -> list[tuple[str, str]]:
        if not self.markup:
            return []
        return [
            (b["text"], b.get("callback_data", ""))
            for row in self.markup.get("inline_keyboard", [])
            for b in row
        ]

    def button(self, label: str) -> str:
        found = [data for text, data in self.buttons() if label in text]
        assert found, f"no button {label!r} in {[t for t, _ in self.buttons()]}"
        return found[0]

    def as_json(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": "private" if self.chat_id > 0 else "group"},
            "from": BOT_USER,
        }
        if self.kind == "video":
            message["caption"] = self.text
            message["video"] = {
                "file_id": self.file_id,
                "file_unique_id": f"u{self.file_id}",
                "width": 1280,
                "height": 720,
                "duration": 8,
            }
        elif self.kind == "document":
            message["caption"] = self.text
            message["document"] = {"file_id": self.file_id, "file_unique_id": f"u{self.file_id}"}
        else:
            message["text"] = self.text or "…"
        if self.markup:
            message["reply_markup"] = self.markup
        return message


@dataclass
class Fault:
    method: str
    code: int
    description: str
    parameters: dict[str, Any] | None
    times: int
    chat: int | None = None  # only calls for this chat


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.url = ""
        self.calls: list[Call] = []
        self.messages: dict[int, list[BotMessage]] = defaultdict(list)
        self.user_messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, id) -> message
        self.files: dict[str, bytes] = {}
        self.blocked: set[int] = set()
        self.faults: list[Fault] = []
        self.holds: dict[str, asyncio.Event] = {}
        self.aborted: list[str] = []  # held calls whose client went away
        self.refused: list[tuple[str, str]] = []  # (method, description): texts Telegram refuses
        # method -> how many calls are carried out but their answer lost (connection dropped)
        self.lost_answers: dict[str, int] = {}
        self.star_refunds: list[str] = []  # charge ids whose Stars went back to the user
        self.drop_get_updates = 0
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.checkout_answers: dict[str, dict[str, Any]] = {}
        self.star_transactions: list[dict[str, Any]] = []
        self.url_download_limit = 20 * MB
        self.upload_limit = 50 * MB
        self.keep_files = True  # False: remember only the head of each video (benchmarks)
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        # webhook mode: what setWebhook asked, where its public https:// host really listens
        self.webhook: dict[str, Any] | None = None
        self.routes: dict[str, str] = {}  # "https://bot.test" -> "http://127.0.0.1:port"
        self.webhook_posts: list[tuple[int, int]] = []  # (update_id, HTTP status or 0)
        self.documents: list[tuple[int, int]] = []  # (chat, bytes) of each document sent
        # Whom to trust when a route is HTTPS (a real TLS terminator in front of the bot)
        self.tls: ssl.SSLContext | None = None
        self.webhook_retry = 0.2  # seconds before an unanswered update is sent again
        self.max_connections = 40
        self.webhook_lost_answers = 0  # this many 200s are lost on the way back: sent again
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # update_id -> its POST
        self._pusher: asyncio.Task[None] | None = None

    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=2100 * MB)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()
        return self.url

    async def stop(self) -> None:
        for event in self.holds.values():
            event.set()
        tasks = [t for t in (self._pusher, *self._in_flight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()

    # --- the user's side ----------------------------------------------------------------------

    def _user(self, user_id: int, language: str) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"U{user_id}",
            "username": f"user{user_id}",
            "language_code": language,
        }

    def _push(self, update: dict[str, Any]) -> int:
        update["update_id"] = next(self._ids)
        self._updates.append(update)
        self._new_update.set()
        return update["update_id"]

    def _message(
        self, user_id: int, language: str, chat_id: int | None = None, **content: Any
    ) -> dict[str, Any]:
        chat = chat_id if chat_id is not None else user_id
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
            "from": self._user(user_id, language),
            **content,
        }

    def send_text(
        self,
        user_id: int,
        text: str,
        language: str = "en",
        chat_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user's text message (returned: another message may reply to it). Kept, so the
        bot can copy it (copyMessage) as Telegram lets it copy any message in a chat."""
        message = self._message(user_id, language, chat_id, text=text)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.user_messages[(message["chat"]["id"], message["message_id"])] = message
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        self._push({"message": message})
        return message

    def send_photo(
        self, user_id: int, data: bytes, caption: str | None = None, language: str = "en"
    ) -> None:
        file_id = f"userphoto{next(self._ids)}"
        self.files[file_id] = data
        photo = [
            {
                "file_id": file_id,
                "file_unique_id": file_id,
                "width": 1000,
                "height": 800,
                "file_size": len(data),
            }
        ]
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = caption
        self._push({"message": self._message(user_id, language, **content)})

    def send_document(
        self, user_id: int, data: bytes, name: str, mime: str, language: str = "en"
    ) -> None:
        file_id = f"userdoc{next(self._ids)}"
        self.files[file_id] = data
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": name,
            "mime_type": mime,
            "file_size": len(data),
        }
        self._push({"message": self._message(user_id, language, document=document)})

    def press(self, user_id: int, message: BotMessage, data: str, language: str = "en") -> str:
        query_id = f"q{next(self._ids)}"
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id, language),
                    "chat_instance": "ci",
                    "message": message.as_json(),
                    "data": data,
                }
            }
        )
        return query_id

    async def tap(
        self,
        user_id: int,
        message: BotMessage,
        label: str,
        language: str = "en",
        timeout: float = 20,
    ) -> dict[str, Any]:
        """Tap the button whose text holds `label`, once the message shows it: as a person
        would, who sees the button only after the edit that adds it, which may come a moment
        after the answer to the last tap. Returns the answer to this tap."""
        deadline = time.monotonic() + timeout
        while not any(label in text for text, _ in message.buttons()):
            if time.monotonic() > deadline:
                message.button(label)  # fails, naming the buttons there are
            await asyncio.sleep(0.02)
        query_id = self.press(user_id, message, message.button(label), language)
        return await self.wait_answer(query_id, timeout)

    async def wait_answer(self, query_id: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while query_id not in self.callback_answers:
            assert time.monotonic() < deadline, f"callback {query_id} not answered"
            await asyncio.sleep(0.02)
        return self.callback_answers[query_id]

    def pre_checkout(self, user_id: int, payload: str, total: int) -> str:
        query_id = f"pc{next(self._ids)}"
        self._push(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": self._user(user_id, "en"),
                    "currency": "XTR",
                    "total_amount": total,
                    "invoice_payload": payload,
                }
            }
        )
        return query_id

    def pay(self, user_id: int, payload: str, total: int, charge_id: str) -> None:
        paid = {
            "currency": "XTR",
            "total_amount": total,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        self._push({"message": self._message(user_id, "en", successful_payment=paid)})

    # --- reading what the bot did -------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def chat(self, chat_id: int) -> list[BotMessage]:
        return [m for m in self.messages[chat_id] if not m.deleted]

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self.chat(chat_id)]

    def videos(self, chat_id: int) -> list[BotMessage]:
        return [m for m in self.chat(chat_id) if m.kind == "video"]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 20) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.called(method)) < count:
            if time.monotonic() > deadline:
                seen = sorted({c.method for c in self.calls})
                raise AssertionError(f"no {count}x {method} within {timeout}s; saw {seen}")
            await asyncio.sleep(0.05)
        return self.called(method)

    def mark(self, chat_id: int) -> int:
        """A place in the chat: wait_message(after=mark) looks only at later messages."""
        return len(self.messages[chat_id])

    async def wait_message(
        self,
        chat_id: int,
        contains: str,
        timeout: float = 20,
        kind: str | None = None,
        after: int = 0,
    ) -> BotMessage:
        deadline = time.monotonic() + timeout
        while True:
            for message in reversed(self.messages[chat_id][after:]):
                if message.deleted:
                    continue
                if contains in message.text and (kind is None or message.kind == kind):
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"chat {chat_id}: no message with {contains!r} in {timeout}s; "
                    f"last: {self.texts(chat_id)[-3:]}"
                )
            await asyncio.sleep(0.05)

    def last(self, chat_id: int) -> BotMessage:
        return self.chat(chat_id)[-1]

    # --- faults -------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        code: int,
        description: str,
        times: int = 1,
        parameters: dict[str, Any] | None = None,
        chat: int | None = None,
    ) -> None:
        self.faults.append(Fault(method, code, description, parameters, times, chat))

    def hold(self, method: str) -> asyncio.Event:
        """Calls of `method` wait until the returned event is set (or the client goes away)."""
        event = asyncio.Event()
        self.holds[method] = event
        return event

    # --- the Bot API side ---------------------------------------------------------------------

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(
        code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                else:
                    params[key] = value
        for key in ("reply_markup", "prices", "allowed_updates", "commands", "scope"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        arrived = time.monotonic()  # when Telegram would count the send: before the body is read
        params, files = await self._params(request)
        self.calls.append(Call(method, params, arrived))
        if method == "getUpdates" and self.drop_get_updates > 0:
            self.drop_get_updates -= 1
            assert request.transport is not None
            request.transport.close()  # a network drop in the middle of long polling
            return web.Response()
        for fault in self.faults:
            for_chat = fault.chat is None or str(params.get("chat_id")) == str(fault.chat)
            if fault.method == method and fault.times > 0 and for_chat:
                fault.times -= 1
                return self._error(fault.code, fault.description, fault.parameters)
        hold = self.holds.get(method)
        if hold is not None and not hold.is_set():
            await hold.wait()
            if request.transport is None or request.transport.is_closing():
                self.aborted.append(method)  # the bot died waiting: nothing happened
                return web.Response(status=499)
        chat = params.get("chat_id")
        sends = SEND_METHODS | {"editMessageText", "sendChatAction", "copyMessage"}
        if method in sends and chat is not None and int(chat) in self.blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        for name, caption in (("text", False), ("caption", True)):
            refused = refusal(params.get(name), params.get("parse_mode"), caption=caption)
            if refused is not None and method != "getUpdates":
                self.refused.append((method, refused))
                return self._error(400, refused)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._ok(True)
        result: web.StreamResponse = await handler(params, files)
        if self.lost_answers.get(method, 0) > 0:
            self.lost_answers[method] -= 1
            assert request.transport is not None
            request.transport.close()  # done here, but the bot never hears of it
            return web.Response()
        return result

    async def _m_getUpdates(self, params: dict[str, Any], _f: dict[str, bytes]) -> web.Response:
        if self.webhook is not None:
            return self._error(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self._ok(self._updates[:100])

    async def _m_refundStarPayment(
        self, params: dict[str, Any], _f: dict[str, bytes]
    ) -> web.Response:
        charge = str(params.get("telegram_payment_charge_id"))
        if charge in self.star_refunds:
            return self._error(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        self.star_refunds.append(charge)
        return self._ok(True)

    async def _m_getMe(self, *_: Any) -> web.Response:
        return self._ok(BOT_USER)

    async def _m_getStarTransactions(self, *_: Any) -> web.Response:
        return self._ok({"transactions": self.star_transactions})

    def _new_message(
        self, chat_id: int, kind: str, params: dict[str, Any], **extra: Any
    ) -> BotMessage:
        message = BotMessage(
            chat_id=chat_id,
            message_id=next(self._message_ids[chat_id]),
            kind=kind,
            text=params.get("text") or params.get("caption") or "",
            markup=params.get("reply_markup"),
            **extra,
        )
        self.messages[chat_id].append(message)
        return message

    def _find(self, chat_id: int, message_id: int) -> BotMessage | None:
        return next(
            (m for m in self.messages[chat_id] if m.message_id == message_id and not m.deleted),
            None,
        )

    async def _m_sendMessage(self, params: dict[str, Any], _f: dict[str, bytes]) -> web.Response:
        if not params.get("text"):
            return self._error(400, "Bad Request: message text is empty")
        return self._ok(self._new_message(int(params["chat_id"]), "text", params).as_json())

    async def _m_copyMessage(self, params: dict[str, Any], _f: dict[str, bytes]) -> web.Response:
        """A copy of a message of any chat the bot is in: the user's own, or the bot's."""
        source_chat, source_id = int(params["from_chat_id"]), int(params["message_id"])
        source = self.user_messages.get((source_chat, source_id))
        text = source.get("text", "") if source else None
        if source is None:
            found = self._find(source_chat, source_id)
            text = found.text if found is not None else None
        if text is None:
            return self._error(400, "Bad Request: message to copy not found")
        message = self._new_message(int(params["chat_id"]), "copy", params)
        message.text = text
        return self._ok({"message_id": message.message_id})

    async def _m_sendInvoice(self, params: dict[str, Any], _f: dict[str, bytes]) -> web.Response:
        if params.get("currency") != "XTR" or len(params.get("payload", "").encode()) > 128:
            return self._error(400, "Bad Request: invalid invoice")
        message = self._new_message(
            int(params["chat_id"]), "invoice", params, payload=params["payload"]
        )
        message.text = params.get("title", "")
        return self._ok(message.as_json())

    async def _m_editMessageText(
        self, params: dict[str, Any], _f: dict[str, bytes]
    ) -> web.Response:
        message = self._find(int(params["chat_id"]), int(params["message_id"]))
        if message is None:
            return self._error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if message.text == params.get("text") and message.markup == markup:
            return self._error(
                400,
                "Bad Request: message is not modified: specified new "
                "message content and reply markup are exactly the same as a "
                "current content and reply markup of the message",
            )
        message.text, message.markup = params.get("text", ""), markup
        message.edits += 1
        return self._ok(message.as_json())

    async def _m_editMessageReplyMarkup(
        self, params: dict[str, Any], _f: dict[str, bytes]
    ) -> web.Response:
        message = self._find(int(params["chat_id"]), int(params["message_id"]))
        if message is None:
            return self._error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if message.markup == markup:
            return self._error(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.markup = markup
        message.edits += 1
        return self._ok(message.as_json())

    async def _m_deleteMessage(self, params: dict[str, Any], _f: dict[str, bytes]) -> web.Response:
        message = self._find(int(params["chat_id"]), int(params["message_id"]))
        if message is None:
            return self._error(400, "Bad Request: message to delete not found")
        message.deleted = True
        return self._ok(True)

    async def _m_sendVideo(self, params: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        chat = int(params["chat_id"])
        video = str(params.get("video", ""))
        if video.startswith("attach://"):
            data = files.get(video.removeprefix("attach://"), b"")
            if len(data) > self.upload_limit:
                return self._error(413, "Request Entity Too Large")
        elif video.startswith(("http://", "https://")):
            data = await self._fetch(video)
            if data is None:
                return self._error(400, "Bad Request: failed to get HTTP URL content")
        elif video in self.files:
            data = self.files[video]
        else:
            return self._error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if data[4:8] != b"ftyp":
            return self._error(400, "Bad Request: wrong type of the web page content")
        file_id = video if video in self.files else f"video{next(self._ids)}"
        self.files[file_id] = data if self.keep_files else data[:64]
        return self._ok(self._new_message(chat, "video", params, file_id=file_id).as_json())

    async def _m_sendDocument(
        self, params: dict[str, Any], files: dict[str, bytes]
    ) -> web.Response:
        """As Telegram: an upload up to upload_limit; by URL only GIF, PDF and ZIP files (so a video
        must be uploaded); a known file_id."""
        chat = int(params["chat_id"])
        document = str(params.get("document", ""))
        if document.startswith("attach://"):
            data = files.get(document.removeprefix("attach://"), b"")
            if len(data) > self.upload_limit:
                return self._error(413, "Request Entity Too Large")
        elif document.startswith(("http://", "https://")):
            return self._error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        elif document in self.files:
            data = self.files[document]
        else:
            return self._error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        file_id = document if document in self.files else f"document{next(self._ids)}"
        self.files[file_id] = data if self.keep_files else data[:64]
        self.documents.append((chat, len(data)))
        return self._ok(self._new_message(chat, "document", params, file_id=file_id).as_json())

    async def _fetch(self, url: str) -> bytes | None:
        assert self._http is not None
        try:
            async with self._http.get(url) as response:
                if response.status != 200:
                    return None
                data = b""
                async for chunk in response.content.iter_chunked(1024 * 1024):
                    data += chunk
                    if len(data) > self.url_download_limit:
                        return None  # Telegram fetches at most 20 MB by URL
        except aiohttp.ClientError:
            return None
        return data

    async def _m_getFile(self, params: dict[str, Any], _f: dict[str, bytes]) -> web.Response:
        file_id = params.get("file_id", "")
        if file_id not in self.files:
            return self._error(400, "Bad Request: invalid file_id")
        if len(self.files[file_id]) > 20 * MB:
            return self._error(400, "Bad Request: file is too big")
        return self._ok(
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"f/{file_id}",
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].removeprefix("f/")
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def _m_answerCallbackQuery(
        self, params: dict[str, Any], _f: dict[str, bytes]
    ) -> web.Response:
        self.callback_answers[params["callback_query_id"]] = params
        return self._ok(True)

    async def _m_answerPreCheckoutQuery(
        self, params: dict[str, Any], _f: dict[str, bytes]
    ) -> web.Response:
        self.checkout_answers[params["pre_checkout_query_id"]] = params
        return self._ok(True)

    # --- webhook ------------------------------------------------------------------------------

    async def _m_setWebhook(self, params: dict[str, Any], _f: dict[str, bytes]) -> web.Response:
        url = str(params.get("url") or "")
        if not url:
            return await self._m_deleteWebhook(params, _f)
        parsed = urlsplit(url)
        if parsed.scheme != "https":
            return self._error(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if (parsed.port or 443) not in (443, 80, 88, 8443):
            return self._error(
                400,
                "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            return self._error(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        self.webhook = {"url": url, "secret": secret, "allowed_updates": allowed}
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_updates())
        self._new_update.set()
        return self._ok(True)

    async def _m_deleteWebhook(self, params: dict[str, Any], _f: dict[str, bytes]) -> web.Response:
        self.webhook = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return self._ok(True)

    async def _m_getWebhookInfo(self, *_: Any) -> web.Response:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook and self.webhook["allowed_updates"] is not None:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return self._ok(info)

    def _target(self, url: str) -> str:
        parsed = urlsplit(url)
        base = f"{parsed.scheme}://{parsed.netloc}"
        if base not in self.routes:
            raise AssertionError(f"the webhook points at {base}, which no test route serves")
        return self.routes[base] + parsed.path

    async def _push_updates(self) -> None:
        """Send pending updates while a webhook is set: several users at once (up to
        max_connections), each user's in order, one at a time."""
        while self.webhook is not None:
            self._new_update.clear()
            allowed = self.webhook["allowed_updates"]
            busy = {_sender(self._find_update(i)) for i in self._in_flight}
            for update in list(self._updates):
                kind = next(k for k in update if k != "update_id")
                if allowed is not None and kind not in allowed:
                    self._updates.remove(update)  # Telegram drops what the bot did not ask for
                    continue
                sender = _sender(update)
                if update["update_id"] in self._in_flight or sender in busy:
                    busy.add(sender)
                    continue
                if len(self._in_flight) >= self.max_connections:
                    break
                busy.add(sender)
                task = asyncio.create_task(self._post(update))
                self._in_flight[update["update_id"]] = task
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), self.webhook_retry)

    def _find_update(self, update_id: int) -> dict[str, Any]:
        return next((u for u in self._updates if u["update_id"] == update_id), {})

    async def _post(self, update: dict[str, Any]) -> None:
        assert self._http is not None and self.webhook is not None
        status = 0
        headers = {}
        if self.webhook["secret"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret"])
        try:
            async with self._http.post(
                self._target(self.webhook["url"]),
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=60),
                ssl=self.tls or True,
            ) as response:
                status = response.status
                if status == 200:
                    await self._webhook_reply(response)
                if status == 200 and self.webhook_lost_answers > 0:
                    self.webhook_lost_answers -= 1
                    status = 0  # handled by the bot, but Telegram never heard: it sends again
        except (aiohttp.ClientError, TimeoutError):
            status = 0  # refused, reset or timed out: sent again later
        finally:
            self.webhook_posts.append((update["update_id"], status))
            if status == 200 and update in self._updates:
                self._updates.remove(update)
            self._in_flight.pop(update["update_id"], None)
            self._new_update.set()

    async def _webhook_reply(self, response: aiohttp.ClientResponse) -> None:
        """A method in the answer to an update, as Telegram carries it out (its result is lost
        to the bot)."""
        if response.content_type == "application/json":
            body = await response.json()
            if not body or "method" not in body:
                return
            params = dict(body)
        else:
            reader = aiohttp.MultipartReader.from_response(response)
            params = {}
            while (part := await reader.next()) is not None:
                assert isinstance(part, aiohttp.BodyPartReader)
                params[part.name] = (await part.read()).decode()
        method = str(params.pop("method"))
        for key in ("reply_markup",):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        self.calls.append(Call(method, params))
        handler = getattr(self, f"_m_{method}", None)
        if handler is not None:
            await handler(params, {})


def _sender(update: dict[str, Any]) -> Any:
    """Whose update this is (None for none)."""
    for kind, body in update.items():
        if kind != "update_id" and isinstance(body, dict):
            return (body.get("from") or {}).get("id")
    return None
