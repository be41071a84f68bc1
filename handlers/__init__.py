"""Telegram-facing code: routers, keyboards, texts. Thin: parse, call one service, answer."""

from aiogram import Router
from aiogram.filters import CommandStart

from handlers import admin, common, editing, errors, gallery, payments, promo, wizard
from handlers.filters import OtherChat


def setup_routers(root: Router, admin_ids: frozenset[int] = frozenset()) -> None:
    """The whole router tree, attached to `root` (the Dispatcher; a fresh one in every test).

    aiogram walks the routers in order for every update until one handles it, and each router
    passed costs the same whether it has a handler for the update or not (bench/updates.py:
    ~10 us). So the tree is flat and the most frequent updates meet few routers: wizard taps
    and prompts first. Callback prefixes are disjoint, so only messages care about the order,
    and the wizard takes no command and no payment message (its own filter)."""
    errors.register(root)  # error handlers see errors of every router below the root

    # The bot works in private chats. Anything from another chat stops here, at the root's
    # own handlers, which aiogram checks before any router below: /start is pointed to a
    # private chat, the rest is ignored (a tap is answered, silently). One filter check per
    # private update, where a "private" parent router cost a whole router pass.
    root.message.register(common.group_start, OtherChat(), CommandStart())
    root.message.register(common.ignore, OtherChat())
    root.callback_query.register(common.ignore_tap, OtherChat())

    root.include_routers(
        wizard.setup(),
        common.setup_commands(),
        promo.setup(),
        gallery.setup(),
        editing.setup(),
        payments.setup(),
        admin.setup(admin_ids),  # for anyone else these fall through to unknown commands
        common.setup_fallback(),  # unknown commands, anything else, stray buttons
    )
