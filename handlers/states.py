"""The wizard's states and its typed step data (kept in the FSM storage, i.e. SQLite)."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from pydantic import BaseModel

from services.catalog import Mode, VideoModel


class Wizard(StatesGroup):
    model = State()
    params = State()
    photo = State()
    prompt = State()
    confirm = State()


class WizardData(BaseModel):
    mode: Mode
    model_id: str | None = None
    duration: int | None = None
    size: str | None = None
    settings: dict[str, bool | str] = {}
    image_id: int | None = None  # staged image (image-to-video)
    image_uuid: str | None = None  # image Runware already has ("again")
    prompt: str | None = None
    prompt_en: str | None = None  # known English text for `prompt` (an idea, an "again")
    draft_id: int | None = None  # the open confirmation card

    @classmethod
    def from_params(
        cls, mode: Mode, model_id: str, params: dict[str, Any], **extra: Any
    ) -> WizardData:
        """The wizard data of stored parameters (a card being changed, a video repeated)."""
        return cls(
            mode=mode,
            model_id=model_id,
            duration=params.get("duration"),
            size=params.get("size"),
            settings=params.get("settings") or {},
            **extra,
        )

    def chosen(self) -> dict[str, Any]:
        """What validate_params() takes."""
        return {"duration": self.duration, "size": self.size, "settings": dict(self.settings)}

    def with_model(self, model: VideoModel) -> WizardData:
        return self.model_copy(
            update={
                "model_id": model.id,
                "duration": model.default_duration,
                "size": model.default_size if model.sends_size(self.mode) else None,
                "settings": {},
                "draft_id": None,
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
