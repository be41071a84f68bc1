"""The wizard's states and its typed step data (kept in the FSM storage, i.e. SQLite)."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from pydantic import BaseModel

from services.catalog import Mode, ValidParams
from services.drafts import StoredDraft


class Wizard(StatesGroup):
    model = State()
    params = State()
    photo = State()
    prompt = State()
    confirm = State()
    seed = State()  # the Advanced screen waits for a typed seed
    negative = State()  # ... for what to avoid
    last_frame = State()  # ... for a last-frame photo
    compare = State()  # ticking 2-3 models to compare
    compare_params = State()  # what they share: duration and format


class WizardData(BaseModel):
    mode: Mode
    model_id: str | None = None
    duration: int | None = None
    resolution: str | None = None
    aspect: str | None = None
    options: dict[str, bool | str] = {}
    image_id: int | None = None  # staged image (image-to-video)
    image_uuid: str | None = None  # image Runware already has ("again")
    prompt: str | None = None
    prompt_en: str | None = None  # known English text for `prompt` (an idea, an "again")
    draft_id: int | None = None  # the open confirmation card
    recent: str | None = None  # the user's last model in this mode: on the short model list
    seed: int | None = None  # "Same seed, new prompt": the seed for the card
    last_image_uuid: str | None = None  # a last frame Runware already has ("again")
    compare: list[str] = []  # models side by side (model_id: the one whose prompt rules apply)
    video_input: str | None = None  # an extension: the video to extend (Runware's videoUUID)
    extends: int | None = None  # ... and the user's job that made it

    @classmethod
    def of_draft(cls, draft: StoredDraft) -> WizardData:
        """The wizard data of a saved card (its parameters are checked by the caller)."""
        return cls(
            mode=draft.mode,
            model_id=draft.model_id,
            image_id=draft.image_id,
            image_uuid=draft.image_uuid,
            prompt=draft.prompt,
            last_image_uuid=draft.last_image_uuid,
            video_input=draft.video_input,
            extends=draft.extends,
        )

    def chosen(self) -> dict[str, Any]:
        """What Catalog.validate() takes."""
        return {
            "duration": self.duration,
            "resolution": self.resolution,
            "aspect": self.aspect,
            "options": dict(self.options),
            **({"extend": True} if self.video_input else {}),
        }

    def with_params(self, valid: ValidParams) -> WizardData:
        """This data with a model and its validated parameters (a new model, a changed value,
        a successor's closest parameters)."""
        return self.model_copy(
            update={
                "model_id": valid.model_id,
                "duration": valid.duration,
                "resolution": valid.resolution,
                "aspect": valid.aspect,
                "options": dict(valid.options),
            }
        )

    @property
    def has_image(self) -> bool:
        return self.image_id is not None or self.image_uuid is not None


async def load(state: FSMContext) -> WizardData | None:
    raw = await state.get_data()
    try:
        return WizardData.model_validate(raw) if raw else None
    except ValueError:
        return None


async def save(state: FSMContext, data: WizardData) -> None:
    await state.set_data(data.model_dump(mode="json"))
