"""Margins and exports on both storage engines: /stats per model against a known set of jobs,
the low-margin alert told once (again only after a recovery and a new fall), and /export's CSV
files checked cell by cell."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from aiogram.methods import SendDocument

from bot.app import tell_low_margins
from services.billing import Kind
from services.catalog import Mode
from services.jobs import Draft, Status
from services.margins import MarginWatch
from tests.conftest import catalog_priced
from tests.harness import Harness
from tests.servers import engine_settings

ADMIN, USER, OTHER = 9, 1001, 1002
RUNWAY, KLING = "runway:1@2", "klingai:6@1"


@pytest.fixture(params=["sqlite", "postgresql"])
async def h(request, tmp_path):
    async with engine_settings(request.param) as engine:
        harness = await Harness.start(
            tmp_path,
            **engine,
            admin_ids="9",
            catalog_path=str(catalog_priced(tmp_path, 0.025)),
            min_margin_percent=20,
        )
        await harness.as_user(ADMIN).send("/start")
        await harness.give(10_000, USER)
        await harness.give(10_000, OTHER)
        yield harness
        await harness.close()


async def make_job(h, model=RUNWAY, cost=None, *, failed=False, user=USER, age=0.0):
    job = await h.services.jobs.create(
        Draft(user, user, Mode.T2V, model, {"duration": 5}, "a prompt")
    )
    if failed:
        job = await h.services.jobs.fail(job, "content", "refused")
    else:
        job = await h.services.jobs.move(job, Status.SUBMITTED)
        job = await h.services.jobs.move(
            job, Status.SUCCEEDED, video_url="https://v/x.mp4", cost_usd=cost
        )
        job = await h.services.jobs.move(job, Status.DELIVERED, file_id="F", delivered_as="video")
    if age:
        async with h.services.db.transaction() as tx:
            await tx.execute(
                "UPDATE jobs SET created_at = created_at - ? WHERE id = ?", (age, job.id)
            )
    return job


def watch(h) -> MarginWatch:
    return h.services.margins


async def test_stats_per_model_against_known_jobs(h):
    # Runway Gen-4.5, 5 s: 25 tokens at $0.025 = $0.625 of revenue a video.
    await make_job(h, RUNWAY, cost=0.25)  # margin 60%
    await make_job(h, RUNWAY, cost=0.25)
    await make_job(h, RUNWAY, failed=True)  # charged and refunded: earns nothing
    kling = await make_job(h, KLING, cost=1.0)
    admin = h.as_user(ADMIN)
    await admin.send("/stats")
    text = admin.last_text()
    assert "Runway Gen-4.5: 3 · 50 · $0.50 · 60.0% (×2.50)" in text
    price = kling.tokens * 0.025
    percent = (price - 1.0) / price * 100
    assert f": 1 · {kling.tokens} · $1.00 · {percent:.1f}% (×{price:.2f})" in text


async def test_a_low_margin_is_told_once_and_again_after_a_recovery(h):
    await make_job(h, RUNWAY, cost=0.25)  # 60%: fine
    await make_job(h, RUNWAY, cost=0.6, age=2 * 86400)  # two days old: not in the last day
    assert await watch(h).check() == []
    # Runware's price moved: three more at $0.60. Four videos cost $2.05 against $2.50 of
    # revenue: 18%, below 20%.
    for _ in range(3):
        await make_job(h, RUNWAY, cost=0.6)
    [low] = await watch(h).check()
    assert low.model_id == RUNWAY and low.jobs == 4
    assert low.percent == pytest.approx((4 * 0.625 - (0.25 + 1.8)) / (4 * 0.625) * 100)
    assert await watch(h).check() == []  # told once
    await tell_low_margins(
        h.bot, h.services.i18n, h.services.users, frozenset({ADMIN}), h.services.catalog,
        20, [low],
    )  # fmt: skip
    told = h.as_user(ADMIN).last_text()
    assert told.startswith("⚠️ <b>Margin below 20%</b> over the last day:")
    assert "Runway Gen-4.5: 18.0% · 4 videos cost $2.05 and earned 100 tokens" in told
    # Cheaper videos bring it back up (the alert is forgotten), then it falls again: told again.
    for _ in range(6):
        await make_job(h, RUNWAY, cost=0.05)
    assert await watch(h).check() == []
    assert await h.services.db.fetchval("SELECT count(*) FROM margin_alerts") == 0
    for _ in range(12):  # $13.15 of cost against $13.75: 4.4%
        await make_job(h, RUNWAY, cost=0.9)
    assert [m.model_id for m in await watch(h).check()] == [RUNWAY]


async def test_the_alert_in_russian(tmp_path):
    harness = await Harness.start(
        tmp_path, admin_ids="9", catalog_path=str(catalog_priced(tmp_path, 0.025))
    )
    try:
        await harness.as_user(ADMIN, "ru").send("/start")
        await harness.give(1000, USER)
        await make_job(harness, RUNWAY, cost=0.6)
        lows = await harness.services.margins.check()
        await tell_low_margins(
            harness.bot, harness.services.i18n, harness.services.users, frozenset({ADMIN}),
            harness.services.catalog, 20, lows,
        )  # fmt: skip
        assert harness.as_user(ADMIN).last_text().startswith("⚠️ <b>Маржа ниже 20%</b>")
    finally:
        await harness.close()


def read_csv(h, prefix: str) -> list[dict[str, str]]:
    [name] = [n for n in h.session.documents if n.startswith(prefix)]
    return list(csv.DictReader(io.StringIO(h.session.documents[name].decode())))


async def test_export_sends_the_ledger_and_the_jobs_as_csv(h):
    job = await make_job(h, RUNWAY, cost=0.25)
    failed = await make_job(h, RUNWAY, failed=True, user=OTHER)
    await h.services.billing.credit(
        USER, 5, Kind.ADMIN_TOPUP, "csv", admin_id=ADMIN, reason='=HYPERLINK("x")'
    )
    admin = h.as_user(ADMIN)
    await admin.send("/export 1")
    sent = h.session.sent(SendDocument)
    today = datetime.now(UTC).date().isoformat()
    assert [d.document.filename for d in sent] == [
        f"ledger_{today}_{today}.csv",
        f"jobs_{today}_{today}.csv",
    ]
    ledger = read_csv(h, "ledger_")
    assert [(r["user_id"], r["amount"], r["kind"]) for r in ledger] == [
        ("1001", "10000", "admin_topup"),
        ("1002", "10000", "admin_topup"),
        ("1001", "-25", "job_charge"),
        ("1002", "-25", "job_charge"),
        ("1002", "25", "job_refund"),
        ("1001", "5", "admin_topup"),
    ]
    assert ledger[-1]["reason"] == '\'=HYPERLINK("x")'  # text, never a formula
    jobs = read_csv(h, "jobs_")
    assert [(r["id"], r["status"], r["tokens"], r["tokens_refunded"], r["cost_usd"])
            for r in jobs] == [
        (str(job.id), "delivered", "25", "0", "0.25"),
        (str(failed.id), "failed", "25", "25", ""),
    ]  # fmt: skip
    assert jobs[0]["created_at"].startswith(today)
    assert "1 rows" in sent[1].caption or "2 rows" in sent[1].caption


async def test_export_pages_through_more_rows_than_a_page(h):
    async with h.services.db.transaction() as tx:
        for i in range(2500):
            await h.services.billing.credit(USER, 1, Kind.BONUS, f"many-{i}", tx=tx)
    await h.as_user(ADMIN).send("/export")
    ledger = read_csv(h, "ledger_")
    ids = [int(r["id"]) for r in ledger]
    assert len(ids) == 2502 and ids == sorted(set(ids))


async def test_export_refuses_bad_ranges_and_old_days_are_left_out(h):
    admin = h.as_user(ADMIN)
    for words, problem in (
        ("2026-13-01", "A date is written as 2026-11-30."),
        ("2026-11-30 2026-11-01", "The first date must not be after the second."),
        ("0", "A range is 1 to 3660 days."),
        ("a b c", "Usage: /export"),
    ):
        await admin.send(f"/export {words}")
        assert admin.last_text().startswith(problem), words
    assert h.session.sent(SendDocument) == []
    await admin.send("/export 2020-01-01 2020-01-31")
    assert len(read_csv(h, "ledger_2020")) == 0
    assert len(read_csv(h, "jobs_2020")) == 0


async def test_export_and_broadcast_do_not_exist_for_users(h):
    user = h.as_user(USER)
    await user.send("/export")
    assert user.last_text() == "I don't know this command. /help shows what I can do."
    assert h.session.sent(SendDocument) == []
