"""Every benchmark in one run, one table with the targets beside the results (~4 minutes on
2 cores). Ratios are measured within the run: the machine is noisy.

    python bench/run_all.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import business, catalog, delivery, edit, fleet, jobs, ledger, startup, updates
from bench.table import print_table


def main() -> int:
    rows: list[list[object]] = []
    started = time.monotonic()
    for name, bench in (
        ("updates", updates),
        ("jobs", jobs),
        ("delivery", delivery),
        ("ledger", ledger),
        ("catalog", catalog),
        ("edit", edit),
        ("business", business),
        ("startup", startup),
        ("fleet", fleet),
    ):
        print(f"running {name}...", file=sys.stderr, flush=True)
        rows += bench.run()
    print_table(rows, ["measure", "result", "target", "met"])
    print(f"\n{time.monotonic() - started:.0f} s in all")
    return 1 if any(row[3] == "NO" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
