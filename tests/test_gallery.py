"""My videos: pages, states, re-sending by file_id, deleting, strict isolation."""

from __future__ import annotations

import json
import time

import pytest
from aiogram.methods import SendVideo

from handlers.callbacks import Card, CardAction, Gallery, GalleryAction
from services.catalog import Mode
from services.jobs import Draft, Status
from tests.harness import Harness
from tests.servers import engine_settings

USER = 1001


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request, tmp_path):
    """The bot on each storage engine."""
    async with engine_settings(request.param) as engine:
        harness = await Harness.start(tmp_path, **engine)
        await harness.give(10_000)
        harness.services.jobs.max_active_per_user = 100
        yield harness
        await harness.close()


async def make(h, prompt, status=Status.DELIVERED, user=USER, created=None):
    jobs = h.services.jobs
    job = await jobs.create(Draft(user, user, Mode.T2V, "runway:1@2", {"duration": 5}, prompt))
    if created is not None:
        await jobs.update(job, created_at=created)
    if status is Status.QUEUED:
        return await jobs.get(job.id)
    if status is Status.FAILED:
        return await jobs.fail(job, "content", "no")
    job = await jobs.move(job, Status.SUBMITTED)
    if status is Status.SUBMITTED:
        return job
    job = await jobs.move(job, Status.SUCCEEDED, video_url=f"https://v/{job.id}.mp4")
    return await jobs.move(job, Status.DELIVERED, file_id=f"FILE-{job.id}", delivered_as="video")


async def test_pages_newest_first_with_date_model_duration_and_prompt(h):
    for n in range(1, 8):
        await make(h, f"prompt number {n} " + "x" * 80)
    await h.send("/gallery")
    first = h.last_text()
    assert "page 1 of 2" in first
    assert [f"#{n}" in first for n in (7, 6, 5, 4, 3)] == [True] * 5 and "#2 " not in first
    assert "Runway Gen-4.5 · 5 s" in first and "prompt number 7" in first and "…" in first
    assert time.strftime("%d.%m.%Y", time.gmtime()) in first
    await h.tap("➡")
    second = h.last_text()
    assert "page 2 of 2" in second and "#2" in second and "#1" in second and "#3" not in second
    await h.tap("⬅")
    assert "page 1 of 2" in h.last_text()


async def test_running_and_failed_jobs_show_their_state(h):
    await make(h, "still going", Status.SUBMITTED, created=time.time() - 130)
    await make(h, "did not work", Status.FAILED)
    await h.send("/gallery")
    text = h.last_text()
    assert "generating, 2:1" in text  # 2:10 elapsed, give or take the test's own seconds
    assert "failed, refunded" in text


async def test_open_resends_by_file_id_then_again_and_delete(h):
    job = await make(h, "the sea")
    await h.send("/start")
    await h.tap("My videos")
    await h.tap(f"#{job.id}")
    [video] = h.session.sent(SendVideo)
    assert video.video == f"FILE-{job.id}"  # by file_id: no re-upload
    labels = [t for t, _ in h.buttons()]
    assert any("Again" in t for t in labels) and any("Delete" in t for t in labels)
    await h.tap("Delete")
    assert "can't be undone" in h.last_text()
    toast = await h.tap("Yes, delete")
    assert toast == "Deleted."
    assert "No videos yet" in h.last_text()
    row = await h.services.db.fetchone("SELECT status, hidden FROM jobs WHERE id = ?", (job.id,))
    assert (row["status"], row["hidden"]) == ("delivered", 1)  # accounting rows stay
    assert (
        await h.services.db.fetchval("SELECT count(*) FROM ledger WHERE job_id = ?", (job.id,)) == 1
    )


async def test_the_menu_button_leads_back(h):
    await h.send("/gallery")
    assert "No videos yet" in h.last_text()
    await h.tap("Menu")
    assert "What shall we make?" in h.last_text()


@pytest.mark.parametrize(
    "action", [GalleryAction.OPEN, GalleryAction.DELETE, GalleryAction.CONFIRM_DELETE]
)
async def test_another_users_item_is_not_found_and_nothing_changes(h, action):
    theirs = await make(h, "a private video")
    intruder = h.as_user(2000)
    await intruder.give(10)
    await intruder.send("/gallery")
    before = len(h.session.requests)
    answer = await intruder.press(Gallery(action=action, job=theirs.id).pack())
    assert answer == "Not found."
    new = h.session.requests[before:]
    assert all("private video" not in (getattr(r, "text", "") or "") for r in new)
    assert not any(isinstance(r, SendVideo) for r in new)
    assert (await h.services.jobs.get(theirs.id)).status is Status.DELIVERED
    assert await h.services.db.fetchval("SELECT hidden FROM jobs") == 0


