"""Invitations: `/invite` shows the user's own link and what it brought; a start link
"ref-<id>" makes a new user the inviter's; both people hear about it, and about the bonus."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.admin.shared import tell_user
from handlers.render import fill
from services.referrals import LINK_PREFIX, Bonus, Referrals, parse_link
from services.users import User, Users


def invite_link(username: str, user_id: int) -> str:
    return f"https://t.me/{username}?start={LINK_PREFIX}{user_id}"


async def cmd_invite(message: Message, referrals: Referrals, bot: Bot, user: User) -> None:
    me = await bot.me()
    figures = await referrals.figures(user.id)
    lines = [
        _("🤝 <b>Invite friends</b>"),
        "",
        fill(_("Your link: {link}"), link=invite_link(me.username or "bot", user.id)),
    ]
    if referrals.percent > 0:
        lines.append(
            _(
                "When someone starts the bot through it and buys tokens for the first time, "
                "you get {percent}% of the tokens they buy."
            ).format(percent=referrals.percent)
        )
    lines += [
        "",
        _("Joined through your link: {joined} · made a purchase: {bought}").format(
            joined=figures.joined, bought=figures.bought
        ),
        _("Earned: {earned}").format(earned=screens.tokens(figures.earned)),
    ]
    await message.answer("\n".join(lines))


async def follow_link(
    message: Message,
    payload: str,
    referrals: Referrals,
    users: Users,
    bot: Bot,
    i18n: I18n,
    user: User,
    *,
    new: bool,
) -> None:
    """A start link "ref-<id>": the new user is the inviter's, once. An existing user, a link
    of one's own, or an unknown inviter changes nothing (the first two are told why)."""
    referrer_id = parse_link(payload)
    if referrer_id is None:
        return
    done = await referrals.attribute(user.id, referrer_id, new=new)
    if done.outcome == "self":
        await message.answer(_("That is your own invitation link: share it with friends."))
        return
    if done.outcome != "joined":
        return  # not new, unknown inviter, or already someone's: the greeting is enough
    inviter = await users.get(referrer_id)
    if inviter is None:
        return
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(_("👋 You came with an invitation: welcome!"))
    percent = referrals.percent
    await tell_user(
        bot,
        i18n,
        inviter,
        lambda: str(
            fill(
                _("🎉 {name} joined through your invitation link.")
                + (
                    " " + _("When they buy tokens for the first time, you get {percent}% of them.")
                    if percent > 0
                    else ""
                ),
                name=name or _("Someone"),
                percent=percent,
            )
        ),
    )


async def tell_bonus(
    bonus: Bonus, buyer_name: str, users: Users, bot: Bot, i18n: I18n, *, refunded: bool
) -> None:
    """The inviter hears of the bonus paid for (or taken back with) the friend's purchase."""
    inviter = await users.get(bonus.referrer_id)
    if inviter is None or bonus.tokens <= 0:
        return

    def render() -> str:  # in the inviter's language, which may not be the buyer's
        if refunded:
            text = _(
                "↩️ A purchase that earned you an invitation bonus was refunded: {tokens} taken "
                "back. Your balance: {balance}."
            )
        else:
            text = _(
                "🎁 {name} made their first purchase: {tokens} for the invitation. "
                "Your balance: {balance}."
            )
        return str(
            fill(
                text,
                name=buyer_name or _("Someone you invited"),
                tokens=screens.tokens(bonus.tokens),
                balance=screens.tokens(bonus.balance),
            )
        )

    await tell_user(bot, i18n, inviter, render)
