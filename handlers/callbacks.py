"""Typed callback data: short prefixes, enums for choices, ids for records, all well under 64
bytes. Everything else stays server-side (FSM data, drafts)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from services.catalog import Mode


class MenuAction(StrEnum):
    T2V = "t2v"
    I2V = "i2v"
    VIDEOS = "videos"
    BALANCE = "balance"
    HELP = "help"
    LANGUAGE = "lang"
    SETTINGS = "set"
    HOME = "home"


class StepAction(StrEnum):
    MODELS = "models"  # back to the model list
    MORE = "more"  # every model, not just the recommended
    FEWER = "fewer"  # back to the recommended models
    NEXT = "next"  # parameters done
    SKIP_PROMPT = "skip"
    IDEAS = "ideas"
    CANCEL = "cancel"


class CardAction(StrEnum):
    GO = "go"
    EDIT = "edit"
    CANCEL = "cancel"
    TOPUP = "topup"
    ORIGINAL = "orig"  # send the user's own text, not its translation (remembered)
    TRANSLATE = "tr"  # translate to English after all (remembered)


class Menu(CallbackData, prefix="m"):
    action: MenuAction


class PickModel(CallbackData, prefix="md"):
    mode: Mode
    model: str  # catalog id with ':' written as '.' (':' separates callback fields)


class SetParam(CallbackData, prefix="p"):
    name: str  # "duration", "size" or a provider setting key
    value: str


class Step(CallbackData, prefix="s"):
    action: StepAction


class Card(CallbackData, prefix="c"):
    action: CardAction
    draft: int


class CardVariants(CallbackData, prefix="cv"):
    """How many videos the card makes. A class of its own: Card's packed form stays as it was,
    so cards already in users' chats keep working after an upgrade."""

    draft: int
    n: int


class AdvancedAction(StrEnum):
    OPEN = "o"  # the Advanced screen of a card
    SEED = "s"  # type a seed
    RANDOM = "r"  # no fixed seed
    NEGATIVE = "n"  # type what to avoid
    NO_NEGATIVE = "nx"
    LAST = "l"  # send a last frame
    NO_LAST = "lx"
    SWITCH = "w"  # a prompt-enhancement switch (`key`)
    BACK = "b"  # back to the card


class Advanced(CallbackData, prefix="ad"):
    """The Advanced screen of a card. A class of its own, like CardVariants."""

    action: AdvancedAction
    draft: int
    key: str = ""  # the switch's option key


class SameSeed(CallbackData, prefix="ss"):
    """ "Same seed, new prompt" on a delivered video."""

    job: int


class CompareAction(StrEnum):
    START = "go"  # from the model list: tick 2-3 models
    TICK = "t"  # `value`: a model's slug
    DONE = "ok"  # ticks done: what they share
    DURATION = "d"  # `value`: seconds
    ASPECT = "a"  # `value`: 16x9
    NEXT = "n"  # shared parameters done: the photo or the prompt
    BACK = "b"  # back to the ticks


class Compare(CallbackData, prefix="cm"):
    """Models side by side: the same request on 2-3 models, one card."""

    action: CompareAction
    value: str = ""


class EditAction(StrEnum):
    CONTINUE = "c"  # an image-to-video card from the video's last frame
    EXTEND = "x"  # a card extending the video natively (models that can)
    TRIM = "t"  # the trim screen of a video
    CUT = "k"  # a quick trim: `value` first1 | last1 | half1 | half2
    TYPE = "y"  # type the seconds to keep
    TRIM_GO = "g"  # confirm: `value` is "start-end" in seconds
    JOIN = "j"  # pick videos to join (`job`: the first one, or 0)
    PICK = "p"  # tick or untick a video to join
    PAGE = "n"  # more videos to pick from (`value`: page)
    JOIN_GO = "o"  # confirm the join


class Editing(CallbackData, prefix="e"):
    action: EditAction
    job: int = 0
    value: str = ""


class Idea(CallbackData, prefix="i"):
    category: str
    n: int = -1  # -1: show the category's examples; else take example n


class Again(CallbackData, prefix="a"):
    job: int


class StopJob(CallbackData, prefix="x"):
    """Cancel on a job's progress message."""

    job: int


class Language(CallbackData, prefix="l"):
    code: str


class Setting(CallbackData, prefix="st"):
    """A switch on the Settings screen: "file" (each video also as a file) or "link"."""

    name: str


def model_slug(model_id: str) -> str:
    return model_id.replace(":", ".")


def model_id_from_slug(slug: str) -> str:
    return slug.replace(".", ":", 1)


class GalleryAction(StrEnum):
    PAGE = "page"
    OPEN = "open"
    GROUP = "grp"  # a card's variants, listed together
    DELETE = "del"
    CONFIRM_DELETE = "delok"


class Gallery(CallbackData, prefix="g"):
    action: GalleryAction
    job: int = 0
    page: int = 0


class BroadcastAction(StrEnum):
    SEND = "send"  # the confirmed draft goes
    DROP = "drop"  # the draft is thrown away
    STOP = "stop"  # the running broadcast is cancelled


class BroadcastTap(CallbackData, prefix="bc"):
    action: BroadcastAction
    id: int
