from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator

import pytest

from services.db import Database, SqliteDatabase
from services.migrations import migrate
from tests.servers import postgres_schema


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--part",
        choices=("all", "shared", "alone"),
        default="all",
        help="shared: the tests that may run beside others (scripts/test.sh runs them on several "
        "processes); alone: those marked `alone`, which time send rates or load the machine",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    part = config.getoption("--part")
    if part == "all":
        return
    keep = [i for i in items if (i.get_closest_marker("alone") is not None) == (part == "alone")]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def no_gc_pauses() -> Iterator[None]:
    """For the tests that time sends to the millisecond (the send budget): Python's cyclic
    garbage collector stays off while they run. A full collection of this process's heap (the
    whole suite's objects) stalls its event loop for 200-300 ms on a loaded machine, and the
    fake Telegram, which times a send when its loop reads the request, would then stamp every
    send that arrived during the stall with the same instant: a burst the bot never made."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request, tmp_path) -> AsyncIterator[Database]:
    """The storage, migrated, on each engine: SQLite in a file, PostgreSQL in a schema of its
    own (skipped with the reason where no server answers; on CI a missing server fails)."""
    if request.param == "sqlite":
        database: Database = SqliteDatabase(tmp_path / "test.sqlite3")
        await database.connect()
        await migrate(database)
        yield database
        await database.close()
        return
    async with postgres_schema() as database:
        await migrate(database)
        yield database


@pytest.fixture
async def sqlite_db(tmp_path) -> AsyncIterator[SqliteDatabase]:
    """SQLite alone: for what only that engine has (its connections, locks, files)."""
    database = SqliteDatabase(tmp_path / "test.sqlite3")
    await database.connect()
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
async def h(tmp_path):
    """The bot through its real Dispatcher (tests/harness.py), a user with 1,000 tokens."""
    from tests.harness import Harness

    harness = await Harness.start(tmp_path)
    await harness.give(1000)
    yield harness
    await harness.close()


def catalog_priced(folder, usd_per_token: float, margin: float = 1.0):
    """The real catalog with other token arithmetic: tests about balances pick round prices
    (Runway Gen-4.5 at $0.125/s and $0.025 a token is 5 tokens a second)."""
    from services.catalog import CATALOG_PATH

    text = CATALOG_PATH.read_text(encoding="utf-8")
    head, _, rest = text.partition("[pricing]")
    rest = rest.split("\n", 3)[3]  # drop the two pricing lines
    path = folder / "models.toml"
    path.write_text(
        f"{head}[pricing]\nusd_per_token = {usd_per_token}\nmargin = {margin}\n{rest}",
        encoding="utf-8",
    )
    return path
