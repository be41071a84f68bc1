#!/usr/bin/env bash
# Set up (first time) and run the bot. Configuration: .env or the environment (.env.example).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv ""
exec .venv/bin/python -m bot
