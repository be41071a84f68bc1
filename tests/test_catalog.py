import itertools

import pytest

from services.catalog import (
    CATALOG_PATH,
    CatalogError,
    Mode,
    Problem,
    ValidParams,
    load_catalog,
    validate_params,
)

CATALOG = load_catalog()
PAIRS = [(m, mode) for m in CATALOG.models for mode in m.modes]


def ids(pair):
    return f"{pair[0].id}-{pair[1].value}" if isinstance(pair, tuple) else str(pair)


def test_starts_with_the_six_models():
    assert [m.id for m in CATALOG.models] == [
        "google:3@0",
        "google:3@1",
        "google:2@0",
        "vidu:1@1",
        "vidu:1@5",
        "vidu:2@0",
    ]
    assert {m.id for m in CATALOG.for_mode(Mode.T2V)} == {
        "google:3@0",
        "google:3@1",
        "google:2@0",
        "vidu:1@1",
        "vidu:1@5",
    }
    assert len(CATALOG.for_mode(Mode.I2V)) == 6


def test_default_prices_follow_the_original_notes():
    price = {m.id: validate_params(m, m.modes[0], {}).price for m in CATALOG.models}
    assert price["google:3@0"] == 50  # Veo 3, 8 s with audio
    assert price["google:2@0"] == 40  # Veo 2, 8 s
    assert price["vidu:1@1"] == 40  # Vidu Q1, 5 s


@pytest.mark.parametrize("pair", PAIRS, ids=ids)
def test_defaults_are_valid(pair):
    model, mode = pair
    result = validate_params(model, mode, None)
    assert isinstance(result, ValidParams), result
    assert result.duration == model.default_duration
    assert result.size == (model.default_size if mode is Mode.T2V else None)
    assert result.changed_settings(model) == {}
    assert result.price > 0


@pytest.mark.parametrize("pair", PAIRS, ids=ids)
def test_every_combination_is_valid_or_refused_for_a_reason(pair):
    model, mode = pair
    sizes = model.sizes if model.sends_size(mode) else [None]
    for duration, size in itertools.product(model.durations, sizes):
        result = validate_params(model, mode, {"duration": duration, "size": size})
        if size is not None and size not in model.sizes_for(duration):
            assert [p.code for p in result] == ["size_for_duration"]
            continue
        assert isinstance(result, ValidParams), (duration, size, result)
        offered = model.settings_for(mode, duration)
        assert set(result.settings) == {s.key for s in offered}
        for spec in offered:
            values = [True, False] if spec.type == "bool" else list(spec.choices)
            for value in values:
                chosen = {"duration": duration, "size": size, "settings": {spec.key: value}}
                ok = validate_params(model, mode, chosen)
                assert isinstance(ok, ValidParams)
                assert ok.settings[spec.key] == value
                expected = model.price_of(duration, size, ok.settings)
                assert ok.price == expected
                assert ok.changed_settings(model) == (
                    {} if value == spec.default else {spec.key: value}
                )
            wrong = "maybe" if spec.type == "bool" else "nonsense"
            bad = validate_params(
                model, mode, {"duration": duration, "size": size, "settings": {spec.key: wrong}}
            )
            assert [p.code for p in bad] == ["bool" if spec.type == "bool" else "choice"]


@pytest.mark.parametrize("pair", PAIRS, ids=ids)
def test_out_of_range_values_are_refused(pair):
    model, mode = pair
    problems = validate_params(model, mode, {"duration": 99, "settings": {"colour": "red"}})
    assert sorted(p.code for p in problems) == ["duration", "unknown"]
    assert all(isinstance(p, Problem) and p.message for p in problems)
    if model.sends_size(mode):
        assert [p.code for p in validate_params(model, mode, {"size": "1x1"})] == ["size"]
    else:
        assert [p.code for p in validate_params(model, mode, {"size": "1280x720"})] == ["size_i2v"]


def test_vidu_background_music_only_at_4_seconds():
    vidu15 = CATALOG.get("vidu:1@5")
    ok = validate_params(vidu15, "t2v", {"duration": 4, "settings": {"bgm": True}})
    assert isinstance(ok, ValidParams) and ok.changed_settings(vidu15) == {"bgm": True}
    refused = validate_params(
        vidu15, "t2v", {"duration": 8, "size": "1280x720", "settings": {"bgm": True}}
    )
    assert [p.code for p in refused] == ["setting_duration"]
    assert "4 s" in refused[0].message
    # 8 s is 720p only
    assert [
        p.code for p in validate_params(vidu15, "t2v", {"duration": 8, "size": "1920x1080"})
    ] == ["size_for_duration"]


def test_vidu_q1_takes_no_provider_settings_with_an_image_and_style_is_t2v_only():
    q1 = CATALOG.get("vidu:1@1")
    assert q1.settings_for(Mode.I2V, 5) == []
    assert [p.code for p in validate_params(q1, "i2v", {"settings": {"bgm": True}})] == [
        "setting_i2v"
    ]
    vidu15 = CATALOG.get("vidu:1@5")
    assert [p.code for p in validate_params(vidu15, "i2v", {"settings": {"style": "anime"}})] == [
        "setting_mode"
    ]


def test_modes_are_respected():
    assert [p.code for p in validate_params(CATALOG.get("vidu:2@0"), "t2v", {})] == ["mode"]
    assert [p.code for p in validate_params(CATALOG.get("google:3@0"), "x2v", {})] == ["mode"]


def test_audio_costs_extra_on_veo3():
    veo3 = CATALOG.get("google:3@0")
    on = validate_params(veo3, "t2v", {"duration": 4})
    off = validate_params(veo3, "t2v", {"duration": 4, "settings": {"generateAudio": False}})
    assert on.price - off.price == 10
    assert veo3.min_price(Mode.T2V) == off.price


def write(tmp_path, text):
    path = tmp_path / "models.toml"
    path.write_text(text)
    return path


def test_invalid_catalog_names_the_entry(tmp_path):
    good = CATALOG_PATH.read_text()
    broken = good.replace("default_duration = 5\n", "default_duration = 6\n", 1)
    with pytest.raises(CatalogError, match=r"model vidu:1@1.*default_duration 6"):
        load_catalog(write(tmp_path, broken))
    typo = good.replace('modes = ["i2v"]', 'modes = ["i2v"]\nprise = 3', 1)
    with pytest.raises(CatalogError, match=r"model vidu:2@0, prise: Extra inputs"):
        load_catalog(write(tmp_path, typo))
    with pytest.raises(CatalogError, match=r"models\.toml"):
        load_catalog(write(tmp_path, "[[models]\n"))
    with pytest.raises(CatalogError, match="listed twice"):
        load_catalog(
            write(
                tmp_path,
                good
                + good.split("# ---", 1)[0].split("[[models]]", 1)[0]
                + "[[models]]"
                + good.split("[[models]]", 2)[1],
            )
        )
