"""Balances: /topup, /debit, /user, /refund."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.admin.shared import amount_problem, target_of, tell_user, usage, who
from handlers.common import entry_text
from handlers.screens import tokens
from services.admin import Admin
from services.billing import Billing, Kind, Posted, check_amount
from services.errors import AmountError, InsufficientBalance
from services.jobs import AdminRefund, JobService
from services.users import User, Users


@dataclass(frozen=True)
class Adjustment:
    target: User
    amount: int
    reason: str | None
    reference: str  # the command's own message: a redelivered update changes nothing


async def _adjustment(
    message: Message, command: CommandObject, users: Users, billing: Billing, name: str
) -> Adjustment | None:
    """What /topup and /debit share: `<user> <amount> [reason]` read and checked; None after
    the usage was answered."""
    found = await target_of(message, command, users, name, 2, None)
    if found is None:
        return None
    target, parts = found
    try:
        amount = check_amount(parts[1], billing.max_amount)
    except AmountError as exc:
        await message.answer(usage(name, amount_problem(exc)))
        return None
    reason = parts[2].strip() if len(parts) > 2 else None
    reference = f"cmd:{message.chat.id}:{message.message_id}"
    return Adjustment(target, amount, reason, reference)


async def _report(
    message: Message,
    bot: Bot,
    i18n: I18n,
    change: Adjustment,
    posted: Posted,
    user_words: Callable[[], str],
    admin_words: str,
) -> None:
    """After a top-up or a debit: a repeated command says so; otherwise the user is told (in
    their language: `user_words` is translated there) and the admin gets the new balance."""
    if not posted.applied:
        await message.answer(
            _("This command was carried out before. Balance of {user}: {balance}.").format(
                user=who(change.target), balance=tokens(posted.balance)
            )
        )
        return
    told = await tell_user(  # "N tokens" in the user's language too
        bot,
        i18n,
        change.target,
        lambda: user_words().format(amount=tokens(change.amount), balance=tokens(posted.balance)),
    )
    text = admin_words.format(
        amount=tokens(change.amount), user=who(change.target), balance=tokens(posted.balance)
    )
    if not told:
        text += "\n" + _("The user could not be notified (blocked the bot?).")
    await message.answer(text)


async def cmd_topup(
    message: Message,
    command: CommandObject,
    users: Users,
    billing: Billing,
    bot: Bot,
    i18n: I18n,
    user: User,
) -> None:
    change = await _adjustment(message, command, users, billing, "topup")
    if change is None:
        return
    posted = await billing.credit(
        change.target.id,
        change.amount,
        Kind.ADMIN_TOPUP,
        change.reference,
        admin_id=user.id,
        reason=change.reason,
    )
    await _report(
        message,
        bot,
        i18n,
        change,
        posted,
        lambda: _("💰 An admin added {amount} to your balance. Balance: {balance}."),
        _("Added {amount} to {user}. New balance: {balance}."),
    )


async def cmd_debit(
    message: Message,
    command: CommandObject,
    users: Users,
    billing: Billing,
    bot: Bot,
    i18n: I18n,
    user: User,
) -> None:
    change = await _adjustment(message, command, users, billing, "debit")
    if change is None:
        return
    try:
        posted = await billing.debit(
            change.target.id,
            change.amount,
            Kind.ADMIN_DEBIT,
            change.reference,
            admin_id=user.id,
            reason=change.reason,
        )
    except InsufficientBalance as exc:
        await message.answer(
            _("{user} has only {have}; nothing was taken.").format(
                user=who(change.target), have=tokens(exc.have)
            )
        )
        return
    await _report(
        message,
        bot,
        i18n,
        change,
        posted,
        lambda: _("An admin corrected your balance by -{amount}. Balance: {balance}."),
        _("Took {amount} from {user}. New balance: {balance}."),
    )


async def cmd_user(message: Message, command: CommandObject, users: Users, admin: Admin) -> None:
    found = await target_of(message, command, users, "user", 1, 1)
    if found is None:
        return
    target, _parts = found
    summary = await admin.user_summary(target)
    jobs = ", ".join(
        f"{status} {count}" for status, count in sorted(summary.jobs_by_status.items())
    )
    lines = [
        f"👤 {who(target)}",
        _("Balance: {balance}").format(balance=tokens(target.balance)),
        _("Language: {language} · joined {joined} · last seen {seen}").format(
            language=target.language, joined=target.created_at[:10], seen=target.seen_at[:16]
        ),
        _("Jobs: {jobs}").format(jobs=jobs or "—"),
    ]
    if summary.history:
        lines += ["", _("Latest:")] + [entry_text(e) for e in summary.history]
    await message.answer("\n".join(lines))


async def cmd_refund(
    message: Message,
    command: CommandObject,
    jobs: JobService,
    billing: Billing,
    users: Users,
    bot: Bot,
    i18n: I18n,
    user: User,
) -> None:
    arg = (command.args or "").strip().removeprefix("#")
    if not arg.isdigit() or " " in arg:
        await message.answer(usage("refund"))
        return
    done = await jobs.refund_by_admin(int(arg), user.id)
    if done is None:
        await message.answer(usage("refund", _("No job #{job}.").format(job=arg)))
        return
    amount = tokens(done.tokens)
    if not done.tokens:
        await message.answer(
            _("Job #{job} was refunded before; nothing changed.").format(job=done.job_id)
        )
    elif done.stopped:  # the runner tells the user, as for any job that ends without a video
        await message.answer(
            _("Job #{job} was still in progress: stopped, and {amount} refunded to user {user}.")
            .format(amount=amount, job=done.job_id, user=done.user_id)
        )  # fmt: skip
    else:
        await _tell_owner(bot, i18n, users, done)
        await message.answer(
            _("Refunded {amount} for job #{job} to user {user}.").format(
                amount=amount, job=done.job_id, user=done.user_id
            )
        )


async def _tell_owner(bot: Bot, i18n: I18n, users: Users, done: AdminRefund) -> None:
    owner = await users.get(done.user_id)
    if owner is not None:
        await tell_user(
            bot,
            i18n,
            owner,
            lambda: _("💰 An admin refunded {amount} for video #{job}.").format(
                amount=tokens(done.tokens), job=done.job_id
            ),
        )
