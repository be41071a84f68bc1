import pytest
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import Card, CardAction, Menu, MenuAction, SetParam, packed
from handlers.keyboard import Keyboard


def layout(builder, count, *sizes, data):
    for n in range(count):
        builder.button(text=str(n), callback_data=data)
    builder.adjust(*sizes)
    return [[(b.text, b.callback_data) for b in row] for row in builder.as_markup().inline_keyboard]


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
        ours = layout(Keyboard(), count, *sizes, data=packed(Menu, action=MenuAction.HOME))
        theirs = layout(InlineKeyboardBuilder(), count, *sizes, data=Menu(action=MenuAction.HOME))
        assert ours == theirs


def test_packed_is_what_the_callback_filter_parses():
    for data in [
        Menu(action=MenuAction.HOME),
        Card(action=CardAction.GO, draft=42),
        SetParam(name="duration", value="8"),
    ]:
        fields = data.model_dump()
        text = packed(type(data), **fields)
        assert text == data.pack()
        assert type(data).unpack(text) == data
    # distinct values are distinct buttons, not one cached answer
    assert packed(Card, action=CardAction.GO, draft=1) != packed(
        Card, action=CardAction.GO, draft=2
    )


def test_packed_still_validates():
    with pytest.raises(ValueError):
        packed(Card, action="launch", draft=1)
    with pytest.raises(ValueError):  # over Telegram's 64 bytes
        packed(SetParam, name="x" * 40, value="y" * 40)