async def test_running_jobs_cannot_be_deleted(h):
    job = await make(h, "busy", Status.SUBMITTED)
    await h.send("/gallery")
    answer = await h.press(Gallery(action=GalleryAction.CONFIRM_DELETE, job=job.id).pack())
    assert "Only finished videos" in answer


async def test_balance_lists_the_latest_entries_in_words(h):
    await make(h, "one")
    await make(h, "two", Status.FAILED)
    await h.send("/balance")
    text = h.last_text()
    assert "Your balance: <b>9812 tokens</b>" in text  # one Runway 5 s video kept: 188
    assert "refund for video #2" in text and "video #1" in text
    assert "top-up by an admin" in text


# --- rows from before the 2026 lineup -----------------------------------------------------------

VEO3_2025 = {"duration": 8, "size": "720x1280", "settings": {"generateAudio": False}}


async def from_2025(h, job, model_id, params):
    """A row written by the 2025 bot: a model Runware retired, parameters in the old format."""
    async with h.services.db.transaction() as tx:
        await tx.execute(
            "UPDATE jobs SET model_id = ?, params = ? WHERE id = ?",
            (model_id, json.dumps(params), job.id),
        )
    return await h.services.jobs.get(job.id)


async def test_old_jobs_keep_their_name_marked_retired_and_again_goes_to_the_successor(h):
    veo3 = await from_2025(h, await make(h, "waves at sunset"), "google:3@0", VEO3_2025)
    odd = await from_2025(h, await make(h, "from a model nobody knows"), "acme:9@9", {"x": 1})
    await h.send("/gallery")
    text = h.last_text()
    assert "Veo 3 (retired) · 8 s" in text and "acme:9@9 (retired)" in text
    assert "Runway" not in text

    await h.tap(f"#{veo3.id}")
    [video] = h.session.sent(SendVideo)
    assert video.video == f"FILE-{veo3.id}"  # still re-sent by its file_id
    await h.tap("Again")
    notice, card = h.texts()[-2:]
    assert "Veo 3 was retired by its provider. Here is Veo 3.1" in notice
    assert "<b>Veo 3.1</b>" in card and "Duration: 8 s" in card and "9:16" in card
    assert "Sound: off" in card and "waves at sunset" in card
    veo31 = h.services.catalog.get("google:3@2")
    chosen = {"duration": 8, "aspect": "9:16", "options": {"audio": False}}
    expected = h.services.catalog.validate(veo31, Mode.T2V, chosen)
    assert f"Price: <b>{expected.price} tokens</b>" in card
    await h.tap("Generate")
    made = (await h.jobs())[-1]
    assert made.model_id == "google:3@2" and made.tokens == expected.price

    await h.send("/gallery")
    await h.tap(f"#{odd.id}")
    await h.tap("Again")
    notice, models = h.texts()[-2:]
    assert "acme:9@9 was retired by its provider and has no successor" in notice
    assert "choose a model" in models


async def test_an_open_card_and_remembered_settings_from_2025_move_to_the_successor(h):
    stored = await h.services.drafts.save(
        USER, Mode.T2V, "vidu:1@5", {"duration": 4, "size": "1920x1080", "settings": {}}, "a cat"
    )
    await h.send("/start")
    await h.press(Card(action=CardAction.GO, draft=stored.id).pack())
    notice, card = h.texts()[-2:]
    assert "Vidu 1.5 was retired by its provider. Here is Vidu Q3" in notice
    assert "<b>Vidu Q3</b>" in card and "1080p" in card and "a cat" in card
    assert await h.jobs() == []

    old = await make(h, "a dog")
    await from_2025(h, old, "google:3@1", {"duration": 4, "size": "1280x720"})
    await h.send("/start")
    await h.send("a horse on a beach")  # a plain text: a card with the last settings
    notice, card = h.texts()[-2:]
    assert "Veo 3 Fast was retired by its provider. Here is Veo 3.1 Fast" in notice
    assert "<b>Veo 3.1 Fast</b>" in card and "Duration: 4 s" in card
    assert "a horse on a beach" in card
