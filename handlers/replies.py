"""Domain refusals in plain words, in the user's language."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.screens import tokens
from services.catalog import Problem
from services.errors import (
    AmountError,
    DomainError,
    DraftGone,
    GenerationPaused,
    ImageRejected,
    InsufficientBalance,
    InvalidRequest,
    TooManyActiveJobs,
    UnknownModel,
    UnknownUser,
)


def prompt_problem_text(problem: Problem) -> str:
    if problem.code == "prompt_short":
        return _("The prompt is too short: {length} characters, at least {min}.").format(
            **problem.args
        )
    if problem.code == "prompt_long":
        return _(
            "The prompt is too long: {length} characters, at most {max}. Please shorten it."
        ).format(**problem.args)
    return _("The prompt is empty. Please describe the video in words.")


def image_problem_text(exc: ImageRejected) -> str:
    accepted = _("Please send a JPEG, PNG or WEBP image, up to 10 MB, at least 300×300 px.")
    if exc.reason == "too_big":
        head = _("This file is larger than 10 MB.")
    elif exc.reason == "animated":
        head = _("Animated images can't be used, only still ones.")
    elif exc.reason == "corrupt":
        head = _("This image seems damaged and can't be read.")
    elif exc.reason == "too_small":
        head = _("This image is too small or too narrow: {width}×{height} px.").format(
            width=exc.details.get("width"), height=exc.details.get("height")
        )
    else:
        head = _("I can't use this file: it is not a JPEG, PNG or WEBP image.")
    return f"{head}\n{accepted}"


def domain_error_text(exc: DomainError) -> str:
    if isinstance(exc, InsufficientBalance):
        return _("Not enough tokens: {need} needed, you have {have}.").format(
            need=tokens(exc.need), have=tokens(exc.have)
        )
    if isinstance(exc, TooManyActiveJobs):
        return _(
            "You already have {limit} videos in progress. Please wait until one is ready."
        ).format(limit=exc.limit)
    if isinstance(exc, GenerationPaused):
        return _(
            "Video generation is paused for maintenance. Please try again later; your tokens "
            "are safe."
        )
    if isinstance(exc, DraftGone):
        if exc.reason == "used":
            return _("This card was already used: the video is on its way.")
        if exc.reason == "image_expired":
            return _("The photo of this card has expired. Please send it again.")
        if exc.reason == "cancelled":
            return _("This card was cancelled.")
        return _("This card was not found.")
    if isinstance(exc, InvalidRequest):
        return _("The model can't take this: {problems}").format(
            problems="; ".join(p.message for p in exc.problems)
        )
    if isinstance(exc, UnknownModel):
        return _("This model is no longer offered. Please choose another one.")
    if isinstance(exc, ImageRejected):
        return image_problem_text(exc)
    if isinstance(exc, AmountError):
        return _("That amount is not valid.")
    if isinstance(exc, UnknownUser):
        return _("Not found.")
    return _("That can't be done.")
