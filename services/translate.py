"""Prompt translation to English (the video models follow English best), behind a small
interface, with a LibreTranslate backend. Translation never blocks a generation: when the
backend is off, down, slow or talks nonsense, the prompt goes as written and the card says so.

Whether a prompt needs translating is decided cheaply first, by script: plain ASCII is taken as
English (and never sent to the backend), mostly non-Latin letters as not English; Latin text
with diacritics asks the backend's /detect for a second opinion."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

log = logging.getLogger(__name__)

Status = Literal["english", "translated", "failed", "off"]


@dataclass(frozen=True)
class Translation:
    status: Status
    text: str | None = None  # the English text when status == "translated"


def looks_english(text: str) -> bool | None:
    """True: plain ASCII letters; False: mostly letters of another script; None: Latin with
    diacritics (French, German, Spanish... or English with a café): ask the backend."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True
    non_latin = sum(1 for c in letters if "LATIN" not in unicodedata.name(c, ""))
    if non_latin / len(letters) >= 0.3:
        return False
    if all(c.isascii() for c in letters):
        return True
    return None


class Backend(Protocol):
    async def detect(self, text: str) -> str | None: ...

    async def translate(self, text: str) -> str: ...


class TranslationFailed(Exception):
    pass


class LibreTranslate:
    """The LibreTranslate HTTP API (self-hostable): POST /detect and /translate."""

    def __init__(
        self, url: str, api_key: str | None, http: httpx.AsyncClient, timeout: float = 4.0
    ) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.http = http
        self.timeout = timeout

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        if self.api_key:
            body["api_key"] = self.api_key
        try:
            response = await self.http.post(f"{self.url}{path}", json=body, timeout=self.timeout)
            response.raise_for_status()
            return response.json()
        except httpx.TimeoutException as exc:
            raise TranslationFailed(f"{path} timed out") from exc
        except httpx.HTTPStatusError as exc:
            raise TranslationFailed(f"{path} answered HTTP {exc.response.status_code}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise TranslationFailed(f"{path}: {type(exc).__name__}") from exc

    async def detect(self, text: str) -> str | None:
        answer = await self._post("/detect", {"q": text})
        if isinstance(answer, list) and answer and isinstance(answer[0], dict):
            best = max(answer, key=lambda a: float(a.get("confidence") or 0))
            language = best.get("language")
            return language if isinstance(language, str) else None
        raise TranslationFailed("/detect: unexpected answer")

    async def translate(self, text: str) -> str:
        answer = await self._post(
            "/translate", {"q": text, "source": "auto", "target": "en", "format": "text"}
        )
        translated = answer.get("translatedText") if isinstance(answer, dict) else None
        if not isinstance(translated, str):
            raise TranslationFailed("/translate: no translatedText")
        return translated


class PromptTranslator:
    def __init__(self, backend: Backend | None) -> None:
        self.backend = backend

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    async def to_english(self, text: str) -> Translation:
        if self.backend is None:
            return Translation("off")
        verdict = looks_english(text)
        if verdict is True:
            return Translation("english")
        try:
            if verdict is None and (await self.backend.detect(text)) in (None, "en"):
                return Translation("english")
            translated = (await self.backend.translate(text)).strip()
        except TranslationFailed as exc:
            log.warning("prompt translation failed: %s", exc)
            return Translation("failed")
        if not _plausible(text, translated):
            log.warning(
                "prompt translation looked wrong (%d -> %d chars)", len(text), len(translated)
            )
            return Translation("failed")
        return Translation("translated", translated)


def _plausible(original: str, translated: str) -> bool:
    """Nonsense guard: something came back, in Latin letters, of a sane length."""
    if not translated or looks_english(translated) is False:
        return False
    return len(translated) <= 3 * len(original) + 50
