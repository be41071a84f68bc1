"""Small async filters. aiogram runs every sync filter (each `F.` magic filter) through a thread
hop; these run on the event loop."""

from __future__ import annotations

from typing import Any, Literal

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery, Message


class OtherChat(Filter):
    """Anything but a private chat (a group, a channel). A tap on an inline message (no chat)
    is not one: those can only come from the bot's own private screens."""

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        return message is not None and message.chat.type != "private"


class PlainText(Filter):
    """A text that is not a command."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not message.text.startswith("/")  # type: ignore[union-attr]


class HasImage(Filter):
    """A photo, or a file (checked from its bytes later, whatever its name or MIME type says)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.photo) or message.document is not None


class IsAdmin(Filter):
    def __init__(self, admin_ids: frozenset[int]) -> None:
        self.admin_ids = admin_ids

    async def __call__(self, message: Message) -> bool:
        return message.from_user is not None and message.from_user.id in self.admin_ids


class IsCommand(Filter):
    """A router of commands looks at nothing else: one check instead of one per command."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and message.text.startswith("/")  # type: ignore[union-attr]


class CommandOrPayment(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.successful_payment is not None or (
            bool(message.text) and message.text.startswith("/")  # type: ignore[union-attr]
        )


class Tapped(CallbackQueryFilter):
    """`CallbackData.filter()` that looks at the prefix before parsing. aiogram's own parses
    every button's data against every handler in turn and raises (and catches) an exception
    for each mismatch; a tap on a wizard button used to pay for seven of them. With `actions`,
    only buttons whose `action` is one of them: one small handler per action."""

    def __init__(self, callback_data: type[CallbackData], *actions: Any) -> None:
        super().__init__(callback_data=callback_data)
        self.head = callback_data.__prefix__ + callback_data.__separator__
        self.actions = frozenset(actions)

    async def __call__(self, query: CallbackQuery) -> Literal[False] | dict[str, Any]:
        if not (query.data or "").startswith(self.head):
            return False
        parsed = await super().__call__(query)
        if parsed and self.actions and parsed["callback_data"].action not in self.actions:
            return False
        return parsed


class TappedAny(Filter):
    """A router's own buttons: one prefix check lets the other routers' taps pass the router by
    without testing each of its handlers (aiogram spends ~3 us per handler filter call)."""

    def __init__(self, *kinds: type[CallbackData]) -> None:
        self.prefixes = frozenset(kind.__prefix__ for kind in kinds)
        separators = {kind.__separator__ for kind in kinds}
        assert len(separators) == 1, "one separator for all of a router's buttons"
        (self.separator,) = separators

    async def __call__(self, query: CallbackQuery) -> bool:
        return (query.data or "").partition(self.separator)[0] in self.prefixes
