"""A small inline-keyboard builder with the shape of aiogram's InlineKeyboardBuilder
(button / adjust / as_markup) but none of its cost: aiogram's deep-copies the whole markup
through pydantic on every button and on export, which made a 20-button parameter screen the
most expensive thing the bot did per update (see bench/updates.py)."""

from __future__ import annotations

from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

MAX_WIDTH = 8


@lru_cache(maxsize=4096)
def _button(text: str, data: str) -> InlineKeyboardButton:
    """One button, shared by every screen that shows it (aiogram's objects are frozen): a
    parameter screen has 20 and the screens repeat. Validated: with pydantic 2.13 that costs
    ~4 us, a fourth of model_construct()'s ~17 us (it resolves each of a button's dozen unset
    fields in Python)."""
    return InlineKeyboardButton(text=text, callback_data=data)


class Keyboard:
    def __init__(self) -> None:
        self._buttons: list[InlineKeyboardButton] = []
        self._sizes: tuple[int, ...] = (1,)

    def button(self, *, text: str, callback_data: str) -> None:
        """`callback_data` packed: callbacks.packed(Kind, field=value, ...)."""
        self._buttons.append(_button(str(text), callback_data))

    def adjust(self, *sizes: int) -> None:
        """Row widths in order; the last one repeats for the buttons left; none given: rows of
        up to 8 (Telegram's widest), as aiogram's builder does."""
        self._sizes = tuple(s for s in sizes if s > 0) or (MAX_WIDTH,)

    def as_markup(self) -> InlineKeyboardMarkup:
        """The markup, shared by every screen with the same buttons in the same rows."""
        key = (tuple(map(id, self._buttons)), self._sizes)
        markup = _markups.get(key)
        if markup is None:
            if len(_markups) >= MAX_MARKUPS:
                _markups.clear()
            # The markup holds its buttons, so no id in its key is reused while it is here.
            markup = _markups[key] = InlineKeyboardMarkup(inline_keyboard=self._rows())
        return markup

    def _rows(self) -> list[list[InlineKeyboardButton]]:
        rows: list[list[InlineKeyboardButton]] = []
        start = 0
        while start < len(self._buttons):
            width = self._sizes[min(len(rows), len(self._sizes) - 1)]
            rows.append(self._buttons[start : start + width])
            start += width
        return rows


MAX_MARKUPS = 4096
_markups: dict[tuple[tuple[int, ...], tuple[int, ...]], InlineKeyboardMarkup] = {}
