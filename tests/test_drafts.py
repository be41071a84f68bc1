"""Drafts: what save() returns is what the database holds (the card is drawn from it)."""

from __future__ import annotations

from services.billing import Billing
from services.catalog import Mode
from services.drafts import Drafts
from services.users import Users


async def test_a_saved_draft_is_what_reading_it_back_gives(db):
    users = Users(db, Billing(db))
    await users.touch(7, "seven", "en")
    await users.touch(8, "eight", "en")
    drafts = Drafts(db, clock=lambda: 1000.0)
    saved = await drafts.save(
        7,
        Mode.I2V,
        "vidu:2@0",
        {"duration": 4, "size": None, "settings": {"bgm": True}},
        "a cat jumps",
        image_uuid="uuid-1",
        prompt_sent="a cat jumps high",
        translation="translated",
    )
    assert saved == await drafts.get(saved.id, 7)
    assert saved.status == "open" and saved.job_id is None
    other = await drafts.save(7, Mode.T2V, "google:3@3", {"duration": 8}, "rain")
    assert other.id != saved.id and other == await drafts.get(other.id, 7)
    assert await drafts.get(saved.id, 8) is None  # another user's draft reads as not found


async def test_a_last_frame_is_only_a_photo_the_user_staged(db):
    users = Users(db, Billing(db))
    for user in (1, 2):
        await users.touch(user, f"u{user}", "en")
    drafts = Drafts(db)
    card = await drafts.save(1, Mode.I2V, "google:3@3", {}, "a fox", image_uuid="img-1")
    mine = await drafts.stage_image(1, b"png", "image/png")
    theirs = await drafts.stage_image(2, b"png", "image/png")
    assert not await drafts.set_last_image(card.id, 1, theirs)  # another user's photo
    assert not await drafts.set_last_image(card.id, 2, mine)  # another user's card
    assert (await drafts.get(card.id, 1)).last_image_id is None
    assert await drafts.set_last_image(card.id, 1, mine)
    assert (await drafts.get(card.id, 1)).last_image_id == mine
    assert await drafts.set_last_image(card.id, 1, None)  # removed
    assert (await drafts.get(card.id, 1)).has_last_frame is False
