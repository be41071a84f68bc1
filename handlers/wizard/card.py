"""The prompt, the ideas, the confirmation card and what its buttons do, and "again"."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import (
    Again,
    Card,
    CardAction,
    CardVariants,
    Idea,
)
from handlers.cards import Cards, draw
from handlers.job_texts import progress_text
from handlers.payments import buy_text, packages_keyboard
from handlers.render import fill
from handlers.replies import domain_error_text
from handlers.states import Wizard, WizardData, load, save
from handlers.ui import Event, outdated, show
from handlers.wizard.compare import shared_screen
from handlers.wizard.params import begin, show_params
from services.billing import Billing
from services.catalog import Catalog, Mode, ValidParams
from services.drafts import MAX_VARIANTS, Drafts, StoredDraft
from services.errors import DomainError, DraftGone
from services.ideas import Ideas
from services.jobs import JobService
from services.payments import Payments
from services.users import User


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


async def _open_card(
    callback: CallbackQuery, callback_data: Card | CardVariants, drafts: Drafts, user: User
) -> StoredDraft | None:
    return await open_card(callback, callback_data.draft, drafts, user)


async def open_card(
    callback: CallbackQuery, draft_id: int, drafts: Drafts, user: User
) -> StoredDraft | None:
    """The user's own card while it is open; otherwise None, with the reason said."""
    stored = await drafts.get(draft_id, user.id)
    if stored is None:
        await callback.answer(_("This card was not found."), show_alert=True)
        return None
    if stored.status != "open":
        text = (
            _("This card was already used: the video is on its way.")
            if stored.status == "used"
            else _("This card was cancelled.")
        )
        await callback.answer(text, show_alert=True)
        return None
    return stored


async def card_go(
    callback: CallbackQuery,
    callback_data: Card,
    state: FSMContext,
    catalog: Catalog,
    drafts: Drafts,
    jobs: JobService,
    cards: Cards,
    user: User,
) -> None:
    stored = await _open_card(callback, callback_data, drafts, user)
    if stored is None:
        return
    if stored.compare or catalog.is_live(stored.model_id):  # side by side: each is checked
        await generate(callback, state, stored.id, catalog, jobs, user)
        return
    # Retired since the card was drawn: the successor's card, re-priced, instead.
    await callback.answer()
    await drafts.cancel(stored.id, user.id)
    data = WizardData.of_draft(stored)
    await successor_card(callback, state, catalog, cards, user, data, stored.params)


async def card_cancel(
    callback: CallbackQuery, callback_data: Card, state: FSMContext, drafts: Drafts, user: User
) -> None:
    stored = await _open_card(callback, callback_data, drafts, user)
    if stored is None:
        return
    await callback.answer()
    await drafts.cancel(stored.id, user.id)
    await state.clear()
    await show(callback, _("Cancelled. What shall we make?"), screens.main_menu())


async def card_edit(
    callback: CallbackQuery,
    callback_data: Card,
    state: FSMContext,
    catalog: Catalog,
    billing: Billing,
    drafts: Drafts,
    cards: Cards,
    user: User,
) -> None:
    """Back to the parameters of the card's model (side by side: what the models share); the
    card is cancelled, a new one follows."""
    stored = await _open_card(callback, callback_data, drafts, user)
    if stored is None:
        return
    if stored.compare:
        await callback.answer()
        await drafts.cancel(stored.id, user.id)
        data = WizardData.of_draft(stored).model_copy(
            update={
                "compare": [model_id for model_id, _params in stored.compare],
                "duration": stored.params.get("duration"),
                "aspect": stored.params.get("aspect"),
            }
        )
        await save(state, data)
        await state.set_state(Wizard.compare_params)
        await shared_screen(callback, data, catalog, cards, billing, user)
        return
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


async def card_translation(
    callback: CallbackQuery, callback_data: Card, drafts: Drafts, cards: Cards, user: User
) -> None:
    """Send the user's own text, or its English translation after all (remembered)."""
    stored = await _open_card(callback, callback_data, drafts, user)
    if stored is None:
        return
    await callback.answer()
    translate = callback_data.action is CardAction.TRANSLATE
    await cards.switch_translation(callback, stored, user, translate=translate)


async def card_variants(
    callback: CallbackQuery, callback_data: CardVariants, drafts: Drafts, cards: Cards, user: User
) -> None:
    """1 to 4 videos of the same request: the card redrawn with the total and the limit."""
    stored = await _open_card(callback, callback_data, drafts, user)
    if stored is None:
        return
    if not 1 <= callback_data.n <= MAX_VARIANTS:
        await outdated(callback)
        return
    if callback_data.n == stored.variants:
        await callback.answer()
        return
    try:
        view = await cards.service.set_variants(stored, user, callback_data.n)
    except DraftGone:  # used or cancelled by another tap meanwhile
        await callback.answer(_("This card was not found."), show_alert=True)
        return
    await callback.answer()
    text, markup = draw(view)
    await show(callback, text, markup)


async def card_topup(callback: CallbackQuery, payments: Payments) -> None:
    """The packages to buy, from a card the balance does not cover (used or not)."""
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
        made = await jobs.create_from_draft(
            draft_id, user.id, progress_message_id=message.message_id if message else None
        )
    except DomainError as exc:
        await callback.answer(domain_error_text(exc), show_alert=True)
        return
    if len(made) > 1:
        await callback.answer(_("Started: {n} videos.").format(n=len(made)))
    else:
        await callback.answer(_("Started!"))
    await state.clear()
    job = made[0]  # the card becomes its progress message; the others get their own
    if message is not None:
        model = catalog.get(job.model_id)
        await message.edit_text(
            progress_text(job, model.name if model else job.model_id, 0),
            reply_markup=screens.progress_keyboard(job.id),
        )


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
    if job.mode is Mode.I2V and (
        job.image_uuid is None or (job.last_frame and job.last_image_uuid is None)
    ):
        await callback.answer(_("This video can't be repeated any more."), show_alert=True)
        return
    if job.edit_kind is not None:  # a trim or a join: nothing to generate again
        await callback.answer(_("This video can't be repeated any more."), show_alert=True)
        return
    data = WizardData(
        mode=job.mode,
        model_id=job.model_id,
        image_uuid=job.image_uuid,
        prompt=job.user_prompt,
        prompt_en=job.prompt if job.prompt_original else None,
        last_image_uuid=job.last_image_uuid,
        seed=job.fixed_seed,
        video_input=job.video_input,
        extends=job.extends,
    )
    if job.video_input is not None:  # an extension of the same video, once more
        model = catalog.available(job.model_id)
        extension = catalog.validate(model, job.mode, dict(job.params)) if model else None
        if not isinstance(extension, ValidParams):
            await callback.answer(_("This video can't be repeated any more."), show_alert=True)
            return
        await callback.answer()
        await cards.make(callback, state, data.with_params(extension), user)
        return
    await callback.answer()
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
