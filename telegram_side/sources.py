"""Where an edit gets its source videos, in order: the local copy (kept `VIDEO_CACHE_DAYS` in
`VIDEO_CACHE_DIR` after a video is first fetched or made here), Runware's link while it lives,
then Telegram (getFile: 20 MB at most for a bot, more with a local Bot API server). When none
has it, SourceGone names the job, and the user is told which clip is too old."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from pathlib import Path

import httpx
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from services.editing import SourceGone
from services.jobs import Job

log = logging.getLogger(__name__)

MB = 1024 * 1024


class VideoSources:
    def __init__(
        self,
        cache_dir: Path,
        keep_days: float,
        http: httpx.AsyncClient,
        *,
        max_bytes: int = 50 * MB,
        telegram_limit: int = 20 * MB,
    ) -> None:
        self.cache_dir = cache_dir
        self.keep_days = keep_days
        self.http = http
        self.max_bytes = max_bytes
        self.telegram_limit = telegram_limit

    def cached(self, job: Job) -> Path:
        return self.cache_dir / f"job-{job.id}.mp4"

    async def fetch(self, job: Job, folder: Path, bot: Bot) -> Path:
        """A copy of the job's video in `folder` (kept in the cache as well). SourceGone when
        no source has it any more."""
        target = folder / f"source-{job.id}.mp4"
        kept = self.cached(job)
        if self.keep_days > 0 and await asyncio.to_thread(_copy_if_there, kept, target):
            return target
        got = False
        if job.video_url:
            got = await self._download(job.video_url, target)
        if not got and job.file_id:
            got = await self._from_telegram(bot, job.file_id, target)
        if not got:
            raise SourceGone(job.id)
        await self.keep(job, target)
        return target

    async def keep(self, job: Job, path: Path) -> None:
        """Keep a copy for later edits (nothing when VIDEO_CACHE_DAYS is 0)."""
        if self.keep_days > 0:
            await asyncio.to_thread(_copy_into, path, self.cached(job))

    async def keep_delivered(self, job: Job) -> bool:
        """Right after a video is delivered: a copy from Runware's link while it surely lives
        (nothing when VIDEO_CACHE_DAYS is 0, or kept already). Whether a copy is kept now."""
        kept = self.cached(job)
        if self.keep_days <= 0 or not job.video_url or await asyncio.to_thread(kept.exists):
            return False
        await asyncio.to_thread(kept.parent.mkdir, parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.stem}.{os.getpid()}.download")
        try:
            if not await self._download(job.video_url, partial):
                return False
            await asyncio.to_thread(partial.replace, kept)
        finally:
            await asyncio.to_thread(partial.unlink, missing_ok=True)
        return True

    async def _download(self, url: str, target: Path) -> bool:
        try:
            async with self.http.stream("GET", url) as response:
                if response.status_code != 200:
                    log.info("video link answered %d: expired or gone", response.status_code)
                    return False
                size = 0
                with target.open("wb") as out:
                    async for chunk in response.aiter_bytes(256 * 1024):
                        size += len(chunk)
                        if size > self.max_bytes:
                            return False
                        out.write(chunk)
        except httpx.HTTPError as exc:
            log.info("video link failed: %s", type(exc).__name__)
            return False
        return size > 0

    async def _from_telegram(self, bot: Bot, file_id: str, target: Path) -> bool:
        try:
            file = await bot.get_file(file_id)
            if file.file_path is None or (file.file_size or 0) > self.telegram_limit:
                return False
            await bot.download_file(file.file_path, destination=target)
        except TelegramAPIError as exc:  # "file is too big", an unknown file id
            log.info("Telegram did not give the video: %s", exc.message)
            return False
        return await asyncio.to_thread(_nonempty, target)

    async def cleanup(self) -> int:
        """Remove copies older than VIDEO_CACHE_DAYS; how many were removed."""
        return await asyncio.to_thread(_remove_older, self.cache_dir, self.keep_days)


class BotVideoFetcher:
    """The edit runner's fetcher: VideoSources with the bot that asks Telegram."""

    def __init__(self, sources: VideoSources, bot: Bot) -> None:
        self.sources = sources
        self.bot = bot

    async def fetch(self, job: Job, folder: Path) -> Path:
        return await self.sources.fetch(job, folder, self.bot)

    async def keep(self, job: Job, path: Path) -> None:
        await self.sources.keep(job, path)


def _copy_if_there(kept: Path, target: Path) -> bool:
    try:
        shutil.copyfile(kept, target)
    except FileNotFoundError:
        return False
    os.utime(kept)  # used: kept for another VIDEO_CACHE_DAYS
    return True


def _copy_into(path: Path, kept: Path) -> None:
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(".part")
    shutil.copyfile(path, partial)
    partial.replace(kept)  # whole or not at all


def _nonempty(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def _remove_older(folder: Path, days: float) -> int:
    if not folder.is_dir():
        return 0
    cutoff = time.time() - days * 86400
    removed = 0
    for path in folder.glob("job-*.mp4"):
        if days <= 0 or path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
