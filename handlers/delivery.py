"""The runner's Messenger over aiogram: progress messages, the finished video, failure notices.

Delivery tries the cheapest way first: `sendVideo` with the URL (Telegram fetches up to 20 MB).
If Telegram refuses, the video is streamed to a temporary file (never whole in memory) and
uploaded (50 MB, or 2000 MB with a local Bot API server); larger than that, the user gets the
link. Progress edits are best effort: at most one every 5 s per chat, identical texts skipped,
and a global budget so many jobs in flight stay under Telegram's ~30 messages/s."""

from __future__ import annotations

import html
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
)
from aiogram.types import FSInputFile, Message

from handlers.texts import failure_reason, t
from services.catalog import Catalog
from services.jobs import Job, Status
from services.runner import Delivery, VideoUnavailable
from services.users import Users

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
MB = 1024 * 1024


class TelegramMessenger:
    def __init__(
        self,
        bot: Bot,
        users: Users,
        catalog: Catalog,
        admin_ids: Iterable[int],
        http: httpx.AsyncClient,
        *,
        upload_limit: int = 50 * MB,
        min_edit_interval: float = 5.0,
        edits_per_second: float = 20.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self.users = users
        self.catalog = catalog
        self.admin_ids = tuple(admin_ids)
        self.http = http
        self.upload_limit = upload_limit
        self.min_edit_interval = min_edit_interval
        self.edits_per_second = edits_per_second
        self.monotonic = monotonic
        self.wall_clock = wall_clock
        self._last_edit: dict[int, float] = {}  # chat -> when
        self._last_text: dict[int, str] = {}  # job -> text shown
        self._budget = edits_per_second
        self._budget_at = monotonic()

    async def _lang(self, user_id: int) -> str:
        user = await self.users.get(user_id)
        return user.language if user else "en"

    def _model_name(self, job: Job) -> str:
        model = self.catalog.get(job.model_id)
        return model.name if model else job.model_id

    # --- progress -----------------------------------------------------------------------------

    def _may_edit(self, chat_id: int) -> bool:
        now = self.monotonic()
        if now - self._last_edit.get(chat_id, float("-inf")) < self.min_edit_interval:
            return False
        self._budget = min(
            self.edits_per_second, self._budget + (now - self._budget_at) * self.edits_per_second
        )
        self._budget_at = now
        if self._budget < 1:
            return False
        self._budget -= 1
        self._last_edit[chat_id] = now
        if len(self._last_edit) > 10_000:
            cutoff = now - self.min_edit_interval
            self._last_edit = {c: w for c, w in self._last_edit.items() if w >= cutoff}
        return True

    def progress_text(self, lang: str, job: Job) -> str:
        elapsed = max(0, int(self.wall_clock() - job.created_at))
        bar = ""
        if job.progress is not None and job.status is Status.SUBMITTED:
            filled = job.progress // 10
            bar = f"\n{'▓' * filled}{'░' * (10 - filled)} {job.progress}%"
        return t(
            lang,
            "progress",
            stage=t(lang, f"stage.{job.status.value}"),
            model=html.escape(self._model_name(job)),
            duration=job.duration,
            elapsed=f"{elapsed // 60}:{elapsed % 60:02d}",
            bar=bar,
        )

    async def show_progress(self, job: Job) -> int | None:
        if job.status not in (Status.QUEUED, Status.UPLOADING, Status.SUBMITTED):
            return None
        if job.progress_message_id is not None and not self._may_edit(job.chat_id):
            return None
        lang = await self._lang(job.user_id)
        text = self.progress_text(lang, job)
        if job.progress_message_id is None:
            self._last_edit[job.chat_id] = self.monotonic()
            message = await self.bot.send_message(job.chat_id, text)
            self._last_text[job.id] = text
            return message.message_id
        if self._last_text.get(job.id) == text:
            return None
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=job.chat_id, message_id=job.progress_message_id
            )
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return None
            if "not found" in exc.message or "can't be edited" in exc.message:
                message = await self.bot.send_message(job.chat_id, text)
                self._last_text[job.id] = text
                return message.message_id
            raise
        self._last_text[job.id] = text
        return None

    async def _remove_progress(self, job: Job) -> None:
        self._last_text.pop(job.id, None)
        if job.progress_message_id is None:
            return
        try:
            await self.bot.delete_message(job.chat_id, job.progress_message_id)
        except TelegramAPIError as exc:
            log.info("job %d: progress message not deleted: %s", job.id, exc)

    # --- the video ----------------------------------------------------------------------------

    def caption(self, lang: str, job: Job) -> str:
        head = t(lang, "caption", model=self._model_name(job), duration=job.duration, prompt="")
        room = CAPTION_LIMIT - len(head)
        prompt = job.prompt if len(job.prompt) <= room else job.prompt[: room - 1] + "…"
        return html.escape(head + prompt)

    async def deliver(self, job: Job) -> Delivery:
        assert job.video_url is not None
        lang = await self._lang(job.user_id)
        caption = self.caption(lang, job)
        try:
            message = await self.bot.send_video(
                job.chat_id, video=job.video_url, caption=caption, supports_streaming=True
            )
        except TelegramForbiddenError:
            log.info("job %d: user blocked the bot; kept in the gallery", job.id)
            return Delivery("blocked")
        except (TelegramBadRequest, TelegramEntityTooLarge) as exc:
            log.info("job %d: Telegram did not take the URL (%s); uploading", job.id, exc.message)
            return await self._upload(job, lang, caption)
        await self._remove_progress(job)
        return Delivery("video", _file_id(message))

    async def _upload(self, job: Job, lang: str, caption: str) -> Delivery:
        assert job.video_url is not None
        fd, name = tempfile.mkstemp(prefix=f"job{job.id}-", suffix=".mp4")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                async with self.http.stream("GET", job.video_url) as response:
                    if response.status_code in (403, 404, 410):
                        raise VideoUnavailable(
                            f"the video URL answered HTTP {response.status_code}"
                        )
                    response.raise_for_status()  # 5xx: the runner tries again later
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > self.upload_limit:
                        return await self._send_link(job, lang)
                    size = 0
                    async for chunk in response.aiter_bytes(256 * 1024):
                        size += len(chunk)
                        if size > self.upload_limit:
                            return await self._send_link(job, lang)
                        out.write(chunk)
            try:
                message = await self.bot.send_video(
                    job.chat_id,
                    video=FSInputFile(path, filename=f"video-{job.id}.mp4"),
                    caption=caption,
                    supports_streaming=True,
                    request_timeout=max(60, size // MB * 5),
                )
            except TelegramEntityTooLarge:
                return await self._send_link(job, lang)
            except TelegramForbiddenError:
                return Delivery("blocked")
        finally:
            path.unlink(missing_ok=True)  # noqa: ASYNC240 - a local temp file
        await self._remove_progress(job)
        return Delivery("video", _file_id(message))

    async def _send_link(self, job: Job, lang: str) -> Delivery:
        try:
            await self.bot.send_message(
                job.chat_id, t(lang, "link", url=html.escape(job.video_url or ""))
            )
        except TelegramForbiddenError:
            return Delivery("blocked")
        await self._remove_progress(job)
        return Delivery("link")

    # --- failures and admins ------------------------------------------------------------------

    async def tell_failed(self, job: Job) -> None:
        lang = await self._lang(job.user_id)
        text = t(
            lang,
            "failed",
            model=html.escape(self._model_name(job)),
            reason=html.escape(failure_reason(lang, job.error_class, job.error_message)),
            tokens=job.tokens,
        )
        try:
            await self.bot.send_message(job.chat_id, text)
        except TelegramForbiddenError:
            log.info("job %d: user blocked the bot; failure not told", job.id)
        await self._remove_progress(job)

    async def alert_admins(self, text: str) -> None:
        for admin in self.admin_ids:
            try:
                await self.bot.send_message(admin, html.escape(text))
            except TelegramAPIError as exc:
                log.warning("admin %d not alerted: %s", admin, exc)


def _file_id(message: Message) -> str | None:
    media = message.video or message.document or message.animation
    return media.file_id if media else None
