"""Texts and keyboards of every screen. Texts go through gettext (`_`), in the user's locale."""

from __future__ import annotations

import html
from math import gcd
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from handlers.callbacks import (
    Again,
    Card,
    CardAction,
    Idea,
    Language,
    Menu,
    MenuAction,
    PickModel,
    SetParam,
    Step,
    StepAction,
    model_slug,
    packed,
)
from handlers.keyboard import Keyboard
from handlers.states import WizardData
from services.catalog import Catalog, Mode, SettingSpec, ValidParams, VideoModel
from services.ideas import Category, Ideas

TEXT_LIMIT = 4096

# What each parameter is called and what it does, one line each. Unknown keys from a newer
# catalog fall back to their key, so a new model still works without a code change.
PARAM_NAMES = {
    "duration": __("Duration"),
    "size": __("Format"),
    "generateAudio": __("Sound"),
    "enhancePrompt": __("Prompt enhancement"),
    "movementAmplitude": __("Motion"),
    "bgm": __("Background music"),
    "style": __("Style"),
}
PARAM_HELP = {
    "duration": __("how long the video is"),
    "size": __("the frame's shape and resolution"),
    "generateAudio": __("the model also makes the soundtrack: voices, effects, music"),
    "enhancePrompt": __("the model rewrites your prompt in more detail"),
    "movementAmplitude": __("how much moves in the frame"),
    "bgm": __("adds a music track (4-second videos only)"),
    "style": __("the look of the video"),
}
CHOICE_NAMES = {
    "auto": __("auto"),
    "small": __("small"),
    "medium": __("medium"),
    "large": __("large"),
    "general": __("general"),
    "anime": __("anime"),
}


def tokens(n: int) -> str:
    return ngettext("{n} token", "{n} tokens", n).format(n=n)


def seconds(n: int) -> str:
    return _("{n} s").format(n=n)


def size_label(size: str) -> str:
    width, _sep, height = size.partition("x")
    w, h = int(width), int(height)
    d = gcd(w, h)
    return f"{w // d}:{h // d} · {w}×{h}"


def value_label(spec_or_name: SettingSpec | str, value: object) -> str:
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if spec_or_name == "duration":
        return seconds(int(str(value)))
    if spec_or_name == "size":
        return size_label(str(value))
    return str(CHOICE_NAMES.get(str(value), str(value)))


def mode_name(mode: Mode) -> str:
    return _("text to video") if mode is Mode.T2V else _("image to video")


# The screens that depend only on the user's language and catalog data (model list, parameter
# screens) are drawn once and kept: a parameter screen has ~20 buttons and is redrawn on every
# tap (bench/updates.py). Catalog objects are keyed by identity; an entry holds its object, so
# no id is reused while the entry lives.
MAX_DRAWN = 2048
_drawn: dict[tuple[Any, ...], tuple[str, InlineKeyboardMarkup]] = {}
_pinned: dict[tuple[Any, ...], object] = {}


def _locale() -> str:
    return I18n.get_current(no_error=False).current_locale


def _remember(
    key: tuple[Any, ...], owner: object, drawn: tuple[str, InlineKeyboardMarkup]
) -> tuple[str, InlineKeyboardMarkup]:
    if len(_drawn) >= MAX_DRAWN:
        _drawn.clear()
        _pinned.clear()
    _drawn[key] = drawn
    _pinned[key] = owner
    return drawn


# --- menu ----------------------------------------------------------------------------------------


def main_menu() -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("🎬 Text to video"), callback_data=packed(Menu, action=MenuAction.T2V))
    kb.button(text=_("🖼 Image to video"), callback_data=packed(Menu, action=MenuAction.I2V))
    kb.button(text=_("📁 My videos"), callback_data=packed(Menu, action=MenuAction.VIDEOS))
    kb.button(text=_("💰 Balance"), callback_data=packed(Menu, action=MenuAction.BALANCE))
    kb.button(text=_("❓ Help"), callback_data=packed(Menu, action=MenuAction.HELP))
    kb.adjust(2, 2, 1)
    return kb.as_markup()


def home_button() -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("🏠 Menu"), callback_data=packed(Menu, action=MenuAction.HOME))
    return kb.as_markup()


def greeting(name: str, balance: int) -> str:
    return _(
        "Hi, {name}! I make short AI videos from a text or a photo.\n"
        "Your balance: <b>{balance}</b>.\n\nWhat shall we make?"
    ).format(name=html.escape(name), balance=tokens(balance))


def help_text() -> str:
    return _(
        "<b>How it works</b>\n"
        "1. Choose <b>Text to video</b> or <b>Image to video</b> and a model.\n"
        "2. Set the parameters, then send a prompt (and a photo for image to video).\n"
        "3. Check the card with the price and press <b>Generate</b>. The video comes here "
        "in a few minutes.\n\n"
        "Shortcuts: just send a text to make a video from it with your last settings, or a "
        "photo (with a caption as the prompt) to animate it.\n"
        "Tokens are charged when a video starts and returned if it fails.\n\n"
        "/start menu · /balance balance · /language language · /cancel stop what you are doing"
    )


