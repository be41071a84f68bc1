import math

import pytest

from services.catalog import (
    CATALOG_PATH,
    CatalogError,
    Mode,
    Problem,
    ValidParams,
    Withdrawal,
    apply_choice,
    enumerate_choices,
    load_catalog,
    validate_params,
)
from tests.runware_rules import Rules

CATALOG = load_catalog()
PRICING = CATALOG.pricing
PAIRS = [(m, mode) for m in CATALOG.models for mode in m.modes]
RETIRED_2025 = {"google:3@0", "google:3@1", "google:2@0", "vidu:1@5"}


def ids(pair):
    return f"{pair[0].id}-{pair[1].value}" if isinstance(pair, tuple) else str(pair)


def validate(model, mode, chosen=None):
    return validate_params(model, mode, chosen, PRICING)


def test_the_lineup_is_what_runware_serves_today():
    listed = {m.id for m in CATALOG.models}
    assert not listed & RETIRED_2025
    assert listed >= {"google:3@3", "google:3@2", "vidu:4@1", "vidu:1@1", "vidu:2@0"}
    providers = {m.provider for m in CATALOG.models}
    assert providers >= {"google", "vidu", "klingai", "minimax", "bytedance", "alibaba"}
    assert "vidu:2@0" not in {m.id for m in CATALOG.for_mode(Mode.T2V)}
    assert len(CATALOG.for_mode(Mode.I2V)) == len(CATALOG.models)
    # every retired 2025 id leads somewhere a user can go on
    for old in RETIRED_2025:
        heir = CATALOG.successor(old)
        assert heir is not None and heir.id in listed, old


def test_every_model_is_one_the_fake_runware_knows():
    rules = Rules()
    for model, mode in PAIRS:
        valid = validate(model, mode)
        assert isinstance(valid, ValidParams)
        assert rules.live(model.id), model.id


@pytest.mark.parametrize("pair", PAIRS, ids=ids)
def test_defaults_are_valid_and_priced_from_runwares_usd(pair):
    model, mode = pair
    result = validate(model, mode)
    assert isinstance(result, ValidParams), result
    assert result.duration == model.default_duration_for(mode)
    assert result.options == {
        o.key: o.default
        for o in model.options_for(mode, result.duration, 1 if mode is Mode.I2V else 0)
    }
    expected_usd = model.usd(result.duration, result.resolution, result.options)
    assert result.usd == expected_usd > 0
    assert result.price == math.ceil(
        round(expected_usd * PRICING.margin / PRICING.usd_per_token, 6)
    )
    # the token is sold above what Runware charges for it
    assert result.price * PRICING.usd_per_token >= result.usd


@pytest.mark.parametrize("pair", PAIRS, ids=ids)
def test_every_combination_offered_is_valid_and_every_option_value_changes_only_itself(pair):
    model, mode = pair
    seen = 0
    for choice in enumerate_choices(model, mode):
        result = validate(model, mode, choice)
        assert isinstance(result, ValidParams), (choice, result)
        assert result.duration == choice["duration"]
        assert result.resolution == choice["resolution"]
        assert result.aspect == choice["aspect"]
        for key, value in choice["options"].items():
            assert result.options[key] == value
        assert result.price == PRICING.tokens(
            model.usd(result.duration, result.resolution, result.options)
        )
        wrong = {**choice, "options": {**choice["options"]}}
        for spec in model.options_for(mode, result.duration, 1 if mode is Mode.I2V else 0):
            wrong["options"] = {spec.key: "maybe" if spec.type == "bool" else "nonsense"}
            assert [p.code for p in validate(model, mode, wrong)] == [
                "bool" if spec.type == "bool" else "choice"
            ]
        seen += 1
    assert seen >= 1


@pytest.mark.parametrize("pair", PAIRS, ids=ids)
def test_out_of_range_values_are_refused_with_a_reason(pair):
    model, mode = pair
    problems = validate(model, mode, {"duration": 99, "options": {"colour": "red"}})
    assert sorted(p.code for p in problems) == ["duration", "unknown"]
    assert all(isinstance(p, Problem) and p.message for p in problems)
    assert [p.code for p in validate(model, mode, {"size": "1280x720"})] == ["unknown"]
    if model.resolutions_for(mode, model.default_duration_for(mode)):
        assert [p.code for p in validate(model, mode, {"resolution": "144p"})] == ["resolution"]
    else:
        assert [p.code for p in validate(model, mode, {"resolution": "720p"})] == ["size_i2v"]
    if model.size_by(mode) == "dims":
        assert [p.code for p in validate(model, mode, {"aspect": "7:3"})] == ["aspect"]


def test_veo_image_to_video_is_8_seconds_only_and_sends_a_resolution():
    fast = CATALOG.get("google:3@3")
    assert fast.durations_for(Mode.I2V) == (8,)
    assert [p.code for p in validate(fast, "i2v", {"duration": 4})] == ["duration"]
    text = validate(fast, "t2v", {"duration": 4})
    assert text.size == "1280x720"
    photo = validate(fast, "i2v")
    assert (photo.resolution, photo.aspect, photo.size) == ("720p", None, None)
    assert fast.size_by(Mode.I2V) == "resolution"


def test_veo_sound_is_priced_on_top_and_can_be_turned_off():
    fast = CATALOG.get("google:3@3")
    on = validate(fast, "t2v", {"duration": 8})
    off = validate(fast, "t2v", {"duration": 8, "options": {"audio": False}})
    assert on.options["audio"] is True and off.options["audio"] is False
    assert on.usd == pytest.approx(0.15 * 8) and off.usd == pytest.approx(0.10 * 8)
    assert on.price > off.price
    cheapest = validate(fast, "t2v", {"duration": 4, "options": {"audio": False}})
    assert CATALOG.min_price(fast, Mode.T2V) == cheapest.price  # "from": the cheapest choice


