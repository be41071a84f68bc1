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
.venv/bin/pytest "$@"
