"""The one way screens put a person's or a provider's words into HTML."""

from handlers.render import Markup, fill
from tests.telegram_text import parse_html


def test_every_value_is_escaped_and_telegram_shows_it_as_written():
    words = 'bonus <3 & "thanks" it\'s <b>'
    text = fill("<b>{title}</b>: {words}", title="A <fox>", words=words)
    assert parse_html(text) == f"A <fox>: {words}"


def test_a_fragment_built_with_fill_is_not_escaped_twice():
    name = fill("<b>{name}</b>", name="Tom & Jerry")
    text = fill("{who} (id {id})", who=name, id=7)
    assert isinstance(name, Markup)
    assert parse_html(text) == "Tom & Jerry (id 7)"
