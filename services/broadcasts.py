"""Broadcasts: an admin's message copied to every user (or a filtered audience) as a durable job.

A draft names the message and the audience; confirming it writes one delivery row per
recipient in the same transaction that starts it. One runner at a time holds a running
broadcast (a lease, so a replica that dies is taken over) and settles its rows in small
batches: each row is marked 'sending' before its message goes and settled after ('sent',
'blocked', 'failed', or back to 'pending' to try again). Rows a dead runner left 'sending'
may or may not have reached the user, so they become 'unknown' and are never sent again: no
one gets a second copy. Plain queries, no aiogram: the sending is telegram_side's."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.db import Database, Row
from services.errors import DomainError
from services.users import LANGUAGES

MAX_ACTIVE_DAYS = 3650
SETTLED = ("sent", "blocked", "failed", "unknown")
MAX_ATTEMPTS = 3  # a row refused this often for a passing reason is given up ('failed')


class BroadcastRefused(DomainError):
    """Why a broadcast was not made, started or cancelled; nothing changed."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"broadcast {reason}: {detail}")
        # bad_filter | nobody | busy | gone | not_draft | none_running
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Audience:
    """Who gets it: every user, or those of one language, seen within some days, who bought."""

    language: str | None = None
    active_days: int | None = None
    buyers: bool = False

    def describe(self) -> str:
        parts = []
        if self.language:
            parts.append(f"lang={self.language}")
        if self.active_days:
            parts.append(f"active={self.active_days}")
        if self.buyers:
            parts.append("buyers")
        return " ".join(parts)

    @classmethod
    def parse(cls, words: Iterable[str]) -> Audience:
        """`lang=ru active=7 buyers` (any order, each at most once); BroadcastRefused
        ("bad_filter", the word) for anything else."""
        language: str | None = None
        days: int | None = None
        buyers = False
        for word in words:
            key, sep, value = word.lower().partition("=")
            if key == "lang" and sep and value in LANGUAGES and language is None:
                language = value
            elif key == "active" and sep and value.isdigit() and days is None:
                days = int(value)
                if not 1 <= days <= MAX_ACTIVE_DAYS:
                    raise BroadcastRefused("bad_filter", word[:40])
            elif key == "buyers" and not sep and not buyers:
                buyers = True
            else:
                raise BroadcastRefused("bad_filter", word[:40])
        return cls(language, days, buyers)


@dataclass(frozen=True)
class Broadcast:
    id: int
    admin_id: int
    language: str
    from_chat_id: int
    message_id: int
    markup: str | None
    audience: str
    status: str
    total: int
    progress_chat: int | None
    progress_id: int | None
    pause_until: float | None
    stop_reason: str | None
    created_at: float
    started_at: float | None
    finished_at: float | None

    @classmethod
    def from_row(cls, row: Row) -> Broadcast:
        return cls(
            row["id"],
            row["admin_id"],
            row["language"],
            row["from_chat_id"],
            row["message_id"],
            row["markup"],
            row["audience"],
            row["status"],
            row["total"],
            row["progress_chat"],
            row["progress_id"],
            row["pause_until"],
            row["stop_reason"],
            row["created_at"],
            row["started_at"],
            row["finished_at"],
        )


@dataclass(frozen=True)
class Outcome:
    """What one send did: sent (with the copy's message id), blocked, failed (with Telegram's
    words), retry (a passing refusal: pending again), or unknown (it may have arrived)."""

    user_id: int
    status: str
    message_id: int | None = None
    error: str | None = None
    retry_after: float = 0.0  # Telegram's 429: how long the whole broadcast waits


@dataclass(frozen=True)
class Progress:
    total: int
    counts: dict[str, int]

    @property
    def done(self) -> int:
        return sum(self.counts.get(s, 0) for s in SETTLED)

    def __getitem__(self, status: str) -> int:
        return self.counts.get(status, 0)


