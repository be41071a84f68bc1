"""Admin commands (ids from ADMIN_IDS), the Stars ones (/refundstars, /reconcile) from
payments.py included. For anyone else they do not exist: the router's filter lets their
messages fall through to the unknown-command reply, changing nothing.

Every command parses strictly; anything off gets its usage line and changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers import payments
from handlers.common import entry_text
from handlers.filters import IsAdmin, IsCommand
from handlers.render import Markup, fill
from handlers.screens import tokens
from handlers.texts import TEXT_LIMIT, utf16_len
from services.admin import Admin
from services.billing import Billing, Kind, check_amount
from services.catalog import Catalog
from services.catalog_check import CatalogChecker
from services.errors import AmountError, InsufficientBalance
from services.jobs import JobService
from services.users import User, Users

log = logging.getLogger(__name__)

USAGE = {
    "topup": "/topup <user id | @username> <amount> [reason]",
    "debit": "/debit <user id | @username> <amount> [reason]",
    "user": "/user <user id | @username>",
    "refund": "/refund <job id>",
    "stats": "/stats",
    "models": "/models",
    "pause": "/pause",
    "resume": "/resume",
}


def usage(command: str, problem: str | None = None) -> str:
    line = fill(_("Usage: {usage}"), usage=USAGE[command])
    return f"{problem}\n{line}" if problem else line


def amount_problem(exc: AmountError) -> str:
    if exc.reason == "not_positive":
        return _("The amount must be a positive whole number.")
    if exc.reason == "too_large":
        return _("The amount is too large: at most {limit} at once.").format(limit=exc.limit)
    return _("The amount must be a whole number of tokens.")


def who(user: User) -> str:
    name = f"@{user.username}" if user.username else _("no username")
    return fill("{name} (id {id})", name=name, id=user.id)


async def tell_user(bot: Bot, i18n: I18n, user: User, render: Callable[[], str]) -> bool:
    """Send a text rendered in the user's own language. False if it could not go."""
    with i18n.use_locale(user.language):
        rendered = render()
    try:
        await bot.send_message(user.id, rendered)
    except TelegramAPIError as exc:
        log.info("user %d not notified: %s", user.id, exc)
        return False
    return True


async def _target(
    message: Message,
    command: CommandObject,
    users: Users,
    name: str,
    min_args: int,
    max_args: int | None,
) -> tuple[User, list[str]] | None:
    parts = (command.args or "").split(maxsplit=2 if max_args is None else max_args)
    if len(parts) < min_args or (max_args is not None and len(parts) > max_args):
        await message.answer(usage(name))
        return None
    target = await users.find(parts[0])
    if target is None:
        await message.answer(
            usage(name, fill(_("No user {ref} has talked to the bot."), ref=parts[0]))
        )
        return None
    return target, parts


async def cmd_topup(
    message: Message,
    command: CommandObject,
    users: Users,
    billing: Billing,
    bot: Bot,
    i18n: I18n,
    user: User,
) -> None:
    await _adjust(message, command, users, billing, bot, i18n, user, name="topup")


async def cmd_debit(
    message: Message,
    command: CommandObject,
    users: Users,
    billing: Billing,
    bot: Bot,
    i18n: I18n,
    user: User,
) -> None:
    await _adjust(message, command, users, billing, bot, i18n, user, name="debit")


