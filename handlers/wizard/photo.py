"""The image-to-video photo: read from Telegram, checked, staged for the card."""

from __future__ import annotations

import asyncio
import io

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.cards import Cards
from handlers.replies import image_problem_text
from handlers.states import Wizard, load, save
from services.catalog import Catalog, Mode
from services.drafts import Drafts
from services.errors import ImageRejected
from services.images import MAX_BYTES, prepare_image
from services.users import User


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
