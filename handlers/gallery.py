"""My videos: the user's jobs, newest first, five a page; open one to get the video again by its
stored file_id; delete with confirmation. Every query is scoped to the user who asks."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import (
    Again,
    EditAction,
    Editing,
    Gallery,
    GalleryAction,
    Menu,
    MenuAction,
    SameSeed,
)
from handlers.filters import Tapped
from handlers.job_texts import clip_list, seconds_text
from handlers.keyboard import Keyboard
from handlers.render import Markup, fill
from handlers.texts import cut
from handlers.ui import show
from services.catalog import Catalog
from services.jobs import Job, JobService, Status
from services.users import User

PAGE_SIZE = 5
PROMPT_PREVIEW = 60


def _elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def state_text(job: Job, now: float) -> str:
    if job.status is Status.DELIVERED:
        if job.delivered_as == "link":
            return _("ready (sent as a link)")
        return _("ready")
    if job.status is Status.FAILED:
        if job.error_class == "user_cancelled":
            return _("cancelled, refunded")
        return _("failed, refunded")
    return _("generating, {elapsed} elapsed").format(elapsed=_elapsed(now - job.created_at))


def line(job: Job, catalog: Catalog, now: float) -> str:
    name = catalog.name_of(job.model_id)
    if catalog.is_retired(job.model_id):
        name = _("{name} (retired)").format(name=name)
    if job.edit_kind == "trim":
        name = _("✂️ trim of {clips}").format(clips=clip_list(job.edit_of))
    elif job.edit_kind == "join":
        name = _("🎞 join of {clips}").format(clips=clip_list(job.edit_of))
    date = datetime.fromtimestamp(job.created_at, UTC).strftime("%d.%m.%Y")
    words = job.user_prompt
    prompt = cut(words, PROMPT_PREVIEW)
    length = f" · {seconds_text(job.length)}" if job.length else ""
    return fill(
        "<b>#{id}</b> · {date} · {name}{length}\n{prompt}\n<i>{state}</i>",
        id=job.id,
        date=date,
        name=name,
        length=length,
        prompt=prompt or "—",
        state=state_text(job, now),
    )


def group_state(members: list[Job], now: float) -> str:
    """A card's variants in one word: how many are ready, or the state they share."""
    ready = sum(1 for job in members if job.status is Status.DELIVERED)
    running = [job for job in members if job.status not in (Status.DELIVERED, Status.FAILED)]
    if running:
        return _("{ready} of {total} ready, the rest generating").format(
            ready=ready, total=len(members)
        )
    if ready == len(members):
        return _("all {total} ready").format(total=len(members))
    return _("{ready} of {total} ready, the rest refunded").format(ready=ready, total=len(members))


def group_line(members: list[Job], catalog: Catalog, now: float) -> Markup:
    head = members[0]
    date = datetime.fromtimestamp(head.created_at, UTC).strftime("%d.%m.%Y")
    length = f" · {screens.seconds(head.duration)}" if head.duration else ""
    return fill(
        "<b>#{id}</b> · {date} · {name}{length} · {count}\n{prompt}\n<i>{state}</i>",
        id=head.id,
        date=date,
        name=", ".join(dict.fromkeys(catalog.name_of(m.model_id) for m in members)),
        length=length,
        count=(_("{n} models side by side") if head.compare else _("{n} variants")).format(
            n=len(members)
        ),
        prompt=cut(head.user_prompt, PROMPT_PREVIEW) or "—",
        state=group_state(members, now),
    )


