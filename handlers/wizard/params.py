"""Entering a wizard: the model list, a model's parameter screen and a parameter changed."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import (
    PickModel,
    SetParam,
    model_id_from_slug,
)
from handlers.states import Wizard, WizardData, load, save
from handlers.ui import Event, outdated, show
from services.billing import Billing
from services.catalog import Catalog, Mode, ValidParams
from services.catalog import apply_choice as catalog_apply
from services.users import User


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
