"""The card's Advanced screen (seed, what to avoid, a last frame, prompt enhancement) and
"Same seed, new prompt" on a delivered video. Out of the way: a first-time user never has to
open it; what is set here is remembered for later cards (the last frame is for one card)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import Advanced, AdvancedAction, SameSeed
from handlers.cards import Cards, draw
from handlers.keyboard import Keyboard
from handlers.render import fill
from handlers.screens import PARAM_HELP, PARAM_NAMES, value_label
from handlers.states import Wizard, WizardData, load, save
from handlers.texts import cut
from handlers.ui import show
from handlers.wizard.card import open_card
from handlers.wizard.photo import stage_photo
from services.cards import CardView
from services.catalog import NEGATIVE_MIN, SEED_MAX, SEED_MIN, Catalog, Mode, Problem
from services.drafts import Drafts, StoredDraft
from services.errors import DraftGone
from services.jobs import JobService
from services.users import User


def advanced_screen(view: CardView) -> tuple[str, InlineKeyboardMarkup]:
    """Each advanced option the model takes, its value and what it does; a button for each."""
    offer, valid, draft = view.offer, view.valid, view.draft
    assert offer is not None
    lines = [fill(_("🧪 <b>Advanced</b> · {name}"), name=view.model.name), ""]
    kb = Keyboard()
    widths: list[int] = []
    if offer.seed:
        seed = str(valid.seed) if valid.seed is not None else _("random")
        lines.append(
            _(
                "🎲 <b>Seed</b>: {seed} — the same seed with the same settings makes a similar "
                "video"
            ).format(seed=seed)
        )
        kb.button(text=_("🎲 Type a seed"), callback_data=_tap(AdvancedAction.SEED, draft))
        if valid.seed is not None:
            kb.button(text=_("🎲 Random"), callback_data=_tap(AdvancedAction.RANDOM, draft))
        widths.append(1 if valid.seed is None else 2)
    if offer.negative:
        avoid = cut(valid.negative, 200) if valid.negative is not None else _("nothing")
        lines.append(
            fill(
                _(
                    "🚫 <b>Avoid</b>: {text} — what the video should not show, "
                    "up to {max} characters"
                ),
                text=avoid,
                max=offer.negative,
            )
        )
        kb.button(
            text=_("🚫 Type what to avoid"), callback_data=_tap(AdvancedAction.NEGATIVE, draft)
        )
        if valid.negative is not None:
            kb.button(text=_("🚫 Clear"), callback_data=_tap(AdvancedAction.NO_NEGATIVE, draft))
        widths.append(1 if valid.negative is None else 2)
    if offer.last_frame:
        state = _("your photo") if draft.has_last_frame else _("none")
        lines.append(
            _("🖼 <b>Last frame</b>: {state} — the video ends on this photo").format(state=state)
        )
        kb.button(text=_("🖼 Send a last frame"), callback_data=_tap(AdvancedAction.LAST, draft))
        if draft.has_last_frame:
            kb.button(text=_("🖼 Remove it"), callback_data=_tap(AdvancedAction.NO_LAST, draft))
        widths.append(2 if draft.has_last_frame else 1)
    for key in offer.switches:
        value = valid.options.get(key, False)
        name = PARAM_NAMES.get(key, key)
        hint = PARAM_HELP.get(key)
        lines.append(
            f"✨ <b>{name}</b>: {value_label(key, value)}" + (f" — {hint}" if hint else "")
        )
        kb.button(
            text=f"✨ {name}: {value_label(key, value)}",
            callback_data=Advanced(action=AdvancedAction.SWITCH, draft=draft.id, key=key),
        )
        widths.append(1)
    lines += [
        "",
        _("What you set here is kept for your next videos; a last frame is for this one only."),
    ]
    kb.button(text=_("⬅ Back to the card"), callback_data=_tap(AdvancedAction.BACK, draft))
    kb.adjust(*widths, 1)
    return "\n".join(lines), kb.as_markup()


def _tap(action: AdvancedAction, draft: StoredDraft) -> Advanced:
    return Advanced(action=action, draft=draft.id)


def back_only(draft_id: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(
        text=_("⬅ Back to the card"),
        callback_data=Advanced(action=AdvancedAction.BACK, draft=draft_id),
    )
    return kb.as_markup()


def problem_text(problem: Problem) -> str:
    if problem.code == "seed":
        return _("The seed is a whole number from {min} to {max}.").format(
            min=SEED_MIN, max=SEED_MAX
        )
    if problem.code == "negative_length":
        return _("That is {length} characters: write {min} to {max}.").format(
            length=problem.args.get("length", 0), min=NEGATIVE_MIN, max=problem.args.get("max", 0)
        )
    if problem.code == "last_frame":
        return _("This model takes no last frame.")
    return _("This model does not take that option.")


async def _card(
    callback: CallbackQuery, drafts: Drafts, user: User, draft: int
) -> StoredDraft | None:
    return await open_card(callback, draft, drafts, user)


async def open_advanced(
    callback: CallbackQuery,
    callback_data: Advanced,
    state: FSMContext,
    drafts: Drafts,
    cards: Cards,
    user: User,
) -> None:
    """The Advanced screen in place of the card; Back draws the card again (and a value the
    screen was waiting for is not awaited any more)."""
    stored = await _card(callback, drafts, user, callback_data.draft)
    if stored is None:
        return
    if await state.get_state() in (
        Wizard.seed.state,
        Wizard.negative.state,
        Wizard.last_frame.state,
    ):
        await state.set_state(Wizard.confirm)
    view = await cards.service.view(stored, user)
    if view.offer is None:
        await callback.answer(_("This model does not take that option."), show_alert=True)
        return
    await callback.answer()
    text, markup = (
        draw(view) if callback_data.action is AdvancedAction.BACK else advanced_screen(view)
    )
    await show(callback, text, markup)


async def ask_value(
    callback: CallbackQuery,
    callback_data: Advanced,
    state: FSMContext,
    drafts: Drafts,
    cards: Cards,
    user: User,
) -> None:
    """Type a seed, type what to avoid, send a last frame: the next message is the value."""
    stored = await _card(callback, drafts, user, callback_data.draft)
    if stored is None:
        return
    view = await cards.service.view(stored, user)
    offer = view.offer
    action = callback_data.action
    if offer is None or not (
        (action is AdvancedAction.SEED and offer.seed)
        or (action is AdvancedAction.NEGATIVE and offer.negative)
        or (action is AdvancedAction.LAST and offer.last_frame)
    ):
        await callback.answer(_("This model does not take that option."), show_alert=True)
        return
    await callback.answer()
    data = await load(state) or WizardData.of_draft(stored)
    await save(state, data.model_copy(update={"draft_id": stored.id}))
    if action is AdvancedAction.SEED:
        await state.set_state(Wizard.seed)
        text = _("🎲 Send the seed: a whole number from {min} to {max}.").format(
            min=SEED_MIN, max=SEED_MAX
        )
    elif action is AdvancedAction.NEGATIVE:
        await state.set_state(Wizard.negative)
        text = _(
            "🚫 Send what the video should not show, for example: blur, text, extra fingers. "
            "{min} to {max} characters."
        ).format(min=NEGATIVE_MIN, max=offer.negative)
    else:
        await state.set_state(Wizard.last_frame)
        text = _("🖼 Send the photo the video should end on: as a photo or as a file.")
    await show(callback, text, back_only(stored.id))


async def clear_value(
    callback: CallbackQuery, callback_data: Advanced, drafts: Drafts, cards: Cards, user: User
) -> None:
    """Random seed, nothing to avoid, no last frame, or a switch flipped: the screen redrawn."""
    stored = await _card(callback, drafts, user, callback_data.draft)
    if stored is None:
        return
    service = cards.service
    action = callback_data.action
    try:
        if action is AdvancedAction.RANDOM:
            made = await service.set_seed(stored, user, None)
        elif action is AdvancedAction.NO_NEGATIVE:
            made = await service.set_negative(stored, user, None)
        elif action is AdvancedAction.NO_LAST:
            made = await service.set_last_frame(stored, user, None)
        else:
            view = await service.view(stored, user)
            current = view.valid.options.get(callback_data.key)
            made = await service.set_switch(stored, user, callback_data.key, not current)
    except DraftGone:
        await callback.answer(_("This card was not found."), show_alert=True)
        return
    if isinstance(made, Problem):
        await callback.answer(problem_text(made), show_alert=True)
        return
    await callback.answer()
    text, markup = advanced_screen(made)
    await show(callback, text, markup)


async def _typed_card(
    message: Message, state: FSMContext, drafts: Drafts, user: User
) -> StoredDraft | None:
    data = await load(state)
    stored = await drafts.get(data.draft_id, user.id) if data and data.draft_id else None
    if stored is None or stored.status != "open":
        await state.clear()
        await message.answer(
            _("This card is not open any more. What shall we make?"),
            reply_markup=screens.main_menu(),
        )
        return None
    return stored


async def _answered(
    message: Message, state: FSMContext, made: CardView | Problem, draft_id: int
) -> None:
    """The card again with the new value, or why the value is refused (the step waits)."""
    if isinstance(made, Problem):
        await message.answer(problem_text(made), reply_markup=back_only(draft_id))
        return
    await state.set_state(Wizard.confirm)
    text, markup = draw(made)
    await message.answer(text, reply_markup=markup)


async def got_seed(
    message: Message, state: FSMContext, drafts: Drafts, cards: Cards, user: User
) -> None:
    stored = await _typed_card(message, state, drafts, user)
    if stored is None:
        return
    text = (message.text or "").strip()
    if not text.isdigit() or not SEED_MIN <= int(text) <= SEED_MAX:
        await _answered(message, state, Problem("seed", "not a seed"), stored.id)
        return
    try:
        made = await cards.service.set_seed(stored, user, int(text))
    except DraftGone:
        await _typed_card(message, state, drafts, user)
        return
    await _answered(message, state, made, stored.id)


async def got_negative(
    message: Message, state: FSMContext, drafts: Drafts, cards: Cards, user: User
) -> None:
    stored = await _typed_card(message, state, drafts, user)
    if stored is None:
        return
    try:
        made = await cards.service.set_negative(stored, user, message.text or "")
    except DraftGone:
        await _typed_card(message, state, drafts, user)
        return
    await _answered(message, state, made, stored.id)


async def got_last_frame(
    message: Message, state: FSMContext, bot: Bot, drafts: Drafts, cards: Cards, user: User
) -> None:
    stored = await _typed_card(message, state, drafts, user)
    if stored is None:
        return
    image_id = await stage_photo(bot, message, drafts, user)
    if image_id is None:
        return  # stage_photo said why; the step waits for another photo
    try:
        made = await cards.service.set_last_frame(stored, user, image_id)
    except DraftGone:
        await _typed_card(message, state, drafts, user)
        return
    await _answered(message, state, made, stored.id)


async def not_a_value(message: Message, state: FSMContext) -> None:
    """Something else while a value is awaited: what is wanted, and the way back."""
    data = await load(state)
    current = await state.get_state()
    text = (
        _("🖼 Please send the last frame as a photo or an image file.")
        if current == Wizard.last_frame.state
        else _("Please send it as a text message.")
    )
    markup = back_only(data.draft_id) if data and data.draft_id else screens.cancel_only()
    await message.answer(text, reply_markup=markup)


async def same_seed(
    callback: CallbackQuery,
    callback_data: SameSeed,
    state: FSMContext,
    catalog: Catalog,
    jobs: JobService,
    user: User,
) -> None:
    """The video's model, settings, photos and seed, and a new prompt to write."""
    job = await jobs.get_for_user(callback_data.job, user.id)
    seed = (job.fixed_seed or job.seed) if job else None
    model = catalog.available(job.model_id) if job else None
    if job is None or seed is None:
        await callback.answer(_("Not found."), show_alert=True)
        return
    if model is None or not model.seed or (job.mode is Mode.I2V and job.image_uuid is None):
        await callback.answer(_("This video can't be repeated any more."), show_alert=True)
        return
    choice, _moved = catalog.carry_over(job.model_id, job.mode, dict(job.params))
    if choice is None:
        await callback.answer(_("This video can't be repeated any more."), show_alert=True)
        return
    await callback.answer()
    data = WizardData(
        mode=job.mode,
        image_uuid=job.image_uuid,
        last_image_uuid=job.last_image_uuid,
        seed=seed,
    ).with_params(choice)
    await save(state, data)
    await state.set_state(Wizard.prompt)
    text = _("🎲 Seed {seed}, {model}. Now describe the new video:").format(
        seed=seed, model=model.name
    )
    target = callback.message
    assert isinstance(target, Message)
    await target.answer(
        text + "\n" + screens.ask_prompt(model, job.mode),
        reply_markup=screens.prompt_keyboard(model, job.mode),
    )
