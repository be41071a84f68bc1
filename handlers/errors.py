"""One place where exceptions become replies: domain refusals in plain words, anything else
logged with context and answered with something true."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.replies import domain_error_text
from services.errors import DomainError
from services.users import User

log = logging.getLogger(__name__)


async def _reply(event: ErrorEvent, text: Callable[[], str], data: dict[str, Any]) -> None:
    """Answer in the user's language: the error escaped the i18n middleware's context."""
    i18n, user = data.get("i18n"), data.get("user")
    if isinstance(i18n, I18n):
        locale = user.language if isinstance(user, User) else i18n.default_locale
        with i18n.context(), i18n.use_locale(locale):
            message = text()
    else:
        message = text()
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(message[:200], show_alert=True)
        elif update.message is not None:
            await update.message.answer(message)
    except TelegramAPIError as exc:
        log.warning("could not tell the user about an error: %s", exc)


async def on_domain_error(event: ErrorEvent, **data: Any) -> None:
    exc = event.exception
    assert isinstance(exc, DomainError)
    await _reply(event, lambda: domain_error_text(exc), data)


async def on_unexpected(event: ErrorEvent, **data: Any) -> None:
    log.error(
        "update %s failed: %r", event.update.update_id, event.exception, exc_info=event.exception
    )
    await _reply(
        event,
        lambda: _(
            "Sorry, something went wrong on our side. Please try again; if it keeps happening, "
            "write to the admins."
        ),
        data,
    )


def register(router: Router) -> None:
    router.errors.register(on_domain_error, ExceptionTypeFilter(DomainError))
    router.errors.register(on_unexpected)