def language_menu() -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text="English", callback_data=packed(Language, code="en"))
    kb.button(text="Русский", callback_data=packed(Language, code="ru"))
    return kb.as_markup()


# --- wizard --------------------------------------------------------------------------------------


def model_list(catalog: Catalog, mode: Mode) -> tuple[str, InlineKeyboardMarkup]:
    key = (_locale(), id(catalog), mode)
    if (drawn := _drawn.get(key)) is None:
        drawn = _remember(key, catalog, _model_list(catalog, mode))
    return drawn


def _model_list(catalog: Catalog, mode: Mode) -> tuple[str, InlineKeyboardMarkup]:
    kb = Keyboard()
    for model in catalog.for_mode(mode):
        price = model.min_price(mode)
        kb.button(
            text=_("{name} · from {price}").format(name=model.name, price=tokens(price)),
            callback_data=packed(PickModel, mode=mode, model=model_slug(model.id)),
        )
    kb.button(text=_("✖ Cancel"), callback_data=packed(Step, action=StepAction.CANCEL))
    kb.adjust(1)
    title = _("🎬 Text to video") if mode is Mode.T2V else _("🖼 Image to video")
    return _("{title}: choose a model").format(title=title), kb.as_markup()


def _mark(selected: bool, label: str) -> str:
    return f"✅ {label}" if selected else label


def params_screen(
    model: VideoModel, data: WizardData, valid: ValidParams, balance: int
) -> tuple[str, InlineKeyboardMarkup]:
    settings = tuple(sorted(valid.settings.items()))
    key = (_locale(), id(model), data.mode, valid.duration, valid.size, settings)
    if (drawn := _drawn.get(key)) is None:
        drawn = _remember(key, model, _params_screen(model, data.mode, valid))
    text, markup = drawn
    price = _("Price: <b>{price}</b> · your balance: {balance}").format(
        price=tokens(valid.price), balance=tokens(balance)
    )
    return f"{text}\n\n{price}", markup


