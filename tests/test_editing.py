"""Editing through the production Dispatcher and the edit runner, with real FFmpeg on clips made
here: continue from the last frame, trim, join, on both storage engines; every bad input
answered with nothing changed; a failed edit refunded once; a restart mid-edit finishing it."""

from __future__ import annotations

import io
import json

import pytest
from aiogram.methods import GetFile, SendMessage, SendVideo
from PIL import Image

from bot.app import build_edit_runner, build_runner
from handlers.callbacks import EditAction, Editing, Gallery, GalleryAction
from services.catalog import Mode, video_task
from services.editing import FFmpeg
from services.jobs import Draft, Status
from services.jobs.suspensions import ModelSuspensions
from tests.harness import Harness
from tests.servers import engine_settings
from tests.test_ffmpeg import clip

USER = 1001


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request, tmp_path):
    async with engine_settings(request.param) as engine:
        harness = await Harness.start(tmp_path, **engine)
        await harness.give(5000)
        yield harness
        await harness.close()


@pytest.fixture
async def clips(tmp_path):
    ffmpeg = FFmpeg(time_limit=60)
    folder = tmp_path / "clips"
    folder.mkdir()
    return {
        "wide": (await clip(ffmpeg, folder / "w.mp4", "640x360", 3, 25)).read_bytes(),
        "tall": (await clip(ffmpeg, folder / "t.mp4", "360x640", 2, 24)).read_bytes(),
        "silent": (await clip(ffmpeg, folder / "s.mp4", "480x480", 1, 30, tone=False)).read_bytes(),
        "green_end": (
            await clip(ffmpeg, folder / "g.mp4", "640x360", 2, 25, last="0x00C800")
        ).read_bytes(),
    }


async def delivered(h, video: bytes | None, *, user=USER, kept=True, seconds=None):
    """A finished video of the user's (Veo 3.1 Fast, as long as its clip): its copy kept here
    (or, kept=False, only Telegram has it, by file_id)."""
    jobs = h.services.jobs
    job = await jobs.create(Draft(user, user, Mode.T2V, "google:3@3", {"duration": 4}, "a fox"))
    if seconds is not None:  # the clips made here are shorter than any model's videos
        await jobs.update(job, params=json.dumps({**job.params, "duration": seconds}))
        job = await jobs.get(job.id)
    job = await jobs.move(job, Status.SUBMITTED)
    job = await jobs.move(
        job,
        Status.SUCCEEDED,
        video_url="http://127.0.0.1:9/gone.mp4",
        video_uuid=f"v-{job.task_uuid}",
    )
    job = await jobs.move(job, Status.DELIVERED, file_id=f"FILE-{job.id}", delivered_as="video")
    if video is not None:
        if kept:
            path = h.services.sources.cached(job)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(video)
        else:
            h.session.files[f"FILE-{job.id}"] = video
    return job


def editor(h):
    return build_edit_runner(h.services, h.bot, build_runner(h.services, h.bot).messenger)


async def run_edits(h, rounds: int = 4):
    """A few runner steps, each waited for: edits one at a time (EDIT_CONCURRENCY 1), then the
    notices of failed ones. Its temporary folders go under the test's, to be counted."""
    runner = editor(h)
    runner.temp_dir = h.services.settings.database_path.parent / "work"
    runner.temp_dir.mkdir(exist_ok=True)
    for _ in range(rounds):
        await runner.step()
        await runner.drain()
    assert list(runner.temp_dir.iterdir()) == []  # every temporary file removed, failed or not
    return runner


async def open_item(h, job):
    await h.send("/gallery")
    await h.press(Gallery(action=GalleryAction.OPEN, job=job.id, page=0).pack())


async def test_trim_from_the_gallery_quick_choice_preview_and_a_new_item(h, clips):
    source = await delivered(h, clips["wide"], seconds=3)
    await open_item(h, source)
    await h.tap("Trim")
    assert "Trim #" in h.screen().text and "Price: free" in h.screen().text
    await h.tap("Cut the first second")
    assert "keep 1-3 s, the new video is 2 s long" in h.screen().text
    assert await h.tap("✅ Trim") == "Trimming…"
    assert "The video will arrive here" in h.screen().text
    balance = await h.services.billing.balance(USER)
    await run_edits(h)

    [sent] = [r for r in h.session.sent(SendVideo) if "trimmed" in (r.caption or "")]
    assert sent.caption == f"✂️ #{source.id} trimmed to 1-3 s · 2 s"
    [made] = [j for j in await h.jobs() if j.edit_kind == "trim"]
    assert made.status is Status.DELIVERED and made.edit_of == (source.id,)
    assert made.tokens == 0 and made.file_id is not None
    assert await h.services.billing.balance(USER) == balance  # trims are free by default
    probe = await FFmpeg().probe(h.services.sources.cached(made))  # kept for the next edit
    assert abs(probe.duration - 2.0) <= 0.1
    await h.send("/gallery")
    assert f"✂️ trim of #{source.id} · 2 s" in h.screen().text


