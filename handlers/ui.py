"""How every screen is shown: edited in place when a button led here, sent anew otherwise."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

Event = Message | CallbackQuery


async def show(event: Event, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Edit the screen the button is on, or answer a message with a new screen."""
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        try:
            edited = await event.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                raise
            return event.message
        return edited if isinstance(edited, Message) else event.message
    message = event.message if isinstance(event, CallbackQuery) else event
    assert isinstance(message, Message)
    return await message.answer(text, reply_markup=markup)


async def outdated(callback: CallbackQuery) -> None:
    """A button from a screen left behind, forged, or no longer meaningful."""
    await callback.answer(_("This button is outdated. Use /start to begin again."), show_alert=True)