def _params_screen(
    model: VideoModel, mode: Mode, valid: ValidParams
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{html.escape(model.name)}</b> · {mode_name(mode)}", ""]
    kb = Keyboard()
    widths: list[int] = []

    def describe(name: str, value: object) -> None:
        label = PARAM_NAMES.get(name, name)
        hint = PARAM_HELP.get(name)
        text = f"<b>{label}</b>: {value_label(name, value)}"
        lines.append(text + (f" — {hint}" if hint else ""))

    describe("duration", valid.duration)
    if len(model.durations) > 1:
        for duration in model.durations:
            kb.button(
                text=_mark(duration == valid.duration, seconds(duration)),
                callback_data=packed(SetParam, name="duration", value=str(duration)),
            )
        widths.append(len(model.durations))
    if valid.size is not None:
        describe("size", valid.size)
        sizes = model.sizes_for(valid.duration)
        if len(sizes) > 1:
            for size in sizes:
                kb.button(
                    text=_mark(size == valid.size, size_label(size)),
                    callback_data=packed(SetParam, name="size", value=size),
                )
            widths.extend([3] * (len(sizes) // 3) + ([len(sizes) % 3] if len(sizes) % 3 else []))
    for spec in model.settings_for(mode, valid.duration):
        value = valid.settings[spec.key]
        describe(spec.key, value)
        name = PARAM_NAMES.get(spec.key, spec.key)
        if spec.type == "bool":
            kb.button(
                text=f"{name}: {value_label(spec, value)}",
                callback_data=packed(SetParam, name=spec.key, value="0" if value else "1"),
            )
            widths.append(1)
        else:
            for choice in spec.choices:
                kb.button(
                    text=_mark(choice == value, value_label(spec, choice)),
                    callback_data=packed(SetParam, name=spec.key, value=choice),
                )
            widths.append(len(spec.choices))
    kb.button(text=_("⬅ Models"), callback_data=packed(Step, action=StepAction.MODELS))
    kb.button(text=_("Next ➡"), callback_data=packed(Step, action=StepAction.NEXT))
    kb.button(text=_("✖ Cancel"), callback_data=packed(Step, action=StepAction.CANCEL))
    kb.adjust(*widths, 2, 1)
    return "\n".join(lines), kb.as_markup()


def cancel_only(skip: bool = False, ideas: bool = False) -> InlineKeyboardMarkup:
    kb = Keyboard()
    if ideas:
        kb.button(text=_("💡 Ideas"), callback_data=packed(Step, action=StepAction.IDEAS))
    if skip:
        kb.button(text=_("Skip ➡"), callback_data=packed(Step, action=StepAction.SKIP_PROMPT))
    kb.button(text=_("✖ Cancel"), callback_data=packed(Step, action=StepAction.CANCEL))
    kb.adjust(1)
    return kb.as_markup()


def prompt_keyboard(model: VideoModel, mode: Mode) -> InlineKeyboardMarkup:
    """The prompt step's buttons: ideas, Skip where the model takes no prompt, Cancel."""
    return cancel_only(skip=mode is Mode.I2V and not model.prompt_required_i2v, ideas=True)


def ask_photo() -> str:
    return _(
        "🖼 Send the photo to animate: as a photo or as a file.\n"
        "JPEG, PNG or WEBP, up to 10 MB, at least 300×300 px."
    )


def ask_prompt(model: VideoModel, mode: Mode) -> str:
    if mode is Mode.I2V and not model.prompt_required_i2v:
        return _(
            "✍️ Describe what should happen in the video, or press Skip to let the model "
            "decide. Up to {max} characters."
        ).format(max=model.prompt_max)
    return _(
        "✍️ Describe the video you want: the scene, the action, the camera. {min}-{max} "
        "characters. English works best."
    ).format(min=model.prompt_min, max=model.prompt_max)


def card(
    model: VideoModel,
    valid: ValidParams,
    prompt: str,
    balance: int,
    draft_id: int,
    has_image: bool,
    *,
    prompt_sent: str | None = None,
    translation: str | None = None,
    can_translate: bool = False,
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>Check and confirm</b>"),
        f"🎬 <b>{html.escape(model.name)}</b> · {mode_name(valid.mode)}",
        f"{PARAM_NAMES['duration']}: {seconds(valid.duration)}",
    ]
    if valid.size is not None:
        lines.append(f"{PARAM_NAMES['size']}: {size_label(valid.size)}")
    for key, value in valid.settings.items():
        lines.append(f"{PARAM_NAMES.get(key, key)}: {value_label(key, value)}")
    if has_image:
        lines.append(_("Image: your photo"))
    price_line = _("Price: <b>{price}</b> · balance after: {after}").format(
        price=tokens(valid.price), after=tokens(max(0, balance - valid.price))
    )
    kb = Keyboard()
    if balance >= valid.price:
        kb.button(
            text=_("🚀 Generate"), callback_data=packed(Card, action=CardAction.GO, draft=draft_id)
        )
    else:
        price_line = _(
            "Price: <b>{price}</b> · your balance: {balance}\n"
            "⚠️ Not enough tokens: {missing} missing."
        ).format(
            price=tokens(valid.price),
            balance=tokens(balance),
            missing=tokens(valid.price - balance),
        )
        kb.button(
            text=_("💰 Top up"), callback_data=packed(Card, action=CardAction.TOPUP, draft=draft_id)
        )
    if prompt_sent:
        kb.button(
            text=_("✍️ Send my original text"),
            callback_data=packed(Card, action=CardAction.ORIGINAL, draft=draft_id),
        )
    elif can_translate:
        kb.button(
            text=_("🌐 Translate to English"),
            callback_data=packed(Card, action=CardAction.TRANSLATE, draft=draft_id),
        )
    kb.button(
        text=_("⚙️ Change parameters"),
        callback_data=packed(Card, action=CardAction.EDIT, draft=draft_id),
    )
    kb.button(
        text=_("✖ Cancel"), callback_data=packed(Card, action=CardAction.CANCEL, draft=draft_id)
    )
    kb.adjust(1)
    head = "\n".join(lines)
    labels = [_("Prompt:"), _("In English (this is sent):")]
    room = (TEXT_LIMIT - len(head) - len(price_line) - 200) // (2 if prompt_sent else 1)

    def cut(text: str) -> str:
        return html.escape(text if len(text) <= room else text[: room - 1] + "…")

    body = f"\n{labels[0]} <i>{cut(prompt)}</i>\n" if prompt else "\n"
    if prompt_sent:
        body += f"{labels[1]} <i>{cut(prompt_sent)}</i>\n"
    elif translation == "failed":
        body += _("⚠️ Translation is unavailable right now: the prompt goes as written.") + "\n"
    return f"{head}\n{body}\n{price_line}", kb.as_markup()


def idea_categories(ideas: Ideas, mode: Mode, language: str) -> tuple[str, InlineKeyboardMarkup]:
    kb = Keyboard()
    for category in ideas.for_mode(mode):
        kb.button(text=category.title(language), callback_data=packed(Idea, category=category.key))
    kb.button(text=_("⬅ Back"), callback_data=packed(Step, action=StepAction.NEXT))
    kb.adjust(2)
    return _("💡 Pick a theme for ideas:"), kb.as_markup()


def idea_examples(
    category: Category, mode: Mode, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    kb = Keyboard()
    lines = [f"<b>{html.escape(category.title(language))}</b>", ""]
    for n, example in enumerate(category.examples):
        lines.append(f"{n + 1}. {html.escape(example.text(language))}")
        kb.button(text=str(n + 1), callback_data=packed(Idea, category=category.key, n=n))
    lines += ["", _("Tap a number to use that prompt.")]
    kb.button(text=_("⬅ Back"), callback_data=packed(Step, action=StepAction.IDEAS))
    kb.adjust(len(category.examples), 1)
    return "\n".join(lines), kb.as_markup()


def after_video(job_id: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("🔁 Again with the same settings"), callback_data=packed(Again, job=job_id))
    kb.button(text=_("📁 My videos"), callback_data=packed(Menu, action=MenuAction.VIDEOS))
    kb.adjust(1)
    return kb.as_markup()
