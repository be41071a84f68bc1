from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import Menu, MenuAction
from handlers.keyboard import Keyboard


def layout(builder, count, *sizes):
    for n in range(count):
        builder.button(text=str(n), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(*sizes)
    return [[b.text for b in row] for row in builder.as_markup().inline_keyboard]


def test_same_layout_as_aiogram():
    for count, sizes in [
        (5, (2, 2, 1)),
        (7, (3,)),
        (9, (3, 3, 3, 2, 1)),
        (4, (1,)),
        (3, ()),
        (6, (2, 1)),
        (1, (3, 2)),
    ]:
        assert layout(Keyboard(), count, *sizes) == layout(InlineKeyboardBuilder(), count, *sizes)
