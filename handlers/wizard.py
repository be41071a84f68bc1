"""Text-to-video and image-to-video wizards: model -> parameters -> (photo ->) prompt -> card.

Every step edits one screen message in place; every state has a reply for wrong input; the card
is a single-use draft, so Generate can never make two jobs."""

from __future__ import annotations

import asyncio
import io
import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import (
    Again,
    Card,
    CardAction,
    Idea,
    PickModel,
    SetParam,
    Step,
    StepAction,
    model_id_from_slug,
)
from handlers.cards import Cards
from handlers.filters import CommandOrPayment, HasImage, PlainText, Tapped, TappedAny
from handlers.job_texts import progress_text
from handlers.payments import buy_text, packages_keyboard
from handlers.render import fill
from handlers.replies import domain_error_text, image_problem_text
from handlers.states import Wizard, WizardData, load, save
from handlers.ui import Event, outdated, show
from services.billing import Billing
from services.catalog import Catalog, Mode, ValidParams
from services.catalog import apply_choice as catalog_apply
from services.drafts import Drafts
from services.errors import DomainError, ImageRejected
from services.ideas import Ideas
from services.images import MAX_BYTES, prepare_image
from services.jobs import JobService
from services.payments import Payments
from services.users import User

log = logging.getLogger(__name__)


# --- entering ------------------------------------------------------------------------------------


async def begin(
    event: Event,
    state: FSMContext,
    catalog: Catalog,
    mode: Mode,
    data: WizardData | None = None,
    *,
    everything: bool = False,
) -> None:
    await state.set_state(Wizard.model)
    data = data or WizardData(mode=mode)
    await save(state, data)
    recent = data.model_id or data.recent
    text, markup = screens.model_list(catalog, mode, everything=everything, recent=recent)
    await show(event, text, markup)


async def pick_model(
    callback: CallbackQuery,
    callback_data: PickModel,
    state: FSMContext,
    catalog: Catalog,
    billing: Billing,
    user: User,
) -> None:
    data = await load(state)
    model = catalog.available(model_id_from_slug(callback_data.model))
    if data is None or callback_data.mode != data.mode:
        await outdated(callback)
        return
    choice = catalog.default_choice(model, data.mode) if model is not None else None
    if model is None or choice is None:
        await callback.answer(_("This model is not available any more."), show_alert=True)
        await begin(callback, state, catalog, data.mode, data)
        return
    await callback.answer()
    data = data.with_params(choice).model_copy(update={"draft_id": None})
    await save(state, data)
    await state.set_state(Wizard.params)
    await show_params(callback, data, catalog, billing, user)


async def show_params(
    event: Event, data: WizardData, catalog: Catalog, billing: Billing, user: User
) -> None:
    model = catalog.get(data.model_id or "")
    assert model is not None
    checked = catalog.validate(model, data.mode, data.chosen())
    valid = (  # withdrawn since it was chosen: the closest that is not
        checked
        if isinstance(checked, ValidParams)
        else catalog.closest(model, data.mode, data.chosen())
    )
    if valid is None:
        await show(event, _("This model is not available any more."), screens.cancel_only())
        return
    text, markup = screens.params_screen(catalog, model, valid, await billing.balance(user.id))
    await show(event, text, markup)


def apply_choice(data: WizardData, catalog: Catalog, name: str, value: str) -> WizardData | None:
    """The wizard data with one parameter changed, or None if the model does not offer it."""
    model = catalog.available(data.model_id or "")
    if model is None:
        return None
    base = catalog.validate(model, data.mode, data.chosen())
    if not isinstance(base, ValidParams):
        return None
    parsed: object = value
    if name == "aspect":  # ':' separates callback fields: 16:9 travels as 16x9
        parsed = value.replace("x", ":")
    elif name == "duration":
        if not value.isdigit():
            return None
        parsed = int(value)
    elif (spec := model.option(name)) is not None and spec.type == "bool":
        if value not in ("0", "1"):
            return None
        parsed = value == "1"
    changed = catalog_apply(catalog, model, data.mode, base, name, parsed)
    return data.with_params(changed) if changed is not None else None


