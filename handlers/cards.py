"""Confirmation cards on the screen: one call to the card service (services/cards.py), then the
wizard's state and the card drawn, or the prompt step again with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers import screens
from handlers.replies import prompt_problem_text
from handlers.states import Wizard, WizardData, save
from handlers.ui import Event, show
from services.cards import CardRequest, CardService, CardView
from services.catalog import Problem
from services.drafts import StoredDraft
from services.users import User


def draw(view: CardView) -> tuple[str, InlineKeyboardMarkup]:
    draft = view.draft
    return screens.card(
        view.model,
        view.valid,
        draft.prompt,
        view.balance,
        draft.id,
        draft.image_id is not None or draft.image_uuid is not None,
        prompt_sent=draft.prompt_sent,
        translation=draft.translation,
        can_translate=view.can_translate,
    )


@dataclass
class Cards:
    service: CardService

    async def make(
        self,
        event: Event,
        state: FSMContext,
        data: WizardData,
        user: User,
        *,
        in_place: bool = False,
    ) -> None:
        """Show the card for what the wizard collected (as a new message, or in place of the
        screen whose button led here); a prompt the model refuses goes back to the prompt step."""
        request = CardRequest(
            mode=data.mode,
            model_id=data.model_id or "",
            chosen=data.chosen(),
            prompt=data.prompt,
            prompt_en=data.prompt_en,
            image_id=data.image_id,
            image_uuid=data.image_uuid,
            replaces=data.draft_id,
        )
        made = await self.service.make(request, user)
        target = event.message if isinstance(event, CallbackQuery) else event
        if isinstance(made, Problem):
            await state.set_state(Wizard.prompt)
            await save(state, data.model_copy(update={"prompt": None, "prompt_en": None}))
            model = self.service.catalog.get(request.model_id)
            assert isinstance(target, Message) and model is not None
            markup = screens.prompt_keyboard(model, data.mode)
            await target.answer(prompt_problem_text(made), reply_markup=markup)
            return
        draft = made.draft
        await save(state, data.model_copy(update={"prompt": draft.prompt, "draft_id": draft.id}))
        await state.set_state(Wizard.confirm)
        text, markup = draw(made)
        if in_place:
            await show(event, text, markup)
            return
        assert isinstance(target, Message)
        await target.answer(text, reply_markup=markup)

    async def switch_translation(
        self, callback: CallbackQuery, draft: StoredDraft, user: User, *, translate: bool
    ) -> None:
        view = await self.service.switch_translation(draft, user, translate=translate)
        if view is not None:
            text, markup = draw(view)
            await show(callback, text, markup)
