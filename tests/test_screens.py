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


def test_the_short_list_adds_the_users_last_model():
    catalog = load_catalog()
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale("en"):
        _, short = screens.model_list(catalog, Mode.T2V)
        _, mine = screens.model_list(catalog, Mode.T2V, recent="klingai:6@1")
    assert not any(label.startswith("Kling") for label in labels(short))
    assert any(label.startswith("Kling 2.5 Turbo Pro ·") for label in labels(mine))
    assert len(labels(mine)) == len(labels(short)) + 1
