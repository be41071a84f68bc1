from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import Card, CardAction, Menu, MenuAction, SetParam
from handlers.keyboard import Keyboard


def layout(builder, count, *sizes, data):
    for n in range(count):
        builder.button(text=str(n), callback_data=data)
    builder.adjust(*sizes)
    return [[(b.text, b.callback_data) for b in row] for row in builder.as_markup().inline_keyboard]


def test_same_layout_and_data_as_aiogram():
    for data in (Menu(action=MenuAction.HOME), Card(action=CardAction.GO, draft=42)):
        for count, sizes in [
            (5, (2, 2, 1)),
            (7, (3,)),
            (9, (3, 3, 3, 2, 1)),
            (4, (1,)),
            (3, ()),
            (10, ()),
            (6, (2, 1)),
            (1, (3, 2)),
        ]:
            ours = layout(Keyboard(), count, *sizes, data=data)
            theirs = layout(InlineKeyboardBuilder(), count, *sizes, data=data)
            assert ours == theirs


def test_callback_data_parses_back():
    kb = Keyboard()
    kb.button(text="8 s", callback_data=SetParam(name="duration", value="8"))
    (button,) = kb.as_markup().inline_keyboard[0]
    assert SetParam.unpack(button.callback_data) == SetParam(name="duration", value="8")