async def set_param(
    callback: CallbackQuery,
    callback_data: SetParam,
    state: FSMContext,
    catalog: Catalog,
    billing: Billing,
    user: User,
) -> None:
    data = await load(state)
    changed = apply_choice(data, catalog, callback_data.name, callback_data.value) if data else None
    if changed is None:
        await callback.answer(_("This option is not available for this model."), show_alert=True)
        return
    await callback.answer()
    await save(state, changed)
    await show_params(callback, changed, catalog, billing, user)


# --- moving between steps ------------------------------------------------------------------------


async def step(
    callback: CallbackQuery,
    callback_data: Step,
    state: FSMContext,
    catalog: Catalog,
    billing: Billing,
    drafts: Drafts,
    cards: Cards,
    ideas: Ideas,
    user: User,
) -> None:
    data = await load(state)
    current = await state.get_state()
    action = callback_data.action
    if action is StepAction.CANCEL:
        await callback.answer()
        await cancel_wizard(callback, state, drafts, user)
        return
    if data is None or current is None:
        await outdated(callback)
        return
    model = catalog.get(data.model_id or "")
    in_prompt = current == Wizard.prompt.state and model is not None
    if action in (StepAction.MODELS, StepAction.MORE, StepAction.FEWER):
        await callback.answer()
        everything = action is StepAction.MORE
        await begin(callback, state, catalog, data.mode, data, everything=everything)
    elif action is StepAction.NEXT and current == Wizard.params.state and model is not None:
        await callback.answer()
        await after_params(callback, state, data, catalog, cards, user)
    elif action is StepAction.NEXT and in_prompt and model is not None:
        await callback.answer()  # back from the ideas to the prompt step
        await show(
            callback,
            screens.ask_prompt(model, data.mode),
            screens.prompt_keyboard(model, data.mode),
        )
    elif action is StepAction.IDEAS and in_prompt:
        await callback.answer()
        text, markup = screens.idea_categories(ideas, data.mode, user.language)
        await show(callback, text, markup)
    elif (
        action is StepAction.SKIP_PROMPT
        and in_prompt
        and model is not None
        and data.mode is Mode.I2V
        and not model.prompt_required_i2v
    ):
        await callback.answer()
        blank = data.model_copy(update={"prompt": "", "prompt_en": None})
        await cards.make(callback, state, blank, user, in_place=True)
    else:
        await outdated(callback)


async def after_params(
    event: Event,
    state: FSMContext,
    data: WizardData,
    catalog: Catalog,
    cards: Cards,
    user: User,
) -> None:
    """Parameters done: the photo if one is still needed, then the prompt, unless the prompt is
    known already (a photo's caption, or a card being changed): then straight to the card."""
    model = catalog.get(data.model_id or "")
    assert model is not None
    if data.mode is Mode.I2V and not data.has_image:
        await state.set_state(Wizard.photo)
        await show(event, screens.ask_photo(), screens.cancel_only())
    elif data.prompt is not None:
        await cards.make(event, state, data, user, in_place=True)
    else:
        await state.set_state(Wizard.prompt)
        await show(
            event, screens.ask_prompt(model, data.mode), screens.prompt_keyboard(model, data.mode)
        )


async def cancel_wizard(event: Event, state: FSMContext, drafts: Drafts, user: User) -> None:
    data = await load(state)
    if data is not None and data.draft_id is not None:
        await drafts.cancel(data.draft_id, user.id)
    await state.clear()
    await show(event, _("Cancelled. What shall we make?"), screens.main_menu())


# --- photo ---------------------------------------------------------------------------------------


