"""Text-to-video and image-to-video wizards: model -> parameters -> (photo ->) prompt -> card.

Every step edits one screen message in place; every state has a reply for wrong input; the card
is a single-use draft, so Generate can never make two jobs. One module per part of the way:
`params` (model and parameters), `steps` (the step buttons), `photo`, `card` (prompt, ideas,
the card's buttons), `progress` (Cancel on a started job), `shortcuts` (a text or photo sent
outside any flow)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter

from handlers.callbacks import (
    Advanced,
    AdvancedAction,
    Again,
    Card,
    CardAction,
    CardVariants,
    Compare,
    CompareAction,
    Idea,
    PickModel,
    SameSeed,
    SetParam,
    Step,
    StepAction,
    StopJob,
)
from handlers.filters import CommandOrPayment, HasImage, PlainText, Tapped, TappedAny
from handlers.states import Wizard
from handlers.ui import outdated
from handlers.wizard.advanced import (
    ask_value,
    clear_value,
    got_last_frame,
    got_negative,
    got_seed,
    not_a_value,
    open_advanced,
    same_seed,
)
from handlers.wizard.card import (
    again,
    card_cancel,
    card_edit,
    card_go,
    card_topup,
    card_translation,
    card_variants,
    got_prompt,
    not_a_prompt,
    on_idea,
)
from handlers.wizard.compare import (
    back_to_ticks,
    set_shared,
    shared_done,
    start_compare,
    tick,
    ticks_done,
)
from handlers.wizard.params import begin, pick_model, set_param
from handlers.wizard.photo import got_photo, not_a_photo
from handlers.wizard.progress import stop_job
from handlers.wizard.shortcuts import photo_shortcut, text_shortcut, use_buttons, with_recent
from handlers.wizard.steps import (
    back_to_models,
    back_to_prompt,
    cancel_step,
    cancel_wizard,
    params_done,
    show_ideas,
    skip_prompt,
)

__all__ = ["begin", "cancel_wizard", "setup", "with_recent"]


def setup() -> Router:
    router = Router(name="wizard")
    # Commands and payments belong to other routers in every state: "/help" mid-wizard is
    # help, not a prompt, and a payment is recorded whatever screen the user is on.
    router.message.filter(~CommandOrPayment())
    taps = (PickModel, SetParam, Step, Card, CardVariants, Advanced, Compare, Idea, Again, SameSeed,
            StopJob)  # fmt: skip
    router.callback_query.filter(TappedAny(*taps))
    tap = router.callback_query.register
    tap(pick_model, Tapped(PickModel), StateFilter(Wizard.model))
    tap(outdated, Tapped(PickModel))
    tap(set_param, Tapped(SetParam), StateFilter(Wizard.params))
    tap(outdated, Tapped(SetParam))
    tap(start_compare, Tapped(Compare, CompareAction.START), StateFilter(Wizard.model))
    tap(tick, Tapped(Compare, CompareAction.TICK), StateFilter(Wizard.compare))
    tap(ticks_done, Tapped(Compare, CompareAction.DONE), StateFilter(Wizard.compare))
    shared = (CompareAction.DURATION, CompareAction.ASPECT)
    tap(set_shared, Tapped(Compare, *shared), StateFilter(Wizard.compare_params))
    tap(shared_done, Tapped(Compare, CompareAction.NEXT), StateFilter(Wizard.compare_params))
    tap(back_to_ticks, Tapped(Compare, CompareAction.BACK), StateFilter(Wizard.compare_params))
    tap(outdated, Tapped(Compare))

    tap(cancel_step, Tapped(Step, StepAction.CANCEL))
    models = (StepAction.MODELS, StepAction.MORE, StepAction.FEWER)
    tap(back_to_models, Tapped(Step, *models), StateFilter(Wizard))
    tap(params_done, Tapped(Step, StepAction.NEXT), StateFilter(Wizard.params))
    tap(back_to_prompt, Tapped(Step, StepAction.NEXT), StateFilter(Wizard.prompt))
    tap(show_ideas, Tapped(Step, StepAction.IDEAS), StateFilter(Wizard.prompt))
    tap(skip_prompt, Tapped(Step, StepAction.SKIP_PROMPT), StateFilter(Wizard.prompt))
    tap(outdated, Tapped(Step))

    tap(card_go, Tapped(Card, CardAction.GO))
    tap(card_cancel, Tapped(Card, CardAction.CANCEL))
    tap(card_edit, Tapped(Card, CardAction.EDIT))
    tap(card_translation, Tapped(Card, CardAction.ORIGINAL, CardAction.TRANSLATE))
    tap(card_topup, Tapped(Card, CardAction.TOPUP))
    tap(card_variants, Tapped(CardVariants))
    tap(open_advanced, Tapped(Advanced, AdvancedAction.OPEN, AdvancedAction.BACK))
    values = (AdvancedAction.SEED, AdvancedAction.NEGATIVE, AdvancedAction.LAST)
    tap(ask_value, Tapped(Advanced, *values))
    tap(clear_value, Tapped(Advanced))
    tap(same_seed, Tapped(SameSeed))
    tap(on_idea, Tapped(Idea))
    tap(again, Tapped(Again))
    tap(stop_job, Tapped(StopJob))

    message = router.message.register
    message(got_photo, StateFilter(Wizard.photo), HasImage())
    message(not_a_photo, StateFilter(Wizard.photo))
    message(got_prompt, StateFilter(Wizard.prompt, Wizard.confirm), PlainText())
    message(not_a_prompt, StateFilter(Wizard.prompt, Wizard.confirm))
    message(got_seed, StateFilter(Wizard.seed), PlainText())
    message(got_negative, StateFilter(Wizard.negative), PlainText())
    message(got_last_frame, StateFilter(Wizard.last_frame), HasImage())
    message(not_a_value, StateFilter(Wizard.seed, Wizard.negative, Wizard.last_frame))
    message(use_buttons, StateFilter(Wizard.model, Wizard.params, Wizard.compare,
                                     Wizard.compare_params))  # fmt: skip
    message(text_shortcut, StateFilter(None), PlainText())
    message(photo_shortcut, StateFilter(None), HasImage())
    return router