async def _adjust(
    message: Message,
    command: CommandObject,
    users: Users,
    billing: Billing,
    bot: Bot,
    i18n: I18n,
    admin: User,
    *,
    name: str,
) -> None:
    """/topup and /debit: the same parsing, checks and answers; only the direction differs."""
    found = await _target(message, command, users, name, 2, None)
    if found is None:
        return
    target, parts = found
    reason = parts[2].strip() if len(parts) > 2 else None
    reference = f"cmd:{message.chat.id}:{message.message_id}"  # a redelivered update: no-op
    try:
        amount = check_amount(parts[1], billing.max_amount)
        if name == "topup":
            posted = await billing.credit(
                target.id, amount, Kind.ADMIN_TOPUP, reference, admin_id=admin.id, reason=reason
            )
        else:
            posted = await billing.debit(
                target.id, amount, Kind.ADMIN_DEBIT, reference, admin_id=admin.id, reason=reason
            )
    except AmountError as exc:
        await message.answer(usage(name, amount_problem(exc)))
        return
    except InsufficientBalance as exc:
        await message.answer(
            _("{user} has only {have}; nothing was taken.").format(
                user=who(target), have=tokens(exc.have)
            )
        )
        return
    if not posted.applied:
        await message.answer(
            _("This command was carried out before. Balance of {user}: {balance}.").format(
                user=who(target), balance=tokens(posted.balance)
            )
        )
        return

    def for_user() -> str:  # rendered in the user's own language
        if name == "topup":
            words = _("💰 An admin added {amount} to your balance. Balance: {balance}.")
        else:
            words = _("An admin corrected your balance by -{amount}. Balance: {balance}.")
        return words.format(amount=tokens(amount), balance=tokens(posted.balance))

    told = await tell_user(bot, i18n, target, for_user)
    if name == "topup":
        text = _("Added {amount} to {user}. New balance: {balance}.")
    else:
        text = _("Took {amount} from {user}. New balance: {balance}.")
    text = text.format(amount=tokens(amount), user=who(target), balance=tokens(posted.balance))
    if not told:
        text += "\n" + _("The user could not be notified (blocked the bot?).")
    await message.answer(text)


async def cmd_user(message: Message, command: CommandObject, users: Users, admin: Admin) -> None:
    found = await _target(message, command, users, "user", 1, 1)
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


async def cmd_stats(
    message: Message, command: CommandObject, admin: Admin, catalog: Catalog
) -> None:
    if command.args:
        await message.answer(usage("stats"))
        return
    s = await admin.stats()
    per_usd = f"{s.tokens_per_usd:.1f}" if s.tokens_per_usd is not None else "—"
    lines = [
        _("📊 <b>Stats</b>"),
        _("Users: {total} · active in 7 days: {active}").format(total=s.users, active=s.active_7d),
        _("Jobs by status: {jobs}").format(
            jobs=", ".join(f"{k} {v}" for k, v in sorted(s.jobs_by_status.items())) or "—"
        ),
        _("Jobs by model: {jobs}").format(
            jobs=", ".join(f"{k} {v}" for k, v in s.jobs_by_model.items()) or "—"
        ),
        _(
            "Delivered: as video {video} · as a link {link} · user unreachable {blocked} · "
            "not sent {unsent}"
        ).format(
            video=s.delivered_as.get("video", 0),
            link=s.delivered_as.get("link", 0),
            blocked=s.delivered_as.get("blocked", 0),
            unsent=s.delivered_as.get("unsent", 0),
        ),
        _("Tokens credited: {credited} · taken back: {debited}").format(
            credited=s.tokens_credited, debited=s.tokens_debited
        ),
        _(
            "Tokens spent on videos: {spent} (charged {charged}, refunded {refunded} in {refunds} "
            "refunds)"
        ).format(
            spent=s.tokens_spent,
            charged=s.tokens_charged,
            refunded=s.tokens_refunded,
            refunds=s.refunds,
        ),
        _("Runware cost: ${usd} · tokens per USD: {per_usd}").format(
            usd=f"{s.usd_cost:.2f}", per_usd=per_usd
        ),
    ]
    costs = await admin.model_costs()
    if costs:
        lines += ["", _("<b>Per model</b> (jobs · tokens charged · USD spent · margin):")]
        for cost in costs.values():
            lines.append(
                fill(
                    "{name}: {jobs} · {tokens} · ${usd} · {margin}",
                    name=catalog.name_of(cost.model_id),
                    jobs=cost.jobs,
                    tokens=cost.tokens,
                    usd=f"{cost.usd:.2f}",
                    margin=_margin(catalog, cost.tokens, cost.usd),
                )
            )
    await message.answer("\n".join(lines))


def _margin(catalog: Catalog, tokens: int, usd: float) -> str:
    """Revenue of the tokens (at the catalog's USD per token) over Runware's cost."""
    if usd <= 0 or tokens <= 0:
        return "—"
    return f"×{tokens * catalog.pricing.usd_per_token / usd:.2f}"