async def read_image(bot: Bot, message: Message) -> bytes:
    if message.photo:
        file_id, size = message.photo[-1].file_id, message.photo[-1].file_size
    elif message.document:
        file_id, size = message.document.file_id, message.document.file_size
    else:
        raise ImageRejected("format")
    if size is not None and size > MAX_BYTES:
        raise ImageRejected("too_big")
    try:
        buffer = await bot.download(file_id, destination=io.BytesIO())
    except TelegramBadRequest as exc:
        if "too big" in exc.message:
            raise ImageRejected("too_big") from None
        raise
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue()


async def stage_photo(bot: Bot, message: Message, drafts: Drafts, user: User) -> int | None:
    """Check the image and keep it for the card; replies itself when the image is refused."""
    try:
        raw = await read_image(bot, message)
        prepared = await asyncio.to_thread(prepare_image, raw)
    except ImageRejected as exc:
        await message.answer(image_problem_text(exc), reply_markup=screens.cancel_only())
        return None
    return await drafts.stage_image(user.id, prepared.data, prepared.mime)


async def got_photo(
    message: Message,
    state: FSMContext,
    bot: Bot,
    catalog: Catalog,
    drafts: Drafts,
    cards: Cards,
    user: User,
) -> None:
    data = await load(state)
    if data is None:
        await state.clear()
        return
    image_id = await stage_photo(bot, message, drafts, user)
    if image_id is None:
        return
    caption = (message.caption or "").strip()
    if caption:
        data = data.model_copy(update={"prompt": caption, "prompt_en": None})
    data = data.model_copy(update={"image_id": image_id})
    await save(state, data)
    if data.prompt:
        await cards.make(message, state, data, user)
        return
    model = catalog.get(data.model_id or "")
    assert model is not None
    await state.set_state(Wizard.prompt)
    await message.answer(
        screens.ask_prompt(model, Mode.I2V), reply_markup=screens.prompt_keyboard(model, data.mode)
    )


async def not_a_photo(message: Message) -> None:
    await message.answer(
        _("That is not an image I can use.") + "\n" + screens.ask_photo(),
        reply_markup=screens.cancel_only(),
    )


# --- prompt and card -----------------------------------------------------------------------------


async def got_prompt(message: Message, state: FSMContext, cards: Cards, user: User) -> None:
    data = await load(state)
    if data is None:
        await state.clear()
        return
    data = data.model_copy(update={"prompt": message.text, "prompt_en": None})
    await cards.make(message, state, data, user)


async def on_idea(
    callback: CallbackQuery,
    callback_data: Idea,
    state: FSMContext,
    ideas: Ideas,
    cards: Cards,
    user: User,
) -> None:
    """A theme shows its examples; an example becomes the prompt and goes to the card."""
    data = await load(state)
    category = ideas.get(callback_data.category)
    if (
        data is None
        or await state.get_state() != Wizard.prompt.state
        or category is None
        or data.mode not in category.modes
        or callback_data.n >= len(category.examples)
    ):
        await outdated(callback)
        return
    await callback.answer()
    if callback_data.n < 0:
        text, markup = screens.idea_examples(category, data.mode, user.language)
        await show(callback, text, markup)
        return
    example = category.examples[callback_data.n]
    chosen = data.model_copy(
        update={
            "prompt": example.text(user.language),
            "prompt_en": example.en if user.language != "en" else None,
        }
    )
    await cards.make(callback, state, chosen, user, in_place=True)


async def not_a_prompt(message: Message) -> None:
    await message.answer(
        _("Please send the prompt as a text message."), reply_markup=screens.cancel_only()
    )


