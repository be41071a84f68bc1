"""Confirmation cards on the screen: one call to the card service (services/cards.py), then the
wizard's state and the card drawn (its text and buttons are here too), or the prompt step again
with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.callbacks import Advanced, AdvancedAction, Card, CardAction, CardVariants
from handlers.keyboard import Keyboard
from handlers.render import escape, fill
from handlers.replies import prompt_problem_text
from handlers.screens import PARAM_NAMES, mode_name, param_lines, seconds, tokens, value_label
from handlers.states import Wizard, WizardData, save
from handlers.texts import TEXT_LIMIT, cut, utf16_len
from handlers.ui import Event, show
from services.cards import CardRequest, CardService, CardView
from services.catalog import Problem, ValidParams, VideoModel
from services.drafts import MAX_VARIANTS, StoredDraft
from services.users import User


def draw(view: CardView) -> tuple[str, InlineKeyboardMarkup]:
    """The card: model, parameters, photo, prompt (and the English text sent), price, buttons."""
    if view.entries:
        return draw_compare(view)
    draft, valid = view.draft, view.valid
    lines = [
        _("<b>Check and confirm</b>"),
        fill("🎬 <b>{name}</b> · {mode}", name=view.model.name, mode=mode_name(valid.mode)),
        *param_lines(valid),
    ]
    if draft.image_id is not None or draft.image_uuid is not None:
        lines.append(_("Image: your photo"))
    lines += advanced_lines(valid, draft.has_last_frame)
    if draft.extends is not None:
        lines.append(
            _("⏩ Extends video #{job} by {n} s").format(job=draft.extends, n=valid.duration)
        )
    lines.append(
        _("🎞 Variants: {n} (videos of this request, 1 to {most})").format(
            n=draft.variants, most=MAX_VARIANTS
        )
    )
    head = "\n".join(lines)
    price_line = card_price_line(view.total, view.balance, valid.price, draft.variants)
    room_left = view.room
    over_limit = room_left is not None and draft.variants > room_left
    if over_limit:
        price_line += "\n" + limit_line(view.limit, view.active)
    prompts = 2 if draft.prompt_sent else 1
    room = (TEXT_LIMIT - utf16_len(head) - utf16_len(price_line) - 200) // prompts
    body = card_prompt_lines(draft.prompt, draft.prompt_sent, draft.translation, room)
    affordable = view.balance >= view.total
    markup = card_keyboard(
        draft.id,
        affordable,
        draft.prompt_sent,
        view.can_translate,
        variants=draft.variants,
        startable=not over_limit,
        advanced=view.offer is not None,
        editable=draft.video_input is None,  # an extension's only parameters are its model's
    )
    return f"{head}\n{body}\n{price_line}", markup


def advanced_lines(valid: ValidParams, last_frame: bool) -> list[str]:
    """The advanced options set on a card (nothing when none is)."""
    lines = []
    if valid.seed is not None:
        lines.append(_("🎲 Seed: {seed}").format(seed=valid.seed))
    if valid.negative is not None:
        lines.append(fill(_("🚫 Avoid: {text}"), text=cut(valid.negative, 300)))
    if last_frame:
        lines.append(_("🖼 Last frame: your photo"))
    return lines


def draw_compare(view: CardView) -> tuple[str, InlineKeyboardMarkup]:
    """A side-by-side card: each model with its own parameters and price, the total, buttons."""
    draft = view.draft
    lines = [
        _("<b>Check and confirm</b>"),
        fill(_("⚖️ <b>Models side by side</b> · {mode}"), mode=mode_name(draft.mode)),
        *entry_lines(view.entries),
    ]
    if draft.image_id is not None or draft.image_uuid is not None:
        lines.append(_("Image: your photo"))
    head = "\n".join(lines)
    price_line = card_price_line(view.total, view.balance)
    over_limit = view.room is not None and view.count > view.room
    if over_limit:
        price_line += "\n" + limit_line(view.limit, view.active, compare=True)
    prompts = 2 if draft.prompt_sent else 1
    room = (TEXT_LIMIT - utf16_len(head) - utf16_len(price_line) - 200) // prompts
    body = card_prompt_lines(draft.prompt, draft.prompt_sent, draft.translation, room)
    markup = card_keyboard(
        draft.id,
        view.balance >= view.total,
        draft.prompt_sent,
        view.can_translate,
        variants=view.count,
        startable=not over_limit,
        compare=True,
    )
    return f"{head}\n{body}\n{price_line}", markup


def entry_lines(entries: tuple[tuple[VideoModel, ValidParams], ...]) -> list[str]:
    """ "1. Veo 3.1 Fast: 8 s · 16:9 · 720p · Sound: on — 360 tokens", one line a model."""
    lines: list[str] = []
    for n, (model, valid) in enumerate(entries, 1):
        parts = [seconds(valid.duration)]
        parts += [x for x in (valid.aspect, valid.resolution) if x is not None]
        parts += [f"{PARAM_NAMES.get(k, k)}: {value_label(k, v)}" for k, v in valid.options.items()]
        lines.append(
            fill(
                "{n}. <b>{name}</b>: {params} — {price}",
                n=n,
                name=model.name,
                params=" · ".join(parts),
                price=tokens(valid.price),
            )
        )
    return lines


def card_price_line(total: int, balance: int, price: int | None = None, variants: int = 1) -> str:
    """The price (each variant's times their number) and the balance after, or what is missing."""
    shown = tokens(total)
    if variants > 1 and price is not None:
        shown = _("{variants} × {price} = {total}").format(
            variants=variants, price=price, total=tokens(total)
        )
    if balance >= total:
        return _("Price: <b>{price}</b> · balance after: {after}").format(
            price=shown, after=tokens(balance - total)
        )
    return _(
        "Price: <b>{price}</b> · your balance: {balance}\n⚠️ Not enough tokens: {missing} missing."
    ).format(price=shown, balance=tokens(balance), missing=tokens(total - balance))


def limit_line(limit: int, active: int, *, compare: bool = False) -> str:
    """Why Generate is missing: the per-user limit of videos in progress would refuse."""
    if compare:
        return _(
            "⚠️ You can have {limit} videos in progress at once and {active} are in progress "
            "now: compare fewer models, or wait until they are ready."
        ).format(limit=limit, active=active)
    return _(
        "⚠️ You can have {limit} videos in progress at once and {active} are in progress now: "
        "choose fewer variants, or wait until they are ready."
    ).format(limit=limit, active=active)


def card_prompt_lines(
    prompt: str, prompt_sent: str | None, translation: str | None, room: int
) -> str:
    """The user's words and the English text sent (each cut to `room`), or why there is none."""
    label, sent_label = _("Prompt:"), _("In English (this is sent):")
    body = f"\n{label} <i>{escape(cut(prompt, room))}</i>\n" if prompt else "\n"
    if prompt_sent:
        body += f"{sent_label} <i>{escape(cut(prompt_sent, room))}</i>\n"
    elif translation == "failed":
        body += _("⚠️ Translation is unavailable right now: the prompt goes as written.") + "\n"
    return body


def card_keyboard(
    draft_id: int,
    affordable: bool,
    prompt_sent: str | None,
    can_translate: bool,
    *,
    variants: int = 1,
    startable: bool = True,
    advanced: bool = False,
    compare: bool = False,
    editable: bool = True,
) -> InlineKeyboardMarkup:
    kb = Keyboard()
    rows: list[int] = []
    if not affordable:
        kb.button(text=_("💰 Top up"), callback_data=Card(action=CardAction.TOPUP, draft=draft_id))
        rows.append(1)
    elif startable:
        label = (
            _("🚀 Generate") if variants == 1 else _("🚀 Generate {n} videos").format(n=variants)
        )
        kb.button(text=label, callback_data=Card(action=CardAction.GO, draft=draft_id))
        rows.append(1)
    if not compare:  # one tap: that many videos of the same request
        for n in range(1, MAX_VARIANTS + 1):
            kb.button(
                text=f"✓ {n}" if n == variants else str(n),
                callback_data=CardVariants(draft=draft_id, n=n),
            )
        rows.append(MAX_VARIANTS)
    if prompt_sent:
        kb.button(
            text=_("✍️ Send my original text"),
            callback_data=Card(action=CardAction.ORIGINAL, draft=draft_id),
        )
    elif can_translate:
        kb.button(
            text=_("🌐 Translate to English"),
            callback_data=Card(action=CardAction.TRANSLATE, draft=draft_id),
        )
    if editable:
        kb.button(
            text=_("⚙️ Change parameters"),
            callback_data=Card(action=CardAction.EDIT, draft=draft_id),
        )
    if advanced:  # out of the way: a first-time user never has to open it
        kb.button(
            text=_("🧪 Advanced"),
            callback_data=Advanced(action=AdvancedAction.OPEN, draft=draft_id),
        )
    kb.button(text=_("✖ Cancel"), callback_data=Card(action=CardAction.CANCEL, draft=draft_id))
    kb.adjust(*rows, 1)
    return kb.as_markup()


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
            seed=data.seed,
            last_image_uuid=data.last_image_uuid,
            compare=tuple(data.compare),
            video_input=data.video_input,
            extends=data.extends,
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
        text, markup = draw(view)
        await show(callback, text, markup)
