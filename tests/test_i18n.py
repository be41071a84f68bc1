"""Every text in the code has a Russian translation with the same placeholders."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from handlers.i18n import LOCALES_DIR, build_i18n

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "__": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def code_messages() -> set[str | tuple[str, str]]:
    found = set()
    for folder in ("handlers", "bot", "services", "telegram_side"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def russian():
    with (LOCALES_DIR / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale="ru")


def test_every_text_is_translated_with_the_same_placeholders():
    catalog = russian()
    missing, broken = [], []
    for message in code_messages():
        key = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(key)
        if entry is None or not entry.string or "fuzzy" in entry.flags:
            missing.append(key)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in strings:
            if not text or set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(key)):
                broken.append(key)
    assert missing == [], f"untranslated: {missing}"
    assert broken == [], f"placeholders differ: {broken}"


def test_no_stale_translations():
    used = {m[0] if isinstance(m, tuple) else m for m in code_messages()}
    stale = [
        m.id
        for m in russian()
        if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in used
    ]
    assert stale == []


def test_russian_plurals():
    i18n = build_i18n()
    words = {
        n: i18n.gettext("{n} token", "{n} tokens", n, locale="ru").format(n=n)
        for n in (1, 2, 5, 11, 21, 22, 25)
    }
    assert words == {
        1: "1 токен",
        2: "2 токена",
        5: "5 токенов",
        11: "11 токенов",
        21: "21 токен",
        22: "22 токена",
        25: "25 токенов",
    }
    assert i18n.gettext("{n} token", "{n} tokens", 5, locale="en").format(n=5) == "5 tokens"


def test_each_text_is_translated_once():
    """A second entry for the same text is silently ignored by the reader: the first one wins."""
    text = (LOCALES_DIR / "ru" / "LC_MESSAGES" / "messages.po").read_text()
    ids = re.findall(r'^msgid "(.+)"$', text, flags=re.MULTILINE)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