async def card_action(
    callback: CallbackQuery,
    callback_data: Card,
    state: FSMContext,
    catalog: Catalog,
    billing: Billing,
    drafts: Drafts,
    jobs: JobService,
    payments: Payments,
    cards: Cards,
    user: User,
) -> None:
    stored = await drafts.get(callback_data.draft, user.id)
    if stored is None:
        await callback.answer(_("This card was not found."), show_alert=True)
        return
    action = callback_data.action
    if stored.status != "open" and action is not CardAction.TOPUP:
        text = (
            _("This card was already used: the video is on its way.")
            if stored.status == "used"
            else _("This card was cancelled.")
        )
        await callback.answer(text, show_alert=True)
        return
    if action is CardAction.GO and not catalog.is_live(stored.model_id):
        # Retired since the card was drawn: the successor's card, re-priced, instead.
        await callback.answer()
        await drafts.cancel(stored.id, user.id)
        data = WizardData.of_draft(stored)
        await successor_card(callback, state, catalog, cards, user, data, stored.params)
    elif action is CardAction.GO:
        await generate(callback, state, stored.id, catalog, jobs, user)
    elif action is CardAction.CANCEL:
        await callback.answer()
        await drafts.cancel(stored.id, user.id)
        await state.clear()
        await show(callback, _("Cancelled. What shall we make?"), screens.main_menu())
    elif action is CardAction.EDIT:
        choice, _moved = catalog.carry_over(stored.model_id, stored.mode, stored.params)
        if choice is None:
            await callback.answer(_("This model is not available any more."), show_alert=True)
            return
        await callback.answer()
        await drafts.cancel(stored.id, user.id)
        data = WizardData.of_draft(stored).with_params(choice)
        await save(state, data)
        await state.set_state(Wizard.params)
        await show_params(callback, data, catalog, billing, user)
    elif action in (CardAction.ORIGINAL, CardAction.TRANSLATE):
        await callback.answer()
        await cards.switch_translation(
            callback, stored, user, translate=action is CardAction.TRANSLATE
        )
    else:
        await callback.answer()
        await show(callback, buy_text(), packages_keyboard(payments))


async def generate(
    callback: CallbackQuery,
    state: FSMContext,
    draft_id: int,
    catalog: Catalog,
    jobs: JobService,
    user: User,
) -> None:
    message = callback.message if isinstance(callback.message, Message) else None
    try:
        job = await jobs.create_from_draft(
            draft_id, user.id, progress_message_id=message.message_id if message else None
        )
    except DomainError as exc:
        await callback.answer(domain_error_text(exc), show_alert=True)
        return
    await callback.answer(_("Started!"))
    await state.clear()
    if message is not None:
        model = catalog.get(job.model_id)
        await message.edit_text(progress_text(job, model.name if model else job.model_id, 0))


async def again(
    callback: CallbackQuery,
    callback_data: Again,
    state: FSMContext,
    catalog: Catalog,
    jobs: JobService,
    cards: Cards,
    user: User,
) -> None:
    job = await jobs.get(callback_data.job)
    if job is None or job.user_id != user.id:
        await callback.answer(_("Not found."), show_alert=True)
        return
    if job.mode is Mode.I2V and job.image_uuid is None:
        await callback.answer(_("This video can't be repeated any more."), show_alert=True)
        return
    await callback.answer()
    data = WizardData(
        mode=job.mode,
        model_id=job.model_id,
        image_uuid=job.image_uuid,
        prompt=job.user_prompt,
        prompt_en=job.prompt if job.prompt_original else None,
    )
    await successor_card(callback, state, catalog, cards, user, data, job.params)


async def successor_card(
    event: Event,
    state: FSMContext,
    catalog: Catalog,
    cards: Cards,
    user: User,
    data: WizardData,
    params: dict[str, object],
) -> None:
    """A card for stored parameters; when their model was retired, the successor's card with
    the closest parameters, re-priced, after a plain word of what happened."""
    old = data.model_id or ""
    choice, moved = catalog.carry_over(old, data.mode, dict(params))
    target = event.message if isinstance(event, CallbackQuery) else event
    if choice is None:
        # No successor: the model list for the same mode, the prompt and photo kept (after a
        # model and its parameters the card comes straight back).
        text = fill(
            _(
                "{name} was retired by its provider and has no successor here. "
                "Please choose another model."
            )
            if catalog.is_retired(old)
            else _(
                "{name} is not available right now. Please choose another model or try again later."
            ),
            name=catalog.name_of(old),
        )
        if isinstance(target, Message):
            await target.answer(text)
            fresh = data.model_copy(update={"draft_id": None})
            await begin(target, state, catalog, data.mode, fresh)
        return
    if moved and isinstance(target, Message):
        await target.answer(
            fill(
                _(
                    "⚠️ {old} was retired by its provider. Here is {new} with the closest "
                    "settings; the price is for the new model."
                ),
                old=catalog.name_of(old),
                new=catalog.name_of(choice.model_id),
            )
        )
    await cards.make(event, state, data.with_params(choice), user)


