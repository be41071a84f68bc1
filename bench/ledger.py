"""Ledger throughput: job charges per second with 100 concurrent users on one SQLite file, and
on PostgreSQL (BENCH_DATABASE_URL, default the tests' server; a schema made for the run).

Measured in the same run against plain sqlite3 doing the same transaction (BEGIN IMMEDIATE,
read the balance, check the idempotency key, insert the ledger row whose trigger updates the
balance, COMMIT), so the ratio shows what aiosqlite and the service cost.

    python bench/ledger.py [--users 100] [--charges 40]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.shared_servers import postgres_schema
from bench.table import print_table
from services.billing import Billing, Kind
from services.db import Database, SqliteDatabase
from services.migrations import migrate
from services.postgres import PostgresDatabase


async def _prepare(db: Database, users: int, charges: int) -> None:
    await db.connect()
    await migrate(db)
    billing = Billing(db)
    async with db.transaction() as tx:
        await tx.executemany("INSERT INTO users (id) VALUES (?)", [(u,) for u in range(users)])
    for u in range(users):
        await billing.credit(u, charges * 10, Kind.ADMIN_TOPUP, f"seed-{u}")
    await db.close()


async def service_charges(db: Database, users: int, charges: int) -> float:
    await db.connect()
    billing = Billing(db)

    async def user(u: int) -> None:
        for n in range(charges):
            await billing.charge_for_job(u, u * 100_000 + n, 10)

    started = time.perf_counter()
    await asyncio.gather(*(user(u) for u in range(users)))
    elapsed = time.perf_counter() - started
    assert await db.fetchval("SELECT sum(balance) FROM users") == 0
    await db.close()
    return users * charges / elapsed


def raw_charges(path: Path, users: int, charges: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    started = time.perf_counter()
    for n in range(charges):
        for u in range(users):
            job = u * 100_000 + n
            key = f"job:{job}:charge"
            conn.execute("BEGIN IMMEDIATE")
            balance = conn.execute("SELECT balance FROM users WHERE id = ?", (u,)).fetchone()[0]
            exists = conn.execute("SELECT 1 FROM ledger WHERE idempotency_key = ?", (key,))
            if exists.fetchone() is None and balance >= 10:
                conn.execute(
                    "INSERT INTO ledger (user_id, amount, kind, job_id, idempotency_key)"
                    " VALUES (?, -10, 'job_charge', ?, ?)",
                    (u, job, key),
                )
            conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    assert conn.execute("SELECT sum(balance) FROM users").fetchone()[0] == 0
    conn.close()
    return users * charges / elapsed


def run(users: int = 100, charges: int = 40) -> list[list[object]]:
    with tempfile.TemporaryDirectory() as folder:
        service_db, raw_db = Path(folder) / "service.sqlite3", Path(folder) / "raw.sqlite3"
        asyncio.run(_prepare(SqliteDatabase(service_db), users, charges))
        asyncio.run(_prepare(SqliteDatabase(raw_db), users, charges))
        raw = raw_charges(raw_db, users, charges)
        service = asyncio.run(service_charges(SqliteDatabase(service_db), users, charges))
    postgres = asyncio.run(postgres_charges(users, charges))
    return [
        ["ledger: raw sqlite3 charges/s", f"{raw:,.0f}", "reference", ""],
        [f"ledger: Billing charges/s ({users} users)", f"{service:,.0f}", "", ""],
        ["ledger: Billing / raw", f"{service / raw:.2f}", "info", ""],
        [
            "ledger: Billing charges/s on PostgreSQL",
            f"{postgres:,.0f}" if isinstance(postgres, float) else postgres,
            "info",
            "",
        ],
    ]


async def postgres_charges(users: int, charges: int) -> float | str:
    """The same run on PostgreSQL, in a schema made for it and dropped afterwards."""
    try:
        async with postgres_schema() as url:
            await _prepare(PostgresDatabase(url), users, charges)
            return await service_charges(PostgresDatabase(url), users, charges)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"not measured: {type(exc).__name__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--charges", type=int, default=40, help="charges per user")
    args = parser.parse_args()
    print_table(run(args.users, args.charges), ["measure", "result", "target", "met"])


if __name__ == "__main__":
    main()
