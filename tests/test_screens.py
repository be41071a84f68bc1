"""Screens are drawn fresh for each update: what they show follows the language, the selection,
the balance and what the live check withdrew."""

from __future__ import annotations

from handlers import screens
from handlers.i18n import build_i18n
from services.catalog import Mode, ValidParams, Withdrawal, load_catalog


def labels(markup):
    return [b.text for row in markup.inline_keyboard for b in row]


def test_parameter_screens_follow_language_selection_and_balance():
    catalog = load_catalog()
    i18n = build_i18n()
    for model in catalog.for_mode(Mode.T2V):
        for duration in model.durations_for(Mode.T2V):
            valid = catalog.validate(model, Mode.T2V, {"duration": duration})
            if not isinstance(valid, ValidParams):
                continue
            with i18n.context(), i18n.use_locale("en"):
                text, markup = screens.params_screen(catalog, model, valid, 7)
                assert "Duration" in text and screens.tokens(valid.price) in text
                assert "your balance: 7 tokens" in text
                marked = [label for label in labels(markup) if label.startswith("✅")]
                if len(model.durations_for(Mode.T2V)) > 1:
                    assert screens.seconds(duration) in marked[0]
            with i18n.context(), i18n.use_locale("ru"):
                ru, _ = screens.params_screen(catalog, model, valid, 7)
                assert "Длительность" in ru and "Duration" not in ru


def test_a_withdrawn_value_is_not_offered():
    catalog = load_catalog()
    seedance = catalog.get("bytedance:2@2")
    valid = catalog.default_choice(seedance, Mode.T2V)
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale("en"):
        _, before = screens.params_screen(catalog, seedance, valid, 100)
        catalog.live.withdraw(seedance.id, Withdrawal({"duration": 12}, "duration", "max 10"))
        _, after = screens.params_screen(catalog, seedance, valid, 100)
        twelve = screens.seconds(12)
    assert any(twelve in label for label in labels(before))
    assert not any(twelve in label for label in labels(after))


def test_the_model_list_follows_the_live_check():
    catalog = load_catalog()
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale("en"):
        _, before = screens.model_list(catalog, Mode.T2V, everything=True)
        catalog.live.retire("runway:1@2", "gone")
        _, after = screens.model_list(catalog, Mode.T2V, everything=True)
    assert any("Runway" in label for label in labels(before))
    assert not any("Runway" in label for label in labels(after))


def test_a_kept_model_list_is_the_fresh_drawing_in_each_language_and_selection():
    catalog = load_catalog()
    i18n = build_i18n()
    for language in ("en", "ru", "en"):  # back to English: a kept Russian list must not leak
        for mode in (Mode.T2V, Mode.I2V):
            for everything in (False, True):
                for recent in (None, "klingai:6@1", "no-such:model@1"):
                    with i18n.context(), i18n.use_locale(language):
                        kept = screens.model_list(
                            catalog, mode, everything=everything, recent=recent
                        )
                        again = screens.model_list(
                            catalog, mode, everything=everything, recent=recent
                        )
                        fresh = screens._draw_model_list(
                            catalog, mode, everything, recent if recent == "klingai:6@1" else None
                        )
                    assert kept == fresh and again is kept
                    assert ("Ещё модели" in str(kept[1])) == (language == "ru" and not everything)
    with i18n.context(), i18n.use_locale("en"):
        short = screens.model_list(catalog, Mode.T2V, recent="klingai:6@1")
        assert any(b.text.startswith("Kling") for row in short[1].inline_keyboard for b in row)