def test_hailuo_10_seconds_only_at_768p_and_priced_per_video():
    hailuo = CATALOG.get("minimax:4@1")
    refused = validate(hailuo, "t2v", {"duration": 10, "resolution": "1080p"})
    assert [p.code for p in refused] == ["resolution_for_duration"]
    assert "768p" in refused[0].message
    ok = validate(hailuo, "t2v", {"duration": 10})
    assert ok.resolution == "768p" and ok.usd == pytest.approx(0.56)
    assert validate(hailuo, "t2v", {"resolution": "1080p"}).usd == pytest.approx(0.49)


def test_vidu_2_music_only_at_4_seconds_and_changing_duration_turns_it_off():
    vidu2 = CATALOG.get("vidu:2@0")
    music = validate(vidu2, "i2v", {"duration": 4, "options": {"music": True}})
    assert music.options["music"] is True
    refused = validate(vidu2, "i2v", {"duration": 8, "options": {"music": True}})
    assert [p.code for p in refused] == ["option_duration"]
    assert "4 s" in refused[0].message
    longer = apply_choice(CATALOG, vidu2, Mode.I2V, music, "duration", 8)
    assert longer is not None and "music" not in longer.options and longer.duration == 8
    # 8 s is 720p only: a 1080p choice moves down with it
    sharp = validate(vidu2, "i2v", {"duration": 4, "resolution": "1080p"})
    moved = apply_choice(CATALOG, vidu2, Mode.I2V, sharp, "duration", 8)
    assert moved is not None and moved.resolution == "720p"


def test_modes_are_respected():
    assert [p.code for p in validate(CATALOG.get("vidu:2@0"), "t2v")] == ["mode"]
    assert [p.code for p in validate(CATALOG.get("google:3@3"), "x2v")] == ["mode"]


def test_2025_parameters_carry_over_to_the_successor():
    veo3 = {"duration": 8, "size": "720x1280", "settings": {"generateAudio": False}}
    valid, moved = CATALOG.carry_over("google:3@0", Mode.T2V, veo3)
    assert moved and valid.model_id == "google:3@2"
    assert (valid.duration, valid.aspect, valid.resolution) == (8, "9:16", "720p")
    assert valid.options == {"audio": False}
    vidu15 = {"duration": 4, "size": "1920x1080", "settings": {}}
    valid, moved = CATALOG.carry_over("vidu:1@5", Mode.T2V, vidu15)
    assert moved and valid.model_id == "vidu:4@1"
    assert valid.duration == 5 and valid.resolution == "1080p"  # nearest duration it takes
    valid, moved = CATALOG.carry_over("google:3@3", Mode.T2V, {"duration": 6})
    assert not moved and valid.duration == 6


def test_the_live_state_withdraws_exactly_what_it_names():
    catalog = load_catalog()
    seedance = catalog.get("bytedance:2@2")
    catalog.live.withdraw(seedance.id, Withdrawal({"duration": 12}, "duration", "max 10"))
    assert [p.code for p in catalog.validate(seedance, Mode.T2V, {"duration": 12})] == ["withdrawn"]
    assert isinstance(catalog.validate(seedance, Mode.T2V, {"duration": 10}), ValidParams)
    assert 12 not in catalog.offered(
        seedance, Mode.T2V, catalog.default_choice(seedance, Mode.T2V), "duration"
    )
    assert seedance in catalog.for_mode(Mode.T2V)
    catalog.live.retire("google:3@3", "gone")
    assert catalog.available("google:3@3") is None
    assert catalog.successor("google:3@1") is None  # its heir is gone and has none
    assert all(m.id != "google:3@3" for m in catalog.for_mode(Mode.T2V))
    assert catalog.name_of("google:3@3") == "Veo 3.1 Fast"  # old jobs keep their name


def test_every_choice_of_every_model_sends_a_request_the_schema_accepts():
    rules = Rules()
    from services.catalog import video_task

    for model, mode in PAIRS:
        for choice in enumerate_choices(model, mode):
            valid = validate(model, mode, choice)
            images = ("11111111-1111-4111-8111-111111111111",) if mode is Mode.I2V else ()
            task = video_task(
                model, valid, "a red fox", "22222222-2222-4222-8222-222222222222", images
            )
            assert rules.check_task(task) is None, (model.id, choice, rules.check_task(task))


def write(tmp_path, text):
    path = tmp_path / "models.toml"
    path.write_text(text)
    return path


def test_invalid_catalog_names_the_entry(tmp_path):
    good = CATALOG_PATH.read_text()
    broken = good.replace("default_duration = 6\n", "default_duration = 7\n", 1)
    with pytest.raises(
        CatalogError, match=r"model minimax:4@1.*default_duration 7 is not in durations"
    ):
        load_catalog(write(tmp_path, broken))
    typo = good.replace('modes = ["i2v"]', 'modes = ["i2v"]\nprise = 3', 1)
    with pytest.raises(CatalogError, match=r"model vidu:2@0, prise: Extra inputs"):
        load_catalog(write(tmp_path, typo))
    wrong_path = good.replace("providerSettings.vidu.audio", "providerSettings.google.audio", 1)
    with pytest.raises(CatalogError, match=r"model vidu:4@1.*providerSettings\.vidu"):
        load_catalog(write(tmp_path, wrong_path))
    with pytest.raises(CatalogError, match=r"models\.toml"):
        load_catalog(write(tmp_path, "[[models]\n"))
    twice = good + "[[models]]" + good.split("[[models]]", 2)[1]
    with pytest.raises(CatalogError, match="listed twice"):
        load_catalog(write(tmp_path, twice))
