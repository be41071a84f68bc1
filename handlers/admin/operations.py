"""Running the bot: /stats, /models, /pause, /resume; the alert of a margin that fell."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.admin.shared import tell_user, usage
from handlers.render import Markup, fill
from handlers.texts import TEXT_LIMIT, utf16_len
from services.admin import Admin, ModelCost, Stats
from services.catalog import Catalog, VideoModel, Withdrawal
from services.catalog_check import CatalogChecker
from services.jobs import JobService
from services.margins import LowMargin
from services.users import Users


def stats_lines(s: Stats) -> list[str]:
    """/stats without the per-model part: users, jobs, deliveries, tokens, Runware's cost."""
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
    return lines


async def cmd_stats(
    message: Message, command: CommandObject, admin: Admin, catalog: Catalog
) -> None:
    if command.args:
        await message.answer(usage("stats"))
        return
    lines = stats_lines(await admin.stats())
    costs = await admin.model_costs()
    if costs:
        lines += [
            "",
            _(
                "<b>Per model</b> (jobs · tokens charged, net of refunds · USD spent · margin "
                "over the jobs with a cost):"
            ),
        ]
        for cost in costs.values():
            lines.append(
                fill(
                    "{name}: {jobs} · {tokens} · ${usd} · {margin}",
                    name=catalog.name_of(cost.model_id),
                    jobs=cost.jobs,
                    tokens=cost.tokens_net,
                    usd=f"{cost.usd:.2f}",
                    margin=_margin(catalog, cost),
                )
            )
    for text in chunks(lines):
        await message.answer(text)


def _margin(catalog: Catalog, cost: ModelCost) -> str:
    """(Revenue - cost) / revenue, the revenue being the tokens at the catalog's USD per token,
    and the markup (revenue over Runware's cost)."""
    percent = cost.margin_percent(catalog.pricing.usd_per_token)
    if percent is None:
        return "—"
    markup = cost.tokens * catalog.pricing.usd_per_token / cost.usd
    return f"{percent:.1f}% (×{markup:.2f})"


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
        lines += model_lines(model, catalog, checker, costs.get(model.id))
    for text in chunks(lines):
        await message.answer(text)


def model_status(model: VideoModel, catalog: Catalog) -> Markup:
    live = catalog.live
    if model.id in live.retired:
        return fill(_("retired"))
    if live.is_suspended(model.id):
        until, why = live.suspended[model.id]
        return fill(
            _("withdrawn until {time}: {why}"),
            time=datetime.fromtimestamp(until, UTC).strftime("%H:%M UTC"),
            why=why,
        )
    if model.id in live.unusable:
        return fill(_("hidden: {why}"), why=live.unusable[model.id])
    return fill(_("live"))


def model_lines(
    model: VideoModel, catalog: Catalog, checker: CatalogChecker, cost: ModelCost | None
) -> list[str]:
    """One model in /models: its state, token price, Runware's cost, margin, what is withdrawn."""
    mode = model.modes[0]
    state = checker.states.get(model.id)
    choice = catalog.default_choice(model, mode) if catalog.is_live(model.id) else None
    price = f"{choice.price} ({mode.value}, {choice.duration} s)" if choice else "—"
    known = cost.usd_per_job if cost else None
    dry = state.usd_cost if state else None
    usd = (
        f"${known:.3f}/job"
        if known is not None
        else (f"${dry:.3f} (dry run)" if dry is not None else "—")
    )
    margin = _margin(catalog, cost) if cost else "—"
    estimate = "" if model.price.documented else _(" (price estimated)")
    head = fill(
        "\n<b>{name}</b> <code>{id}</code>: {status}\n",
        name=model.name,
        id=model.id,
        status=model_status(model, catalog),  # Markup: its values escaped there
    )
    line = head + fill(
        _("tokens: {price}{estimate} · Runware: {usd} · margin {margin}"),
        price=price,
        estimate=estimate,
        usd=usd,
        margin=margin,
    )
    withdrawn: tuple[Withdrawal, ...] = catalog.live.withdrawn.get(model.id, ())[:5]
    return [line, *(str(fill("  − {what}", what=w.describe()[:200])) for w in withdrawn)]


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


def low_margins_text(lows: list[LowMargin], catalog: Catalog, minimum: float) -> str:
    lines = [str(fill(_("⚠️ <b>Margin below {minimum}%</b> over the last day:"), minimum=minimum))]
    for item in lows:
        lines.append(
            str(
                fill(
                    _("{name}: {margin}% · {jobs} videos cost ${usd} and earned {tokens} tokens"),
                    name=catalog.name_of(item.model_id),
                    margin=f"{item.percent:.1f}",
                    jobs=item.jobs,
                    usd=f"{item.usd:.2f}",
                    tokens=item.tokens,
                )
            )
        )
    lines.append(_("Runware's prices may have moved: compare them in /models."))
    return "\n".join(lines)


async def tell_low_margins(
    bot: Bot,
    i18n: I18n,
    users: Users,
    admin_ids: frozenset[int],
    catalog: Catalog,
    minimum: float,
    lows: list[LowMargin],
) -> None:
    """Each admin (who has started the bot) told once, in their language."""
    for admin_id in sorted(admin_ids):
        admin = await users.get(admin_id)
        if admin is not None:
            await tell_user(bot, i18n, admin, lambda: low_margins_text(lows, catalog, minimum))
