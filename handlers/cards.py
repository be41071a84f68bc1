"""Confirmation cards: check the prompt, translate it when the user wants that, save the
single-use draft, and draw (or redraw) the card from the stored draft."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers import screens
from handlers.replies import prompt_problem_text
from handlers.states import Wizard, WizardData, save
from handlers.ui import Event, show
from services.billing import Billing
from services.catalog import Catalog, Mode, Problem, ValidParams, check_prompt
from services.drafts import Drafts, StoredDraft
from services.translate import PromptTranslator, Translation, looks_english
from services.users import User, Users


@dataclass
class Cards:
    catalog: Catalog
    billing: Billing
    drafts: Drafts
    users: Users
    translator: PromptTranslator

    async def make(
        self,
        event: Event,
        state: FSMContext,
        data: WizardData,
        user: User,
        *,
        in_place: bool = False,
    ) -> None:
        """Check the prompt, translate it if wanted, save a single-use draft and show the card
        (as a new message, or in place of the screen whose button led here)."""
        model = self.catalog.get(data.model_id or "")
        assert model is not None
        prompt = check_prompt(model, data.mode, data.prompt)
        if isinstance(prompt, Problem):
            await state.set_state(Wizard.prompt)
            await save(state, data.model_copy(update={"prompt": None, "prompt_en": None}))
            target = event.message if isinstance(event, CallbackQuery) else event
            assert isinstance(target, Message)
            await target.answer(
                prompt_problem_text(prompt), reply_markup=screens.prompt_keyboard(model, data.mode)
            )
            return
        valid = self.catalog.validate(model, data.mode, data.chosen())
        assert isinstance(valid, ValidParams), valid
        if data.prompt_en:  # an idea or a repeat: the English text is known already
            translation = Translation("translated", data.prompt_en)
        elif user.translate_prompts and prompt:
            translation = await self.translator.to_english(prompt)
        else:
            translation = Translation("off")
        sent = translation.text if translation.status == "translated" else None
        if sent is not None and isinstance(check_prompt(model, data.mode, sent), Problem):
            sent, translation = None, Translation("failed")  # e.g. longer than the model takes
        if data.draft_id is not None:
            await self.drafts.cancel(data.draft_id, user.id)  # the older card goes stale
        draft = await self.drafts.save(
            user.id,
            data.mode,
            model.id,
            valid.to_json(),
            prompt,
            image_id=data.image_id,
            image_uuid=data.image_uuid,
            prompt_sent=sent,
            translation=translation.status,
        )
        await save(state, data.model_copy(update={"prompt": prompt, "draft_id": draft.id}))
        await state.set_state(Wizard.confirm)
        text, markup = await self.render(draft, user)
        if in_place:
            await show(event, text, markup)
            return
        target = event.message if isinstance(event, CallbackQuery) else event
        assert isinstance(target, Message)
        await target.answer(text, reply_markup=markup)

    async def render(self, draft: StoredDraft, user: User) -> tuple[str, InlineKeyboardMarkup]:
        model = self.catalog.get(draft.model_id)
        assert model is not None
        checked = self.catalog.validate(model, draft.mode, draft.params)
        valid = checked if isinstance(checked, ValidParams) else None
        if valid is None:  # withdrawn or retired since the card was saved: priced as closest
            valid = self.catalog.closest(model, draft.mode, draft.params)
        assert valid is not None
        can_translate = (
            self.translator.enabled
            and draft.prompt_sent is None
            and draft.translation in ("off", "original")
            and looks_english(draft.prompt) is not True
        )
        return screens.card(
            model,
            valid,
            draft.prompt,
            await self.billing.balance(user.id),
            draft.id,
            draft.image_id is not None or draft.image_uuid is not None,
            prompt_sent=draft.prompt_sent,
            translation=draft.translation,
            can_translate=can_translate,
        )

    async def switch_translation(
        self, callback: CallbackQuery, draft: StoredDraft, user: User, *, translate: bool
    ) -> None:
        """Send the original text or its translation; the choice is remembered for later cards."""
        await self.users.set_translate(user.id, translate)
        if translate:
            translation = await self.translator.to_english(draft.prompt)
            model = self.catalog.get(draft.model_id)
            sent = translation.text if translation.status == "translated" else None
            if (
                sent is not None
                and model
                and isinstance(check_prompt(model, Mode(draft.mode), sent), Problem)
            ):
                sent, translation = None, Translation("failed")
            await self.drafts.set_prompt_sent(draft.id, user.id, sent, translation.status)
        else:
            await self.drafts.set_prompt_sent(draft.id, user.id, None, "original")
        fresh = await self.drafts.get(draft.id, user.id)
        assert fresh is not None
        text, markup = await self.render(fresh, user)
        await show(callback, text, markup)
