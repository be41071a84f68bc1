"""Texts and keyboards of every screen. Texts go through gettext (`_`), in the user's locale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from handlers.callbacks import (
    Again,
    Compare,
    CompareAction,
    EditAction,
    Editing,
    Idea,
    Language,
    Menu,
    MenuAction,
    PickModel,
    SameSeed,
    SetParam,
    Setting,
    Step,
    StepAction,
    StopJob,
    model_slug,
)
from handlers.keyboard import Keyboard
from handlers.render import fill
from services.catalog import Catalog, Mode, ValidParams, VideoModel
from services.ideas import Category, Ideas

# What each parameter is called and what it does, one line each. Unknown keys from a newer
# catalog fall back to their key, so a new model still works without a code change.
PARAM_NAMES = {
    "duration": __("Duration"),
    "resolution": __("Quality"),
    "aspect": __("Aspect ratio"),
    "audio": __("Sound"),
    "motion": __("Motion"),
    "music": __("Background music"),
    "optimize": __("Prompt optimizer"),
    "fixedCam": __("Fixed camera"),
    "extend": __("Prompt extension"),
}
PARAM_HELP = {
    "duration": __("how long the video is"),
    "resolution": __("more pixels cost more"),
    "aspect": __("16:9 landscape, 9:16 vertical, 1:1 square"),
    "audio": __("the model also makes the soundtrack: voices, effects, music"),
    "motion": __("how much moves in the frame"),
    "music": __("adds a music track (4-second videos only)"),
    "optimize": __("the model rewrites your prompt in more detail"),
    "fixedCam": __("the camera does not move"),
    "extend": __("the model adds detail to your prompt"),
}
CHOICE_NAMES = {
    "auto": __("auto"),
    "small": __("small"),
    "medium": __("medium"),
    "large": __("large"),
}


def tokens(n: int) -> str:
    return ngettext("{n} token", "{n} tokens", n).format(n=n)


def seconds(n: int) -> str:
    return _("{n} s").format(n=n)


def variant_of(n: int, total: int) -> str:
    """Which of a card's variants a video is: "2 of 4"."""
    return _("{n} of {total}").format(n=n, total=total)


def value_label(name: str, value: object) -> str:
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if name == "duration":
        return seconds(int(str(value)))
    return str(CHOICE_NAMES.get(str(value), str(value)))


def mode_name(mode: Mode) -> str:
    return _("text to video") if mode is Mode.T2V else _("image to video")


# --- menu ----------------------------------------------------------------------------------------


def main_menu() -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("🎬 Text to video"), callback_data=Menu(action=MenuAction.T2V))
    kb.button(text=_("🖼 Image to video"), callback_data=Menu(action=MenuAction.I2V))
    kb.button(text=_("📁 My videos"), callback_data=Menu(action=MenuAction.VIDEOS))
    kb.button(text=_("💰 Balance"), callback_data=Menu(action=MenuAction.BALANCE))
    kb.button(text=_("❓ Help"), callback_data=Menu(action=MenuAction.HELP))
    kb.button(text=_("⚙️ Settings"), callback_data=Menu(action=MenuAction.SETTINGS))
    kb.adjust(2, 2, 2)
    return kb.as_markup()


def settings_screen(
    language: str, send_file: bool, send_link: bool
) -> tuple[str, InlineKeyboardMarkup]:
    """The language and original quality: each video also as a file, and/or its link."""
    on, off = _("on"), _("off")
    text = "\n".join(
        [
            _("⚙️ <b>Settings</b>"),
            _("Language: English") if language == "en" else _("Language: Russian"),
            _("📎 Each video also as a file (original quality, not recompressed): {state}").format(
                state=on if send_file else off
            ),
            _("🔗 Each video's link too: {state}").format(state=on if send_link else off),
            "",
            _("A file over Telegram's limit for bots (50 MB) comes as its link instead."),
        ]
    )
    kb = Keyboard()
    kb.button(text=_("🌐 Language"), callback_data=Menu(action=MenuAction.LANGUAGE))
    kb.button(
        text=_("📎 As a file: {state}").format(state=on if send_file else off),
        callback_data=Setting(name="file"),
    )
    kb.button(
        text=_("🔗 The link: {state}").format(state=on if send_link else off),
        callback_data=Setting(name="link"),
    )
    kb.button(text=_("🏠 Menu"), callback_data=Menu(action=MenuAction.HOME))
    kb.adjust(1)
    return text, kb.as_markup()


def home_button() -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("🏠 Menu"), callback_data=Menu(action=MenuAction.HOME))
    return kb.as_markup()


def greeting(name: str, balance: int) -> str:
    return fill(
        _(
            "Hi, {name}! I make short AI videos from a text or a photo.\n"
            "Your balance: <b>{balance}</b>.\n\nWhat shall we make?"
        ),
        name=name,
        balance=tokens(balance),
    )


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
    kb.button(text="English", callback_data=Language(code="en"))
    kb.button(text="Русский", callback_data=Language(code="ru"))
    return kb.as_markup()


