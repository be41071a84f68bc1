"""Telegram's reading of a message text, for the fakes: `parse_mode=HTML` parsed as the Bot API
does (only its tags, only its entities, tags closed in order; anything else is
`Bad Request: can't parse entities`), and lengths counted in UTF-16 code units after parsing."""

from __future__ import annotations

import html
import re

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=\"[^\"<>]*\"|='[^'<>]*')?)*)\s*>"
)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class EntityError(ValueError):
    """What Telegram answers: 400 `Bad Request: can't parse entities: ...`."""


def parse_html(text: str) -> str:
    """The plain text Telegram shows, or EntityError where Telegram refuses the message."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise EntityError(f"can't parse entities: unexpected '<' at byte offset {i}")
            closing, name = match.group(1), match.group(2).lower()
            if name not in TAGS:
                raise EntityError(f'can\'t parse entities: unsupported start tag "{name}"')
            if closing:
                if not stack or stack[-1] != name:
                    raise EntityError(f'can\'t parse entities: unexpected end tag "{name}"')
                stack.pop()
            else:
                stack.append(name)
            i = match.end()
        elif ch == "&":
            match = _ENTITY.match(text, i)
            if match is None:
                raise EntityError(
                    f"can't parse entities: unsupported HTML entity at byte offset {i}"
                )
            out.append(html.unescape(match.group(0)))
            i = match.end()
        else:
            out.append(ch)
            i += 1
    if stack:
        raise EntityError(
            f"can't parse entities: can't find end tag corresponding to \"{stack[-1]}\""
        )
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def refusal(text: str | None, parse_mode: str | None, *, caption: bool) -> str | None:
    """Telegram's description of why it refuses this text or caption, or None."""
    if text is None:
        return None
    plain = text
    if parse_mode and parse_mode.upper() == "HTML":
        try:
            plain = parse_html(text)
        except EntityError as exc:
            return f"Bad Request: {exc}"
    limit = CAPTION_LIMIT if caption else TEXT_LIMIT
    if utf16_len(plain) > limit:
        return (
            "Bad Request: message caption is too long"
            if caption
            else ("Bad Request: message is too long")
        )
    if not caption and not plain.strip():
        return "Bad Request: message text is empty"
    return None
