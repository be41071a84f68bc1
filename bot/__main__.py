"""`python -m bot`: validate the configuration, then run until SIGINT/SIGTERM.
`python -m bot migrate`: bring the database up to date and exit (a deploy's migration step;
the bot also migrates at start, so this is optional)."""

from __future__ import annotations

import asyncio
import sys

from bot.logs import setup_logging
from bot.settings import SettingsError, load_settings
from services.catalog import CatalogError
from services.migrations import MigrationError


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.secrets())

    from bot.app import migrate_only, run  # after logging: import-time logs are redacted too
    from bot.errors import StartupError

    command = sys.argv[1:]
    if command not in ([], ["migrate"]):
        print("usage: python -m bot [migrate]", file=sys.stderr)
        return 2
    try:
        asyncio.run(migrate_only(settings) if command else run(settings))
    except (CatalogError, MigrationError, StartupError) as exc:
        print(f"Start-up error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
