"""Telegram-facing code: routers, keyboards, texts. Thin: parse, call one service, answer."""

from aiogram import Router
from aiogram.filters import CommandStart

from handlers import admin, common, errors, gallery, payments, wizard
from handlers.filters import PrivateChat


def setup_routers(admin_ids: frozenset[int] = frozenset()) -> Router:
    """The whole router tree, built fresh for every Dispatcher (production and each test)."""
    root = Router(name="root")
    errors.register(root)  # error handlers see errors of every router below the root

    private = Router(name="private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.include_routers(
        payments.setup(admin_ids),  # first: a successful payment is recorded before anything
        common.setup_commands(),
        admin.setup(admin_ids),  # for anyone else these fall through to unknown commands
        common.setup_unknown_commands(),  # before the wizard, whose states take any text
        gallery.setup(),
        wizard.setup(),
        common.setup_fallback(),
    )
    root.include_router(private)

    group = Router(name="group")  # the bot works in private chats; in groups it says so
    group.message.register(common.group_start, CommandStart())
    root.include_router(group)
    return root
