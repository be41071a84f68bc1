"""Prompt ideas (services/prompt_ideas.toml): categories of example prompts in en and ru."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.catalog import Mode

IDEAS_PATH = Path(__file__).resolve().parent / "prompt_ideas.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Example(_Strict):
    en: str = Field(min_length=2, max_length=500)
    ru: str = Field(min_length=2, max_length=500)

    def text(self, language: str) -> str:
        return self.ru if language == "ru" else self.en


class Category(_Strict):
    key: str = Field(pattern=r"^[a-z]{1,12}$")
    name: dict[str, str]
    modes: tuple[Mode, ...] = Field(min_length=1)
    examples: tuple[Example, ...] = Field(min_length=1, max_length=8)

    @model_validator(mode="after")
    def _both_languages(self) -> Category:
        if set(self.name) != {"en", "ru"}:
            raise ValueError(f"category {self.key}: name needs en and ru")
        return self

    def title(self, language: str) -> str:
        return self.name.get(language, self.name["en"])


class Ideas(_Strict):
    categories: tuple[Category, ...] = Field(min_length=1)

    def for_mode(self, mode: Mode) -> list[Category]:
        return [c for c in self.categories if mode in c.modes]

    def get(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)


def load_ideas(path: Path = IDEAS_PATH) -> Ideas:
    return Ideas.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
