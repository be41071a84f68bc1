"""The catalog's cost: drawing the screens users tap through (the model list computes each
model's price "from"; a parameter screen asks which values are accepted), and one live check
(every request the catalog can make, validated against each model's schema) against the fake
schema service on 127.0.0.1.

    python bench/catalog.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.table import print_table
from handlers import screens
from handlers.i18n import build_i18n
from services.catalog import Mode, load_catalog
from services.catalog_check import CatalogChecker, requests_of
from services.db import SqliteDatabase
from services.migrations import migrate
from tests.fake_runware import RunwareServer

LIST_TARGET_MS = 10.0
PARAMS_TARGET_MS = 5.0
CHECK_TARGET_S = 10.0


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


def screens_cost(repeat: int) -> tuple[tuple[float, float], tuple[float, float]]:
    catalog = load_catalog()
    i18n = build_i18n()
    lists: list[float] = []
    params: list[float] = []
    with i18n.context(), i18n.use_locale("en"):
        for _ in range(repeat):
            for mode in (Mode.T2V, Mode.I2V):
                started = time.perf_counter()
                screens.model_list(catalog, mode, everything=True)
                lists.append(time.perf_counter() - started)
                for model in catalog.for_mode(mode):
                    valid = catalog.default_choice(model, mode)
                    assert valid is not None
                    started = time.perf_counter()
                    screens.params_screen(catalog, model, valid, 500)
                    params.append(time.perf_counter() - started)
    return _ms(lists), _ms(params)


async def check_cost() -> tuple[float, int, int]:
    server = RunwareServer("bench-key", latency=0.1)
    await server.start()
    folder = Path(tempfile.mkdtemp())
    db = SqliteDatabase(folder / "bench.sqlite3")
    await db.connect()
    await migrate(db)
    catalog = load_catalog()
    requests = sum(len(requests_of(m, catalog)) for m in catalog.models)
    try:
        async with httpx.AsyncClient() as http:
            checker = CatalogChecker(catalog, db, http, server.schemas_url)
            started = time.perf_counter()
            changes = await checker.check()
            elapsed = time.perf_counter() - started
    finally:
        await db.close()
        await server.stop()
    return elapsed, requests, len(changes)


def run(repeat: int = 200) -> list[list[object]]:
    (list_p50, list_p99), (params_p50, params_p99) = screens_cost(repeat)
    check_s, requests, changes = asyncio.run(check_cost())
    return [
        [
            "catalog: model list (12 models, prices 'from'), p50 / p99",
            f"{list_p50:.2f} / {list_p99:.2f} ms",
            f"p99 < {LIST_TARGET_MS:.0f} ms",
            "yes" if list_p99 < LIST_TARGET_MS else "NO",
        ],
        [
            "catalog: parameter screen, p50 / p99",
            f"{params_p50:.2f} / {params_p99:.2f} ms",
            f"p99 < {PARAMS_TARGET_MS:.0f} ms",
            "yes" if params_p99 < PARAMS_TARGET_MS else "NO",
        ],
        [
            f"catalog: one live check, {requests} requests validated",
            f"{check_s:.2f} s ({changes} changes)",
            f"< {CHECK_TARGET_S:.0f} s",
            "yes" if check_s < CHECK_TARGET_S and changes == 0 else "NO",
        ],
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print_table(run(args.repeat), ["measure", "result", "target", "met"])


if __name__ == "__main__":
    main()