async def test_typed_seconds_and_every_bad_range_answered(h, clips):
    source = await delivered(h, clips["wide"], seconds=3)
    await open_item(h, source)
    await h.tap("Trim")
    await h.tap("Type the seconds")
    for typed, answer in (
        ("abc", "Please send two numbers of seconds with a dash"),
        ("5-9", "That is outside the video: it is 3 s long."),
        ("1-1.2", "Keep at least 0.5 s."),
        ("2-1", "That is outside the video"),
    ):
        await h.send(typed)
        assert answer in h.last_text(), (typed, h.last_text())
    await h.send("0,5 - 2.5")
    assert "keep 0.5-2.5 s, the new video is 2 s long" in h.screen().text
    # A forged confirmation with a range outside the clip changes nothing.
    forged = Editing(action=EditAction.TRIM_GO, job=source.id, value="0-30").pack()
    assert await h.press(forged) == "That is outside the video: it is 3 s long."
    assert await h.services.db.fetchval("SELECT count(*) FROM edits") == 0


async def test_join_three_in_the_order_tapped_charged_and_delivered(h, clips):
    wide = await delivered(h, clips["wide"], seconds=3)
    tall = await delivered(h, clips["tall"], seconds=2)
    silent = await delivered(h, clips["silent"], seconds=1)
    balance = await h.services.billing.balance(USER)
    await open_item(h, wide)
    await h.tap("Join with others")
    assert f"Picked: #{wide.id}" in h.screen().text and "Price: 5 tokens" in h.screen().text
    await h.tap(f"#{tall.id} ·")
    await h.tap(f"#{silent.id} ·")
    assert f"Picked: #{wide.id} + #{tall.id} + #{silent.id}" in h.screen().text
    assert await h.tap("Join 3 videos") == "Joining…"
    assert await h.services.billing.balance(USER) == balance - 5
    await run_edits(h)
    [made] = [j for j in await h.jobs() if j.edit_kind == "join"]
    assert made.edit_of == (wide.id, tall.id, silent.id) and made.tokens == 5
    probe = await FFmpeg().probe(h.services.sources.cached(made))
    assert (probe.width, probe.height) == (640, 360) and probe.audio  # the first clip's 16:9
    assert abs(probe.duration - 6.0) < 0.2
    [sent] = [r for r in h.session.sent(SendVideo) if "joined" in (r.caption or "")]
    assert sent.caption.startswith(f"🎞 #{wide.id} + #{tall.id} + #{silent.id} joined · 6")


async def test_bad_joins_and_strangers_change_nothing(h, clips):
    mine = await delivered(h, clips["wide"], seconds=3)
    other = h.as_user(2002)
    await other.give(1000)
    theirs = await delivered(h, clips["wide"], seconds=3, user=2002)
    running = await h.services.jobs.create(
        Draft(USER, USER, Mode.T2V, "google:3@3", {"duration": 4}, "still going")
    )
    await h.send("/start")  # a screen to tap forged buttons on
    for action in (EditAction.TRIM, EditAction.CONTINUE, EditAction.JOIN):
        assert await h.press(Editing(action=action, job=theirs.id).pack()) == "Not found."
    answer = await h.press(Editing(action=EditAction.TRIM, job=running.id).pack())
    assert answer == f"Video #{running.id} is not ready: only finished videos can be edited."
    await h.press(Editing(action=EditAction.JOIN, job=mine.id).pack())
    # A join of one, forged past the missing button.
    assert await h.press(Editing(action=EditAction.JOIN_GO).pack()) == "Pick from 2 to 5 videos."
    # Someone else's video picked with a forged tap.
    assert await h.press(Editing(action=EditAction.PICK, job=theirs.id).pack()) == "Not found."
    assert await h.services.db.fetchval("SELECT count(*) FROM edits") == 0
    # The per-user limit counts edits with the videos in progress (one is generating).
    h.services.jobs.max_active_per_user = 1
    forged = Editing(action=EditAction.TRIM_GO, job=mine.id, value="0-2").pack()
    assert (
        await h.press(forged)
        == "You already have 1 videos in progress. Please wait until one is ready."
    )
    h.services.jobs.max_active_per_user = 4
    # Six: the sixth tick is refused.
    five = [await delivered(h, clips["silent"], seconds=1) for _ in range(4)]
    for job in five:
        await h.press(Editing(action=EditAction.PICK, job=job.id, value="0").pack())
    sixth = await delivered(h, clips["silent"], seconds=1)
    answer = await h.press(Editing(action=EditAction.PICK, job=sixth.id, value="0").pack())
    assert answer == "Pick from 2 to 5 videos."


