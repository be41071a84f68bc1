"""Admin commands (ids from ADMIN_IDS), the Stars ones (/refundstars, /reconcile) from
payments.py included. For anyone else they do not exist: the router's filter lets their
messages fall through to the unknown-command reply, changing nothing.

Every command parses strictly; anything off gets its usage line and changes nothing. `balances`:
/topup, /debit, /user, /refund; `operations`: /stats, /models, /pause, /resume;
`broadcast`: /broadcast and its buttons; `exports`: /export."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command

from handlers import payments
from handlers.admin.balances import cmd_debit, cmd_refund, cmd_topup, cmd_user
from handlers.admin.broadcast import cmd_broadcast, on_broadcast_tap
from handlers.admin.exports import cmd_export
from handlers.admin.operations import cmd_models, cmd_pause, cmd_resume, cmd_stats
from handlers.callbacks import BroadcastTap
from handlers.filters import IsAdmin, IsCommand, Tapped


def setup(admin_ids: frozenset[int]) -> Router:
    router = Router(name="admin")
    router.message.filter(IsCommand(), IsAdmin(admin_ids))
    router.message.register(cmd_topup, Command("topup"))
    router.message.register(cmd_debit, Command("debit"))
    router.message.register(cmd_user, Command("user"))
    router.message.register(cmd_stats, Command("stats"))
    router.message.register(cmd_models, Command("models"))
    router.message.register(cmd_refund, Command("refund"))
    router.message.register(cmd_pause, Command("pause"))
    router.message.register(cmd_resume, Command("resume"))
    router.message.register(payments.cmd_refundstars, Command("refundstars"))
    router.message.register(payments.cmd_reconcile, Command("reconcile"))
    router.message.register(cmd_broadcast, Command("broadcast"))
    router.message.register(cmd_export, Command("export"))
    router.callback_query.register(on_broadcast_tap, Tapped(BroadcastTap), IsAdmin(admin_ids))
    return router