def _audience_sql(audience: Audience, now: float) -> tuple[str, tuple[object, ...]]:
    where = ["u.id <> ?"]
    params: list[object] = []
    if audience.language:
        where.append("u.language = ?")
        params.append(audience.language)
    if audience.active_days:
        since = datetime.fromtimestamp(now - audience.active_days * 86400, UTC)
        where.append("u.seen_at >= ?")
        params.append(since.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if audience.buyers:
        where.append("EXISTS (SELECT 1 FROM payments p WHERE p.user_id = u.id AND p.tokens > 0)")
    return " AND ".join(where), tuple(params)


class Broadcasts:
    def __init__(
        self,
        db: Database,
        *,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.owner = owner or f"broadcaster-{uuid.uuid4().hex[:12]}"
        self.clock = clock
        self._listeners: list[Callable[[], None]] = []

    def on_started(self, listener: Callable[[], None]) -> None:
        """Called when a broadcast starts here: the runner wakes at once."""
        self._listeners.append(listener)

    # --- the admin's side ---------------------------------------------------------------------

    async def count(self, audience: Audience, admin_id: int) -> int:
        where, params = _audience_sql(audience, self.clock())
        return int(
            await self.db.fetchval(
                f"SELECT count(*) FROM users u WHERE {where}", (admin_id, *params)
            )
        )

    async def draft(
        self,
        admin_id: int,
        language: str,
        from_chat_id: int,
        message_id: int,
        markup: str | None,
        audience: Audience,
    ) -> tuple[Broadcast, int]:
        """A draft to confirm, and how many users it would reach now (BroadcastRefused
        "nobody" when none)."""
        recipients = await self.count(audience, admin_id)
        if recipients == 0:
            raise BroadcastRefused("nobody", audience.describe())
        async with self.db.transaction() as tx:
            new_id = await tx.insert(
                "INSERT INTO broadcasts (admin_id, language, from_chat_id, message_id, markup,"
                " audience, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (admin_id, language, from_chat_id, message_id, markup, audience.describe(),
                 self.clock()),
            )  # fmt: skip
            row = await tx.fetchone("SELECT * FROM broadcasts WHERE id = ?", (new_id,))
        assert row is not None
        return Broadcast.from_row(row), recipients

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self.db.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return None if row is None else Broadcast.from_row(row)

    async def running(self) -> Broadcast | None:
        row = await self.db.fetchone(
            "SELECT * FROM broadcasts WHERE status = 'running' ORDER BY id LIMIT 1"
        )
        return None if row is None else Broadcast.from_row(row)

    async def start(
        self, broadcast_id: int, admin_id: int, progress_chat: int, progress_id: int
    ) -> Broadcast:
        """The draft goes: its audience written down as delivery rows, now, in the same
        transaction. Once: a second tap finds it started (BroadcastRefused "not_draft"). One
        broadcast runs at a time ("busy")."""
        now = self.clock()
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM broadcasts WHERE id = ? AND admin_id = ?", (broadcast_id, admin_id)
            )
            if row is None:
                raise BroadcastRefused("gone", str(broadcast_id))
            if row["status"] != "draft":
                raise BroadcastRefused("not_draft", row["status"])
            if await tx.fetchval("SELECT 1 FROM broadcasts WHERE status = 'running'"):
                raise BroadcastRefused("busy")
            audience = Audience.parse(row["audience"].split())
            where, params = _audience_sql(audience, now)
            await tx.execute(
                "INSERT INTO broadcast_deliveries (broadcast_id, user_id)"
                f" SELECT ?, u.id FROM users u WHERE {where}",
                (broadcast_id, admin_id, *params),
            )
            total = int(
                await tx.fetchval(
                    "SELECT count(*) FROM broadcast_deliveries WHERE broadcast_id = ?",
                    (broadcast_id,),
                )
            )
            if total == 0:
                raise BroadcastRefused("nobody", row["audience"])
            await tx.execute(
                "UPDATE broadcasts SET status = 'running', total = ?, started_at = ?,"
                " progress_chat = ?, progress_id = ? WHERE id = ?",
                (total, now, progress_chat, progress_id, broadcast_id),
            )
            fresh = await tx.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        assert fresh is not None
        for listener in self._listeners:
            listener()
        return Broadcast.from_row(fresh)

    async def drop_draft(self, broadcast_id: int, admin_id: int) -> bool:
        async with self.db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE broadcasts SET status = 'cancelled', finished_at = ?,"
                    " stop_reason = 'admin' WHERE id = ? AND admin_id = ? AND status = 'draft'",
                    (self.clock(), broadcast_id, admin_id),
                )
            )

    async def cancel(self, broadcast_id: int | None = None) -> Broadcast:
        """Stop the running broadcast (or this one): the rows not sent yet stay unsent. The
        runner sees it before its next batch."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM broadcasts WHERE status = 'running'"
                + (" AND id = ?" if broadcast_id is not None else "")
                + " ORDER BY id LIMIT 1",
                (broadcast_id,) if broadcast_id is not None else (),
            )
            if row is None:
                raise BroadcastRefused("none_running")
            await tx.execute(
                "UPDATE broadcasts SET status = 'cancelled', finished_at = ?,"
                " stop_reason = 'admin' WHERE id = ?",
                (self.clock(), row["id"]),
            )
            fresh = await tx.fetchone("SELECT * FROM broadcasts WHERE id = ?", (row["id"],))
        assert fresh is not None
        return Broadcast.from_row(fresh)

    async def progress(self, broadcast_id: int) -> Progress:
        rows = await self.db.fetchall(
            "SELECT status, count(*) FROM broadcast_deliveries WHERE broadcast_id = ?"
            " GROUP BY status",
            (broadcast_id,),
        )
        counts = {r[0]: int(r[1]) for r in rows}
        return Progress(sum(counts.values()), counts)

    # --- the runner's side --------------------------------------------------------------------

    async def claim(self, lease: float) -> Broadcast | None:
        """The running broadcast for this runner, if no other live runner holds it. Taking it
        over from a dead runner settles that runner's in-flight rows as 'unknown'. A read
        first: no write while nothing runs (every replica asks every few seconds)."""
        if not await self.db.fetchval("SELECT 1 FROM broadcasts WHERE status = 'running'"):
            return None
        now = self.clock()
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM broadcasts WHERE status = 'running'"
                " AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)"
                " ORDER BY id LIMIT 1",
                (self.owner, now),
            )
            if row is None:
                return None
            if row["lease_owner"] != self.owner:
                await tx.execute(
                    "UPDATE broadcast_deliveries SET status = 'unknown', updated_at = ?,"
                    " error = 'the sender stopped while sending'"
                    " WHERE broadcast_id = ? AND status = 'sending'",
                    (now, row["id"]),
                )
            await tx.execute(
                "UPDATE broadcasts SET lease_owner = ?, lease_until = ? WHERE id = ?",
                (self.owner, now + lease, row["id"]),
            )
        return Broadcast.from_row(row)

    async def take(self, broadcast_id: int, limit: int, lease: float) -> list[int]:
        """The next users to send to (and the lease renewed), while the broadcast runs and this
        runner holds it; [] otherwise. Each is marked 'sending' only just before its copy goes
        (`mark`): a runner that dies leaves in flight only the copies it had started."""
        now = self.clock()
        async with self.db.transaction() as tx:
            held = await tx.execute(
                "UPDATE broadcasts SET lease_until = ? WHERE id = ? AND status = 'running'"
                " AND lease_owner = ?",
                (now + lease, broadcast_id, self.owner),
            )
            if not held:
                return []
            rows = await tx.fetchall(
                "SELECT user_id FROM broadcast_deliveries WHERE broadcast_id = ?"
                " AND status = 'pending' ORDER BY user_id LIMIT ?",
                (broadcast_id, limit),
            )
        return [int(r[0]) for r in rows]

    async def mark(self, broadcast_id: int, user_id: int) -> bool:
        """The user's copy is about to go: 'sending', if the broadcast still runs under this
        runner's lease and the row is still pending. False: do not send (cancelled, taken
        over by another runner, or settled meanwhile)."""
        async with self.db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE broadcast_deliveries SET status = 'sending', attempts = attempts + 1,"
                    " updated_at = ? WHERE broadcast_id = ? AND user_id = ? AND status = 'pending'"
                    " AND EXISTS (SELECT 1 FROM broadcasts WHERE id = ? AND status = 'running'"
                    " AND lease_owner = ?)",
                    (self.clock(), broadcast_id, user_id, broadcast_id, self.owner),
                )
            )

    async def settle(self, broadcast_id: int, outcomes: Iterable[Outcome]) -> None:
        """What each send did, in one transaction. A passing refusal goes back to 'pending'
        until MAX_ATTEMPTS, then 'failed'."""
        now = self.clock()
        async with self.db.transaction() as tx:
            for o in outcomes:
                if o.status == "retry":
                    await tx.execute(
                        "UPDATE broadcast_deliveries SET status = CASE WHEN attempts >= ?"
                        " THEN 'failed' ELSE 'pending' END, error = ?, updated_at = ?"
                        " WHERE broadcast_id = ? AND user_id = ? AND status = 'sending'",
                        (MAX_ATTEMPTS, o.error, now, broadcast_id, o.user_id),
                    )
                    continue
                await tx.execute(
                    "UPDATE broadcast_deliveries SET status = ?, sent_message_id = ?, error = ?,"
                    " updated_at = ? WHERE broadcast_id = ? AND user_id = ? AND status = 'sending'",
                    (o.status, o.message_id, o.error, now, broadcast_id, o.user_id),
                )

    async def pause(self, broadcast_id: int, seconds: float) -> None:
        """Telegram asked the bot to wait: no sends of this broadcast until then."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE broadcasts SET pause_until = ? WHERE id = ?",
                (self.clock() + seconds, broadcast_id),
            )

    async def finish(self, broadcast_id: int, reason: str | None = None) -> Broadcast | None:
        """Done when nothing is pending or in flight (or stopped for `reason`); the broadcast,
        once, to the one caller that finished it."""
        async with self.db.transaction() as tx:
            if reason is None and await tx.fetchval(
                "SELECT 1 FROM broadcast_deliveries WHERE broadcast_id = ?"
                " AND status IN ('pending', 'sending') LIMIT 1",
                (broadcast_id,),
            ):
                return None
            changed = await tx.execute(
                "UPDATE broadcasts SET status = ?, finished_at = ?, stop_reason = ?,"
                " lease_owner = NULL WHERE id = ? AND status = 'running'",
                ("done" if reason is None else "cancelled", self.clock(), reason, broadcast_id),
            )
            row = await tx.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return Broadcast.from_row(row) if changed and row is not None else None

    async def release(self, broadcast_id: int) -> None:
        """This runner stops holding it (cancelled, or shutting down cleanly)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE broadcasts SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (broadcast_id, self.owner),
            )
