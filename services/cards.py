"""Confirmation cards, the rules: the prompt checked against the model, translated to English
when the user wants that (and kept as written when the translation fails or would not fit),
the single-use draft saved (the user's previous card going stale), and what a card shows.
handlers/cards.py only draws what this returns."""

from __future__ import annotations

from dataclasses import dataclass

from services.billing import Billing
from services.catalog import Catalog, Mode, Problem, ValidParams, VideoModel, check_prompt
from services.drafts import Drafts, StoredDraft
from services.errors import DraftGone
from services.jobs import JobService
from services.translate import PromptTranslator, Translation, looks_english
from services.users import User, Users


@dataclass(frozen=True)
class CardRequest:
    """What the wizard collected: the model, the parameters chosen, the prompt (and its English
    text when it is known already: an idea, a repeat), the photo, the card it replaces."""

    mode: Mode
    model_id: str
    chosen: dict[str, object]
    prompt: str | None
    prompt_en: str | None = None
    image_id: int | None = None
    image_uuid: str | None = None
    replaces: int | None = None  # the user's previous card, cancelled when this one is saved


@dataclass(frozen=True)
class CardView:
    """Everything a card shows."""

    draft: StoredDraft
    model: VideoModel
    valid: ValidParams
    balance: int
    can_translate: bool
    active: int = 0  # the user's jobs in progress now
    limit: int = 0  # how many they may have at once (0: no limit known)

    @property
    def total(self) -> int:
        """What Generate charges: the price of each variant."""
        return self.valid.price * self.draft.variants

    @property
    def room(self) -> int | None:
        """How many more jobs the user may start now (None: no limit known)."""
        return max(0, self.limit - self.active) if self.limit else None


class CardService:
    def __init__(
        self,
        catalog: Catalog,
        billing: Billing,
        drafts: Drafts,
        users: Users,
        translator: PromptTranslator,
        jobs: JobService | None = None,
    ) -> None:
        self.jobs = jobs  # the per-user limit of active jobs, shown on the card
        self.catalog = catalog
        self.billing = billing
        self.drafts = drafts
        self.users = users
        self.translator = translator

    async def make(self, request: CardRequest, user: User) -> CardView | Problem:
        """The saved card, or the prompt's problem (nothing saved, nothing cancelled)."""
        model = self.catalog.get(request.model_id)
        if model is None:
            raise LookupError(request.model_id)  # the wizard only offers catalog models
        prompt = check_prompt(model, request.mode, request.prompt)
        if isinstance(prompt, Problem):
            return prompt
        valid = self.catalog.validate(model, request.mode, dict(request.chosen))
        assert isinstance(valid, ValidParams), valid  # the parameter screen offers valid ones
        if request.prompt_en:
            translation = Translation("translated", request.prompt_en)
        elif user.translate_prompts and prompt:
            translation = await self.translator.to_english(prompt)
        else:
            translation = Translation("off")
        sent, translation = _fitting(model, request.mode, translation)
        if request.replaces is not None:
            await self.drafts.cancel(request.replaces, user.id)
        draft = await self.drafts.save(
            user.id,
            request.mode,
            model.id,
            valid.to_json(),
            prompt,
            image_id=request.image_id,
            image_uuid=request.image_uuid,
            prompt_sent=sent,
            translation=translation.status,
        )
        return await self.view(draft, user)

    async def switch_translation(
        self, draft: StoredDraft, user: User, *, translate: bool
    ) -> CardView:
        """Send the original text or its translation; the choice is remembered for later cards.
        Raises DraftGone when the card is gone meanwhile."""
        await self.users.set_translate(user.id, translate)
        if translate:
            model = self.catalog.get(draft.model_id)
            translation = await self.translator.to_english(draft.prompt)
            sent, translation = (
                _fitting(model, draft.mode, translation) if model else (None, translation)
            )
            await self.drafts.set_prompt_sent(draft.id, user.id, sent, translation.status)
        else:
            await self.drafts.set_prompt_sent(draft.id, user.id, None, "original")
        fresh = await self.drafts.get(draft.id, user.id)
        if fresh is None:
            raise DraftGone("not_found")
        return await self.view(fresh, user)

    async def view(self, draft: StoredDraft, user: User) -> CardView:
        model = self.catalog.get(draft.model_id)
        assert model is not None  # retired models stay in the catalog, marked
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
        balance = await self.billing.balance(user.id)
        if self.jobs is None:
            return CardView(draft, model, valid, balance, can_translate)
        active = await self.jobs.active_count(user.id)
        return CardView(
            draft, model, valid, balance, can_translate, active, self.jobs.max_active_per_user
        )

    async def set_variants(self, draft: StoredDraft, user: User, variants: int) -> CardView:
        """How many videos the card makes. Raises DraftGone when the card is gone meanwhile."""
        if not await self.drafts.set_variants(draft.id, user.id, variants):
            raise DraftGone("not_found")
        fresh = await self.drafts.get(draft.id, user.id)
        if fresh is None:
            raise DraftGone("not_found")
        return await self.view(fresh, user)


def _fitting(
    model: VideoModel, mode: Mode, translation: Translation
) -> tuple[str | None, Translation]:
    """The English text to send, if any: a translation the model would refuse (longer than it
    takes, say) counts as failed, and the prompt goes as written."""
    sent = translation.text if translation.status == "translated" else None
    if sent is not None and isinstance(check_prompt(model, mode, sent), Problem):
        return None, Translation("failed")
    return sent, translation
