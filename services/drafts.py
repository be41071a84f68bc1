"""Confirmation cards as single-use drafts, and images staged between wizard steps."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.catalog import Mode
from services.db import Database, Row, Tx
from services.errors import DraftGone

Clock = Callable[[], float]

MAX_VARIANTS = 4  # videos one card can make at once


@dataclass(frozen=True)
class StoredDraft:
    id: int
    user_id: int
    mode: Mode
    model_id: str
    params: dict[str, Any]
    prompt: str
    image_id: int | None
    image_uuid: str | None
    status: str
    job_id: int | None
    prompt_sent: str | None = None  # the English text Generate sends, if not the prompt itself
    translation: str | None = None  # translated | failed | english | off
    variants: int = 1  # videos the card makes (MAX_VARIANTS at most)
    last_image_id: int | None = None  # advanced: a staged last frame (image-to-video)
    last_image_uuid: str | None = None  # or one Runware already has ("again")
    # Models side by side: each model's id and parameters (the card's model_id and params are
    # the first entry's); None for a card of one model.
    compare: tuple[tuple[str, dict[str, Any]], ...] | None = None
    video_input: str | None = None  # an extension: the video to extend (Runware's videoUUID)
    extends: int | None = None  # ... and the user's job that made it

    @property
    def has_last_frame(self) -> bool:
        return self.last_image_id is not None or self.last_image_uuid is not None

    @classmethod
    def from_row(cls, row: Row) -> StoredDraft:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            mode=Mode(row["mode"]),
            model_id=row["model_id"],
            params=json.loads(row["params"]),
            prompt=row["prompt"],
            image_id=row["image_id"],
            image_uuid=row["image_uuid"],
            status=row["status"],
            job_id=row["job_id"],
            prompt_sent=row["prompt_sent"],
            translation=row["translation"],
            variants=row["variants"],
            last_image_id=row["last_image_id"],
            last_image_uuid=row["last_image_uuid"],
            compare=_entries(row["compare"]),
            video_input=row["video_input"],
            extends=row["extends"],
        )


class Drafts:
    def __init__(self, db: Database, *, clock: Clock = time.time) -> None:
        self.db = db
        self.clock = clock

    async def stage_image(self, user_id: int, data: bytes, mime: str) -> int:
        async with self.db.transaction(hot=True) as tx:
            return await tx.insert(
                "INSERT INTO staged_images (user_id, mime, data, created_at) VALUES (?, ?, ?, ?)",
                (user_id, mime, data, self.clock()),
            )

    async def image(self, image_id: int, user_id: int) -> bytes | None:
        value = await self.db.fetchval(
            "SELECT data FROM staged_images WHERE id = ? AND user_id = ?", (image_id, user_id)
        )
        return bytes(value) if value is not None else None

    async def save(
        self,
        user_id: int,
        mode: Mode,
        model_id: str,
        params: dict[str, Any],
        prompt: str,
        *,
        image_id: int | None = None,
        image_uuid: str | None = None,
        prompt_sent: str | None = None,
        translation: str | None = None,
        last_image_uuid: str | None = None,
        compare: list[tuple[str, dict[str, Any]]] | None = None,
        video_input: str | None = None,
        extends: int | None = None,
    ) -> StoredDraft:
        """A new open draft; returned as stored (what get() would read back)."""
        stored = json.dumps(params)
        entries = (
            json.dumps([{"model_id": m, "params": p} for m, p in compare]) if compare else None
        )
        row = (
            user_id,
            mode.value,
            model_id,
            stored,
            prompt,
            image_id,
            image_uuid,
            prompt_sent,
            translation,
            last_image_uuid,
            entries,
            video_input,
            extends,
            self.clock(),
        )
        async with self.db.transaction(hot=True) as tx:
            draft_id = await tx.insert(
                "INSERT INTO drafts (user_id, mode, model_id, params, prompt, image_id,"
                " image_uuid, prompt_sent, translation, last_image_uuid, compare, video_input,"
                " extends, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        return StoredDraft(
            id=draft_id,
            user_id=user_id,
            mode=mode,
            model_id=model_id,
            params=json.loads(stored),
            prompt=prompt,
            image_id=image_id,
            image_uuid=image_uuid,
            status="open",
            job_id=None,
            prompt_sent=prompt_sent,
            translation=translation,
            last_image_uuid=last_image_uuid,
            compare=_entries(entries),
            video_input=video_input,
            extends=extends,
        )

    async def set_params(self, draft_id: int, user_id: int, params: dict[str, Any]) -> bool:
        """New parameters of an open card (the Advanced screen; checked by the caller)."""
        async with self.db.transaction(hot=True) as tx:
            changed = await tx.execute(
                "UPDATE drafts SET params = ? WHERE id = ? AND user_id = ? AND status = 'open'",
                (json.dumps(params), draft_id, user_id),
            )
        return changed > 0

    async def set_last_image(self, draft_id: int, user_id: int, image_id: int | None) -> bool:
        """The open card's last frame: a staged photo of the user's, or none."""
        update = (
            "UPDATE drafts SET last_image_id = ?, last_image_uuid = NULL"
            " WHERE id = ? AND user_id = ? AND status = 'open'"
        )
        params: tuple[object, ...] = (image_id, draft_id, user_id)
        if image_id is not None:  # only a photo this user staged
            update += " AND EXISTS (SELECT 1 FROM staged_images WHERE id = ? AND user_id = ?)"
            params += (image_id, user_id)
        async with self.db.transaction(hot=True) as tx:
            changed = await tx.execute(update, params)
        return changed > 0

    async def set_prompt_sent(
        self, draft_id: int, user_id: int, prompt_sent: str | None, translation: str
    ) -> bool:
        """Switch an open card between the original prompt and its English translation."""
        async with self.db.transaction(hot=True) as tx:
            changed = await tx.execute(
                "UPDATE drafts SET prompt_sent = ?, translation = ?"
                " WHERE id = ? AND user_id = ? AND status = 'open'",
                (prompt_sent, translation, draft_id, user_id),
            )
        return changed > 0

    async def set_variants(self, draft_id: int, user_id: int, variants: int) -> bool:
        """How many videos the open card makes (1..MAX_VARIANTS)."""
        if not 1 <= variants <= MAX_VARIANTS:
            return False
        async with self.db.transaction(hot=True) as tx:
            changed = await tx.execute(
                "UPDATE drafts SET variants = ? WHERE id = ? AND user_id = ? AND status = 'open'",
                (variants, draft_id, user_id),
            )
        return changed > 0

    async def get(self, draft_id: int, user_id: int) -> StoredDraft | None:
        """Only the user's own draft: another user's id reads as not found."""
        row = await self.db.fetchone(
            "SELECT * FROM drafts WHERE id = ? AND user_id = ?", (draft_id, user_id)
        )
        return None if row is None else StoredDraft.from_row(row)

    async def for_job(
        self, draft_id: int, user_id: int
    ) -> tuple[StoredDraft, bytes | None, bytes | None]:
        """The user's open card, its staged photo and last frame, to become a job. Raises
        DraftGone: not_found (or another user's), used, cancelled, image_expired."""
        stored = await self.get(draft_id, user_id)
        if stored is None:
            raise DraftGone("not_found")
        if stored.status != "open":
            raise DraftGone(stored.status)
        image = None
        if stored.image_id is not None:
            image = await self.image(stored.image_id, user_id)
        if stored.mode is Mode.I2V and image is None and stored.image_uuid is None:
            raise DraftGone("image_expired")
        last = None
        if stored.last_image_id is not None:
            last = await self.image(stored.last_image_id, user_id)
            if last is None:
                raise DraftGone("image_expired")
        return stored, image, last

    async def use(self, tx: Tx, draft_id: int) -> None:
        """First in the transaction that creates the job: the card is used up, once. Raises
        DraftGone("used") when another tap got there first (the transaction then rolls back)."""
        used = await tx.execute(
            "UPDATE drafts SET status = 'used' WHERE id = ? AND status = 'open'", (draft_id,)
        )
        if not used:
            raise DraftGone("used")

    async def link(self, tx: Tx, draft_id: int, job_id: int) -> None:
        """Last in that transaction: the card points at the job it became."""
        await tx.execute("UPDATE drafts SET job_id = ? WHERE id = ?", (job_id, draft_id))

    async def cancel(self, draft_id: int, user_id: int) -> bool:
        async with self.db.transaction(hot=True) as tx:
            changed = await tx.execute(
                "UPDATE drafts SET status = 'cancelled'"
                " WHERE id = ? AND user_id = ? AND status = 'open'",
                (draft_id, user_id),
            )
        return changed > 0

    async def cleanup(self, max_age: float = 2 * 86400) -> None:
        """Forget open cards and staged images older than `max_age` (start-up housekeeping)."""
        cutoff = self.clock() - max_age
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE drafts SET status = 'cancelled' WHERE status = 'open' AND created_at < ?",
                (cutoff,),
            )
            await tx.execute("DELETE FROM staged_images WHERE created_at < ?", (cutoff,))


def _entries(raw: str | None) -> tuple[tuple[str, dict[str, Any]], ...] | None:
    if not raw:
        return None
    return tuple((str(e["model_id"]), dict(e["params"])) for e in json.loads(raw))