# --- shortcuts outside any flow ------------------------------------------------------------------


async def text_shortcut(
    message: Message,
    state: FSMContext,
    catalog: Catalog,
    jobs: JobService,
    cards: Cards,
    user: User,
) -> None:
    """A plain text outside a flow: a card for text-to-video with the last-used settings."""
    last = await jobs.last_settings(user.id, Mode.T2V)
    data = WizardData(mode=Mode.T2V, prompt=message.text)
    if last is not None:
        await successor_card(
            message, state, catalog, cards, user, data.model_copy(update={"model_id": last[0]}),
            last[1],
        )  # fmt: skip
        return
    models = catalog.for_mode(Mode.T2V)
    first = next((m for m in models if m.recommended), models[0] if models else None)
    choice = catalog.default_choice(first, Mode.T2V) if first is not None else None
    if choice is None:
        await message.answer(_("No model is available right now. Please try again later."))
        return
    await cards.make(message, state, data.with_params(choice), user)


async def photo_shortcut(
    message: Message,
    state: FSMContext,
    bot: Bot,
    catalog: Catalog,
    drafts: Drafts,
    jobs: JobService,
    user: User,
) -> None:
    """A photo outside a flow starts image-to-video with it; its caption is the prompt."""
    image_id = await stage_photo(bot, message, drafts, user)
    if image_id is None:
        return
    caption = (message.caption or "").strip() or None
    data = WizardData(mode=Mode.I2V, image_id=image_id, prompt=caption)
    await begin(message, state, catalog, Mode.I2V, await with_recent(data, jobs, user))


async def with_recent(data: WizardData, jobs: JobService, user: User) -> WizardData:
    """The wizard data with the user's last model in its mode, for the short model list."""
    last = await jobs.last_settings(user.id, data.mode)
    return data.model_copy(update={"recent": last[0] if last else None})


async def use_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel to stop."))


def setup() -> Router:
    router = Router(name="wizard")
    # Commands and payments belong to other routers in every state: "/help" mid-wizard is
    # help, not a prompt, and a payment is recorded whatever screen the user is on.
    router.message.filter(~CommandOrPayment())
    router.callback_query.filter(TappedAny(PickModel, SetParam, Step, Card, Idea, Again))
    router.callback_query.register(pick_model, Tapped(PickModel), StateFilter(Wizard.model))
    router.callback_query.register(outdated, Tapped(PickModel))
    router.callback_query.register(set_param, Tapped(SetParam), StateFilter(Wizard.params))
    router.callback_query.register(outdated, Tapped(SetParam))
    router.callback_query.register(step, Tapped(Step))
    router.callback_query.register(card_action, Tapped(Card))
    router.callback_query.register(on_idea, Tapped(Idea))
    router.callback_query.register(again, Tapped(Again))

    router.message.register(got_photo, StateFilter(Wizard.photo), HasImage())
    router.message.register(not_a_photo, StateFilter(Wizard.photo))
    router.message.register(got_prompt, StateFilter(Wizard.prompt, Wizard.confirm), PlainText())
    router.message.register(not_a_prompt, StateFilter(Wizard.prompt, Wizard.confirm))
    router.message.register(use_buttons, StateFilter(Wizard.model, Wizard.params))
    router.message.register(text_shortcut, StateFilter(None), PlainText())
    router.message.register(photo_shortcut, StateFilter(None), HasImage())
    return router
