"""Screens drawn once and kept (model list, parameter screens): what they show is what a fresh
drawing shows, per language, per selection and per catalog; the balance is never kept."""

from __future__ import annotations

from handlers import screens
from handlers.i18n import build_i18n
from handlers.states import WizardData
from services.catalog import Catalog, Mode, ValidParams, load_catalog, validate_params

CATALOG = load_catalog()


def chosen(model, mode, **change):
    data = WizardData(mode=mode).with_model(model).model_copy(update=change)
    valid = validate_params(model, mode, data.chosen())
    assert isinstance(valid, ValidParams)
    return data, valid


def fresh_params(model, data, valid, balance):
    text, markup = screens._params_screen(model, data.mode, valid)
    price = screens.tokens(valid.price)
    return text, markup, price, screens.tokens(balance)


def test_parameter_screens_are_the_fresh_drawing_in_each_language_and_selection():
    i18n = build_i18n()
    for language in ("en", "ru", "en"):  # back to English: a kept Russian screen must not leak
        with i18n.context(), i18n.use_locale(language):
            for model in CATALOG.for_mode(Mode.T2V):
                for duration in model.durations:
                    data, valid = chosen(model, Mode.T2V, duration=duration)
                    for balance in (0, 7, 500):
                        text, markup = screens.params_screen(model, data, valid, balance)
                        body, fresh_markup, price, have = fresh_params(model, data, valid, balance)
                        assert text.startswith(body)
                        assert price in text.removeprefix(body) and have in text.removeprefix(body)
                        assert markup == fresh_markup
    with i18n.context(), i18n.use_locale("ru"):
        model = CATALOG.for_mode(Mode.T2V)[0]
        data, valid = chosen(model, Mode.T2V)
        assert "Длительность" in screens.params_screen(model, data, valid, 1)[0]


def test_a_changed_choice_is_a_different_screen():
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale("en"):
        model = next(m for m in CATALOG.for_mode(Mode.T2V) if len(m.durations) > 1)
        first, second = model.durations[0], model.durations[1]
        a = screens.params_screen(model, *chosen(model, Mode.T2V, duration=first), 100)
        b = screens.params_screen(model, *chosen(model, Mode.T2V, duration=second), 100)
        assert a != b
        marked = [b.text for row in b[1].inline_keyboard for b in row if b.text.startswith("✅")]
        assert screens.seconds(second) in marked[0]


def test_each_catalog_gets_its_own_model_list():
    renamed = Catalog.model_validate(
        {"models": [m.model_dump() | {"name": f"Other {m.name}"} for m in CATALOG.models]}
    )
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale("en"):
        _, ours = screens.model_list(CATALOG, Mode.T2V)
        _, theirs = screens.model_list(renamed, Mode.T2V)
        _, ours_again = screens.model_list(CATALOG, Mode.T2V)

    def labels(markup):
        return [b.text for row in markup.inline_keyboard for b in row]

    assert not any(label.startswith("Other ") for label in labels(ours))
    assert sum(label.startswith("Other ") for label in labels(theirs)) == len(labels(ours)) - 1
    assert ours_again == ours
