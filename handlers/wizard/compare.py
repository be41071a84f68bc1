"""Models side by side: from the model list, tick 2-3 models, choose what they share (duration
and format, each model mapped to the nearest it takes), then the usual photo and prompt, and one
card with each model's price and the total. The prompt step follows the strictest model."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import (
    Compare,
    CompareAction,
    Step,
    StepAction,
    model_id_from_slug,
    model_slug,
)
from handlers.cards import Cards, entry_lines
from handlers.keyboard import Keyboard
from handlers.render import fill
from handlers.states import Wizard, WizardData, load, save
from handlers.ui import Event, outdated, show
from handlers.wizard.steps import after_params
from services.billing import Billing
from services.catalog import Catalog, Mode, VideoModel
from services.users import User

MOST = 3  # models at once: each is a job, and the per-user limit counts each


def ticks_screen(
    catalog: Catalog, mode: Mode, picked: list[str]
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        fill(_("⚖️ <b>Compare models</b> · {mode}"), mode=screens.mode_name(mode)),
        _(
            "Tick 2 or 3 models: the same request goes to each, every result comes labelled "
            "with its model, and you keep the best."
        ),
        "",
    ]
    kb = Keyboard()
    for model in catalog.for_mode(mode):
        lines.append(screens.model_line(catalog, model, mode))
        mark = "✅ " if model.id in picked else ""
        kb.button(
            text=f"{mark}{model.name}",
            callback_data=Compare(action=CompareAction.TICK, value=model_slug(model.id)),
        )
    kb.button(
        text=_("Next ➡ ({n} ticked)").format(n=len(picked)),
        callback_data=Compare(action=CompareAction.DONE),
    )
    kb.button(text=_("⬅ Models"), callback_data=Step(action=StepAction.MODELS))
    kb.button(text=_("✖ Cancel"), callback_data=Step(action=StepAction.CANCEL))
    kb.adjust(2)
    return "\n".join(lines), kb.as_markup()


def shared_values(
    catalog: Catalog, mode: Mode, models: list[VideoModel]
) -> tuple[list[int], list[str]]:
    """The durations and aspect ratios any of the models takes (each maps to its nearest)."""
    durations = sorted({d for m in models for d in m.durations_for(mode)})
    aspects = list(
        dict.fromkeys(
            f.aspect for m in models if m.size_by(mode) == "dims" for f in m.formats if f.size
        )
    )
    return durations, aspects


async def shared_screen(
    event: Event, data: WizardData, catalog: Catalog, cards: Cards, billing: Billing, user: User
) -> None:
    models = [m for m in map(catalog.available, data.compare) if m is not None]
    entries = cards.service.side_by_side(data.mode, tuple(data.compare), data.duration, data.aspect)
    durations, aspects = shared_values(catalog, data.mode, models)
    total = sum(valid.price for _, valid in entries)
    lines = [
        fill(_("⚖️ <b>Models side by side</b> · {mode}"), mode=screens.mode_name(data.mode)),
        _("Duration and format for all of them; each model gets the nearest it takes:"),
        "",
        *entry_lines(tuple(entries)),
        "",
        _("Price: <b>{price}</b> · your balance: {balance}").format(
            price=screens.tokens(total), balance=screens.tokens(await billing.balance(user.id))
        ),
    ]
    kb = Keyboard()
    widths: list[int] = []
    for row, name in ((durations, "duration"), (aspects, "aspect")):
        if len(row) < 2:
            continue
        current = data.duration if name == "duration" else data.aspect
        action = CompareAction.DURATION if name == "duration" else CompareAction.ASPECT
        for value in row:
            label = screens.value_label(name, value)
            kb.button(
                text=f"✅ {label}" if value == current else label,
                callback_data=Compare(action=action, value=str(value).replace(":", "x")),
            )
        widths += [min(len(row), 5)] * ((len(row) + 4) // 5)
    kb.button(text=_("⬅ Models"), callback_data=Compare(action=CompareAction.BACK))
    kb.button(text=_("Next ➡"), callback_data=Compare(action=CompareAction.NEXT))
    kb.button(text=_("✖ Cancel"), callback_data=Step(action=StepAction.CANCEL))
    kb.adjust(*widths, 2, 1)
    await show(event, "\n".join(lines), kb.as_markup())


async def _data(callback: CallbackQuery, state: FSMContext) -> WizardData | None:
    data = await load(state)
    if data is None:
        await outdated(callback)
    return data


async def start_compare(callback: CallbackQuery, state: FSMContext, catalog: Catalog) -> None:
    data = await _data(callback, state)
    if data is None:
        return
    await callback.answer()
    picked = [m for m in data.compare if catalog.available(m)]
    data = data.model_copy(update={"compare": picked, "draft_id": None})
    await save(state, data)
    await state.set_state(Wizard.compare)
    text, markup = ticks_screen(catalog, data.mode, picked)
    await show(callback, text, markup)


async def tick(
    callback: CallbackQuery, callback_data: Compare, state: FSMContext, catalog: Catalog
) -> None:
    data = await _data(callback, state)
    if data is None:
        return
    model = catalog.available(model_id_from_slug(callback_data.value))
    if model is None or not model.supports(data.mode):
        await callback.answer(_("This model is not available any more."), show_alert=True)
        return
    picked = list(data.compare)
    if model.id in picked:
        picked.remove(model.id)
    elif len(picked) >= MOST:
        await callback.answer(
            _("At most {n} models at once: untick one first.").format(n=MOST), show_alert=True
        )
        return
    else:
        picked.append(model.id)
    await callback.answer()
    data = data.model_copy(update={"compare": picked})
    await save(state, data)
    text, markup = ticks_screen(catalog, data.mode, picked)
    await show(callback, text, markup)


async def ticks_done(
    callback: CallbackQuery,
    state: FSMContext,
    catalog: Catalog,
    cards: Cards,
    billing: Billing,
    user: User,
) -> None:
    data = await _data(callback, state)
    if data is None:
        return
    picked = [m for m in data.compare if catalog.available(m)]
    if len(picked) < 2:
        await callback.answer(_("Tick at least 2 models to compare."), show_alert=True)
        return
    await callback.answer()
    first = catalog.available(picked[0])
    assert first is not None
    data = data.model_copy(
        update={
            "compare": picked,
            "duration": data.duration or first.default_duration_for(data.mode),
            "aspect": data.aspect or "16:9",
        }
    )
    await save(state, data)
    await state.set_state(Wizard.compare_params)
    await shared_screen(callback, data, catalog, cards, billing, user)


async def set_shared(
    callback: CallbackQuery,
    callback_data: Compare,
    state: FSMContext,
    catalog: Catalog,
    cards: Cards,
    billing: Billing,
    user: User,
) -> None:
    data = await _data(callback, state)
    if data is None:
        return
    models = [m for m in map(catalog.available, data.compare) if m is not None]
    durations, aspects = shared_values(catalog, data.mode, models)
    value = callback_data.value
    if callback_data.action is CompareAction.DURATION:
        if not value.isdigit() or int(value) not in durations:
            await callback.answer(
                _("This option is not available for this model."), show_alert=True
            )
            return
        data = data.model_copy(update={"duration": int(value)})
    else:
        aspect = value.replace("x", ":")
        if aspect not in aspects:
            await callback.answer(
                _("This option is not available for this model."), show_alert=True
            )
            return
        data = data.model_copy(update={"aspect": aspect})
    await callback.answer()
    await save(state, data)
    await shared_screen(callback, data, catalog, cards, billing, user)


async def shared_done(
    callback: CallbackQuery, state: FSMContext, catalog: Catalog, cards: Cards, user: User
) -> None:
    """On to the photo (image to video) and the prompt, whose rules are the strictest model's."""
    data = await _data(callback, state)
    if data is None:
        return
    models = [m for m in map(catalog.available, data.compare) if m is not None]
    if len(models) < 2:
        await callback.answer(_("This model is not available any more."), show_alert=True)
        return
    await callback.answer()
    required = [m for m in models if data.mode is Mode.T2V or m.prompt_required_i2v]
    strictest = min(required or models, key=lambda m: (m.prompt_max, -m.prompt_min))
    data = data.model_copy(update={"model_id": strictest.id})
    await save(state, data)
    await after_params(callback, state, data, catalog, cards, user)


async def back_to_ticks(callback: CallbackQuery, state: FSMContext, catalog: Catalog) -> None:
    await start_compare(callback, state, catalog)
