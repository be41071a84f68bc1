"""Telegram-facing code: routers, keyboards, texts. Thin: parse, call one service, answer."""

from aiogram import Router
from aiogram.filters import CommandStart

from handlers import admin, common, errors, gallery, payments, wizard
from handlers.filters import PrivateChat


def setup_routers(root: Router, admin_ids: frozenset[int] = frozenset()) -> None:
    """The whole router tree, attached to `root` (the Dispatcher; a fresh one in every test).

    aiogram walks the routers in order for every update until one handles it, and each router
    passed costs the same whether it has a handler for the update or not (bench/updates.py:
    ~10 us). So the tree is shallow and the most frequent updates meet few routers: wizard
    taps and prompts first. Callback prefixes are disjoint, so only messages care about the
    order, and the wizard takes no command and no payment message (its own filter)."""
    errors.register(root)  # error handlers see errors of every router below the root

    private = Router(name="private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.include_routers(
        wizard.setup(),
        common.setup_commands(),
        gallery.setup(),
        payments.setup(),
        admin.setup(admin_ids),  # for anyone else these fall through to unknown commands
        common.setup_fallback(),  # unknown commands, anything else, stray buttons
    )
    root.include_router(private)

    group = Router(name="group")  # the bot works in private chats; in groups it says so
    group.message.register(common.group_start, CommandStart())
    root.include_router(group)
