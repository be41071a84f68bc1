"""Promo codes in the chat: `/promo <CODE>` (or the link t.me/<bot>?start=promo-<CODE>) for
everyone; `/promo create|list|off` for admins. Every refusal has its own answer. The router
also takes `/invite` (handlers/invite.py): one router less for every update to pass."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers import invite, screens
from handlers.render import escape, fill
from services.promos import MAX_DAYS, Promo, PromoRefused, Promos
from services.users import User

LINK_PREFIX = "promo-"


def refusal_text(exc: PromoRefused) -> str:
    code = exc.code
    texts = {
        "bad_code": _("A promo code is 3 to 32 letters, digits, _ or -."),
        "unknown": _("There is no promo code {code}. Please check the spelling."),
        "off": _("Promo code {code} is no longer valid."),
        "expired": _("Promo code {code} has expired."),
        "used_up": _("Promo code {code} has been used up: all its uses are taken."),
        "redeemed": _("You have already used promo code {code}."),
        "exists": _("Promo code {code} exists already."),
        "bad_tokens": _("The tokens must be a whole number above zero."),
        "bad_uses": _("The uses must be a whole number above zero."),
        "bad_days": _("The days must be a number from 1 to {most}."),
    }
    return fill(texts.get(exc.reason, _("That promo code can't be used.")), code=code,
                most=MAX_DAYS)  # fmt: skip


async def redeem(message: Message, promos: Promos, user: User, text: str) -> None:
    try:
        promo, balance = await promos.redeem(user.id, text)
    except PromoRefused as exc:
        await message.answer(refusal_text(exc))
        return
    await message.answer(
        fill(
            _("🎁 Promo code {code}: {tokens} added. Your balance: {balance}."),
            code=promo.code,
            tokens=screens.tokens(promo.tokens),
            balance=screens.tokens(balance),
        )
    )


def admin_usage() -> str:
    """Plain text with angle brackets: escaped for HTML as a whole."""
    return str(
        escape(
            _(
                "Usage: /promo create <CODE> <tokens> <uses> [<days>] · /promo list · "
                "/promo off <CODE>"
            )
        )
    )


def promo_line(promo: Promo, username: str) -> str:
    until = (
        datetime.fromtimestamp(promo.expires_at, UTC).strftime("%d.%m.%Y %H:%M UTC")
        if promo.expires_at is not None
        else _("no end")
    )
    state = "" if promo.active else " · " + _("off")
    return fill(
        "<b>{code}</b>: {tokens} · {used}/{uses} · {until}{state}\nt.me/{bot}?start=promo-{code}",
        code=promo.code,
        tokens=screens.tokens(promo.tokens),
        used=promo.used,
        uses=promo.uses,
        until=until,
        state=state,
        bot=username,
    )


async def admin_promo(
    message: Message, words: list[str], promos: Promos, bot: Bot, user: User
) -> None:
    me = await bot.me()
    username = me.username or "bot"
    action = words[0].lower()
    if action == "list" and len(words) == 1:
        found = await promos.all()
        if not found:
            await message.answer(_("No promo codes yet."))
            return
        await message.answer("\n\n".join(promo_line(p, username) for p in found[:30]))
        return
    if action == "off" and len(words) == 2:
        try:
            done = await promos.off(words[1])
        except PromoRefused as exc:
            await message.answer(refusal_text(exc))
            return
        text = (
            _("Promo code {code} is off.")
            if done
            else _("There is no promo code {code}. Please check the spelling.")
        )
        await message.answer(fill(text, code=words[1].upper()))
        return
    if action == "create" and len(words) in (4, 5):
        numbers = words[2:]
        if not all(w.isdigit() for w in numbers):
            await message.answer(admin_usage())
            return
        days = float(numbers[2]) if len(numbers) == 3 else None
        try:
            promo = await promos.create(words[1], int(numbers[0]), int(numbers[1]), days, user.id)
        except PromoRefused as exc:
            await message.answer(refusal_text(exc))
            return
        await message.answer(_("Made:") + "\n" + promo_line(promo, username))
        return
    await message.answer(admin_usage())


async def cmd_promo(
    message: Message,
    command: CommandObject,
    promos: Promos,
    admin_ids: frozenset[int],
    bot: Bot,
    user: User,
) -> None:
    words = (command.args or "").split()
    if user.id in admin_ids and words and words[0].lower() in ("create", "list", "off"):
        await admin_promo(message, words, promos, bot, user)
        return
    if len(words) != 1:
        await message.answer(_("Send /promo and the code, for example: /promo SPRING25"))
        return
    await redeem(message, promos, user, words[0])


def setup() -> Router:
    router = Router(name="promo")
    router.message.register(cmd_promo, Command("promo"))
    router.message.register(invite.cmd_invite, Command("invite"))
    return router