async def render_page(
    jobs: JobService, catalog: Catalog, user: User, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    items, total = await jobs.gallery(user.id, max(0, page) * PAGE_SIZE, PAGE_SIZE)
    groups = {
        job.id: await jobs.group(job.group_id, user.id) for job in items if job.group_id is not None
    }
    kb = Keyboard()
    if not items:
        kb.button(text=_("🏠 Menu"), callback_data=Menu(action=MenuAction.HOME))
        return _("📁 No videos yet. Make your first one from the menu!"), kb.as_markup()
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(0, page), pages - 1)
    now = time.time()
    text = _("📁 <b>My videos</b> · page {page} of {pages}").format(page=page + 1, pages=pages)
    text += "\n\n" + "\n\n".join(
        group_line(groups[job.id], catalog, now) if len(groups.get(job.id, ())) > 1
        else line(job, catalog, now)
        for job in items
    )  # fmt: skip
    for job in items:
        if len(groups.get(job.id, ())) > 1:
            kb.button(
                text=f"▶ #{job.id} ×{len(groups[job.id])}",
                callback_data=Gallery(action=GalleryAction.GROUP, job=job.id, page=page),
            )
            continue
        kb.button(
            text=f"▶ #{job.id}",
            callback_data=Gallery(action=GalleryAction.OPEN, job=job.id, page=page),
        )
    nav = 0
    if page > 0:
        kb.button(text="⬅", callback_data=Gallery(action=GalleryAction.PAGE, page=page - 1))
        nav += 1
    if page + 1 < pages:
        kb.button(text="➡", callback_data=Gallery(action=GalleryAction.PAGE, page=page + 1))
        nav += 1
    kb.button(text=_("🏠 Menu"), callback_data=Menu(action=MenuAction.HOME))
    kb.adjust(len(items), *([nav] if nav else []), 1)
    return text, kb.as_markup()


async def show_page(
    event: Message | CallbackQuery, jobs: JobService, catalog: Catalog, user: User, page: int
) -> None:
    text, markup = await render_page(jobs, catalog, user, page)
    message = event.message if isinstance(event, CallbackQuery) else None
    if isinstance(message, Message) and message.video is not None:
        await message.answer(text, reply_markup=markup)  # opened from a video: a new message
        return
    await show(event, text, markup)


async def cmd_gallery(message: Message, jobs: JobService, catalog: Catalog, user: User) -> None:
    await show_page(message, jobs, catalog, user, page=0)


def item_keyboard(
    job: Job, page: int, *, seeded: bool = False, extend: int = 0
) -> InlineKeyboardMarkup:
    kb = Keyboard()
    if job.status is Status.DELIVERED and job.edit_kind is None:
        kb.button(text=_("🔁 Again with the same settings"), callback_data=Again(job=job.id))
        if seeded:
            kb.button(text=_("🎲 Same seed, new prompt"), callback_data=SameSeed(job=job.id))
    if job.status is Status.DELIVERED and job.delivered_as not in ("blocked", "unsent"):
        if extend:
            kb.button(
                text=_("⏩ Extend by {n} s").format(n=extend),
                callback_data=Editing(action=EditAction.EXTEND, job=job.id),
            )
        kb.button(
            text=_("▶️ Continue from here"),
            callback_data=Editing(action=EditAction.CONTINUE, job=job.id),
        )
        kb.button(text=_("✂️ Trim"), callback_data=Editing(action=EditAction.TRIM, job=job.id))
        kb.button(
            text=_("🎞 Join with others"),
            callback_data=Editing(action=EditAction.JOIN, job=job.id),
        )
    if job.status in (Status.DELIVERED, Status.FAILED):
        kb.button(
            text=_("🗑 Delete"),
            callback_data=Gallery(action=GalleryAction.DELETE, job=job.id, page=page),
        )
    kb.button(text=_("⬅ My videos"), callback_data=Gallery(action=GalleryAction.PAGE, page=page))
    kb.adjust(1)
    return kb.as_markup()


async def _own_item(
    callback: CallbackQuery, callback_data: Gallery, jobs: JobService, user: User
) -> tuple[Job, Message] | None:
    """The user's own video and the screen it was tapped on; None (answered) otherwise: another
    user's id reads as not found."""
    job = await jobs.get_for_user(callback_data.job, user.id)
    if job is None:
        await callback.answer(_("Not found."), show_alert=True)
        return None
    await callback.answer()
    if not isinstance(callback.message, Message):
        return None
    return job, callback.message


async def on_page(
    callback: CallbackQuery, callback_data: Gallery, jobs: JobService, catalog: Catalog, user: User
) -> None:
    await callback.answer()
    await show_page(callback, jobs, catalog, user, callback_data.page)


async def on_open(
    callback: CallbackQuery, callback_data: Gallery, jobs: JobService, catalog: Catalog, user: User
) -> None:
    found = await _own_item(callback, callback_data, jobs, user)
    if found is not None:
        await open_item(found[1], found[0], catalog, callback_data.page)


