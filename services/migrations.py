"""Apply `migrations/<engine>/NNNN_name.sql` in order, each in its own transaction, recorded in
a table. Each engine has its own files with the same meaning (sqlite, postgresql): a version
number means the same change in both."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from services.db import Database

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def statements(self, engine: str) -> list[str]:
        """The statements to run. SQLite: split here, without executescript(), which would
        COMMIT on its own. PostgreSQL: the whole file at once (its functions hold semicolons)."""
        if engine != "sqlite":
            return [self.path.read_text(encoding="utf-8")]
        statements: list[str] = []
        buffer = ""
        for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                if buffer.strip():
                    statements.append(buffer.strip())
                buffer = ""
        if buffer.strip() and not all(
            ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()
        ):
            raise MigrationError(f"{self.path.name}: unterminated statement at the end")
        return statements


def discover(directory: Path) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME_RE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


async def migrate(db: Database, directory: Path | None = None) -> list[int]:
    """Bring the database to the latest version (the files of its engine unless `directory` is
    given). Returns the versions applied by this call."""
    folder = directory or MIGRATIONS_DIR / db.engine
    async with db.transaction() as tx:
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL)"
        )
    applied: list[int] = []
    for migration in discover(folder):
        async with db.transaction() as tx:
            # Checked inside the transaction, so two processes never apply the same file.
            if await tx.fetchval(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            ):
                continue
            try:
                for statement in migration.statements(db.engine):
                    await tx.execute(statement)
            except db.errors as exc:
                raise MigrationError(f"{migration.path.name} failed: {exc}") from exc
            await tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (
                    migration.version,
                    migration.name,
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                ),
            )
        log.info("applied migration %04d_%s", migration.version, migration.name)
        applied.append(migration.version)
    return applied
