"""A text or a photo sent outside any flow: a card with the user's last settings."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.cards import Cards
from handlers.states import WizardData
from handlers.wizard.card import successor_card
from handlers.wizard.params import begin
from handlers.wizard.photo import stage_photo
from services.catalog import Catalog, Mode
from services.drafts import Drafts
from services.jobs import JobService
from services.users import User


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
