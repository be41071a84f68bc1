"""HTML for Telegram, escaped by construction: every screen builds its text here.

`fill(template, **values)` takes our own text as the template (trusted HTML, usually a gettext
string) and escapes every value (prompts, names, usernames, reasons, provider messages, catalog
names) unless the value is `Markup`, a fragment built here. markupsafe (the Pallets library behind
Jinja) does the escaping; Telegram reads its `&lt;`, `&amp;`, `&#34;` and `&#39;`."""

from __future__ import annotations

from markupsafe import Markup, escape

__all__ = ["Markup", "escape", "fill"]


def fill(template: str, /, **values: object) -> Markup:
    """`template` with each value escaped (a Markup value is kept as it is)."""
    return Markup(template).format(**values)  # noqa: S704 - the template is our own text
