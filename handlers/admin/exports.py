"""/export [<days> | <from> [<to>]]: the ledger and the jobs of a date range as two CSV
documents in the chat, written to a temporary file page by page (services.exports) and sent
from there: the bot never holds a whole export in memory."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.types import FSInputFile, Message
from aiogram.utils.i18n import gettext as _

from handlers.render import escape
from services.exports import BadRange, Exports, parse_range

UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may upload through the public Bot API


def usage_text() -> str:
    return str(
        escape(
            _(
                "Usage: /export (the last 30 days) · /export <days> · /export <from> [<to>], "
                "dates as 2026-11-30 (UTC, both days included)"
            )
        )
    )


async def cmd_export(message: Message, command: CommandObject, exports: Exports, bot: Bot) -> None:
    words = (command.args or "").split()
    try:
        span = parse_range(words, datetime.now(UTC).date())
    except BadRange as exc:
        problem = {
            "date": _("A date is written as 2026-11-30."),
            "order": _("The first date must not be after the second."),
            "days": _("A range is 1 to 3660 days."),
        }.get(str(exc))
        await message.answer(f"{problem}\n{usage_text()}" if problem else usage_text())
        return
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        ledger = Path(folder) / f"ledger_{span.label}.csv"
        jobs = Path(folder) / f"jobs_{span.label}.csv"
        ledger_rows = await exports.ledger(ledger, span)
        job_rows = await exports.jobs(jobs, span)
        for path, rows in ((ledger, ledger_rows), (jobs, job_rows)):
            if path.stat().st_size > UPLOAD_LIMIT:
                await message.answer(
                    _("{name} is over 50 MB, more than a bot may send: ask for fewer days.").format(
                        name=path.name
                    )
                )
                continue
            await bot.send_document(
                message.chat.id,
                FSInputFile(path, filename=path.name),
                caption=_("{name}: {rows} rows").format(name=path.name, rows=rows),
            )
