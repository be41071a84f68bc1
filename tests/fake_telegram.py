"""A fake Telegram Bot API server on 127.0.0.1 for running the real `python -m bot` process.

It speaks the Bot API's envelope ({"ok": true, "result": ...}), long-polls getUpdates with
offsets, and records every call so a test can read what the bot sent."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 42, "is_bot": True, "first_name": "Video", "username": "video_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    token: str
    calls: list[Call] = field(default_factory=list)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # --- the user's side ----------------------------------------------------------------------

    def send_text(self, user_id: int, text: str, language: str = "en") -> None:
        update_id = next(self._ids)
        message: dict[str, Any] = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U", "language_code": language},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        self._updates.append({"update_id": update_id, "message": message})
        self._new_update.set()

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 15) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.called(method)) < count:
            if time.monotonic() > deadline:
                seen = sorted({c.method for c in self.calls})
                raise AssertionError(f"no {count}x {method} within {timeout}s; saw {seen}")
            await asyncio.sleep(0.05)
        return self.called(method)

    # --- the Bot API side ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params: dict[str, Any] = dict(await request.post())
        self.calls.append(Call(method, params))
        if method == "getUpdates":
            return self._ok(await self._get_updates(params))
        if method == "getMe":
            return self._ok(BOT_USER)
        if method == "getStarTransactions":
            return self._ok({"transactions": []})
        if method in {"sendMessage", "sendVideo", "sendPhoto", "editMessageText"}:
            chat = int(str(params.get("chat_id", 0)))
            return self._ok(
                {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"},
                    "from": BOT_USER,
                    "text": params.get("text", ""),
                }
            )
        return self._ok(True)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(str(params.get("offset") or 0))
        timeout = min(float(str(params.get("timeout") or 0)), 1.0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return list(self._updates)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})
