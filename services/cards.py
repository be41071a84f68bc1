"""Confirmation cards, the rules: the prompt checked against the model, translated to English
when the user wants that (and kept as written when the translation fails or would not fit),
the single-use draft saved (the user's previous card going stale), and what a card shows.
handlers/cards.py only draws what this returns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from services.billing import Billing
from services.catalog import (
    AdvancedOffer,
    Catalog,
    Mode,
    Problem,
    ValidParams,
    VideoModel,
    check_prompt,
)
from services.drafts import Drafts, StoredDraft
from services.errors import DraftGone
from services.jobs import JobService
from services.translate import PromptTranslator, Translation, looks_english
from services.users import AdvancedPrefs, User, Users


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
    seed: int | None = None  # "Same seed, new prompt": this seed, whatever the user set
    compare: tuple[str, ...] = ()  # models side by side: their ids (`chosen`: what they share)
    video_input: str | None = None  # an extension: the video to extend (Runware's videoUUID)
    extends: int | None = None  # ... and the user's job that made it
    last_image_uuid: str | None = None  # a last frame Runware already has ("again")


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
    offer: AdvancedOffer | None = None  # what the Advanced screen offers (None: nothing)
    entries: tuple[tuple[VideoModel, ValidParams], ...] = ()  # models side by side

    @property
    def count(self) -> int:
        """How many videos Generate starts."""
        return len(self.entries) if self.entries else self.draft.variants

    @property
    def total(self) -> int:
        """What Generate charges: each model's price side by side, else each variant's."""
        if self.entries:
            return sum(valid.price for _, valid in self.entries)
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
        if request.compare:
            return await self._make_compare(request, user)
        model = self.catalog.get(request.model_id)
        if model is None:
            raise LookupError(request.model_id)  # the wizard only offers catalog models
        prompt = check_prompt(model, request.mode, request.prompt)
        if isinstance(prompt, Problem):
            return prompt
        valid = self.catalog.validate(model, request.mode, dict(request.chosen))
        assert isinstance(valid, ValidParams), valid  # the parameter screen offers valid ones
        valid = self._remembered(model, valid, await self.users.advanced(user.id), request.seed)
        offer = self.catalog.advanced(model, valid)
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
            last_image_uuid=request.last_image_uuid if offer.last_frame else None,
            video_input=request.video_input if valid.extend else None,
            extends=request.extends if valid.extend else None,
        )
        return await self.view(draft, user)

    def side_by_side(
        self, mode: Mode, model_ids: tuple[str, ...], duration: object, aspect: object
    ) -> list[tuple[VideoModel, ValidParams]]:
        """Each model available now with the shared duration and format mapped to the nearest
        that it takes (its own defaults for the rest)."""
        entries = []
        for model_id in model_ids:
            model = self.catalog.available(model_id)
            if model is None or not model.supports(mode):
                continue
            valid = self.catalog.closest(model, mode, {"duration": duration, "aspect": aspect})
            if valid is not None:
                entries.append((model, valid))
        return entries

    async def _make_compare(self, request: CardRequest, user: User) -> CardView | Problem:
        """A side-by-side card: the prompt must suit every model (the first refusal is said)."""
        entries = self.side_by_side(
            request.mode,
            request.compare,
            request.chosen.get("duration"),
            request.chosen.get("aspect"),
        )
        if len(entries) < 2:
            raise LookupError(request.compare)  # the wizard offers live models only
        prompt: str | Problem = ""
        for model, _valid in entries:
            prompt = check_prompt(model, request.mode, request.prompt)
            if isinstance(prompt, Problem):
                return prompt
        assert isinstance(prompt, str)
        if request.prompt_en:
            translation = Translation("translated", request.prompt_en)
        elif user.translate_prompts and prompt:
            translation = await self.translator.to_english(prompt)
        else:
            translation = Translation("off")
        sent, translation = _fitting_all([m for m, _v in entries], request.mode, translation)
        if request.replaces is not None:
            await self.drafts.cancel(request.replaces, user.id)
        first_model, first = entries[0]
        draft = await self.drafts.save(
            user.id,
            request.mode,
            first_model.id,
            first.to_json(),
            prompt,
            image_id=request.image_id,
            image_uuid=request.image_uuid,
            prompt_sent=sent,
            translation=translation.status,
            compare=[(model.id, valid.to_json()) for model, valid in entries],
        )
        return await self.view(draft, user)

    def _remembered(
        self, model: VideoModel, valid: ValidParams, prefs: AdvancedPrefs, seed: int | None
    ) -> ValidParams:
        """`valid` with the user's advanced options, each where the model takes it (a seed
        asked for by "Same seed" first); unchanged if the result would not be accepted."""
        offer = self.catalog.advanced(model, valid)
        chosen: dict[str, Any] = valid.to_json()
        seed = seed if seed is not None else prefs.seed
        if offer.seed and seed is not None:
            chosen["seed"] = seed
        if prefs.negative is not None and len(prefs.negative) <= offer.negative:
            chosen["negative"] = prefs.negative
        switches = {k: v for k, v in prefs.switches.items() if k in offer.switches}
        chosen["options"] = {**valid.options, **switches}
        checked = self.catalog.validate(model, valid.mode, chosen)
        return checked if isinstance(checked, ValidParams) else valid

    # --- the Advanced screen ------------------------------------------------------------------

    async def set_seed(
        self, draft: StoredDraft, user: User, seed: int | None
    ) -> CardView | Problem:
        """A fixed seed (None: random) on the card, remembered for later cards."""
        prefs = await self.users.advanced(user.id)
        return await self._advanced(draft, user, {"seed": seed}, replace(prefs, seed=seed))

    async def set_negative(
        self, draft: StoredDraft, user: User, text: str | None
    ) -> CardView | Problem:
        """What the video should avoid (None: nothing), remembered for later cards."""
        text = text.strip() if text is not None else None
        prefs = await self.users.advanced(user.id)
        return await self._advanced(draft, user, {"negative": text}, replace(prefs, negative=text))

    async def set_switch(
        self, draft: StoredDraft, user: User, key: str, on: bool
    ) -> CardView | Problem:
        """A prompt-enhancement switch, remembered for later cards of models that have it."""
        model = self.catalog.get(draft.model_id)
        offer = None
        if model is not None:
            checked = self.catalog.validate(model, draft.mode, draft.params)
            if isinstance(checked, ValidParams):
                offer = self.catalog.advanced(model, checked)
        if offer is None or key not in offer.switches:
            return Problem("switch", f"{key} is not a switch of this model", {"key": key})
        options = {**dict(draft.params.get("options") or {}), key: on}
        prefs = (await self.users.advanced(user.id)).with_switch(key, on)
        return await self._advanced(draft, user, {"options": options}, prefs)

    async def set_last_frame(
        self, draft: StoredDraft, user: User, image_id: int | None
    ) -> CardView | Problem:
        """The card's last frame (a staged photo), or none. Not remembered: a photo is for one
        card."""
        view = await self.view(draft, user)
        if image_id is not None and not (view.offer and view.offer.last_frame):
            return Problem("last_frame", f"{view.model.name} takes no last frame here", {})
        if not await self.drafts.set_last_image(draft.id, user.id, image_id):
            raise DraftGone("not_found")
        return await self._fresh(draft, user)

    async def _advanced(
        self, draft: StoredDraft, user: User, change: dict[str, Any], prefs: AdvancedPrefs
    ) -> CardView | Problem:
        model = self.catalog.get(draft.model_id)
        if model is None:
            raise DraftGone("not_found")
        chosen = {**draft.params, **change}
        chosen = {k: v for k, v in chosen.items() if v is not None or k not in ("seed", "negative")}
        checked = self.catalog.validate(model, draft.mode, chosen)
        if not isinstance(checked, ValidParams):
            return checked[0]
        if not await self.drafts.set_params(draft.id, user.id, checked.to_json()):
            raise DraftGone("not_found")
        await self.users.set_advanced(user.id, prefs)
        return await self._fresh(draft, user)

    async def _fresh(self, draft: StoredDraft, user: User) -> CardView:
        fresh = await self.drafts.get(draft.id, user.id)
        if fresh is None:
            raise DraftGone("not_found")
        return await self.view(fresh, user)

    async def switch_translation(
        self, draft: StoredDraft, user: User, *, translate: bool
    ) -> CardView:
        """Send the original text or its translation; the choice is remembered for later cards.
        Raises DraftGone when the card is gone meanwhile."""
        await self.users.set_translate(user.id, translate)
        if translate:
            ids = [m for m, _p in draft.compare] if draft.compare else [draft.model_id]
            models = [m for m in map(self.catalog.get, ids) if m is not None]
            translation = await self.translator.to_english(draft.prompt)
            sent, translation = _fitting_all(models, draft.mode, translation)
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
        if draft.compare:
            return await self._view_compare(draft, user, balance, can_translate)
        offer = self.catalog.advanced(model, valid)
        if self.jobs is None:
            return CardView(draft, model, valid, balance, can_translate, offer=offer or None)
        active = await self.jobs.active_count(user.id)
        return CardView(
            draft,
            model,
            valid,
            balance,
            can_translate,
            active,
            self.jobs.max_active_per_user,
            offer or None,
        )

    async def _view_compare(
        self, draft: StoredDraft, user: User, balance: int, can_translate: bool
    ) -> CardView:
        assert draft.compare is not None
        entries = []
        for model_id, params in draft.compare:
            model = self.catalog.get(model_id)
            assert model is not None  # retired models stay in the catalog, marked
            checked = self.catalog.validate(model, draft.mode, params)
            valid = checked if isinstance(checked, ValidParams) else None
            if valid is None:  # withdrawn since the card was saved: priced as closest
                valid = self.catalog.closest(model, draft.mode, params)
            if valid is not None:
                entries.append((model, valid))
        model, valid = entries[0]
        active = await self.jobs.active_count(user.id) if self.jobs else 0
        limit = self.jobs.max_active_per_user if self.jobs else 0
        return CardView(
            draft, model, valid, balance, can_translate, active, limit, None, tuple(entries)
        )

    async def set_variants(self, draft: StoredDraft, user: User, variants: int) -> CardView:
        """How many videos the card makes. Raises DraftGone when the card is gone meanwhile."""
        if not await self.drafts.set_variants(draft.id, user.id, variants):
            raise DraftGone("not_found")
        return await self._fresh(draft, user)


def _fitting(
    model: VideoModel, mode: Mode, translation: Translation
) -> tuple[str | None, Translation]:
    return _fitting_all([model], mode, translation)


def _fitting_all(
    models: list[VideoModel], mode: Mode, translation: Translation
) -> tuple[str | None, Translation]:
    """The English text to send, if any: a translation one of the models would refuse (longer
    than it takes, say) counts as failed, and the prompt goes as written."""
    sent = translation.text if translation.status == "translated" else None
    if sent is not None and any(
        isinstance(check_prompt(model, mode, sent), Problem) for model in models
    ):
        return None, Translation("failed")
    return sent, translation
