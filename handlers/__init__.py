"""Telegram-facing code: routers, keyboards, texts. Thin: parse, call one service, answer."""

from aiogram import Router
from aiogram.filters import CommandStart

from handlers import admin, common, errors, gallery, payments, wizard
from handlers.filters import PrivateChat


def setup_routers(root: Router, admin_ids: frozenset[int] = frozenset()) -> None:
    """The whole router tree, attached to `root` (the Dispatcher; a fresh one in every test).

    aiogram walks the routers in order for every update until one handles it, and each router
    passed costs the same whether it has a matching handler or not (bench/updates.py: about
    10 us). So the tree is shallow and the most frequent updates (wizard taps) meet few
    routers first; callback prefixes are disjoint, so the order only matters for messages."""
    errors.register(root)  # error handlers see errors of every router below the root

    private = Router(name="private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.include_routers(
        payments.setup(),  # first: a successful payment is recorded before anything
        admin.setup(admin_ids),  # for anyone else these fall through to unknown commands
        common.setup_commands(),  # ends with the unknown-command reply, before the wizard,
        wizard.setup(),  # whose states take any text
        gallery.setup(),
        common.setup_fallback(),
    )
    root.include_router(private)

    group = Router(name="group")  # the bot works in private chats; in groups it says so
    group.message.register(common.group_start, CommandStart())
    root.include_router(group)
