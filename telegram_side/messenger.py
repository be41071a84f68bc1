"""The runner's Messenger over aiogram: progress messages, the finished video, failure notices.

Delivery tries the cheapest way first: `sendVideo` with the URL (Telegram fetches up to 20 MB).
If Telegram refuses, the video is streamed to a temporary file (never whole in memory) and
uploaded (50 MB, or 2000 MB with a local Bot API server); larger than that, the user gets the
link. Progress edits are best effort: at most one every 5 s per chat, identical texts skipped,
and a global budget so many jobs in flight stay under Telegram's ~30 messages/s."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
)
from aiogram.types import FSInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.job_texts import (
    edit_caption,
    edit_failure_text,
    failure_reason,
    progress_text,
    summary_text,
)
from handlers.render import escape, fill
from handlers.texts import CAPTION_LIMIT, cut, utf16_len
from services.catalog import Catalog
from services.editing import Edit
from services.jobs import Job, Status
from services.runner import Delivery, VideoUnavailable
from services.runner.contracts import LeaseLost, StillMine, always_mine
from services.users import Users
from telegram_side.budget import PROGRESS_SHARE, LocalBudget, SendBudget, preclaimed
from telegram_side.sources import VideoSources

log = logging.getLogger(__name__)

MB = 1024 * 1024

# Telegram's answers when sending (shared/docs/telegram-platform.md), by what to do about them.
UNREACHABLE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")
URL_REFUSED = (
    "failed to get http url content",
    "wrong type of the web page content",
    "wrong file identifier/http url specified",
    "wrong remote file",
)
CAPTION_REFUSED = ("caption is too long", "can't parse entities")


def unreachable(exc: TelegramAPIError) -> bool:
    """The user cannot be reached (blocked the bot, deleted the chat, deactivated): stop."""
    if isinstance(exc, TelegramForbiddenError):
        return True
    return isinstance(exc, TelegramBadRequest) and _says(exc, UNREACHABLE)


def url_refused(exc: TelegramAPIError) -> bool:
    """Telegram could not fetch the URL: upload the file instead."""
    return isinstance(exc, TelegramBadRequest) and _says(exc, URL_REFUSED)


def caption_refused(exc: TelegramAPIError) -> bool:
    return isinstance(exc, TelegramBadRequest) and _says(exc, CAPTION_REFUSED)


def _says(exc: TelegramAPIError, phrases: tuple[str, ...]) -> bool:
    text = exc.message.lower()
    return any(phrase in text for phrase in phrases)


class TelegramMessenger:
    def __init__(
        self,
        bot: Bot,
        i18n: I18n,
        users: Users,
        catalog: Catalog,
        admin_ids: Iterable[int],
        http: httpx.AsyncClient,
        *,
        upload_limit: int = 50 * MB,
        min_edit_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        budget: SendBudget | None = None,
        sources: VideoSources | None = None,
    ) -> None:
        self.bot = bot
        self.sources = sources  # local copies of delivered videos, for editing
        self.i18n = i18n
        self.users = users
        self.catalog = catalog
        self.admin_ids = tuple(admin_ids)
        self.http = http
        self.upload_limit = upload_limit
        self.min_edit_interval = min_edit_interval
        self.wall_clock = wall_clock
        self.budget = budget or LocalBudget(25, clock=monotonic)
        self._last_text: dict[int, str] = {}  # job -> text shown

    async def _lang(self, user_id: int) -> str:
        user = await self.users.get(user_id)
        return user.language if user else "en"

    # --- progress -----------------------------------------------------------------------------

    async def _may_edit(self, chat_id: int) -> bool:
        """One progress edit per chat every `min_edit_interval` for the whole fleet, and only
        while the send budget has room to spare (progress is cosmetic: skipped, not queued)."""
        if not await self.budget.once_per(f"progress:{chat_id}", self.min_edit_interval):
            return False
        return await self.budget.try_take(max(1, int(self.budget.rate * PROGRESS_SHARE)))

    async def show_progress(self, job: Job) -> int | None:
        if job.status not in (Status.QUEUED, Status.UPLOADING, Status.SUBMITTED):
            return None
        if job.progress_message_id is not None and not await self._may_edit(job.chat_id):
            return None
        lang = await self._lang(job.user_id)
        with self.i18n.context(), self.i18n.use_locale(lang):
            text = progress_text(
                job, self.catalog.name_of(job.model_id), self.wall_clock() - job.created_at
            )
            markup = screens.progress_keyboard(job.id)
        if job.progress_message_id is None:  # the first edit comes an interval after it
            await self.budget.once_per(f"progress:{job.chat_id}", self.min_edit_interval)
            message = await self.bot.send_message(job.chat_id, text, reply_markup=markup)
            self._last_text[job.id] = text
            return message.message_id
        if self._last_text.get(job.id) == text:
            return None
        try:
            with preclaimed():  # its slot was taken in _may_edit; a retry takes its own
                await self.bot.edit_message_text(
                    text=text,
                    chat_id=job.chat_id,
                    message_id=job.progress_message_id,
                    reply_markup=markup,  # an edit without it would take the Cancel button away
                )
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return None
            if "not found" in exc.message or "can't be edited" in exc.message:
                message = await self.bot.send_message(job.chat_id, text, reply_markup=markup)
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

    def seed(self, job: Job) -> int | None:
        """The video's seed, shown and offered again where its model takes a seed."""
        model = self.catalog.get(job.model_id)
        if model is None or not model.seed:
            return None
        return job.fixed_seed if job.fixed_seed is not None else job.seed

    def extend_seconds(self, job: Job) -> int:
        """How many seconds "Extend" adds to this video (0: not offered): a video its model
        made, where the model extends natively and the live check has not withdrawn it."""
        model = self.catalog.get(job.model_id)
        if model is None or job.video_uuid is None or job.edit_kind is not None:
            return 0
        extension = self.catalog.extension(model) if self.catalog.is_live(model.id) else None
        return extension.duration if extension is not None else 0

    def caption(self, job: Job) -> str:
        """Model, duration, the prompt and the seed, cut to fit Telegram's 1024 characters."""
        name, length = self.catalog.name_of(job.model_id), screens.seconds(job.duration)
        if job.variants > 1:  # "2 of 4": which of the card's variants this is
            length += " · " + screens.variant_of(job.variant, job.variants)
        seed = self.seed(job)
        tail = "" if seed is None else "\n" + _("🎲 seed {seed}").format(seed=seed)
        head = f"🎬 {name} · {length}\n"  # as Telegram counts it: after the entities
        prompt = cut(job.user_prompt, CAPTION_LIMIT - utf16_len(head) - utf16_len(tail))
        return fill(
            "🎬 {name} · {length}\n{prompt}{tail}",
            name=name,
            length=length,
            prompt=prompt,
            tail=tail,
        )

    async def deliver(self, job: Job, still_mine: StillMine = always_mine) -> Delivery:
        """Send the video by its URL (Telegram fetches it), else upload it, else its link.

        Raises for what a later attempt may fix (network, Telegram's 5xx, an unknown refusal):
        the runner retries and, in the end, calls give_up()."""
        assert job.video_url is not None
        lang = await self._lang(job.user_id)
        with self.i18n.context(), self.i18n.use_locale(lang):
            caption = self.caption(job)
            markup = screens.after_video(
                job.id, seed=self.seed(job) is not None, extend=self.extend_seconds(job)
            )
        try:
            message = await self._send_video(job, job.video_url, caption, markup, still_mine)
        except TelegramAPIError as exc:
            if unreachable(exc):
                log.info("job %d: the chat cannot be reached (%s); kept", job.id, exc.message)
                return Delivery("blocked")
            if not (isinstance(exc, TelegramEntityTooLarge) or url_refused(exc)):
                raise
            log.info("job %d: Telegram did not take the URL (%s); uploading", job.id, exc.message)
            return await self._upload(job, lang, caption, markup, still_mine)
        await self._remove_progress(job)
        return Delivery("video", _file_id(message))

    async def _send_video(
        self,
        job: Job,
        video: str | FSInputFile,
        caption: str,
        markup: InlineKeyboardMarkup,
        still_mine: StillMine,
        **extra: Any,
    ) -> Message:
        """sendVideo; a caption Telegram refuses is dropped rather than the video."""
        try:
            await self._my_turn(still_mine)
            with preclaimed():
                return await self.bot.send_video(
                    job.chat_id,
                    video=video,
                    caption=caption,
                    supports_streaming=True,
                    reply_markup=markup,
                    **extra,
                )
        except TelegramBadRequest as exc:
            if not caption_refused(exc):
                raise
            log.warning("job %d: caption refused (%s); sent without it", job.id, exc.message)
            await self._my_turn(still_mine)
            with preclaimed():
                return await self.bot.send_video(
                    job.chat_id, video=video, supports_streaming=True, reply_markup=markup, **extra
                )

    async def _my_turn(self, still_mine: StillMine) -> None:
        """A slot of the send budget, then the lease renewed: nothing slow comes between the
        check and the send."""
        await self.budget.take()
        if not await still_mine():
            raise LeaseLost

    async def _upload(
        self,
        job: Job,
        lang: str,
        caption: str,
        markup: InlineKeyboardMarkup,
        still_mine: StillMine,
    ) -> Delivery:
        async with self._local_copy(job) as (path, size):
            if size is None:
                return await self._send_link(job, lang, still_mine, too_large=True)
            file = FSInputFile(path, filename=f"video-{job.id}.mp4")
            timeout = max(60, size // MB * 5)
            try:
                message = await self._send_video(
                    job, file, caption, markup, still_mine, request_timeout=timeout
                )
            except TelegramEntityTooLarge:
                return await self._send_link(job, lang, still_mine, too_large=True)
            except TelegramAPIError as exc:
                if unreachable(exc):
                    return Delivery("blocked")
                raise
        await self._remove_progress(job)
        return Delivery("video", _file_id(message))

    @contextlib.asynccontextmanager
    async def _local_copy(self, job: Job) -> AsyncIterator[tuple[Path, int | None]]:
        """The job's video in a temporary file, removed afterwards: (its path, its size, or
        None past the upload limit)."""
        assert job.video_url is not None
        fd, name = tempfile.mkstemp(prefix=f"job{job.id}-", suffix=".mp4")
        path = Path(name)
        try:
            yield path, await self._download(job.video_url, fd)
        finally:
            path.unlink(missing_ok=True)  # noqa: ASYNC240 - a local temp file

    async def _download(self, url: str, fd: int) -> int | None:
        """The video into the open temporary file `fd`: its size, or None past the upload
        limit (nothing more is read). Raises VideoUnavailable when the URL is gone, and on
        other HTTP errors (the runner tries again later)."""
        with os.fdopen(fd, "wb") as out:
            async with self.http.stream("GET", url) as response:
                if response.status_code in (403, 404, 410):
                    raise VideoUnavailable(f"the video URL answered HTTP {response.status_code}")
                response.raise_for_status()
                if int(response.headers.get("content-length") or 0) > self.upload_limit:
                    return None
                size = 0
                async for chunk in response.aiter_bytes(256 * 1024):
                    size += len(chunk)
                    if size > self.upload_limit:
                        return None
                    out.write(chunk)
        return size

    async def give_up(self, job: Job, still_mine: StillMine = always_mine) -> Delivery:
        """The video could not be sent after every attempt: its link, and where to find it."""
        lang = await self._lang(job.user_id)
        return await self._send_link(job, lang, still_mine, too_large=False)

    async def _send_link(
        self, job: Job, lang: str, still_mine: StillMine, *, too_large: bool
    ) -> Delivery:
        with self.i18n.context(), self.i18n.use_locale(lang):
            text: str = fill(
                (
                    _(
                        "✅ Your video is ready, but it is too large to send here. "
                        "Download it: {url}"
                    )
                    if too_large
                    else _(
                        "✅ Your video is ready, but Telegram would not take the file. "
                        "Download it: {url}"
                    )
                ),
                url=job.video_url or "",
            )
            text += "\n" + _("It is also in /gallery.")
            markup = screens.after_video(
                job.id, seed=self.seed(job) is not None, extend=self.extend_seconds(job)
            )
        try:
            await self._my_turn(still_mine)
            with preclaimed():
                await self.bot.send_message(job.chat_id, text, reply_markup=markup)
        except TelegramAPIError as exc:
            if unreachable(exc):
                return Delivery("blocked")
            raise
        await self._remove_progress(job)
        return Delivery("link")

    # --- original quality ---------------------------------------------------------------------

    async def send_extras(self, job: Job) -> None:
        """The file (sendDocument: Telegram's clients do not recompress it) and/or the link.
        A file over the upload limit goes as its link, with a word why."""
        assert job.video_url is not None
        wanted = set((job.extras or "").split(","))
        lang = await self._lang(job.user_id)
        too_large = "file" in wanted and not await self._send_file(job, lang)
        if "link" not in wanted and not too_large:
            return
        with self.i18n.context(), self.i18n.use_locale(lang):
            if too_large:
                text = fill(
                    _(
                        "📎 The original file is over {limit} MB, more than a bot may send "
                        "here. Download it: {url}"
                    ),
                    limit=max(1, self.upload_limit // MB),
                    url=job.video_url,
                )
            else:
                text = fill(_("🔗 The original file: {url}"), url=job.video_url)
            text += "\n" + _("The link works for a limited time; the video stays in /gallery.")
        await self.budget.take()
        with preclaimed():
            await self.bot.send_message(job.chat_id, text)

    async def _send_file(self, job: Job, lang: str) -> bool:
        """Upload the video as a document; False when it is over the upload limit."""
        async with self._local_copy(job) as (path, size):
            if size is None:
                return False
            with self.i18n.context(), self.i18n.use_locale(lang):
                caption = fill(
                    _("📎 {name}, the original file"), name=self.catalog.name_of(job.model_id)
                )
            await self.budget.take()
            with preclaimed():
                await self.bot.send_document(
                    job.chat_id,
                    FSInputFile(path, filename=f"video-{job.id}.mp4"),
                    caption=caption,
                    disable_content_type_detection=True,
                    request_timeout=max(60, size // MB * 5),
                )
            return True

    # --- failures and admins ------------------------------------------------------------------

    # --- edits --------------------------------------------------------------------------------

    async def send_edit(self, edit: Edit, path: Path, seconds: float) -> tuple[str, int]:
        """The made video, uploaded: Telegram's file_id of it and the message's id (raises to
        be tried again). Its buttons come once it is a gallery item (attach)."""
        lang = await self._lang(edit.user_id)
        with self.i18n.context(), self.i18n.use_locale(lang):
            caption = edit_caption(edit, seconds)
            markup = screens.after_edit()
        message = await self.bot.send_video(
            edit.chat_id,
            FSInputFile(path, filename=f"edit-{edit.id}.mp4"),
            caption=caption,
            reply_markup=markup,
            supports_streaming=True,
            request_timeout=300,
        )
        file_id = _file_id(message)
        if file_id is None:
            raise RuntimeError("Telegram's answer to the upload has no video")
        return file_id, message.message_id

    async def keep_copy(self, job: Job) -> None:
        if self.sources is not None and await self.sources.keep_delivered(job):
            log.info("job %d: a copy kept for editing", job.id)

    async def attach(self, edit: Edit, message_id: int, job: Job) -> None:
        lang = await self._lang(edit.user_id)
        with self.i18n.context(), self.i18n.use_locale(lang):
            markup = screens.after_video(job.id, again=False)
        await self.bot.edit_message_reply_markup(
            chat_id=edit.chat_id, message_id=message_id, reply_markup=markup
        )

    async def tell_edit_failed(self, edit: Edit) -> None:
        lang = await self._lang(edit.user_id)
        with self.i18n.context(), self.i18n.use_locale(lang):
            text = edit_failure_text(edit)
        try:
            await self.bot.send_message(edit.chat_id, text)
        except TelegramForbiddenError:
            log.info("edit %d: user blocked the bot; failure not told", edit.id)

    async def send_summary(self, jobs: list[Job]) -> None:
        head = jobs[0]
        lang = await self._lang(head.user_id)
        with self.i18n.context(), self.i18n.use_locale(lang):
            text = summary_text(jobs, self.catalog.name_of)
            markup = screens.home_button()
        try:
            await self.bot.send_message(head.chat_id, text, reply_markup=markup)
        except TelegramForbiddenError:
            log.info("group %s: user blocked the bot; summary not sent", head.group_id)

    async def tell_failed(self, job: Job) -> None:
        if job.error_class == "user_cancelled":
            return  # the user cancelled it and saw the answer
        lang = await self._lang(job.user_id)
        with self.i18n.context(), self.i18n.use_locale(lang):
            text = fill(
                _(
                    "❌ The video ({model}) could not be made: {reason}\n{tokens} are back on "
                    "your balance."
                ),
                model=self.catalog.name_of(job.model_id),
                reason=failure_reason(job.error_class, job.error_message),
                tokens=screens.tokens(job.tokens),
            )
        try:
            await self.bot.send_message(job.chat_id, text)
        except TelegramForbiddenError:
            log.info("job %d: user blocked the bot; failure not told", job.id)
        await self._remove_progress(job)

    async def alert_admins(self, text: str) -> None:
        for admin in self.admin_ids:
            try:
                await self.bot.send_message(admin, escape(text))
            except TelegramAPIError as exc:
                log.warning("admin %d not alerted: %s", admin, exc)


def _file_id(message: Message) -> str | None:
    media = message.video or message.document or message.animation
    return media.file_id if media else None
