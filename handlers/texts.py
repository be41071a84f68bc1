"""What the bot says, in English and Russian. `t(lang, key, **values)`."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "stage.queued": {"en": "⏳ Waiting in line", "ru": "⏳ В очереди"},
    "stage.uploading": {"en": "📤 Uploading your image", "ru": "📤 Загружаю изображение"},
    "stage.submitted": {"en": "🎬 Generating", "ru": "🎬 Генерирую"},
    "progress": {
        "en": "{stage} · {model}, {duration} s\n⏱ {elapsed}{bar}",
        "ru": "{stage} · {model}, {duration} с\n⏱ {elapsed}{bar}",
    },
    "caption": {
        "en": "🎬 {model} · {duration} s\n{prompt}",
        "ru": "🎬 {model} · {duration} с\n{prompt}",
    },
    "link": {
        "en": "✅ Your video is ready, but it is too large to send here. Download it: {url}",
        "ru": "✅ Видео готово, но слишком большое для отправки сюда. Скачайте его: {url}",
    },
    "failed": {
        "en": "❌ The video ({model}) could not be made: {reason}\n{tokens} tokens are back "
        "on your balance.",
        "ru": "❌ Не удалось сделать видео ({model}): {reason}\n{tokens} токенов возвращены "
        "на баланс.",
    },
    "reason.content": {
        "en": "the provider refused the prompt or image under its content rules.",
        "ru": "провайдер отклонил запрос или изображение по правилам о контенте.",
    },
    "reason.transient": {
        "en": "the service is busy right now. Please try again in a few minutes.",
        "ru": "сервис сейчас перегружен. Попробуйте через несколько минут.",
    },
    "reason.account": {
        "en": "our video service account needs attention; the admins are on it.",
        "ru": "с нашим аккаунтом видеосервиса проблема, администраторы уже разбираются.",
    },
    "reason.timeout": {
        "en": "it took too long to finish.",
        "ru": "генерация заняла слишком много времени.",
    },
    "reason.video_unavailable": {
        "en": "the finished video could not be downloaded.",
        "ru": "не удалось скачать готовое видео.",
    },
    "reason.validation": {
        "en": "the provider did not accept these settings ({detail}).",
        "ru": "провайдер не принял эти настройки ({detail}).",
    },
    "reason.other": {
        "en": "the video service could not make it.",
        "ru": "видеосервис не смог его сделать.",
    },
}


def t(lang: str, key: str, **values: Any) -> str:
    entry = TEXTS[key]
    return entry.get(lang, entry["en"]).format(**values)


def failure_reason(lang: str, error_class: str | None, message: str | None) -> str:
    if error_class in ("auth", "out_of_credit"):
        return t(lang, "reason.account")
    if error_class in ("content", "transient", "timeout", "video_unavailable"):
        return t(lang, f"reason.{error_class}")
    if error_class == "validation" and message:
        return t(lang, "reason.validation", detail=message[:200])
    return t(lang, "reason.other")
