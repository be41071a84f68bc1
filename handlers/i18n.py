"""Translations: aiogram's gettext I18n, reading the `.po` files (compiled in memory by Babel at
start-up, so no binary `.mo` files live in the repository). English is the source language;
`locales/ru/LC_MESSAGES/messages.po` holds Russian. A user's language comes from the database
(set from Telegram's language_code on first contact, changed with /language)."""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


class PoI18n(I18n):
    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's context mixin keeps one variable per class; gettext() reads I18n's.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for folder in sorted(self.path.iterdir()):
            po = folder / "LC_MESSAGES" / f"{self.domain}.po"
            if not po.exists():
                continue
            with po.open("rb") as source:
                catalog = read_po(source, locale=folder.name, domain=self.domain)
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            compiled.seek(0)
            translations[folder.name] = gettext.GNUTranslations(compiled)
        return translations


def build_i18n(path: Path = LOCALES_DIR) -> PoI18n:
    return PoI18n(path=path, default_locale="en", domain="messages")