async def on_group(
    callback: CallbackQuery, callback_data: Gallery, jobs: JobService, catalog: Catalog, user: User
) -> None:
    """A card's variants: each with its state, a button to open each."""
    head = await jobs.get_for_user(callback_data.job, user.id)
    members = await jobs.group(head.group_id, user.id) if head and head.group_id else []
    if not members:
        await callback.answer(_("Not found."), show_alert=True)
        return
    await callback.answer()
    now = time.time()
    heading = (
        _("⚖️ <b>Side by side, #{id}</b>") if members[0].compare else _("🎞 <b>Variants of #{id}</b>")
    )
    lines = [fill(heading, id=members[0].id)]
    kb = Keyboard()
    for job in members:
        which = (
            catalog.name_of(job.model_id)
            if job.compare
            else screens.variant_of(job.variant, job.variants)
        )
        lines.append(fill("{which}: {state}", which=which, state=state_text(job, now)))
        kb.button(
            text=f"▶ {which}",
            callback_data=Gallery(action=GalleryAction.OPEN, job=job.id, page=callback_data.page),
        )
    kb.button(
        text=_("⬅ My videos"),
        callback_data=Gallery(action=GalleryAction.PAGE, page=callback_data.page),
    )
    kb.adjust(*([2] * (len(members) // 2)), *([1] if len(members) % 2 else []), 1)
    text = fill(
        "{head}\n\n{lines}", head=group_line(members, catalog, now), lines=Markup("\n").join(lines)
    )
    await show_page_text(callback, text, kb.as_markup())


async def show_page_text(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    message = callback.message
    if isinstance(message, Message) and message.video is not None:
        await message.answer(text, reply_markup=markup)  # opened from a video: a new message
        return
    await show(callback, text, markup)


async def on_delete(
    callback: CallbackQuery, callback_data: Gallery, jobs: JobService, user: User
) -> None:
    """Asks first: deleting cannot be undone."""
    found = await _own_item(callback, callback_data, jobs, user)
    if found is None:
        return
    job, message = found
    kb = Keyboard()
    kb.button(
        text=_("🗑 Yes, delete"),
        callback_data=Gallery(
            action=GalleryAction.CONFIRM_DELETE, job=job.id, page=callback_data.page
        ),
    )
    kb.button(
        text=_("Keep it"),
        callback_data=Gallery(action=GalleryAction.PAGE, page=callback_data.page),
    )
    kb.adjust(1)
    await message.answer(
        _("Delete video #{job} from your gallery? This can't be undone.").format(job=job.id),
        reply_markup=kb.as_markup(),
    )


async def on_confirm_delete(
    callback: CallbackQuery, callback_data: Gallery, jobs: JobService, catalog: Catalog, user: User
) -> None:
    if await jobs.get_for_user(callback_data.job, user.id) is None:
        await callback.answer(_("Not found."), show_alert=True)
        return
    if not await jobs.hide(callback_data.job, user.id):
        await callback.answer(_("Only finished videos can be deleted."), show_alert=True)
        return
    await callback.answer(_("Deleted."))
    await show_page(callback, jobs, catalog, user, callback_data.page)


async def open_item(message: Message, job: Job, catalog: Catalog, page: int) -> None:
    text = line(job, catalog, time.time())
    model = catalog.get(job.model_id)
    seed = (job.fixed_seed or job.seed) if model is not None and model.seed else None
    if seed is not None:
        text += "\n" + _("🎲 seed {seed}").format(seed=seed)
    extension = (
        catalog.extension(model)
        if model is not None and job.video_uuid and job.edit_kind is None
        else None
    )
    markup = item_keyboard(
        job, page, seeded=seed is not None, extend=extension.duration if extension else 0
    )
    if job.status is Status.DELIVERED and job.file_id:
        try:
            await message.answer_video(job.file_id, caption=text, reply_markup=markup)  # short
            return
        except TelegramBadRequest:
            pass  # a file_id Telegram no longer knows: fall back to the link below
    if job.status is Status.DELIVERED and job.video_url:
        text = fill("{text}\n{url}", text=Markup(text), url=job.video_url)
    await message.answer(text, reply_markup=markup)


def setup() -> Router:
    router = Router(name="gallery")
    tap = router.callback_query.register
    tap(on_page, Tapped(Gallery, GalleryAction.PAGE))
    tap(on_open, Tapped(Gallery, GalleryAction.OPEN))
    tap(on_group, Tapped(Gallery, GalleryAction.GROUP))
    tap(on_delete, Tapped(Gallery, GalleryAction.DELETE))
    tap(on_confirm_delete, Tapped(Gallery, GalleryAction.CONFIRM_DELETE))
    return router
