from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.db import Database
from services.migrations import migrate


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "test.sqlite3")
    await database.connect()
    await migrate(database)
    yield database
    await database.close()
