"""Texts about a job in progress or failed, shared by the wizard and the messenger."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.utils.i18n import gettext as _

from handlers import screens
from handlers.render import Markup, fill
from handlers.texts import cut
from services.editing import Edit
from services.jobs import Job, Status


def stage_text(status: Status) -> str:
    if status is Status.UPLOADING:
        return _("📤 Uploading your image")
    if status is Status.SUBMITTED:
        return _("🎬 Generating")
    return _("⏳ Waiting in line")


def progress_text(job: Job, model_name: str, elapsed: float) -> str:
    """The status message: stage, model, elapsed time and a bar when Runware reports progress."""
    seconds = max(0, int(elapsed))
    duration = screens.seconds(job.duration)
    if job.variants > 1:
        duration += " · " + screens.variant_of(job.variant, job.variants)
    text: str = fill(
        "{stage} · {model}, {duration}\n⏱ {elapsed}",
        stage=stage_text(job.status),
        model=model_name,
        duration=duration,
        elapsed=f"{seconds // 60}:{seconds % 60:02d}",
    )
    if job.progress is not None and job.status is Status.SUBMITTED:
        filled = max(0, min(10, job.progress // 10))
        text += f"\n{'▓' * filled}{'░' * (10 - filled)} {job.progress}%"
    return text


def failure_reason(error_class: str | None, message: str | None) -> str:
    """What went wrong, in plain words: never a raw error."""
    if error_class in ("auth", "out_of_credit"):
        return _("our video service account needs attention; the admins are on it.")
    if error_class == "upstream":
        return _(
            "this model's provider is busy or having trouble. Please try again later or "
            "pick another model."
        )
    if error_class == "cancelled":
        return _("an admin stopped it.")
    if error_class == "retired":
        return _("the provider has retired this model. Please choose another one.")
    if error_class == "content":
        return _("the provider refused the prompt or image under its content rules.")
    if error_class == "transient":
        return _("the service is busy right now. Please try again in a few minutes.")
    if error_class == "timeout":
        return _("it took too long to finish.")
    if error_class == "video_unavailable":
        return _("the finished video could not be downloaded.")
    if error_class == "refused":
        return _("the model does not accept these settings any more. Please choose them again.")
    if error_class == "validation" and message:
        return _("the provider did not accept these settings ({detail}).").format(
            detail=message[:200]
        )
    return _("the video service could not make it.")


def summary_text(jobs: list[Job], name_of: Callable[[str], str]) -> str:
    """Models side by side, all finished: each model with its time and cost, to pick from."""
    lines = [_("⚖️ <b>Models side by side: all done</b>")]
    prompt = jobs[0].user_prompt if jobs else ""
    if prompt:
        lines.append(fill("<i>{prompt}</i>", prompt=cut(prompt, 200)))
    for n, job in enumerate(jobs, 1):
        if job.status is Status.DELIVERED:
            took = max(0, int((job.ready_at or job.finished_at or job.created_at) - job.created_at))
            result = _("ready in {time} · {tokens}").format(
                time=f"{took // 60}:{took % 60:02d}", tokens=screens.tokens(job.tokens)
            )
        elif job.error_class == "user_cancelled":
            result = _("cancelled, {tokens} back").format(tokens=screens.tokens(job.tokens))
        else:
            result = _("failed, {tokens} back").format(tokens=screens.tokens(job.tokens))
        lines.append(fill("{n}. <b>{name}</b> — {result}", n=n, name=name_of(job.model_id),
                          result=result))  # fmt: skip
    lines.append(_("Each video is above with its model's name; all of them are in My videos."))
    return str(Markup("\n").join(Markup(line) for line in lines))


def clip_list(job_ids: tuple[int, ...]) -> str:
    return " + ".join(f"#{job_id}" for job_id in job_ids)


def seconds_text(value: float) -> str:
    """6.5 -> "6.5 s", 7.0 -> "7 s"."""
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    return _("{n} s").format(n=shown)


def edit_caption(edit: Edit, seconds: float) -> str:
    if edit.kind == "trim":
        assert edit.start is not None and edit.end is not None
        return fill(
            _("✂️ #{job} trimmed to {start}-{end} · {length}"),
            job=edit.sources[0],
            start=f"{edit.start:g}",
            end=seconds_text(edit.end),
            length=seconds_text(seconds),
        )
    return fill(
        _("🎞 {clips} joined · {length}"),
        clips=clip_list(edit.sources),
        length=seconds_text(seconds),
    )


def edit_failure_text(edit: Edit) -> str:
    """Why an edit was not made, and that its tokens are back."""
    error = edit.error or ""
    if error.startswith("gone:"):
        reason = _(
            "video #{job} is too old: its copy here and its link have expired, and Telegram "
            "gives bots files of 20 MB at most."
        ).format(job=error.partition(":")[2])
    elif error == "unreadable":
        reason = _("one of the videos could not be read.")
    elif error == "range":
        reason = _("the video is shorter than the part asked for.")
    elif error == "too_big":
        reason = _("the result would be larger than Telegram lets a bot send.")
    elif error == "timeout":
        reason = _("it took too long.")
    else:
        reason = _("the video tool could not make it.")
    what = _("✂️ The trim") if edit.kind == "trim" else _("🎞 The join")
    text = _("{what} of {clips} was not made: {reason}").format(
        what=what, clips=clip_list(edit.sources), reason=reason
    )
    if edit.tokens:
        text += "\n" + _("{tokens} are back on your balance.").format(
            tokens=screens.tokens(edit.tokens)
        )
    return text
