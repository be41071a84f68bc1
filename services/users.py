"""People who talk to the bot: created on first sight (with the optional welcome bonus once)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache

from services.billing import Billing, Kind
from services.db import Database, Row

RUSSIAN_CLIENTS = {"ru", "uk", "be", "kk"}
SEEN_RESOLUTION = 3600.0  # seen_at is refreshed at most hourly: one write per user per hour
LANGUAGES = ("en", "ru")


def language_for(language_code: str | None) -> str:
    """Russian for Telegram clients in ru/uk/be/kk, English otherwise."""
    base = (language_code or "").split("-")[0].lower()
    return "ru" if base in RUSSIAN_CLIENTS else "en"


@dataclass(frozen=True)
class User:
    id: int
    username: str | None
    language: str
    balance: int
    created_at: str
    seen_at: str
    translate_prompts: bool = True
    send_file: bool = False  # each video also as a file (original quality)
    send_link: bool = False  # and/or its link

    @classmethod
    def from_row(cls, row: Row) -> User:
        return cls(
            id=row["id"],
            username=row["username"],
            language=row["language"],
            balance=row["balance"],
            created_at=row["created_at"],
            seen_at=row["seen_at"],
            translate_prompts=bool(row["translate_prompts"]),
            send_file=bool(row["send_file"]),
            send_link=bool(row["send_link"]),
        )


@dataclass(frozen=True)
class AdvancedPrefs:
    """What the user set on the Advanced screen, applied to later cards where the model takes
    it: a fixed seed (None: random), what to avoid (negative prompt), prompt-enhancement
    switches by option key."""

    seed: int | None = None
    negative: str | None = None
    switches: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: str | None) -> AdvancedPrefs:
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        seed, negative, switches = data.get("seed"), data.get("negative"), data.get("switches")
        return cls(
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            negative=negative if isinstance(negative, str) and negative else None,
            switches={
                k: v for k, v in (switches or {}).items() if isinstance(v, bool)
            } if isinstance(switches, dict) else {},
        )  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(
            {"seed": self.seed, "negative": self.negative, "switches": self.switches},
            ensure_ascii=False,
        )

    def with_switch(self, key: str, on: bool) -> AdvancedPrefs:
        return replace(self, switches={**self.switches, key: on})


_COLUMNS = (
    "id, username, language, balance, created_at, seen_at, translate_prompts, send_file, send_link"
)


def _iso(timestamp: float) -> str:
    return _iso_second(int(timestamp))


@lru_cache(maxsize=4)
def _iso_second(second: int) -> str:  # every update asks; the answer changes once a second
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Users:
    def __init__(
        self,
        db: Database,
        billing: Billing,
        welcome_bonus: int = 0,
        *,
        clock: Callable[[], float] = time.time,
        remember: bool = True,
    ) -> None:
        self.db = db
        self.billing = billing
        self.welcome_bonus = welcome_bonus
        self.clock = clock
        # Who is who, for the per-update lookup: name, language, settings. Its `balance` may be
        # stale: read balances from Billing. Changed settings drop the entry.
        self._known: dict[int, User] = {}
        self.remember = remember

    async def touch(
        self, user_id: int, username: str | None, language_code: str | None
    ) -> tuple[User, bool]:
        """The user, created if new (returns created=True); the username is kept current."""
        fresh_enough = _iso(self.clock() - SEEN_RESOLUTION)
        cached = self._known.get(user_id)
        if cached is not None and cached.username == username and cached.seen_at >= fresh_enough:
            return cached, False  # the common case: no database at all
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        if row is not None and row["username"] == username and row["seen_at"] >= fresh_enough:
            return self._keep(User.from_row(row)), False
        async with self.db.transaction() as tx:
            existing = await tx.fetchone("SELECT username FROM users WHERE id = ?", (user_id,))
            created = existing is None
            if created:
                now = _iso(self.clock())
                await tx.execute(
                    "INSERT INTO users (id, username, language, created_at, seen_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (user_id, username, language_for(language_code), now, now),
                )
                if self.welcome_bonus > 0:
                    await self.billing.credit(
                        user_id, self.welcome_bonus, Kind.BONUS, f"welcome:{user_id}", tx=tx
                    )
            else:
                await tx.execute(
                    "UPDATE users SET username = ?, seen_at = ? WHERE id = ?",
                    (username, _iso(self.clock()), user_id),
                )
            fresh = await tx.fetchone(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        assert fresh is not None
        return self._keep(User.from_row(fresh)), created

    def _keep(self, user: User) -> User:
        if not self.remember:
            return user
        if len(self._known) >= 100_000:
            self._known.clear()
        self._known[user.id] = user
        return user

    async def get(self, user_id: int) -> User | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return None if row is None else User.from_row(row)

    async def find(self, reference: str) -> User | None:
        """By numeric id or @username (case-insensitive)."""
        reference = reference.strip()
        if reference.lstrip("-").isdigit():
            return await self.get(int(reference))
        name = reference.removeprefix("@")
        if not name:
            return None
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM users WHERE lower(username) = lower(?)", (name,)
        )
        return None if row is None else User.from_row(row)

    async def set_translate(self, user_id: int, translate: bool) -> None:
        """Remember whether the user wants non-English prompts translated."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET translate_prompts = ? WHERE id = ?", (int(translate), user_id)
            )
        self._known.pop(user_id, None)

    async def set_delivery(self, user_id: int, *, send_file: bool, send_link: bool) -> None:
        """Original quality: each video also as a file, and/or its link."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET send_file = ?, send_link = ? WHERE id = ?",
                (int(send_file), int(send_link), user_id),
            )
        self._known.pop(user_id, None)

    async def advanced(self, user_id: int) -> AdvancedPrefs:
        """The user's advanced options, read from the database (every replica sees a change)."""
        raw = await self.db.fetchval("SELECT advanced FROM users WHERE id = ?", (user_id,))
        return AdvancedPrefs.from_json(raw)

    async def set_advanced(self, user_id: int, prefs: AdvancedPrefs) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET advanced = ? WHERE id = ?", (prefs.to_json(), user_id)
            )

    async def set_language(self, user_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))
        self._known.pop(user_id, None)
