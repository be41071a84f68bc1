"""Moving between the wizard's steps: one handler per step button, and cancelling."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import (
    Step,
    StepAction,
)
from handlers.cards import Cards
from handlers.states import Wizard, WizardData, load
from handlers.ui import Event, outdated, show
from handlers.wizard.params import begin
from services.catalog import Catalog, Mode, VideoModel
from services.drafts import Drafts
from services.ideas import Ideas
from services.users import User


async def _model_step(
    callback: CallbackQuery, state: FSMContext, catalog: Catalog
) -> tuple[WizardData, VideoModel] | None:
    """The wizard's data and model when a step button may be used now, else None (answered
    as outdated)."""
    data = await load(state)
    model = catalog.get(data.model_id or "") if data is not None else None
    if data is None or model is None:
        await outdated(callback)
        return None
    await callback.answer()
    return data, model


async def cancel_step(
    callback: CallbackQuery, state: FSMContext, drafts: Drafts, user: User
) -> None:
    await callback.answer()
    await cancel_wizard(callback, state, drafts, user)


async def back_to_models(
    callback: CallbackQuery, callback_data: Step, state: FSMContext, catalog: Catalog
) -> None:
    """Back to the model list: the recommended few, or every model ("More")."""
    data = await load(state)
    if data is None:
        await outdated(callback)
        return
    await callback.answer()
    everything = callback_data.action is StepAction.MORE
    await begin(callback, state, catalog, data.mode, data, everything=everything)


async def params_done(
    callback: CallbackQuery, state: FSMContext, catalog: Catalog, cards: Cards, user: User
) -> None:
    found = await _model_step(callback, state, catalog)
    if found is not None:
        await after_params(callback, state, found[0], catalog, cards, user)


async def back_to_prompt(callback: CallbackQuery, state: FSMContext, catalog: Catalog) -> None:
    """From the ideas back to the prompt step."""
    found = await _model_step(callback, state, catalog)
    if found is not None:
        data, model = found
        await show(
            callback,
            screens.ask_prompt(model, data.mode),
            screens.prompt_keyboard(model, data.mode),
        )


async def show_ideas(
    callback: CallbackQuery, state: FSMContext, catalog: Catalog, ideas: Ideas, user: User
) -> None:
    found = await _model_step(callback, state, catalog)
    if found is not None:
        text, markup = screens.idea_categories(ideas, found[0].mode, user.language)
        await show(callback, text, markup)


async def skip_prompt(
    callback: CallbackQuery, state: FSMContext, catalog: Catalog, cards: Cards, user: User
) -> None:
    """Image to video without a prompt, where the model takes none."""
    data = await load(state)
    model = catalog.get(data.model_id or "") if data is not None else None
    if data is None or model is None or data.mode is not Mode.I2V or model.prompt_required_i2v:
        await outdated(callback)
        return
    await callback.answer()
    blank = data.model_copy(update={"prompt": "", "prompt_en": None})
    await cards.make(callback, state, blank, user, in_place=True)


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
