"""The edit runner: takes queued edits (and edits whose runner died: their lease ran out),
at most `concurrency` at once, each in a temporary folder that is always removed: the source
videos fetched, FFmpeg run as a separate process, the result sent and recorded as a gallery
item. A failure refunds once and tells the user why; a fault that may pass (Telegram or the
network) is tried again a few times first. Every step is in the database, so a restart
continues: an edit cut off mid-way is made again from its sources (its video may then arrive
twice if the cut fell between the send and its record, never not at all)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Protocol

from services.editing.ffmpeg import EditError, FFmpeg
from services.editing.service import Edit, EditService
from services.jobs import Job

log = logging.getLogger(__name__)


class SourceGone(Exception):
    """No copy of this video can be had any more: not kept here, Runware's link expired, and
    Telegram gives bots files of 20 MB at most."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"video of job {job_id} is no longer available")
        self.job_id = job_id


class VideoFetcher(Protocol):
    async def fetch(self, job: Job, folder: Path) -> Path:
        """A local copy of the job's video in `folder`. Raises SourceGone."""

    async def keep(self, job: Job, path: Path) -> None:
        """Keep a copy of a video just made (the next edit of it starts here)."""


class EditMessenger(Protocol):
    async def send_edit(self, edit: Edit, path: Path, seconds: float) -> tuple[str, int]:
        """Send the made video into the chat: Telegram's file_id of it and the message's id.
        Raises to retry."""

    async def attach(self, edit: Edit, message_id: int, job: Job) -> None:
        """The sent video's buttons, now that it is a gallery item (`job`)."""

    async def tell_edit_failed(self, edit: Edit) -> None:
        """Tell the user, in plain words, why the edit was not made and that it was refunded."""


class EditRunner:
    def __init__(
        self,
        edits: EditService,
        ffmpeg: FFmpeg,
        fetcher: VideoFetcher,
        messenger: EditMessenger,
        *,
        concurrency: int = 1,
        lease: float = 900.0,
        tick: float = 5.0,
        retry_delay: float = 30.0,
        max_attempts: int = 3,
        owner: str | None = None,
        temp_dir: Path | None = None,
    ) -> None:
        self.edits = edits
        self.ffmpeg = ffmpeg
        self.fetcher = fetcher
        self.messenger = messenger
        self.concurrency = concurrency
        self.lease = lease
        self.tick = tick
        self.retry_delay = retry_delay
        self.max_attempts = max_attempts
        self.owner = owner or f"edit-{uuid.uuid4().hex[:12]}"
        self.temp_dir = temp_dir
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        edits.on_created(self.wake)

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="edit-runner")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop taking edits; the ones running are cut off (their FFmpeg killed, their lease
        left to run out, so a restart makes them again)."""
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def drain(self) -> None:
        """Wait for the edits running now (tests)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.step()
            except Exception:  # a database blip: the next tick tries again
                log.exception("edit runner step failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick)

    async def step(self) -> None:
        """Start what there is room for, then tell users about failed edits."""
        free = self.concurrency - len(self._running)
        for edit in await self.edits.claim(self.owner, self.lease, free):
            self._spawn(self._make(edit), f"edit-{edit.id}")
        for edit in await self.edits.unnotified():
            if await self.edits.mark_notified(edit):
                try:
                    await self.messenger.tell_edit_failed(edit)
                except Exception as exc:  # noqa: BLE001 - told at most once; logged
                    log.warning("edit %d: could not tell the user it failed: %r", edit.id, exc)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._running.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._running.discard(finished)
            self.wake()  # a free slot, or a notice to send

        task.add_done_callback(done)

    async def _make(self, edit: Edit) -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="edit-", dir=self.temp_dir) as tmp:
                await self._make_in(edit, Path(tmp))
        except SourceGone as exc:
            await self.edits.fail(edit, f"gone:{exc.job_id}")
        except EditError as exc:
            log.warning("edit %d: %s", edit.id, exc)
            await self.edits.fail(edit, exc.reason)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Telegram or the network: tried again
            if edit.attempts < self.max_attempts:
                log.warning("edit %d: %r; again in %.0fs", edit.id, exc, self.retry_delay)
                await self.edits.release(edit, self.owner, self.retry_delay)
            else:
                log.error("edit %d: given up after %d attempts: %r", edit.id, edit.attempts, exc)
                await self.edits.fail(edit, "failed")

    async def _make_in(self, edit: Edit, folder: Path) -> None:
        sources = await self.edits.sources_of(edit)
        known = {job.id for job in sources}
        for job_id in edit.sources:
            if job_id not in known:
                raise SourceGone(job_id)
        paths = [await self.fetcher.fetch(job, folder) for job in sources]
        out = folder / "edit.mp4"
        if edit.kind == "trim":
            assert edit.start is not None and edit.end is not None
            await self.ffmpeg.trim(paths[0], out, edit.start, edit.end)
        else:
            await self.ffmpeg.join(paths, out)
        made = await self.ffmpeg.probe(out)
        file_id, message_id = await self.messenger.send_edit(edit, out, made.duration)
        job = await self.edits.finish(edit, self.owner, file_id, made.duration)
        if job is None:
            log.warning("edit %d: finished by another runner meanwhile", edit.id)
            return
        log.info("edit %d done: job %d, %.1f s", edit.id, job.id, made.duration)
        try:
            await self.messenger.attach(edit, message_id, job)
        except Exception as exc:  # noqa: BLE001 - the video is there; its buttons are a bonus
            log.warning("edit %d: buttons not attached: %r", edit.id, exc)
        try:
            await self.fetcher.keep(job, out)
        except OSError as exc:
            log.warning("edit %d: its video was not kept: %s", edit.id, exc)