async def test_unreadable_and_gone_sources_fail_refunded_once_and_said(h, clips):
    junk = await delivered(h, b"this is not a video" * 50)
    good = await delivered(h, clips["wide"], seconds=3)
    gone = await delivered(h, None)  # no copy, a dead link, Telegram: too big
    h.session.script(GetFile, ok=False, error_code=400, description="Bad Request: file is too big")
    balance = await h.services.billing.balance(USER)
    await h.services.edits.create_join(USER, USER, [good.id, junk.id])
    await h.services.edits.create_join(USER, USER, [gone.id, good.id])
    assert await h.services.billing.balance(USER) == balance - 10
    await run_edits(h)
    assert await h.services.billing.balance(USER) == balance  # both refunded
    told = [r.text for r in h.session.sent(SendMessage) if "was not made" in r.text]
    assert sorted(told) == sorted(
        [
            f"🎞 The join of #{good.id} + #{junk.id} was not made: one of the videos could not "
            "be read.\n5 tokens are back on your balance.",
            f"🎞 The join of #{gone.id} + #{good.id} was not made: video #{gone.id} is too old: "
            "its copy here and its link have expired, and Telegram gives bots files of 20 MB at "
            "most.\n5 tokens are back on your balance.",
        ]
    )
    edits = await h.services.db.fetchall("SELECT id, status FROM edits ORDER BY id")
    assert [e["status"] for e in edits] == ["failed", "failed"]
    again = await h.services.edits.get(edits[0]["id"])
    assert await h.services.edits.fail(again, "failed") is None  # refunded once only
    await run_edits(h)
    assert await h.services.billing.balance(USER) == balance
    assert len([r for r in h.session.sent(SendMessage) if "was not made" in r.text]) == 2


async def test_a_restart_mid_edit_finishes_it_once(h, clips):
    a = await delivered(h, clips["wide"], seconds=3)
    b = await delivered(h, clips["tall"], seconds=2)
    edit = await h.services.edits.create_join(USER, USER, [a.id, b.id])
    # A replica took it and died: its lease holds the edit until it runs out.
    [taken] = await h.services.edits.claim("dead-replica", 900, 1)
    assert taken.id == edit.id and taken.status == "running"
    await run_edits(h)
    assert (await h.services.edits.get(edit.id)).status == "running"  # not before the lease
    async with h.services.db.transaction() as tx:
        await tx.execute("UPDATE edits SET lease_until = 0 WHERE id = ?", (edit.id,))
    await run_edits(h)
    await run_edits(h)
    done = await h.services.edits.get(edit.id)
    assert done.status == "done" and done.attempts == 2
    assert len([j for j in await h.jobs() if j.edit_kind == "join"]) == 1
    assert len([r for r in h.session.sent(SendVideo) if "joined" in (r.caption or "")]) == 1
    # The dead replica's late finish changes nothing.
    assert await h.services.edits.finish(taken, "dead-replica", "FILE-x", 1.0) is None
    refunds = await h.services.db.fetchval(
        "SELECT count(*) FROM ledger WHERE idempotency_key LIKE 'edit:%:refund'"
    )
    assert refunds == 0


