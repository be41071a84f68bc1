"""CSV exports of the ledger and of the jobs for a date range, written to a file page by page
(a thousand rows at a time, in id order), never held in memory whole: the admin's /export
sends the files as documents. Text that people typed (a reason) is written so that a
spreadsheet shows it as text, never runs it as a formula."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from services.db import Database

PAGE = 1000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

LEDGER_COLUMNS = (
    "id", "created_at", "user_id", "amount", "kind", "job_id", "reference", "admin_id", "reason",
)  # fmt: skip
JOB_COLUMNS = (
    "id", "created_at", "finished_at", "user_id", "model_id", "mode", "status", "tokens",
    "tokens_refunded", "cost_usd", "delivered_as", "edit_kind", "error_class",
)  # fmt: skip


@dataclass(frozen=True)
class Range:
    """Whole UTC days, both ends included."""

    first: date
    last: date

    @property
    def start(self) -> float:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC).timestamp()

    @property
    def end(self) -> float:
        return self.start + ((self.last - self.first).days + 1) * 86400

    def iso(self, seconds: float) -> str:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()}_{self.last.isoformat()}"


class BadRange(ValueError):
    pass


def parse_range(words: list[str], today: date, *, max_days: int = 3660) -> Range:
    """`/export` (the last 30 days), `/export 7` (the last 7 days), `/export 2026-11-01`
    (that day to today), `/export 2026-11-01 2026-11-30`. BadRange says what is wrong."""
    if not words:
        return Range(today - timedelta(days=29), today)
    if len(words) == 1 and words[0].isdigit():
        days = int(words[0])
        if not 1 <= days <= max_days:
            raise BadRange("days")
        return Range(today - timedelta(days=days - 1), today)
    if len(words) > 2:
        raise BadRange("usage")
    try:
        first = date.fromisoformat(words[0])
        last = date.fromisoformat(words[1]) if len(words) == 2 else today
    except ValueError:
        raise BadRange("date") from None
    if last < first:
        raise BadRange("order")
    if (last - first).days >= max_days:
        raise BadRange("days")
    return Range(first, last)


def cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class Exports:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def ledger(self, path: Path, span: Range) -> int:
        """The ledger rows of the range into `path`; the number of rows."""
        return await self._write(
            path,
            LEDGER_COLUMNS,
            "SELECT id, created_at, user_id, amount, kind, job_id, reference, admin_id, reason"
            " FROM ledger WHERE id > ? AND created_at >= ? AND created_at < ?"
            " ORDER BY id LIMIT ?",
            (span.iso(span.start), span.iso(span.end)),
            lambda row: list(row),
        )

    async def jobs(self, path: Path, span: Range) -> int:
        """The jobs made in the range (edits included, marked) into `path`."""
        return await self._write(
            path,
            JOB_COLUMNS,
            "SELECT j.id, j.created_at, j.finished_at, j.user_id, j.model_id, j.mode, j.status,"
            " j.tokens, coalesce((SELECT sum(amount) FROM ledger l WHERE l.job_id = j.id"
            "   AND l.kind = 'job_refund'), 0),"
            " j.cost_usd, j.delivered_as, j.edit_kind, j.error_class"
            " FROM jobs j WHERE j.id > ? AND j.created_at >= ? AND j.created_at < ?"
            " ORDER BY j.id LIMIT ?",
            (span.start, span.end),
            lambda row: [
                row[0],
                span.iso(row[1]),
                span.iso(row[2]) if row[2] is not None else "",
                *row[3:],
            ],
        )

    async def _write(
        self,
        path: Path,
        columns: tuple[str, ...],
        sql: str,
        bounds: tuple[Any, Any],
        shape: Any,
    ) -> int:
        count = 0
        after = 0
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            while True:
                rows = await self.db.fetchall(sql, (after, *bounds, PAGE))
                if not rows:
                    break
                for row in rows:
                    writer.writerow([cell(v) for v in shape(row)])
                count += len(rows)
                after = int(rows[-1][0])
                if len(rows) < PAGE:
                    break
        return count
