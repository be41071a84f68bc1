#!/usr/bin/env bash
# Install what the tests need (first time), then lint, type-check and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv dev
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy bot handlers services telegram_side
echo "== pytest"
# Two parts: most tests on TEST_WORKERS processes at once (pytest-xdist; 2 by default, one per
# core of the machines this is built on), then the few marked `alone` (they time send rates or
# load the machine) one at a time. A part in which nothing is selected (with -k) is no failure.
part() {
    local rc=0
    .venv/bin/pytest "$@" || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 5 ] || return "$rc"
}
part -n "${TEST_WORKERS:-2}" --part=shared "$@"
part --part=alone "$@"
