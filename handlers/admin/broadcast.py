"""/broadcast: an admin replies with it to any message (text, photo, video, with its formatting
and buttons) to copy it to every user, or to a filtered audience (`lang=ru`, `active=7`,
`buyers`). A preview and a confirmation with the number of recipients come first; then a
progress line with a Cancel button, kept current by telegram_side.broadcaster.
`/broadcast cancel` stops the running one."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import BroadcastAction, BroadcastTap
from handlers.keyboard import Keyboard
from handlers.render import escape, fill
from handlers.ui import outdated
from services.broadcasts import Audience, Broadcast, BroadcastRefused, Broadcasts, Progress
from services.users import User


def usage_text() -> str:
    return str(
        escape(
            _(
                "Reply with /broadcast to the message to send (text, photo or video, with its "
                "formatting and buttons). Filters: lang=ru or lang=en, active=<days>, buyers. "
                "/broadcast cancel stops the one running."
            )
        )
    )


def refusal_text(exc: BroadcastRefused) -> str:
    texts = {
        "bad_filter": _(
            "I don't know the filter {detail}. Filters: lang=ru or lang=en, active=N (seen "
            "in the last N days, 1-3650), buyers."
        ),
        "nobody": _("No user matches this audience; nothing was sent."),
        "busy": _("Another broadcast is running: wait for it to end, or /broadcast cancel."),
        "gone": _("This broadcast is no longer there."),
        "not_draft": _("This broadcast was started or dropped already."),
        "none_running": _("No broadcast is running."),
    }
    return fill(texts.get(exc.reason, _("That did not work.")), detail=exc.detail)


def audience_text(audience: str) -> str:
    return fill(_("filter: {audience}"), audience=audience) if audience else _("all users")


def progress_text(b: Broadcast, p: Progress, now: float) -> str:
    if b.status == "running":
        head = _("📣 <b>Broadcast #{id}</b> · sending ({audience})")
    elif b.status == "done":
        head = _("✅ <b>Broadcast #{id}</b> done ({audience})")
    elif b.stop_reason == "source_gone":
        head = _("⛔ <b>Broadcast #{id}</b> stopped: the message to copy was deleted ({audience})")
    else:
        head = _("✖ <b>Broadcast #{id}</b> cancelled ({audience})")
    lines = [str(fill(head, id=b.id, audience=audience_text(b.audience)))]
    lines.append(
        _("Sent {sent} of {total} · blocked the bot {blocked} · failed {failed}").format(
            sent=p["sent"], total=b.total or p.total, blocked=p["blocked"], failed=p["failed"]
        )
    )
    if p["unknown"]:
        lines.append(
            _("Not known whether it arrived (not sent again): {count}").format(count=p["unknown"])
        )
    left = p["pending"] + p["sending"]
    if b.status != "running" and left:
        lines.append(_("Not sent: {count}").format(count=left))
    if b.started_at is not None:
        seconds = max(1.0, (b.finished_at or now) - b.started_at)
        lines.append(
            _("{seconds} s · {rate} per second").format(
                seconds=int(seconds), rate=f"{p.done / seconds:.1f}"
            )
        )
    return "\n".join(lines)


def progress_markup(b: Broadcast) -> InlineKeyboardMarkup | None:
    if b.status != "running":
        return None
    kb = Keyboard()
    kb.button(
        text=_("✖ Cancel the broadcast"),
        callback_data=BroadcastTap(action=BroadcastAction.STOP, id=b.id),
    )
    return kb.as_markup()


async def cmd_broadcast(
    message: Message, command: CommandObject, broadcasts: Broadcasts, bot: Bot, user: User
) -> None:
    words = (command.args or "").split()
    if words == ["cancel"]:
        try:
            stopped = await broadcasts.cancel()
        except BroadcastRefused as exc:
            await message.answer(refusal_text(exc))
            return
        progress = await broadcasts.progress(stopped.id)
        await message.answer(progress_text(stopped, progress, broadcasts.clock()))
        return
    source = message.reply_to_message
    if source is None:
        await message.answer(usage_text())
        return
    try:
        audience = Audience.parse(words)
        markup = source.reply_markup
        draft, recipients = await broadcasts.draft(
            user.id,
            user.language,
            source.chat.id,
            source.message_id,
            markup.model_dump_json(exclude_none=True) if markup else None,
            audience,
        )
    except BroadcastRefused as exc:
        await message.answer(refusal_text(exc))
        return
    try:  # the preview: exactly what users will get
        await bot.copy_message(
            chat_id=message.chat.id,
            from_chat_id=source.chat.id,
            message_id=source.message_id,
            reply_markup=markup,
        )
    except TelegramBadRequest as exc:
        await broadcasts.drop_draft(draft.id, user.id)
        await message.answer(
            fill(_("This message can't be copied: {error}. Nothing was sent."), error=exc.message)
        )
        return
    kb = Keyboard()
    kb.button(
        text=_("✅ Send to {count}").format(count=recipients),
        callback_data=BroadcastTap(action=BroadcastAction.SEND, id=draft.id),
    )
    kb.button(
        text=_("✖ Cancel"), callback_data=BroadcastTap(action=BroadcastAction.DROP, id=draft.id)
    )
    kb.adjust(1)
    await message.answer(
        fill(
            _("📣 The preview is above. Send it to {count} users ({audience})?"),
            count=recipients,
            audience=audience_text(draft.audience),
        ),
        reply_markup=kb.as_markup(),
    )


async def on_broadcast_tap(
    callback: CallbackQuery, callback_data: BroadcastTap, broadcasts: Broadcasts, user: User
) -> None:
    screen = callback.message if isinstance(callback.message, Message) else None
    if screen is None:
        await outdated(callback)
        return
    try:
        if callback_data.action == BroadcastAction.SEND:
            started = await broadcasts.start(
                callback_data.id, user.id, screen.chat.id, screen.message_id
            )
            await callback.answer(_("Sending."))
            progress = await broadcasts.progress(started.id)
            await screen.edit_text(
                progress_text(started, progress, broadcasts.clock()),
                reply_markup=progress_markup(started),
            )
        elif callback_data.action == BroadcastAction.DROP:
            if not await broadcasts.drop_draft(callback_data.id, user.id):
                raise BroadcastRefused("not_draft")
            await callback.answer(_("Dropped."))
            await screen.edit_text(_("Broadcast dropped; nothing was sent."))
        else:
            stopped = await broadcasts.cancel(callback_data.id)
            await callback.answer(_("Cancelled."))
            progress = await broadcasts.progress(stopped.id)
            await screen.edit_text(progress_text(stopped, progress, broadcasts.clock()))
    except BroadcastRefused as exc:
        await callback.answer(refusal_text(exc), show_alert=True)
