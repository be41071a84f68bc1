"""Lengths as Telegram counts them: UTF-16 code units of the text after entities are parsed (an
emoji is often 2 units, a flag 4), so `len()` of a Python string undercounts."""

from __future__ import annotations

TEXT_LIMIT = 4096  # a message
CAPTION_LIMIT = 1024  # a media caption


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` UTF-16 units, ending in "…" when it was cut; never splits a
    character (a surrogate pair) in two."""
    if utf16_len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    room = limit - 1  # the "…" is one unit
    out: list[str] = []
    used = 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > room:
            break
        out.append(ch)
        used += size
    return "".join(out) + "…"
