"""Editing in the chat: continue a video from its last frame (an image-to-video card), trim
one (quick choices or typed seconds, a preview with the length and price, then a durable edit),
join 2-5 (tapped in order). The edits themselves run in the edit runner; here they are only
checked and created, and every refusal is said."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiogram import Bot, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import EditAction, Editing, Gallery, GalleryAction, Menu, MenuAction
from handlers.filters import CommandOrPayment, PlainText, Tapped
from handlers.job_texts import clip_list, seconds_text
from handlers.keyboard import Keyboard
from handlers.render import fill
from handlers.replies import domain_error_text
from handlers.states import Wizard, WizardData, save
from handlers.ui import show
from services.catalog import Catalog, Mode, ValidParams, VideoModel
from services.drafts import Drafts
from services.editing import (
    JOIN_MAX,
    JOIN_MIN,
    MIN_TRIM,
    EditError,
    EditService,
    FFmpeg,
    SourceGone,
    parse_range,
)
from services.errors import DomainError, EditRefused, ImageRejected
from services.images import prepare_image
from services.jobs import Job, JobService
from services.users import User
from telegram_side.sources import VideoSources

PICK_PAGE = 8


class Edits(StatesGroup):
    trim_range = State()  # waiting for typed seconds ("1.5-6")
    join = State()  # ticking videos to join


def refusal_text(exc: DomainError) -> str:
    if not isinstance(exc, EditRefused):
        return domain_error_text(exc)
    details = exc.details
    if exc.reason == "not_found":
        return _("Not found.")
    if exc.reason == "not_ready":
        return _("Video #{job} is not ready: only finished videos can be edited.").format(
            job=details.get("job")
        )
    if exc.reason == "range":
        length = details.get("length")
        return _("That is outside the video: it is {length} long.").format(
            length=seconds_text(float(length)) if isinstance(length, int | float) else "?"
        )
    if exc.reason == "too_short":
        return _("Keep at least {least} s.").format(least=MIN_TRIM)
    if exc.reason == "count":
        return _("Pick from {least} to {most} videos.").format(least=JOIN_MIN, most=JOIN_MAX)
    return _("Each video can be picked once.")


def price_text(tokens: int) -> str:
    return (
        _("Price: free")
        if tokens == 0
        else _("Price: {price}").format(price=screens.tokens(tokens))
    )


# --- continue from here ---------------------------------------------------------------------


def continue_model(catalog: Catalog, job: Job, recent: str | None) -> tuple[VideoModel, bool]:
    """The same model where it animates a first frame, else the user's last image-to-video
    model, else the first recommended one; and whether it is the same."""
    same = catalog.available(job.model_id)
    if same is not None and same.supports(Mode.I2V):
        return same, True
    for model_id in (recent or "", *(m.id for m in catalog.for_mode(Mode.I2V))):
        model = catalog.available(model_id)
        if model is not None and model.supports(Mode.I2V):
            return model, False
    raise LookupError("no image-to-video model is available")


async def continue_video(
    callback: CallbackQuery,
    callback_data: Editing,
    state: FSMContext,
    bot: Bot,
    catalog: Catalog,
    jobs: JobService,
    edits: EditService,
    drafts: Drafts,
    sources: VideoSources,
    ffmpeg: FFmpeg,
    user: User,
) -> None:
    """The video's last frame becomes the first frame of an image-to-video card: the same
    model and options where it takes a frame, and a prompt to write for what happens next."""
    try:
        job = await edits.source(user.id, callback_data.job)
    except EditRefused as exc:
        await callback.answer(refusal_text(exc), show_alert=True)
        return
    recent = await jobs.last_settings(user.id, Mode.I2V)
    try:
        model, same = continue_model(catalog, job, recent[0] if recent else None)
    except LookupError:
        await callback.answer(_("This model is not available any more."), show_alert=True)
        return
    await callback.answer(_("Taking the last frame…"))
    target = callback.message
    assert isinstance(target, Message)
    with tempfile.TemporaryDirectory(prefix="continue-") as tmp:
        folder = Path(tmp)
        try:
            path = await sources.fetch(job, folder, bot)
            await ffmpeg.last_frame(path, folder / "last.png")
            prepared = await asyncio.to_thread(_prepared, folder / "last.png")
        except SourceGone:
            await target.answer(gone_text(job.id))
            return
        except (EditError, ImageRejected):
            await target.answer(_("The last frame of #{job} could not be read.").format(job=job.id))
            return
    image_id = await drafts.stage_image(user.id, prepared[0], prepared[1])
    params = dict(job.params) if same else {}
    choice, _moved = catalog.carry_over(model.id, Mode.I2V, params)
    choice = choice or catalog.default_choice(model, Mode.I2V)
    if not isinstance(choice, ValidParams):
        await target.answer(_("This model is not available any more."))
        return
    data = WizardData(mode=Mode.I2V, image_id=image_id).with_params(choice)
    await save(state, data)
    await state.set_state(Wizard.prompt)
    head = (
        _("▶️ Continuing #{job} from its last frame with {model}.")
        if same
        else _("▶️ Continuing #{job} from its last frame with {model} ({old} takes no frame).")
    )
    text = fill(head, job=job.id, model=model.name, old=catalog.name_of(job.model_id))
    await target.answer(
        f"{text}\n{screens.ask_prompt(model, Mode.I2V)}",
        reply_markup=screens.prompt_keyboard(model, Mode.I2V),
    )


async def extend_video(
    callback: CallbackQuery,
    callback_data: Editing,
    state: FSMContext,
    catalog: Catalog,
    edits: EditService,
    user: User,
) -> None:
    """A card extending the video natively (Veo 3.1: inputs.video, 7 s): its model, its options,
    and a prompt to write for what happens next."""
    try:
        job = await edits.source(user.id, callback_data.job)
    except EditRefused as exc:
        await callback.answer(refusal_text(exc), show_alert=True)
        return
    model = catalog.available(job.model_id)
    extension = catalog.extension(model) if model is not None else None
    if model is None or extension is None or job.video_uuid is None or job.edit_kind:
        await callback.answer(_("This video can't be extended: use Continue."), show_alert=True)
        return
    options = {k: v for k, v in job.params.get("options", {}).items() if k in extension.options}
    choice = catalog.validate(model, Mode.T2V, {"extend": True, "options": options})
    if not isinstance(choice, ValidParams):
        choice = extension
    await callback.answer()
    data = WizardData(mode=Mode.T2V, video_input=job.video_uuid, extends=job.id).with_params(choice)
    await save(state, data)
    await state.set_state(Wizard.prompt)
    target = callback.message
    assert isinstance(target, Message)
    text = fill(
        _("⏩ Extending #{job} by {n} s with {model}."),
        job=job.id,
        n=choice.duration,
        model=model.name,
    )
    await target.answer(
        f"{text}\n{screens.ask_prompt(model, Mode.T2V)}",
        reply_markup=screens.prompt_keyboard(model, Mode.T2V),
    )


def _prepared(path: Path) -> tuple[bytes, str]:
    image = prepare_image(path.read_bytes())
    return image.data, image.mime


def gone_text(job_id: int) -> str:
    return _(
        "Video #{job} is too old to edit: its copy here and its link have expired, and "
        "Telegram gives bots files of 20 MB at most."
    ).format(job=job_id)


# --- trim -----------------------------------------------------------------------------------


def quick_range(choice: str, length: float) -> tuple[float, float] | None:
    return {
        "first1": (1.0, length),
        "last1": (0.0, length - 1.0),
        "half1": (0.0, round(length / 2, 2)),
        "half2": (round(length / 2, 2), length),
    }.get(choice)


def trim_screen(job: Job, tokens: int) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            fill(_("✂️ <b>Trim #{job}</b> · {length}"), job=job.id, length=seconds_text(job.length)),
            _(
                "Choose what to keep, or type the seconds to keep, for example 1.5-6 "
                "(at least {least} s)."
            ).format(least=MIN_TRIM),
            price_text(tokens),
        ]
    )
    kb = Keyboard()
    for key, label in (
        ("first1", _("Cut the first second")),
        ("last1", _("Cut the last second")),
        ("half1", _("First half")),
        ("half2", _("Second half")),
    ):
        kb.button(text=label, callback_data=Editing(action=EditAction.CUT, job=job.id, value=key))
    kb.button(
        text=_("⌨️ Type the seconds"), callback_data=Editing(action=EditAction.TYPE, job=job.id)
    )
    kb.button(
        text=_("⬅ Back"), callback_data=Gallery(action=GalleryAction.OPEN, job=job.id, page=0)
    )
    kb.adjust(2, 2, 1, 1)
    return text, kb.as_markup()


def preview(job: Job, start: float, end: float, tokens: int) -> tuple[str, InlineKeyboardMarkup]:
    """What the trim will keep, how long the result is and what it costs; then Trim."""
    text = "\n".join(
        [
            fill(
                _("✂️ Trim #{job}: keep {start}-{end}, the new video is {length} long."),
                job=job.id,
                start=f"{start:g}",
                end=seconds_text(end),
                length=seconds_text(end - start),
            ),
            price_text(tokens),
        ]
    )
    kb = Keyboard()
    kb.button(
        text=_("✅ Trim"),
        callback_data=Editing(action=EditAction.TRIM_GO, job=job.id, value=f"{start:g}-{end:g}"),
    )
    kb.button(text=_("⬅ Back"), callback_data=Editing(action=EditAction.TRIM, job=job.id))
    kb.adjust(1)
    return text, kb.as_markup()


async def open_trim(
    callback: CallbackQuery, callback_data: Editing, edits: EditService, user: User
) -> None:
    try:
        job = await edits.source(user.id, callback_data.job)
    except EditRefused as exc:
        await callback.answer(refusal_text(exc), show_alert=True)
        return
    await callback.answer()
    text, markup = trim_screen(job, edits.prices.trim)
    await _show_new_or_edit(callback, text, markup)


async def quick_trim(
    callback: CallbackQuery, callback_data: Editing, edits: EditService, user: User
) -> None:
    try:
        job = await edits.source(user.id, callback_data.job)
        picked = quick_range(callback_data.value, job.length)
        if picked is None:
            raise EditRefused("range", length=job.length)
        edits.check_range(job, *picked)
    except EditRefused as exc:
        await callback.answer(refusal_text(exc), show_alert=True)
        return
    await callback.answer()
    text, markup = preview(job, *picked, edits.prices.trim)
    await show(callback, text, markup)


async def ask_range(
    callback: CallbackQuery,
    callback_data: Editing,
    state: FSMContext,
    edits: EditService,
    user: User,
) -> None:
    try:
        job = await edits.source(user.id, callback_data.job)
    except EditRefused as exc:
        await callback.answer(refusal_text(exc), show_alert=True)
        return
    await callback.answer()
    await state.set_state(Edits.trim_range)
    await state.set_data({"job": job.id})
    await show(
        callback,
        _("⌨️ Send the seconds to keep, for example 1.5-6. Video #{job} is {length} long.").format(
            job=job.id, length=seconds_text(job.length)
        ),
        _back_to_trim(job.id),
    )


def _back_to_trim(job_id: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("⬅ Back"), callback_data=Editing(action=EditAction.TRIM, job=job_id))
    return kb.as_markup()


async def typed_range(message: Message, state: FSMContext, edits: EditService, user: User) -> None:
    job_id = (await state.get_data()).get("job")
    try:
        job = await edits.source(user.id, int(job_id or 0))
    except EditRefused as exc:
        await state.clear()
        await message.answer(refusal_text(exc), reply_markup=screens.main_menu())
        return
    picked = parse_range(message.text or "")
    if picked is None:
        await message.answer(
            _("Please send two numbers of seconds with a dash, for example 1.5-6."),
            reply_markup=_back_to_trim(job.id),
        )
        return
    try:
        edits.check_range(job, *picked)
    except EditRefused as exc:
        await message.answer(refusal_text(exc), reply_markup=_back_to_trim(job.id))
        return
    await state.clear()
    text, markup = preview(job, picked[0], min(picked[1], job.length), edits.prices.trim)
    await message.answer(text, reply_markup=markup)


async def not_a_range(message: Message, state: FSMContext) -> None:
    job_id = (await state.get_data()).get("job")
    await message.answer(
        _("Please send two numbers of seconds with a dash, for example 1.5-6."),
        reply_markup=_back_to_trim(int(job_id or 0)),
    )


async def start_trim(
    callback: CallbackQuery, callback_data: Editing, edits: EditService, user: User
) -> None:
    picked = parse_range(callback_data.value)
    if picked is None:
        await callback.answer(refusal_text(EditRefused("range")), show_alert=True)
        return
    message = callback.message
    chat_id = message.chat.id if isinstance(message, Message) else user.id
    try:
        edit = await edits.create_trim(user.id, chat_id, callback_data.job, *picked)
    except DomainError as exc:
        await callback.answer(refusal_text(exc), show_alert=True)
        return
    await callback.answer(_("Trimming…"))
    await show(
        callback,
        fill(
            _("✂️ Trimming #{job} to {start}-{end}. The video will arrive here."),
            job=callback_data.job,
            start=f"{edit.start:g}",
            end=seconds_text(edit.end or 0),
        ),
        screens.home_button(),
    )


# --- join -------------------------------------------------------------------------------------


async def join_screen(
    jobs: JobService, catalog: Catalog, user: User, picked: list[int], page: int, tokens: int
) -> tuple[str, InlineKeyboardMarkup]:
    items, total = await jobs.delivered(user.id, page * PICK_PAGE, PICK_PAGE)
    lines = [
        _("🎞 <b>Join videos</b>"),
        _("Tap {least} to {most} of your videos in the order they should play.").format(
            least=JOIN_MIN, most=JOIN_MAX
        ),
        _("Picked: {clips}").format(clips=clip_list(tuple(picked)) if picked else "—"),
        price_text(tokens),
    ]
    kb = Keyboard()
    for job in items:
        label = f"#{job.id} · {catalog.name_of(job.model_id)} · {seconds_text(job.length)}"
        if job.id in picked:
            label = f"{picked.index(job.id) + 1} ✅ {label}"
        kb.button(
            text=label,
            callback_data=Editing(action=EditAction.PICK, job=job.id, value=str(page)),
        )
    nav = 0
    if page > 0:
        kb.button(text="⬅", callback_data=Editing(action=EditAction.PAGE, value=str(page - 1)))
        nav += 1
    if (page + 1) * PICK_PAGE < total:
        kb.button(text="➡", callback_data=Editing(action=EditAction.PAGE, value=str(page + 1)))
        nav += 1
    if len(picked) >= JOIN_MIN:
        kb.button(
            text=_("✅ Join {n} videos").format(n=len(picked)),
            callback_data=Editing(action=EditAction.JOIN_GO),
        )
    kb.button(text=_("✖ Cancel"), callback_data=Menu(action=MenuAction.HOME))
    kb.adjust(*([1] * len(items)), *([nav] if nav else []), 1, 1)
    return "\n".join(lines), kb.as_markup()


async def start_join(
    callback: CallbackQuery,
    callback_data: Editing,
    state: FSMContext,
    jobs: JobService,
    edits: EditService,
    catalog: Catalog,
    user: User,
) -> None:
    picked: list[int] = []
    if callback_data.job:
        try:
            picked = [(await edits.source(user.id, callback_data.job)).id]
        except EditRefused as exc:
            await callback.answer(refusal_text(exc), show_alert=True)
            return
    await callback.answer()
    await state.set_state(Edits.join)
    await state.set_data({"picked": picked})
    text, markup = await join_screen(jobs, catalog, user, picked, 0, edits.prices.join)
    await _show_new_or_edit(callback, text, markup)


async def pick(
    callback: CallbackQuery,
    callback_data: Editing,
    state: FSMContext,
    jobs: JobService,
    edits: EditService,
    catalog: Catalog,
    user: User,
) -> None:
    picked = list((await state.get_data()).get("picked") or [])
    if callback_data.action is EditAction.PICK:
        if callback_data.job in picked:
            picked.remove(callback_data.job)
        else:
            if len(picked) >= JOIN_MAX:
                await callback.answer(refusal_text(EditRefused("count")), show_alert=True)
                return
            try:
                await edits.source(user.id, callback_data.job)
            except EditRefused as exc:
                await callback.answer(refusal_text(exc), show_alert=True)
                return
            picked.append(callback_data.job)
    await callback.answer()
    await state.update_data(picked=picked)
    page = int(callback_data.value) if callback_data.value.isdigit() else 0
    text, markup = await join_screen(jobs, catalog, user, picked, page, edits.prices.join)
    await show(callback, text, markup)


async def start_join_edit(
    callback: CallbackQuery, state: FSMContext, edits: EditService, user: User
) -> None:
    picked = [int(j) for j in (await state.get_data()).get("picked") or []]
    message = callback.message
    chat_id = message.chat.id if isinstance(message, Message) else user.id
    try:
        await edits.create_join(user.id, chat_id, picked)
    except DomainError as exc:
        await callback.answer(refusal_text(exc), show_alert=True)
        return
    await callback.answer(_("Joining…"))
    await state.clear()
    await show(
        callback,
        _("🎞 Joining {clips}. The video will arrive here.").format(clips=clip_list(tuple(picked))),
        screens.home_button(),
    )


async def _show_new_or_edit(
    callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup
) -> None:
    """In place, except on a video message (the gallery's opened item): a new message."""
    message = callback.message
    if isinstance(message, Message) and message.video is not None:
        await message.answer(text, reply_markup=markup)
        return
    await show(callback, text, markup)


def setup() -> Router:
    router = Router(name="editing")
    router.message.filter(~CommandOrPayment())
    tap = router.callback_query.register
    tap(continue_video, Tapped(Editing, EditAction.CONTINUE))
    tap(extend_video, Tapped(Editing, EditAction.EXTEND))
    tap(open_trim, Tapped(Editing, EditAction.TRIM))
    tap(quick_trim, Tapped(Editing, EditAction.CUT))
    tap(ask_range, Tapped(Editing, EditAction.TYPE))
    tap(start_trim, Tapped(Editing, EditAction.TRIM_GO))
    tap(start_join, Tapped(Editing, EditAction.JOIN))
    tap(pick, Tapped(Editing, EditAction.PICK, EditAction.PAGE), StateFilter(Edits.join))
    tap(start_join_edit, Tapped(Editing, EditAction.JOIN_GO), StateFilter(Edits.join))
    message = router.message.register
    message(typed_range, StateFilter(Edits.trim_range), PlainText())
    message(not_a_range, StateFilter(Edits.trim_range))
    return router