async def test_continue_from_the_last_frame_fetched_from_telegram(h, clips):
    source = await delivered(h, clips["green_end"], kept=False, seconds=2)  # only Telegram has it
    await open_item(h, source)
    assert await h.tap("Continue from here") == "Taking the last frame…"
    assert f"Continuing #{source.id} from its last frame with Veo 3.1 Fast." in h.last_text()
    await h.send("the fox runs on into the woods")
    card = h.screen()
    assert "image to video" in card.text and "Image: your photo" in card.text
    await h.tap("Generate", card)
    job = (await h.jobs())[-1]
    assert job.mode is Mode.I2V and job.model_id == "google:3@3" and job.duration == 8
    image = Image.open(io.BytesIO(await h.services.jobs.image(job.id))).convert("RGB")
    r, g, b = image.getpixel((image.width // 2, image.height // 2))
    assert r < 25 and abs(g - 200) < 25 and b < 25  # the green last frame, not the bars
    assert h.services.sources.cached(source).exists()  # kept for the next edit


async def test_continue_in_russian_and_a_video_too_old(h, clips):
    ru = h.as_user(3003, "ru")
    await ru.give(1000)
    source = await delivered(h, clips["wide"], seconds=3, user=3003)
    await ru.send("/start")
    await ru.press(Editing(action=EditAction.CONTINUE, job=source.id).pack())
    assert f"Продолжаю #{source.id} с последнего кадра в Veo 3.1 Fast." in ru.last_text()
    gone = await delivered(h, None, user=3003)
    h.session.script(GetFile, ok=False, error_code=400, description="Bad Request: file is too big")
    await ru.press(Editing(action=EditAction.CONTINUE, job=gone.id).pack())
    assert f"Видео #{gone.id} слишком старое для редактирования" in ru.last_text()
    assert await h.services.db.fetchval("SELECT count(*) FROM drafts") == 0


async def test_extend_a_veo_video_natively_and_only_where_the_model_can(h, clips):
    source = await delivered(h, clips["wide"], seconds=3)
    await open_item(h, source)
    await h.tap("Extend by 7 s")
    assert f"Extending #{source.id} by 7 s with Veo 3.1 Fast." in h.last_text()
    await h.send("the fox jumps over the stream")
    card = h.screen()
    assert f"⏩ Extends video #{source.id} by 7 s" in card.text and "Duration: 7 s" in card.text
    assert "Aspect ratio" not in card.text and "Change parameters" not in str(h.buttons(card))
    await h.tap("Generate", card)
    job = (await h.jobs())[-1]
    assert job.video_input == f"v-{source.task_uuid}" and job.extends == source.id
    model = h.services.catalog.get("google:3@3")
    params = h.services.catalog.validate(model, Mode.T2V, job.params)
    task = video_task(model, params, job.prompt, job.task_uuid, video=job.video_input)
    assert task["inputs"] == {"video": f"v-{source.task_uuid}"} and task["duration"] == 7
    assert not {"width", "height", "resolution", "seed"} & set(task)
    assert job.tokens == params.price  # 7 s of Veo 3.1 Fast with sound

    # A model without a native extension: no button, and a forged tap says to use Continue.
    kling = await h.services.jobs.create(
        Draft(USER, USER, Mode.T2V, "klingai:6@1", {"duration": 5}, "a fox")
    )
    kling = await h.services.jobs.move(kling, Status.SUBMITTED)
    kling = await h.services.jobs.move(kling, Status.SUCCEEDED, video_uuid="v-x", video_url="u")
    kling = await h.services.jobs.move(kling, Status.DELIVERED, file_id="F", delivered_as="video")
    await open_item(h, kling)
    assert "Extend" not in str(h.buttons()) and "Continue from here" in str(h.buttons())
    answer = await h.press(Editing(action=EditAction.EXTEND, job=kling.id).pack())
    assert answer == "This video can't be extended: use Continue."


async def test_trim_in_russian(h, clips):
    ru = h.as_user(3004, "ru")
    await ru.give(1000)
    source = await delivered(h, clips["wide"], seconds=3, user=3004)
    await ru.send("/start")
    await ru.press(Editing(action=EditAction.TRIM, job=source.id).pack())
    assert f"✂️ <b>Обрезать #{source.id}</b> · 3 с" in ru.screen().text
    assert "Цена: бесплатно" in ru.screen().text
    await ru.tap("Вторая половина")
    assert f"Обрезка #{source.id}: оставить 1.5-3 с, длина нового видео 1.5 с." in ru.screen().text
    assert await ru.tap("✅ Обрезать") == "Обрезаю…"


async def test_an_edit_does_not_count_as_the_model_working_again(h, clips):
    """Provider failures in a row withdraw a model for a while; a trim of one of its older
    videos finishing meanwhile is not a video the provider made, and breaks no streak."""
    source = await delivered(h, clips["wide"], seconds=3)
    jobs = h.services.jobs
    for prompt in ("one", "two"):
        failing = await jobs.create(Draft(USER, USER, Mode.T2V, "google:3@3", {}, prompt))
        await jobs.fail(await jobs.move(failing, Status.SUBMITTED), "upstream", "busy")
    await h.services.edits.create_trim(USER, USER, source.id, 0, 2)
    await run_edits(h)
    assert [j.edit_kind for j in await h.jobs()].count("trim") == 1
    streak = await ModelSuspensions(h.services.db).provider_failures_in_a_row(
        "google:3@3", 10, 3600
    )
    assert streak == 2
    stats = await h.services.admin.stats()
    assert stats.jobs_by_model["google:3@3"] == 3  # the source and two failures, not the trim
