from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message


async def cmd_start(message: Message) -> None:
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(
        f"Hello{', ' + name if name else ''}! I make short AI videos from a text or a photo.\n"
        "Привет! Я делаю короткие AI-видео из текста или фото."
    )


def setup() -> Router:
    router = Router(name="start")
    router.message.register(cmd_start, CommandStart())
    return router