async def cmd_models(
    message: Message,
    command: CommandObject,
    admin: Admin,
    catalog: Catalog,
    checker: CatalogChecker,
) -> None:
    """Each model's state in the live check, its token price, Runware's cost and the margin."""
    if command.args:
        await message.answer(usage("models"))
        return
    costs = await admin.model_costs()
    when = (
        datetime.fromtimestamp(checker.last_check, UTC).strftime("%Y-%m-%d %H:%M UTC")
        if checker.last_check
        else _("never")
    )
    lines = [_("🎞 <b>Models</b> · last check: {when}").format(when=when)]
    if checker.last_error:
        lines.append(fill(_("Last check problem: {error}"), error=checker.last_error))
    for model in catalog.models:
        mode = model.modes[0]
        state = checker.states.get(model.id)
        if model.id in catalog.live.retired:
            status = _("retired")
        elif catalog.live.is_suspended(model.id):
            until, why = catalog.live.suspended[model.id]
            status = fill(
                _("withdrawn until {time}: {why}"),
                time=datetime.fromtimestamp(until, UTC).strftime("%H:%M UTC"),
                why=why,
            )
        elif model.id in catalog.live.unusable:
            status = fill(_("hidden: {why}"), why=catalog.live.unusable[model.id])
        else:
            status = _("live")
        choice = catalog.default_choice(model, mode) if catalog.is_live(model.id) else None
        price = f"{choice.price} ({mode.value}, {choice.duration} s)" if choice else "—"
        cost = costs.get(model.id)
        known = cost.usd_per_job if cost else None
        dry = state.usd_cost if state else None
        usd = (
            f"${known:.3f}/job"
            if known is not None
            else (f"${dry:.3f} (dry run)" if dry is not None else "—")
        )
        margin = _margin(catalog, cost.tokens, cost.usd) if cost and cost.usd else "—"
        estimate = "" if model.price.documented else _(" (price estimated)")
        lines.append(
            fill(
                "\n<b>{name}</b> <code>{id}</code>: {status}\n",
                name=model.name,
                id=model.id,
                status=Markup(status),  # built above, values escaped there
            )
            + fill(
                _("tokens: {price}{estimate} · Runware: {usd} · margin {margin}"),
                price=price,
                estimate=estimate,
                usd=usd,
                margin=margin,
            )
        )
        for item in catalog.live.withdrawn.get(model.id, [])[:5]:
            lines.append(fill("  − {what}", what=item.describe()[:200]))
    for text in chunks(lines):
        await message.answer(text)


def chunks(lines: list[str], limit: int = TEXT_LIMIT) -> list[str]:
    """Lines joined into messages of at most `limit` UTF-16 units (tags included, so the text
    Telegram counts is shorter), split between lines only: a cut inside a line could cut an HTML
    tag, and Telegram refuses the whole message. Every line here is far shorter than a message."""
    out: list[str] = []
    current = ""
    for line in lines:
        if current and utf16_len(current) + 1 + utf16_len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


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
    job = await jobs.get(int(arg))
    if job is None:
        await message.answer(usage("refund", _("No job #{job}.").format(job=arg)))
        return
    refunded, stopped = await jobs.refund_by_admin(job.id, user.id)
    if not refunded:
        await message.answer(
            _("Job #{job} was refunded before; nothing changed.").format(job=job.id)
        )
        return
    if stopped:  # the runner tells the user, as for any job that ends without a video
        await message.answer(
            _("Job #{job} was still in progress: stopped, and {amount} refunded to user {user}.")
            .format(amount=tokens(refunded), job=job.id, user=job.user_id)
        )  # fmt: skip
        return
    owner = await users.get(job.user_id)
    if owner is not None:
        await tell_user(
            bot,
            i18n,
            owner,
            lambda: _("💰 An admin refunded {amount} for video #{job}.").format(
                amount=tokens(refunded), job=job.id
            ),
        )
    await message.answer(
        _("Refunded {amount} for job #{job} to user {user}.").format(
            amount=tokens(refunded), job=job.id, user=job.user_id
        )
    )


async def cmd_pause(message: Message, command: CommandObject, jobs: JobService) -> None:
    if command.args:
        await message.answer(usage("pause"))
        return
    if await jobs.pause("admin"):
        await message.answer(_("⏸ Paused: new generations are refused; running ones finish."))
    else:
        await message.answer(_("Already paused ({reason}).").format(reason=await jobs.paused()))


async def cmd_resume(message: Message, command: CommandObject, jobs: JobService) -> None:
    if command.args:
        await message.answer(usage("resume"))
        return
    if await jobs.resume():
        await message.answer(_("▶️ Resumed: new generations are accepted."))
    else:
        await message.answer(_("Generation was not paused."))


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
    return router
