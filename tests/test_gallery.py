"""My videos: pages, states, re-sending by file_id, deleting, strict isolation."""

from __future__ import annotations

import time

import pytest
from aiogram.methods import SendVideo

from handlers.callbacks import Gallery, GalleryAction
from services.catalog import Mode
from services.jobs import Draft, Status
from tests.harness import Harness

USER = 1001


@pytest.fixture
async def h(tmp_path):
    harness = await Harness.start(tmp_path)
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