# --- wizard --------------------------------------------------------------------------------------


def durations_label(durations: list[int]) -> str:
    if len(durations) == 1:
        return seconds(durations[0])
    return _("{low}-{high} s").format(low=min(durations), high=max(durations))


def model_line(catalog: Catalog, model: VideoModel, mode: Mode) -> str:
    """Price "from", durations, sound and last frame: what a choice on a phone needs."""
    parts: list[str] = [fill("<b>{name}</b>", name=model.name)]
    price = catalog.min_price(model, mode)
    if price is not None:
        parts.append(_("from {price}").format(price=tokens(price)))
    parts.append(durations_label(list(model.durations_for(mode))))
    if model.has_audio:
        parts.append(_("🔊 sound"))
    if mode is Mode.I2V and model.last_frame:
        parts.append(_("last frame"))
    return " · ".join(parts)


def model_list(
    catalog: Catalog, mode: Mode, *, everything: bool = False, recent: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The short first screen (recommended models and the user's last one), or all models."""
    models = catalog.for_mode(mode)
    short = [m for m in models if m.recommended or m.id == recent]
    shown = models if everything or len(short) == len(models) or not short else short
    kb = Keyboard()
    for model in shown:
        price = catalog.min_price(model, mode)
        label = (
            model.name
            if price is None
            else _("{name} · from {price}").format(name=model.name, price=tokens(price))
        )
        kb.button(text=label, callback_data=PickModel(mode=mode, model=model_slug(model.id)))
    if shown is not models:
        kb.button(
            text=_("More models ({n}) ▸").format(n=len(models) - len(shown)),
            callback_data=Step(action=StepAction.MORE),
        )
    elif everything and short and len(short) < len(models):
        kb.button(text=_("◂ Recommended"), callback_data=Step(action=StepAction.FEWER))
    if len(models) >= 2:
        kb.button(text=_("⚖️ Compare models"), callback_data=Compare(action=CompareAction.START))
    kb.button(text=_("✖ Cancel"), callback_data=Step(action=StepAction.CANCEL))
    kb.adjust(1)
    title = _("🎬 Text to video") if mode is Mode.T2V else _("🖼 Image to video")
    lines = [_("{title}: choose a model").format(title=title), ""]
    lines += [model_line(catalog, m, mode) for m in shown]
    if not shown:
        lines.append(_("No model is available right now. Please try again later."))
    return "\n".join(lines), kb.as_markup()


def _mark(selected: bool, label: str) -> str:
    return f"✅ {label}" if selected else label


def params_screen(
    catalog: Catalog, model: VideoModel, valid: ValidParams, balance: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Each parameter with the values the model takes from here (nothing else is offered)."""
    mode = valid.mode
    lines = [fill("<b>{name}</b> · {mode}", name=model.name, mode=mode_name(mode)), ""]
    kb = Keyboard()
    widths: list[int] = []
    sizes: list[tuple[str, object]] = [
        ("duration", valid.duration),
        ("resolution", valid.resolution),
        ("aspect", valid.aspect),
    ]
    for name, current in sizes:
        if current is None:
            continue  # taken from the photo, or not chosen for this model
        lines.append(_param_line(name, current))
        offered = catalog.offered(model, mode, valid, name)
        widths += _choice_row(kb, name, current, offered, lambda v: str(v).replace(":", "x"))
    frames = 1 if mode is Mode.I2V else 0
    for spec in model.options_for(mode, valid.duration, frames):
        if spec.advanced:
            continue  # on the card's Advanced screen
        value = valid.options[spec.key]
        lines.append(_param_line(spec.key, value))
        offered = catalog.offered(model, mode, valid, spec.key)
        if spec.type != "bool":
            widths += _choice_row(kb, spec.key, value, offered, str)
        elif (not value) in offered:  # one button that switches it
            kb.button(
                text=f"{PARAM_NAMES.get(spec.key, spec.key)}: {value_label(spec.key, value)}",
                callback_data=SetParam(name=spec.key, value="0" if value else "1"),
            )
            widths.append(1)
    kb.button(text=_("⬅ Models"), callback_data=Step(action=StepAction.MODELS))
    kb.button(text=_("Next ➡"), callback_data=Step(action=StepAction.NEXT))
    kb.button(text=_("✖ Cancel"), callback_data=Step(action=StepAction.CANCEL))
    kb.adjust(*widths, 2, 1)
    price = _("Price: <b>{price}</b> · your balance: {balance}").format(
        price=tokens(valid.price), balance=tokens(balance)
    )
    return "\n".join(lines) + f"\n\n{price}", kb.as_markup()


def _param_line(name: str, value: object) -> str:
    hint = PARAM_HELP.get(name)
    text = f"<b>{PARAM_NAMES.get(name, name)}</b>: {value_label(name, value)}"
    return text + (f" — {hint}" if hint else "")


def _choice_row(
    kb: Keyboard,
    name: str,
    current: object,
    offered: list[Any],
    packed: Callable[[Any], str],
) -> list[int]:
    """One row of the values offered, the current one marked; none when there is no choice."""
    if len(offered) <= 1:
        return []
    for value in offered:
        kb.button(
            text=_mark(value == current, value_label(name, value)),
            callback_data=SetParam(name=name, value=packed(value)),
        )
    return [len(offered)]


def param_lines(valid: ValidParams) -> list[str]:
    lines = [f"{PARAM_NAMES['duration']}: {seconds(valid.duration)}"]
    if valid.resolution is not None:
        lines.append(f"{PARAM_NAMES['resolution']}: {valid.resolution}")
    if valid.aspect is not None:
        lines.append(f"{PARAM_NAMES['aspect']}: {valid.aspect}")
    for key, value in valid.options.items():
        lines.append(f"{PARAM_NAMES.get(key, key)}: {value_label(key, value)}")
    return lines


def cancel_only(skip: bool = False, ideas: bool = False) -> InlineKeyboardMarkup:
    kb = Keyboard()
    if ideas:
        kb.button(text=_("💡 Ideas"), callback_data=Step(action=StepAction.IDEAS))
    if skip:
        kb.button(text=_("Skip ➡"), callback_data=Step(action=StepAction.SKIP_PROMPT))
    kb.button(text=_("✖ Cancel"), callback_data=Step(action=StepAction.CANCEL))
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


def idea_categories(ideas: Ideas, mode: Mode, language: str) -> tuple[str, InlineKeyboardMarkup]:
    kb = Keyboard()
    for category in ideas.for_mode(mode):
        kb.button(text=category.title(language), callback_data=Idea(category=category.key))
    kb.button(text=_("⬅ Back"), callback_data=Step(action=StepAction.NEXT))
    kb.adjust(2)
    return _("💡 Pick a theme for ideas:"), kb.as_markup()


def idea_examples(
    category: Category, mode: Mode, language: str
) -> tuple[str, InlineKeyboardMarkup]:
    kb = Keyboard()
    lines = [fill("<b>{title}</b>", title=category.title(language)), ""]
    for n, example in enumerate(category.examples):
        lines.append(fill("{n}. {text}", n=n + 1, text=example.text(language)))
        kb.button(text=str(n + 1), callback_data=Idea(category=category.key, n=n))
    lines += ["", _("Tap a number to use that prompt.")]
    kb.button(text=_("⬅ Back"), callback_data=Step(action=StepAction.IDEAS))
    kb.adjust(len(category.examples), 1)
    return "\n".join(lines), kb.as_markup()


def progress_keyboard(job_id: int) -> InlineKeyboardMarkup:
    """Under a job's progress message while it runs: Cancel (a refund only before Runware has
    the task; after, the tap explains why not)."""
    kb = Keyboard()
    kb.button(text=_("✖ Cancel"), callback_data=StopJob(job=job_id))
    return kb.as_markup()


def after_video(
    job_id: int, *, seed: bool = False, again: bool = True, extend: int = 0
) -> InlineKeyboardMarkup:
    """Under a delivered video: again, the same seed with a new prompt (where the model takes a
    seed and the video's is known), continue, trim, join, the gallery. A trimmed or joined
    video (again=False) has no request to repeat."""
    kb = Keyboard()
    rows: list[int] = []
    if again:
        kb.button(text=_("🔁 Again with the same settings"), callback_data=Again(job=job_id))
        rows.append(1)
    if seed:
        kb.button(text=_("🎲 Same seed, new prompt"), callback_data=SameSeed(job=job_id))
        rows.append(1)
    if extend:  # the model extends its own videos natively
        kb.button(
            text=_("⏩ Extend by {n} s").format(n=extend),
            callback_data=Editing(action=EditAction.EXTEND, job=job_id),
        )
        rows.append(1)
    kb.button(
        text=_("▶️ Continue from here"),
        callback_data=Editing(action=EditAction.CONTINUE, job=job_id),
    )
    kb.button(text=_("✂️ Trim"), callback_data=Editing(action=EditAction.TRIM, job=job_id))
    kb.button(
        text=_("🎞 Join with others"), callback_data=Editing(action=EditAction.JOIN, job=job_id)
    )
    kb.button(text=_("📁 My videos"), callback_data=Menu(action=MenuAction.VIDEOS))
    kb.adjust(*rows, 1, 2, 1)
    return kb.as_markup()


def after_edit() -> InlineKeyboardMarkup:
    """Under a trimmed or joined video: it is in My videos, with everything one can do there."""
    kb = Keyboard()
    kb.button(text=_("📁 My videos"), callback_data=Menu(action=MenuAction.VIDEOS))
    return kb.as_markup()
