"""Jobs end to end inside one process: JobService + JobRunner + the aiogram Messenger, against
a respx-mocked Runware and a recording Telegram session, with a clock the test moves."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import respx
from aiogram import Bot
from aiogram.methods import DeleteMessage, EditMessageText, SendDocument, SendMessage, SendVideo
from aiogram.types import FSInputFile

from bot.telegram_retry import RetryMiddleware
from handlers.i18n import build_i18n
from services.admin import Admin
from services.billing import Billing, Kind
from services.catalog import Catalog, Mode, load_catalog
from services.catalog_check import CatalogChecker
from services.db import Database, SqliteDatabase
from services.errors import (
    GenerationPaused,
    InsufficientBalance,
    InvalidRequest,
    TooManyActiveJobs,
    UnknownModel,
)
from services.jobs import AdminRefund, CancelOutcome, Draft, Job, JobService, Status
from services.postgres import PostgresDatabase
from services.runner import JobRunner, RunnerOptions
from services.runware import RunwareClient, RunwareOptions
from services.runware.errors import ErrorClass, RunwareError, RunwareFailure
from services.users import Users
from telegram_side.budget import BudgetMiddleware
from telegram_side.messenger import TelegramMessenger
from tests.conftest import catalog_priced
from tests.fake_runware import API, SCHEMAS, VIDEOS, FakeRunware
from tests.images import image_bytes
from tests.recording_session import RecordingSession, recording_bot
from tests.telegram_text import parse_html, utf16_len

# Veo 3.1 Fast, 8 s with sound ($1.20) is 50 tokens at $0.024 a token. Each test loads its own
# catalog: the live check changes a catalog's state.
PRICED = catalog_priced(Path(tempfile.mkdtemp()), 0.024)
USER, ADMIN = 1001, 9
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + b"v" * 5000


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0" + b"jpeg-body" * 100  # the runner only needs the magic bytes


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps(list):
    async def __call__(self, seconds):
        self.append(seconds)


@dataclass
class World:
    db: Database
    catalog: Catalog
    clock: Clock
    billing: Billing
    users: Users
    jobs: JobService
    runware: RunwareClient
    fake: FakeRunware
    session: RecordingSession
    bot: Bot
    messenger: TelegramMessenger
    http: httpx.AsyncClient
    router: respx.MockRouter
    telegram_sleeps: Sleeps
    options: RunnerOptions

    def runner(self, checker: CatalogChecker | None = None, **overrides) -> JobRunner:
        options = RunnerOptions(**{**self.options.__dict__, **overrides})
        return JobRunner(
            self.jobs,
            self.runware,
            self.catalog,
            self.messenger,
            options,
            clock=self.clock,
            checker=checker,
        )

    def checker(self) -> CatalogChecker:
        """The live check against the fake's schema service; admin alerts go to Telegram."""
        return CatalogChecker(
            self.catalog, self.db, self.http, SCHEMAS, alert=self.messenger.alert_admins
        )

    async def create(
        self, model="google:3@3", mode=Mode.T2V, params=None, prompt="a fox", image=None, user=USER
    ) -> Job:
        return await self.jobs.create(Draft(user, user, mode, model, params or {}, prompt, image))

    async def job(self, job_id) -> Job:
        return await self.jobs.get(job_id)

    async def balance(self, user=USER) -> int:
        return await self.billing.balance(user)


async def run(runner: JobRunner, steps=1):
    for _ in range(steps):
        await runner.step()
        await runner.drain()


@pytest.fixture
async def world(db):
    clock = Clock()
    catalog = load_catalog(PRICED)
    billing = Billing(db)
    users = Users(db, billing)
    for user in (USER, USER + 1):
        await users.touch(user, f"user{user}", "en")
        await billing.credit(user, 500, Kind.ADMIN_TOPUP, f"seed-{user}")
    jobs = JobService(db, billing, catalog, max_active_per_user=2, clock=clock)
    fake = FakeRunware()
    with respx.mock(assert_all_called=False) as router:
        router.post(API).mock(side_effect=fake)
        router.get(url__startswith=SCHEMAS).mock(side_effect=fake.schema_service)
        router.get(url__startswith=VIDEOS).mock(
            return_value=httpx.Response(200, content=VIDEO_BYTES)
        )
        runware = RunwareClient("rw-key", API, RunwareOptions(), sleep=Sleeps())
        session = RecordingSession()
        telegram_sleeps = Sleeps()
        session.middleware(RetryMiddleware(sleep=telegram_sleeps))
        bot, _ = recording_bot(session)
        http = httpx.AsyncClient()
        messenger = TelegramMessenger(
            bot,
            build_i18n(),
            users,
            catalog,
            [ADMIN],
            http,
            monotonic=lambda: clock.now,  # the progress throttle follows the test clock
            wall_clock=clock,
        )
        options = RunnerOptions(first_poll=5, max_poll_interval=10, submit_retry_delay=10)
        yield World(
            db,
            catalog,
            clock,
            billing,
            users,
            jobs,
            runware,
            fake,
            session,
            bot,
            messenger,
            http,
            router,
            telegram_sleeps,
            options,
        )
        await http.aclose()
        await runware.close()
        # a request the real Runware would refuse fails the test, not just a log line
        assert fake.violations == [], fake.violations


# --- creating ----------------------------------------------------------------------------------


async def test_creating_a_job_charges_it_in_the_same_transaction(world):
    job = await world.create()
    assert job.status is Status.QUEUED and job.tokens == 50
    assert len(job.task_uuid) == 36  # stored before anything is sent
    assert await world.balance() == 450
    assert await world.billing.charged_for_job(job.id) == (50, 0)
    assert world.fake.requests == []


async def test_refusals_change_nothing(world):
    with pytest.raises(InvalidRequest) as info:
        await world.create(params={"duration": 3}, prompt=" ")
    assert {p.code for p in info.value.problems} == {"duration", "prompt_empty"}
    with pytest.raises(InvalidRequest):
        await world.create(model="vidu:2@0", mode=Mode.I2V, image=b"GIF89a")
    await world.billing.debit(USER, 480, Kind.ADMIN_DEBIT, "r")
    with pytest.raises(InsufficientBalance) as low:
        await world.create()
    assert (low.value.need, low.value.have) == (50, 20)
    assert await world.db.fetchval("SELECT count(*) FROM jobs") == 0
    assert await world.balance() == 20


async def test_per_user_limit_is_checked_before_charging(world):
    await world.create()
    await world.create()
    with pytest.raises(TooManyActiveJobs) as info:
        await world.create()
    assert info.value.limit == 2
    assert await world.balance() == 400
    await world.create(user=USER + 1)  # others are not affected


async def test_per_user_limit_holds_across_replicas_creating_at_once(world):
    """Ten confirmations of one user arriving at two replicas at the same moment: two jobs
    (the limit), two charges, the rest refused with nothing taken."""
    other = another_connection(world.db)  # the second replica's own connections and locks
    await other.connect()
    try:
        replicas = [
            JobService(db, Billing(db), world.catalog, max_active_per_user=2)
            for db in (world.db, other)
        ]
        draft = Draft(USER, USER, Mode.T2V, "google:3@3", {}, "a fox")
        outcomes = await asyncio.gather(
            *(replicas[i % 2].create(draft) for i in range(10)), return_exceptions=True
        )
    finally:
        await other.close()
    made = [o for o in outcomes if isinstance(o, Job)]
    refused = [o for o in outcomes if isinstance(o, TooManyActiveJobs)]
    assert (len(made), len(refused)) == (2, 8)
    assert await world.balance() == 500 - sum(job.tokens for job in made)


def another_connection(db: Database) -> Database:
    """The same database through a Database object of its own, as another process has."""
    if isinstance(db, SqliteDatabase):
        return SqliteDatabase(db.path)
    assert isinstance(db, PostgresDatabase)
    return PostgresDatabase(db._url, min_size=1, max_size=4)


# --- the whole life ----------------------------------------------------------------------------


async def test_text_to_video_from_creation_to_the_chat(world):
    runner = world.runner()
    job = await world.create(params={"options": {"audio": False}}, prompt="a <b>fox</b>")
    await run(runner)
    job = await world.job(job.id)
    assert job.status is Status.SUBMITTED
    [[task]] = [r for r in world.fake.requests if r[0]["taskType"] == "videoInference"]
    assert task["taskUUID"] == job.task_uuid
    assert task["providerSettings"] == {"google": {"generateAudio": False}}
    assert task["ttl"] == 72 * 3600  # the URL outlives every delivery attempt: the link fallback
    [progress] = world.session.sent(SendMessage)
    assert "Generating" in progress.text and "0:00" in progress.text
    assert job.progress_message_id is not None

    world.clock.advance(6)
    world.fake.progress(job.task_uuid, 40)
    await run(runner)
    [edit] = world.session.sent(EditMessageText)
    assert "40%" in edit.text and "0:06" in edit.text

    world.clock.advance(10)
    url = world.fake.finish(job.task_uuid, cost=0.42)
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.DELIVERED
    assert job.cost_usd == 0.42 and job.video_url == url
    [video] = world.session.sent(SendVideo)
    assert video.video == url and video.chat_id == USER
    assert job.file_id == "video-file-" + job.file_id.rsplit("-", 1)[1]
    assert video.caption.startswith("🎬 Veo 3.1 Fast · 8 s\na &lt;b&gt;fox&lt;/b&gt;")
    assert [d.message_id for d in world.session.sent(DeleteMessage)] == [job.progress_message_id]
    assert await world.balance() == 500 - 34  # 8 s silent: $0.80 at $0.024 a token
    await run(runner, steps=2)
    assert len(world.session.sent(SendVideo)) == 1  # delivered once


async def test_image_to_video_uploads_once_then_submits_the_image_uuid(world):
    runner = world.runner()
    job = await world.create(model="vidu:2@0", mode=Mode.I2V, image=jpeg(), prompt="")
    await run(runner)
    [upload] = world.fake.uploads
    assert upload["image"].startswith("data:image/jpeg;base64,")
    job = await world.job(job.id)
    assert job.status is Status.SUBMITTED and job.image_uuid == "img-1"
    task = world.fake.tasks[job.task_uuid]
    assert task["inputs"] == {"frameImages": [{"image": "img-1", "frame": "first"}]}
    assert "positivePrompt" not in task
    assert await world.jobs.image(job.id) is None  # the blob is gone once Runware has it
    world.fake.finish(job.task_uuid)
    world.clock.advance(6)
    await run(runner, steps=2)
    assert (await world.job(job.id)).status is Status.DELIVERED


# --- restarts ----------------------------------------------------------------------------------


async def test_restart_in_every_status(world):
    first = world.runner()
    queued = await world.create(prompt="queued one")
    await first.stop()  # never stepped: the job stays queued

    uploading = await world.create(
        model="vidu:2@0", mode=Mode.I2V, image=jpeg(), prompt="x y", user=USER + 1
    )
    uploading = await world.jobs.move(uploading, Status.UPLOADING)
    await world.jobs.update(uploading, image_uuid="img-earlier")  # uploaded before the crash

    second = world.runner()
    await run(second)
    assert world.fake.uploads == []  # the stored imageUUID is reused
    queued, uploading = await world.job(queued.id), await world.job(uploading.id)
    assert queued.status is uploading.status is Status.SUBMITTED
    assert (
        world.fake.tasks[uploading.task_uuid]["inputs"]["frameImages"][0]["image"] == "img-earlier"
    )
    await second.stop()

    # submitted: a new runner polls, it does not submit again
    world.fake.finish(queued.task_uuid)
    world.clock.advance(6)
    third = world.runner()
    await third._poll()  # polled and marked succeeded, then "crash" before delivery
    assert (await world.job(queued.id)).status is Status.SUCCEEDED
    await third.stop()

    # succeeded: the next runner delivers it, once
    fourth = world.runner()
    await run(fourth, steps=2)
    assert (await world.job(queued.id)).status is Status.DELIVERED
    assert sum(world.fake.submits.values()) == 2
    assert max(world.fake.submits.values()) == 1
    assert len(world.session.sent(SendVideo)) == 1

    # failed but not yet told: the next runner tells the user, once
    world.fake.fail(uploading.task_uuid, "contentPolicyViolation")
    world.clock.advance(20)
    await fourth._poll()
    assert (await world.job(uploading.id)).status is Status.FAILED
    await fourth.stop()
    fifth = world.runner()
    await run(fifth, steps=2)
    notices = [m for m in world.session.sent(SendMessage) if "could not be made" in m.text]
    assert len(notices) == 1 and notices[0].chat_id == USER + 1
    assert await world.balance(USER + 1) == 500
    await fifth.stop()


async def test_a_crashed_runners_lease_is_taken_over_when_it_runs_out(world):
    job = await world.create()
    crashed = world.runner(lease=60)
    [claimed] = await world.jobs.claim((Status.QUEUED,), crashed.owner, 60, 5)
    assert claimed.id == job.id  # ... and then the process died, lease held
    other = world.runner(lease=60)
    await run(other)
    assert (await world.job(job.id)).status is Status.QUEUED
    world.clock.advance(61)
    await run(other)
    assert (await world.job(job.id)).status is Status.SUBMITTED


async def test_two_runners_never_process_the_same_job_twice(world):
    ids = []
    for user in range(2000, 2012):
        await world.users.touch(user, None, "en")
        await world.billing.credit(user, 100, Kind.ADMIN_TOPUP, f"s{user}")
        ids.append((await world.create(user=user)).id)
    a, b = world.runner(submit_concurrency=3), world.runner(submit_concurrency=3)
    for _ in range(6):
        await asyncio.gather(a.step(), b.step())
        await asyncio.gather(a.drain(), b.drain())
    assert len(world.fake.submits) == 12 and set(world.fake.submits.values()) == {1}
    world.fake.requests.clear()
    world.clock.advance(6)  # every job due for its first poll, at both runners at once
    await asyncio.gather(a.step(), b.step())
    await asyncio.gather(a.drain(), b.drain())
    polled = Counter(
        t["taskUUID"] for r in world.fake.requests for t in r if t["taskType"] == "getResponse"
    )
    assert len(polled) == 12 and set(polled.values()) == {1}  # each job by one runner
    for job_id in ids:
        world.fake.finish((await world.job(job_id)).task_uuid)
    world.clock.advance(30)
    for _ in range(6):
        await asyncio.gather(a.step(), b.step())
        await asyncio.gather(a.drain(), b.drain())
    sent = [v.chat_id for v in world.session.sent(SendVideo)]
    assert sorted(sent) == list(range(2000, 2012))
    statuses = {(await world.job(i)).status for i in ids}
    assert statuses == {Status.DELIVERED}


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "http_status", "reason", "error_class"),
    [
        ({"code": "contentPolicyViolation", "message": "no"}, 200, "content rules", "content"),
        (
            {
                "code": "invalidDuration",
                "message": "Invalid duration",
                "parameter": "duration",
                "allowedValues": [6],
            },
            400,
            "allowed: [6]",
            "validation",
        ),
        ({"code": "invalidApiKey", "message": "bad key"}, 401, "account needs attention", "auth"),
        (
            {"code": "insufficientCredits", "message": "top up"},
            402,
            "account needs attention",
            "out_of_credit",
        ),
    ],
)
async def test_submit_refusals_end_refunded_with_a_plain_message(
    world, error, http_status, reason, error_class
):
    runner = world.runner()
    job = await world.create()
    world.fake.fail_next.append(
        httpx.Response(http_status, json={"errors": [{**error, "taskUUID": job.task_uuid}]})
    )
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.FAILED and job.error_class == error_class
    assert await world.balance() == 500
    [notice] = [m for m in world.session.sent(SendMessage) if m.chat_id == USER]
    assert reason in notice.text and "50 tokens are back" in notice.text
    assert "invalidApiKey" not in notice.text and "{" not in notice.text
    admin = [m for m in world.session.sent(SendMessage) if m.chat_id == ADMIN]
    assert bool(admin) == (error_class in ("auth", "out_of_credit"))
    if admin:
        assert await world.jobs.paused() == "provider"
        assert "bad key" in admin[0].text or "top up" in admin[0].text
        with pytest.raises(GenerationPaused):
            await world.create(user=USER + 1)


async def test_account_trouble_alerts_admins_at_most_every_10_minutes_and_probe_resumes(world):
    runner = world.runner(probe_interval=60)
    world.fake.submit_error = {"code": "invalidApiKey", "message": "bad key"}
    first = await world.create()
    await run(runner)
    await world.jobs.resume()  # an admin resumes too early
    await world.create(user=USER + 1)
    world.clock.advance(5)
    await run(runner)
    admin = [m for m in world.session.sent(SendMessage) if m.chat_id == ADMIN]
    assert len(admin) == 1  # the second failure within 10 minutes does not alert again
    assert (await world.job(first.id)).status is Status.FAILED

    world.fake.submit_error = None
    world.clock.advance(30)
    await run(runner)
    assert await world.jobs.paused() == "provider"  # not probed yet
    world.clock.advance(31)
    await run(runner)  # probe: getResponse answers (unknown task) without an auth error
    assert await world.jobs.paused() is None
    assert "resumed" in world.session.sent(SendMessage)[-1].text
    await world.create()


async def test_two_runners_probe_a_paused_account_once_per_period(world):
    a, b = world.runner(probe_interval=60), world.runner(probe_interval=60)
    world.fake.submit_error = {"code": "invalidApiKey", "message": "bad key"}
    await world.create()
    await world.create(user=USER + 1)
    await asyncio.gather(a.step(), b.step())
    await asyncio.gather(a.drain(), b.drain())
    assert len(admin_texts(world)) == 1  # one alert for the fleet, not one per runner
    world.fake.balance = 0.0  # still nothing to spend: both runners come to probe
    world.clock.advance(61)
    world.fake.requests.clear()
    await asyncio.gather(a.step(), b.step())
    probes = [t for r in world.fake.requests for t in r if t["taskType"] == "accountManagement"]
    assert len(probes) == 1
    assert await world.jobs.paused() == "provider"


async def test_queued_jobs_wait_while_runware_is_paused(world):
    runner = world.runner(probe_interval=1000)
    job = await world.create()
    await world.jobs.pause("provider")
    world.fake.fail_next.append(httpx.Response(401, json={"error": {"code": "invalidApiKey"}}))
    await run(runner)  # a new runner probes at once: still refused
    await run(runner)
    assert (await world.job(job.id)).status is Status.QUEUED
    assert [t[0]["taskType"] for t in world.fake.requests] == ["accountManagement"]
    assert await world.jobs.paused() == "provider"


@pytest.mark.parametrize("balance", [0, {"amount": 0.0, "currency": "USD"}, -3.5])
async def test_an_empty_account_keeps_generation_paused_until_it_has_credit(world, balance):
    runner = world.runner(probe_interval=10)
    job = await world.create()
    await world.jobs.pause("provider")
    world.fake.balance = balance
    await run(runner)  # the key is accepted but there is no credit: still paused
    assert await world.jobs.paused() == "provider"
    assert (await world.job(job.id)).status is Status.QUEUED
    assert not world.fake.submits
    world.fake.balance = {"amount": 12.5, "currency": "USD"}
    world.clock.advance(11)
    await run(runner, steps=2)
    assert await world.jobs.paused() is None
    assert world.fake.submits[job.task_uuid] == 1
    assert "balance 12.50 USD" in world.session.sent(SendMessage)[-1].text or any(
        "balance 12.50 USD" in m.text for m in world.session.sent(SendMessage)
    )


async def test_transient_submit_faults_are_retried_then_refunded(world):
    runner = world.runner(max_submit_attempts=3, submit_retry_delay=10)
    world.runware.options = RunwareOptions(max_attempts=1)
    job = await world.create()
    world.fake.fail_next.extend([httpx.Response(503, text="busy")] * 3)
    await run(runner)
    assert (await world.job(job.id)).status is Status.QUEUED
    world.clock.advance(11)
    await run(runner)
    assert (await world.job(job.id)).status is Status.QUEUED
    world.clock.advance(21)
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.FAILED and job.error_class == "transient"
    assert {t[0]["taskUUID"] for t in world.fake.requests} == {job.task_uuid}
    assert "busy right now" in world.session.sent(SendMessage)[-1].text
    assert await world.balance() == 500


async def test_image_to_video_gets_exactly_its_submit_attempts(world):
    runner = world.runner(max_submit_attempts=2, submit_retry_delay=10)
    world.runware.options = RunwareOptions(max_attempts=1)
    job = await world.create(mode=Mode.I2V, image=jpeg())
    world.fake.submit_error = {"code": "timeoutError", "message": "busy"}  # transient, in a 200
    for _ in range(6):
        await run(runner)
        world.clock.advance(100)
    job = await world.job(job.id)
    assert job.status is Status.FAILED and job.error_class == "transient"
    assert len(world.fake.uploads) == 1  # the image went up once
    assert world.fake.submits[job.task_uuid] == 2  # max_submit_attempts, not one fewer


async def test_task_error_on_poll_and_timeout_are_refunded(world):
    runner = world.runner(max_job_age=600)
    failing = await world.create()
    slow = await world.create(user=USER + 1)
    await run(runner)
    world.fake.fail(failing.task_uuid, "providerContentPolicyViolation")
    world.clock.advance(6)
    await run(runner, steps=2)
    assert (await world.job(failing.id)).status is Status.FAILED
    assert (await world.job(slow.id)).status is Status.SUBMITTED
    world.clock.advance(600)
    await run(runner, steps=2)
    slow = await world.job(slow.id)
    assert slow.status is Status.FAILED and slow.error_class == "timeout"
    assert await world.balance(USER) == await world.balance(USER + 1) == 500
    texts = [m.text for m in world.session.sent(SendMessage) if "could not be made" in m.text]
    assert any("content rules" in t for t in texts) and any("too long" in t for t in texts)
    assert await world.db.fetchval("SELECT count(*) FROM ledger WHERE kind = 'job_refund'") == 2


# --- delivery ----------------------------------------------------------------------------------


async def finished(world, runner, **create):
    job = await world.create(**create)
    await run(runner)
    world.fake.finish(job.task_uuid)
    world.clock.advance(6)
    await runner._poll()
    return job


async def test_429_on_send_video_still_delivers(world):
    runner = world.runner()
    job = await finished(world, runner)
    world.session.refuse(SendVideo, 429, "Too Many Requests: retry after 3", retry_after=3)
    await run(runner, steps=2)
    assert (await world.job(job.id)).status is Status.DELIVERED
    assert world.telegram_sleeps == [3.0]
    assert len(world.session.sent(SendVideo)) == 2


async def test_a_video_sent_again_after_a_429_takes_a_budget_slot_of_its_own(world):
    """The send budget counts what Telegram receives: the first attempt holds the slot the
    messenger took for it, and the attempt after the 429 takes another."""
    budget = world.messenger.budget
    world.session.middleware(BudgetMiddleware(budget))  # inside the retries, as in the Bot
    runner = world.runner()
    job = await finished(world, runner)
    slots = 0
    take = budget.take

    async def counted() -> None:
        nonlocal slots
        slots += 1
        await take()

    budget.take = counted
    world.session.refuse(SendVideo, 429, "Too Many Requests: retry after 3", retry_after=3)
    await run(runner, steps=2)
    assert (await world.job(job.id)).status is Status.DELIVERED
    assert len(world.session.sent(SendVideo)) == 2
    assert slots == 2


async def test_url_refused_falls_back_to_a_streamed_upload(world):
    runner = world.runner()
    job = await finished(world, runner)
    world.session.refuse(SendVideo, 400, "Bad Request: failed to get HTTP URL content")
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.DELIVERED and job.delivered_as == "video"
    _by_url, uploaded = world.session.sent(SendVideo)
    assert isinstance(uploaded.video, FSInputFile)
    assert world.session.uploads == [(f"video-{job.id}.mp4", len(VIDEO_BYTES))]
    assert not uploaded.video.path.exists()  # the temporary file is gone
    assert job.file_id is not None


async def test_oversize_video_falls_back_to_a_link(world):
    world.messenger.upload_limit = 1000
    runner = world.runner()
    job = await finished(world, runner)
    world.session.refuse(SendVideo, 400, "Bad Request: wrong file identifier/HTTP URL specified")
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.DELIVERED and job.delivered_as == "link"
    assert job.video_url in world.session.sent(SendMessage)[-1].text
    assert world.session.uploads == []


async def test_video_url_404_fails_the_job_with_a_refund(world):
    world.router.get(url__startswith=VIDEOS).mock(return_value=httpx.Response(404))
    runner = world.runner()
    job = await finished(world, runner)
    world.session.refuse(SendVideo, 400, "Bad Request: failed to get HTTP URL content")
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.FAILED and job.error_class == "video_unavailable"
    assert await world.balance() == 500
    assert "could not be downloaded" in world.session.sent(SendMessage)[-1].text


async def test_blocked_user_job_is_completed_and_kept(world):
    runner = world.runner()
    job = await finished(world, runner)
    world.session.refuse(SendVideo, 403, "Forbidden: bot was blocked by the user")
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.DELIVERED and job.delivered_as == "blocked"
    assert await world.balance() == 450  # a finished video is paid for


async def test_progress_edits_are_throttled_and_deduplicated(world):
    runner = world.runner(first_poll=1, max_poll_interval=1)
    job = await world.create()
    await run(runner)
    for second in range(1, 13):
        world.clock.advance(1)
        world.fake.progress(job.task_uuid, 10 if second < 9 else 50)
        await run(runner)
    edits = world.session.sent(EditMessageText)
    assert 1 <= len(edits) <= 3  # 12 s of polls: at most one edit per 5 s
    assert len({e.text for e in edits}) == len(edits)


@pytest.mark.parametrize("prompt", ["ж" * 2900, "🦊 & <fox> " * 300, "🇺🇦" * 600])
async def test_caption_fits_telegram_counted_as_telegram_counts(world, prompt):
    runner = world.runner()
    job = await finished(world, runner, prompt=prompt)
    await run(runner, steps=2)
    [video] = world.session.sent(SendVideo)  # accepted at the first try
    shown = parse_html(video.caption)
    body, seed = shown.rsplit("\n", 1)
    assert 1000 < utf16_len(shown) <= 1024 and body.endswith("…")
    assert seed == "🎲 seed 7"  # the seed Runware reports, after the cut prompt
    assert (await world.job(job.id)).status is Status.DELIVERED


async def test_runner_loop_starts_and_stops_cleanly(world):
    runner = world.runner(tick=0.01)
    runner.start()
    job = await world.create()  # wakes the runner
    for _ in range(100):
        if (await world.job(job.id)).status is Status.SUBMITTED:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    assert (await world.job(job.id)).status is Status.SUBMITTED
    assert await world.db.fetchval("SELECT count(*) FROM jobs WHERE lease_owner IS NOT NULL") == 0
    assert json.loads((await world.db.fetchone("SELECT params FROM jobs"))[0])["duration"] == 8


async def test_a_delivery_in_flight_is_not_started_again_by_the_next_step(world):
    runner = world.runner()
    job = await finished(world, runner)
    release = asyncio.Event()
    original = world.messenger.deliver

    async def slow_deliver(job, still_mine):
        await release.wait()
        return await original(job, still_mine)

    world.messenger.deliver = slow_deliver
    await runner.step()  # starts the delivery, which now waits
    await asyncio.sleep(0)
    await runner.step()  # the loop wakes again while the delivery is in flight
    await runner.step()
    release.set()
    await runner.drain()
    await run(runner, steps=2)
    assert len(world.session.sent(SendVideo)) == 1
    assert (await world.job(job.id)).delivery_attempts == 1


async def test_a_runner_whose_lease_ran_out_while_waiting_to_send_leaves_it_to_the_next(world):
    a = world.runner(lease=60)
    job = await finished(world, a)
    budget = world.messenger.budget
    waiting, go_on = asyncio.Event(), asyncio.Event()
    take = budget.take

    async def slow_first_take():  # a's send waits for the send budget past its lease
        budget.take = take
        waiting.set()
        await go_on.wait()
        await take()

    budget.take = slow_first_take
    await a.step()
    await waiting.wait()
    world.clock.advance(61)
    b = world.runner(lease=60)
    await run(b)  # b takes the job over and delivers it
    go_on.set()
    await a.drain()  # a's turn comes: its lease is b's now, so it does not send
    assert len(world.session.sent(SendVideo)) == 1
    assert (await world.job(job.id)).status is Status.DELIVERED


async def test_a_free_slot_takes_the_next_job_at_once_not_at_the_next_tick(world):
    world.jobs.max_active_per_user = 50
    await world.billing.credit(USER, 1000, Kind.ADMIN_TOPUP, "many")
    jobs = [await world.create(prompt=f"job {n}") for n in range(12)]
    runner = world.runner(tick=60, submit_concurrency=2)  # only wake-ups can move it along
    runner.start()
    try:
        for _ in range(200):
            statuses = {(await world.job(j.id)).status for j in jobs}
            if statuses == {Status.SUBMITTED}:
                break
            await asyncio.sleep(0.01)
        assert statuses == {Status.SUBMITTED}
    finally:
        await runner.stop()


# --- the live catalog check, seen from the runner -------------------------------------------------


def video_tasks(fake: FakeRunware) -> list[dict]:
    return [t for batch in fake.requests for t in batch if t["taskType"] == "videoInference"]


def admin_texts(world: World) -> list[str]:
    return [m.text for m in world.session.sent(SendMessage) if m.chat_id == ADMIN]


async def test_a_queued_job_whose_model_was_retired_meanwhile_never_reaches_runware(world):
    checker = world.checker()
    assert await checker.check() == []
    assert admin_texts(world) == []
    job = await world.create("google:3@3")
    world.fake.rules.retire("google:3@3")
    await checker.check()
    [alert] = admin_texts(world)
    assert "Veo 3.1 Fast (google:3@3)" in alert and "retired" in alert
    await run(world.runner(checker=checker), steps=2)
    job = await world.job(job.id)
    assert job.status is Status.FAILED and job.error_class == "retired"
    assert await world.balance() == 500
    [notice] = [m for m in world.session.sent(SendMessage) if m.chat_id == USER]
    assert "retired this model" in notice.text and "50 tokens are back" in notice.text
    assert video_tasks(world.fake) == []
    with pytest.raises(UnknownModel):  # and no new job can be made for it
        await world.create("google:3@3")


async def test_runware_refusing_the_model_itself_retires_it_at_once(world):
    checker = world.checker()
    await checker.check()
    job = await world.create("google:3@3")
    world.fake.rules.retire("google:3@3")  # between two checks: the bot does not know yet
    await run(world.runner(checker=checker), steps=2)
    job = await world.job(job.id)
    assert job.status is Status.FAILED and job.error_class == "retired"
    assert await world.balance() == 500
    assert len(video_tasks(world.fake)) == 1
    assert world.catalog.available("google:3@3") is None  # withdrawn before the next check
    [alert] = admin_texts(world)
    assert "Veo 3.1 Fast (google:3@3)" in alert and "invalidModel" in alert
    with pytest.raises(UnknownModel):
        await world.create("google:3@3", user=USER + 1)
    await checker.check()  # the check agrees: no second message
    assert len(admin_texts(world)) == 1
    # the one request Runware refused: expected here, the bot could not know yet
    assert [v.split(":")[0] for v in world.fake.violations] == ["model"]
    world.fake.violations.clear()


async def test_a_combination_the_schema_withdrew_after_queueing_is_refunded_not_sent(world):
    checker = world.checker()
    await checker.check()
    job = await world.create("google:3@3", params={"duration": 4})
    world.fake.rules.change("google:3@3", durations=[6, 8])
    await checker.check()
    [alert] = admin_texts(world)
    assert "withdrawn duration=4" in alert and "duration" in alert
    await run(world.runner(checker=checker), steps=2)
    job = await world.job(job.id)
    assert job.status is Status.FAILED and job.error_class == "refused"
    [notice] = [m for m in world.session.sent(SendMessage) if m.chat_id == USER]
    assert "does not accept these settings any more" in notice.text
    assert video_tasks(world.fake) == []
    assert await world.balance() == 500
    other = await world.create("google:3@3", params={"duration": 6})  # the rest still works
    await run(world.runner(checker=checker))
    assert (await world.job(other.id)).status is Status.SUBMITTED


async def test_a_model_whose_provider_keeps_failing_is_withdrawn_for_a_while(world):
    world.catalog.live.clock = world.clock
    runner = world.runner(submit_concurrency=1, upstream_streak=3, upstream_pause=1800)
    world.fake.submit_error = {"code": "providerRateLimitExceeded", "message": "Kling overloaded"}
    queued = [
        await world.create("klingai:6@1", user=user) for user in (USER, USER, USER + 1, USER + 1)
    ]
    await run(runner, steps=6)
    failed = [await world.job(job.id) for job in queued]
    assert all(j.status is Status.FAILED and j.error_class == "upstream" for j in failed)
    assert len(video_tasks(world.fake)) == 3  # the fourth was refunded without being sent
    assert await world.balance() == await world.balance(USER + 1) == 500
    notices = [m.text for m in world.session.sent(SendMessage) if m.chat_id in (USER, USER + 1)]
    assert len(notices) == 4 and all("busy or having trouble" in n for n in notices)
    [alert] = admin_texts(world)
    assert "Kling 2.5 Turbo Pro (klingai:6@1): 3 jobs in a row failed" in alert
    assert "Not our account" in alert
    assert await world.jobs.paused() is None  # the rest of the bot goes on
    assert world.catalog.available("klingai:6@1") is None
    assert all(m.id != "klingai:6@1" for m in world.catalog.for_mode(Mode.T2V))
    with pytest.raises(UnknownModel):
        await world.create("klingai:6@1")

    world.fake.submit_error = None
    world.clock.advance(1801)  # the pause is over: offered again
    job = await world.create("klingai:6@1")
    await run(runner)
    assert (await world.job(job.id)).status is Status.SUBMITTED


async def test_provider_failures_seen_by_two_replicas_add_up_and_withdraw_the_model_on_both(world):
    """Replica A meets two of the provider's failures and replica B one: three in a row for the
    fleet. The model leaves both replicas' menus, B refunds a queued job without sending it,
    and the admins hear it once."""
    world.catalog.live.clock = world.clock
    catalog_b = load_catalog(PRICED)  # replica B's own process: its own catalog and live state
    catalog_b.live.clock = world.clock
    jobs_b = JobService(world.db, world.billing, catalog_b, max_active_per_user=2,
                        clock=world.clock)  # fmt: skip
    same = {"submit_concurrency": 1, "upstream_streak": 3, "upstream_pause": 1800}
    a = world.runner(**same)
    b = JobRunner(
        jobs_b, world.runware, catalog_b, world.messenger,
        RunnerOptions(**{**world.options.__dict__, **same}), clock=world.clock,
    )  # fmt: skip
    world.fake.submit_error = {"code": "providerRateLimitExceeded", "message": "Kling overloaded"}
    for runner, user in ((a, USER), (b, USER + 1), (a, USER)):
        job = await world.create("klingai:6@1", user=user)
        await run(runner)
        assert (await world.job(job.id)).error_class == "upstream"
    [alert] = admin_texts(world)
    assert "3 jobs in a row failed" in alert
    assert world.catalog.available("klingai:6@1") is None  # A withdrew it at once
    queued = await jobs_b.create(Draft(USER + 1, USER + 1, Mode.T2V, "klingai:6@1", {}, "a fox"))

    world.clock.advance(11)  # B reads the fleet's withdrawn models at its next step
    await run(b)
    assert catalog_b.available("klingai:6@1") is None
    assert all(m.id != "klingai:6@1" for m in catalog_b.for_mode(Mode.T2V))
    assert (await world.job(queued.id)).status is Status.FAILED
    assert len(video_tasks(world.fake)) == 3  # the queued job never reached Runware
    assert await world.balance(USER + 1) == 500
    with pytest.raises(UnknownModel):
        await jobs_b.create(Draft(USER + 1, USER + 1, Mode.T2V, "klingai:6@1", {}, "a fox"))
    assert len(admin_texts(world)) == 1  # told once for the fleet

    world.fake.submit_error = None
    world.clock.advance(1801)  # the pause is over for both
    await asyncio.gather(a.step(), b.step())
    assert world.catalog.available("klingai:6@1") is not None
    assert catalog_b.available("klingai:6@1") is not None


async def test_a_finished_video_resets_the_count_of_provider_failures(world):
    runner = world.runner(upstream_streak=3)

    async def fails() -> None:
        world.fake.submit_error = {"code": "providerError", "message": "hiccup"}
        job = await world.create("klingai:6@1")
        await run(runner)
        assert (await world.job(job.id)).error_class == "upstream"
        world.fake.submit_error = None

    await fails()
    await fails()
    job = await world.create("klingai:6@1")
    await run(runner)
    world.fake.finish(job.task_uuid)
    world.clock.advance(10)
    await run(runner)
    assert (await world.job(job.id)).status in (Status.SUCCEEDED, Status.DELIVERED)
    await fails()
    await fails()  # four failures, but never three in a row
    assert world.catalog.available("klingai:6@1") is not None
    assert admin_texts(world) == []
    await fails()
    assert world.catalog.available("klingai:6@1") is None


# --- every delivery ends where the user sees it -------------------------------------------------


async def deliver_until_done(world, runner, job, rounds=40):
    for _ in range(rounds):
        current = await world.job(job.id)
        if current.status is Status.DELIVERED:
            return current
        world.clock.advance(700)  # past any retry delay
        await run(runner)
    raise AssertionError(f"job {job.id} never finished: {current}")


async def test_a_video_telegram_keeps_refusing_ends_as_its_link_with_a_word_of_the_gallery(world):
    runner = world.runner(max_delivery_attempts=3)
    job = await finished(world, runner)
    progress = job.progress_message_id or (await world.job(job.id)).progress_message_id
    for _ in range(3):
        world.session.refuse(SendVideo, 500, "Internal Server Error")
    job = await deliver_until_done(world, runner, job)
    assert job.delivered_as == "link"
    assert len(world.session.sent(SendVideo)) == 3  # one per attempt: no retry inside a send
    assert world.session.uploads == []  # a 5xx is not "the URL was refused"
    [link] = [m for m in world.session.sent(SendMessage) if job.video_url in (m.text or "")]
    assert "Telegram would not take the file" in link.text and "/gallery" in link.text
    deleted = world.session.sent(DeleteMessage)
    assert progress is not None and [d.message_id for d in deleted] == [progress]


@pytest.mark.parametrize(
    ("code", "description"),
    [
        (400, "Bad Request: chat not found"),
        (403, "Forbidden: user is deactivated"),
        (403, "Forbidden: bot was blocked by the user"),
    ],
)
async def test_an_unreachable_chat_stops_at_once_and_keeps_the_job(world, code, description):
    runner = world.runner()
    job = await finished(world, runner)
    world.session.refuse(SendVideo, code, description)
    job = await deliver_until_done(world, runner, job)
    assert job.delivered_as == "blocked" and job.video_url
    assert len(world.session.sent(SendVideo)) == 1 and world.session.uploads == []
    assert await world.balance() == 450  # a finished video is paid for
    stats = await Admin(world.db, world.billing).stats()
    assert stats.delivered_as == {"blocked": 1}


async def test_a_refused_caption_is_dropped_not_the_video(world):
    runner = world.runner()
    job = await finished(world, runner)
    world.session.refuse(SendVideo, 400, "Bad Request: message caption is too long")
    job = await deliver_until_done(world, runner, job)
    assert job.delivered_as == "video"
    first, second = world.session.sent(SendVideo)
    assert first.caption and second.caption is None and second.video == first.video


async def test_a_link_that_cannot_be_sent_either_ends_kept_and_counted(world):
    runner = world.runner(max_delivery_attempts=2)
    job = await finished(world, runner)
    for _ in range(10):
        world.session.refuse(None, 502, "Bad Gateway")
    job = await deliver_until_done(world, runner, job)
    assert job.delivered_as == "unsent"
    stats = await Admin(world.db, world.billing).stats()
    assert stats.delivered_as == {"unsent": 1}
    assert await world.balance() == 450


async def test_an_admin_refund_of_a_running_job_stops_it_and_nothing_is_delivered(world):
    runner = world.runner()
    job = await world.create()
    await run(runner)
    assert (await world.job(job.id)).status is Status.SUBMITTED
    assert await world.jobs.refund_by_admin(job.id, ADMIN) == AdminRefund(job.id, USER, 50, True)
    assert await world.balance() == 500
    world.fake.finish(job.task_uuid)  # Runware finishes it anyway
    world.clock.advance(60)
    await run(runner, steps=3)
    job = await world.job(job.id)
    assert job.status is Status.FAILED and job.error_class == "cancelled"
    assert world.session.sent(SendVideo) == []
    notices = [m.text for m in world.session.sent(SendMessage) if m.chat_id == USER]
    assert "an admin stopped it" in notices[-1] and "50 tokens are back" in notices[-1]
    assert world.session.sent(DeleteMessage)  # the "Generating" message is taken down
    assert await world.jobs.refund_by_admin(job.id, ADMIN) == AdminRefund(job.id, USER, 0, False)
    assert await world.balance() == 500


async def test_an_admin_refund_of_a_delivered_job_keeps_it_delivered(world):
    runner = world.runner()
    job = await finished(world, runner)
    await run(runner, steps=2)
    assert (await world.job(job.id)).status is Status.DELIVERED
    assert await world.jobs.refund_by_admin(job.id, ADMIN) == AdminRefund(job.id, USER, 50, False)
    assert await world.jobs.refund_by_admin(10_000, ADMIN) is None
    assert (await world.job(job.id)).status is Status.DELIVERED
    assert await world.balance() == 500


async def test_a_slow_poll_does_not_hold_up_a_video_that_is_ready(world):
    runner = world.runner()
    ready = await finished(world, runner)  # done at Runware, waiting to be sent
    waiting = await world.create(user=USER + 1)
    await run(runner)
    assert (await world.job(waiting.id)).status is Status.SUBMITTED
    gate = asyncio.Event()
    real_poll = world.runware.poll

    async def slow_poll(uuids):
        await gate.wait()  # getResponse taking its time (up to the request timeout)
        return await real_poll(uuids)

    world.runware.poll = slow_poll
    world.clock.advance(30)  # the waiting job is due for a poll
    await asyncio.wait_for(runner.step(), 5)  # a step does not wait for the poll
    for _ in range(200):
        if (await world.job(ready.id)).status is Status.DELIVERED:
            break
        await asyncio.sleep(0.01)
    assert (await world.job(ready.id)).status is Status.DELIVERED
    assert not gate.is_set()  # the poll is still waiting
    await asyncio.wait_for(runner.step(), 5)  # nor does it start a second poll round
    gate.set()
    await runner.drain()
    polls = [r for r in world.fake.requests if r[0]["taskType"] == "getResponse"]
    assert len(polls) == 2  # the one in finished(), and this round once


# --- results pushed by Runware (webhook mode) ---------------------------------------------------

HOOK = "https://bot.test/runware"


def result(job: Job, **item) -> dict:
    return {"data": [{"taskType": "videoInference", "taskUUID": job.task_uuid, **item}]}


def polls(world: World) -> int:
    return sum(1 for r in world.fake.requests for t in r if t["taskType"] == "getResponse")


async def test_a_pushed_result_is_believed_only_with_the_jobs_token_and_settles_it_once(world):
    runner = world.runner(result_url=HOOK, safety_poll=120)
    job = await world.create()
    await run(runner)
    job = await world.job(job.id)
    [task] = video_tasks(world.fake)
    assert task["webhookURL"] == f"{HOOK}/{job.id}/{job.callback_token}"
    url = world.fake.finish(job.task_uuid)
    done = result(job, status="success", videoURL=url, cost=0.4)
    assert not await runner.pushed(job.id, "forged-token-of-the-same-length-abc", done)
    assert not await runner.pushed(job.id + 1, job.callback_token, done)  # another job's URL
    assert (await world.job(job.id)).status is Status.SUBMITTED

    assert await runner.pushed(job.id, job.callback_token, done)
    await runner.drain()
    await run(runner)
    assert await runner.pushed(job.id, job.callback_token, done)  # Runware sends it again
    await run(runner)
    assert (await world.job(job.id)).status is Status.DELIVERED
    assert len(world.session.sent(SendVideo)) == 1
    assert polls(world) == 0 and len(world.fake.requests) == 1  # one request: the submit


async def test_a_lost_push_is_found_by_the_safety_poll(world):
    runner = world.runner(result_url=HOOK, safety_poll=120)
    job = await world.create()
    await run(runner)
    world.fake.finish(job.task_uuid)
    world.clock.advance(60)
    await run(runner)
    assert polls(world) == 0  # no push yet, and the safety poll not due
    world.clock.advance(61)
    await run(runner, steps=2)
    assert polls(world) == 1
    assert (await world.job(job.id)).status is Status.DELIVERED


async def test_a_pushed_failure_in_any_known_shape_refunds_once(world):
    runner = world.runner(result_url=HOOK)
    job = await world.create()
    await run(runner)
    job = await world.job(job.id)
    bare = {
        "taskType": "videoInference",
        "taskUUID": job.task_uuid,
        "status": "error",
        "error": {"code": "contentPolicyViolation", "message": "not allowed"},
    }
    assert await runner.pushed(job.id, job.callback_token, bare)
    assert await runner.pushed(job.id, job.callback_token, {"data": [bare]})
    await run(runner)
    assert (await world.job(job.id)).status is Status.FAILED
    assert await world.balance() == 500
    refunds = await world.db.fetchval(
        "SELECT count(*) FROM ledger WHERE job_id = ? AND kind = ?", (job.id, Kind.JOB_REFUND.value)
    )
    assert refunds == 1


async def submit_held(world: World, runner: JobRunner, answer) -> asyncio.Task:
    """The runner's step, started: its submit reaches Runware, and the call stays out until
    `answer()` returns (the task's UUID comes back) or raises (the call ends in that error)."""
    real_submit = world.runware.submit_video

    async def held(request, *, retry=False):
        task_uuid = await real_submit(request, retry=retry)  # Runware has it
        await answer()
        return task_uuid

    world.runware.submit_video = held
    submitting = asyncio.create_task(run(runner))
    for _ in range(500):
        if video_tasks(world.fake):
            break
        await asyncio.sleep(0.01)
    return submitting


async def test_a_result_pushed_before_its_submit_is_written_down_is_not_left_waiting(world):
    """Runware has the task and pushes its result while the submit's answer is still on its way
    (or its replica died before it): the job is delivered now, not after the safety poll."""
    runner = world.runner(result_url=HOOK, safety_poll=600)
    job = await world.create()
    answered = asyncio.Event()
    submitting = await submit_held(world, runner, answered.wait)  # its answer is slow to come
    job = await world.job(job.id)
    assert job.status is Status.QUEUED and job.sending_at is not None
    url = world.fake.finish(job.task_uuid)
    assert await runner.pushed(job.id, job.callback_token, result(job, status="progress"))
    assert (await world.job(job.id)).status is Status.QUEUED  # nothing final: nothing moves
    done = result(job, status="success", videoURL=url, cost=0.4)
    assert await runner.pushed(job.id, job.callback_token, done)
    assert (await world.job(job.id)).status is Status.SUCCEEDED
    answered.set()
    await submitting
    await run(runner, steps=2)
    assert (await world.job(job.id)).status is Status.DELIVERED
    assert len(world.session.sent(SendVideo)) == 1
    assert polls(world) == 0
    assert await world.balance() == 500 - job.tokens  # charged once, nothing refunded


async def test_a_submit_that_fails_after_its_result_was_pushed_fails_nothing(world):
    """The push settled the job while the submit's call was still out; the call then ends in
    an error. The video is ready: the job is not failed, and nothing is refunded."""
    runner = world.runner(result_url=HOOK, safety_poll=600)
    job = await world.create()
    answered = asyncio.Event()

    async def refused() -> None:
        await answered.wait()
        raise RunwareFailure(RunwareError(ErrorClass.PROVIDER, "late", "the answer was an error"))

    submitting = await submit_held(world, runner, refused)
    job = await world.job(job.id)
    url = world.fake.finish(job.task_uuid)
    done = result(job, status="success", videoURL=url, cost=0.4)
    assert await runner.pushed(job.id, job.callback_token, done)
    answered.set()
    await submitting
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.DELIVERED and job.error_class is None
    assert len(world.session.sent(SendVideo)) == 1
    assert await world.balance() == 500 - job.tokens  # charged once, nothing refunded


@pytest.mark.parametrize("body", [None, {"hello": 1}, [], {"errors": [{"code": "x"}]}])
async def test_a_push_with_nothing_final_in_it_brings_the_poll_forward(world, body):
    runner = world.runner(result_url=HOOK, safety_poll=600)
    job = await world.create()
    await run(runner)
    job = await world.job(job.id)
    world.fake.finish(job.task_uuid)
    assert await runner.pushed(job.id, job.callback_token, body)  # a general error: not believed
    await run(runner, steps=2)
    assert polls(world) == 1
    assert (await world.job(job.id)).status is Status.DELIVERED


# --- the user's Cancel -------------------------------------------------------------------------


async def test_cancel_while_queued_refunds_in_full_and_nothing_reaches_runware(world):
    job = await world.create()
    assert await world.balance() == 500 - job.tokens
    result = await world.jobs.cancel_by_user(job.id, USER)
    assert result.outcome is CancelOutcome.CANCELLED and result.tokens == job.tokens
    assert await world.balance() == 500
    await run(world.runner(), steps=3)
    stored = await world.job(job.id)
    assert stored.status is Status.FAILED and stored.error_class == "user_cancelled"
    assert video_tasks(world.fake) == []
    assert [m for m in world.session.sent(SendMessage) if m.chat_id == USER] == []  # no notice
    again = await world.jobs.cancel_by_user(job.id, USER)  # a second tap gives nothing more
    assert again.outcome is CancelOutcome.FINISHED and again.tokens == 0
    assert await world.balance() == 500


async def test_cancel_after_the_runner_claimed_the_job_but_before_it_sent_stops_the_send(world):
    runner = world.runner()
    job = await world.create()
    [claimed] = await world.jobs.claim((Status.QUEUED,), runner.owner, 300, 1)
    result = await world.jobs.cancel_by_user(job.id, USER)  # the tap lands mid-step
    assert result.outcome is CancelOutcome.CANCELLED
    await runner._submit(claimed)  # the step goes on from where the tap found it
    assert video_tasks(world.fake) == []
    assert await world.balance() == 500
    refunds = await world.db.fetchval(
        "SELECT count(*) FROM ledger WHERE job_id = ? AND kind = 'job_refund'", (job.id,)
    )
    assert refunds == 1


async def test_cancel_once_the_task_is_on_its_way_changes_nothing_and_the_job_goes_on(world):
    world.fake.submit_error = {"code": "timeoutError", "message": "busy"}  # sent, not accepted
    job = await world.create()
    runner = world.runner()
    await run(runner)
    assert (await world.job(job.id)).status is Status.QUEUED  # to be sent again, same task
    result = await world.jobs.cancel_by_user(job.id, USER)
    assert result.outcome is CancelOutcome.AT_RUNWARE  # Runware may have it: it may bill it
    world.fake.submit_error = None
    world.clock.advance(11)
    await run(runner)
    assert (await world.job(job.id)).status is Status.SUBMITTED
    late = await world.jobs.cancel_by_user(job.id, USER)
    assert late.outcome is CancelOutcome.AT_RUNWARE
    assert await world.balance() == 500 - job.tokens
    assert {t["taskUUID"] for t in video_tasks(world.fake)} == {job.task_uuid}


async def test_nobody_cancels_another_users_job(world):
    job = await world.create()
    result = await world.jobs.cancel_by_user(job.id, USER + 1)
    assert result.outcome is CancelOutcome.NOT_FOUND
    assert (await world.job(job.id)).status is Status.QUEUED
    assert await world.balance() == 500 - job.tokens


# --- original quality: the file and the link after the video ------------------------------------


async def delivered_with(world, *, send_file: bool, send_link: bool) -> Job:
    await world.users.set_delivery(USER, send_file=send_file, send_link=send_link)
    job = await world.create()
    runner = world.runner()
    await run(runner)
    world.clock.advance(10)
    world.fake.finish(job.task_uuid)
    await run(runner, steps=2)
    job = await world.job(job.id)
    assert job.status is Status.DELIVERED and job.delivered_as == "video"
    return job


async def test_original_quality_sends_the_file_and_the_link_once_after_the_video(world):
    job = await delivered_with(world, send_file=True, send_link=True)
    assert job.extras == "file,link" and job.extras_at is not None
    assert len(world.session.sent(SendVideo)) == 1
    [document] = world.session.sent(SendDocument)
    assert document.chat_id == USER and document.disable_content_type_detection is True
    assert isinstance(document.document, FSInputFile)
    assert document.document.filename == f"video-{job.id}.mp4"
    assert document.caption == "📎 Veo 3.1 Fast, the original file"
    [link] = [m for m in world.session.sent(SendMessage) if "original file" in m.text]
    assert f"🔗 The original file: {job.video_url}" in link.text and link.chat_id == USER
    sends = [r for r in world.session.requests if isinstance(r, SendVideo | SendDocument)]
    sends += [r for r in world.session.requests if r is link]
    order = sorted(sends, key=world.session.requests.index)
    assert [type(r).__name__ for r in order] == ["SendVideo", "SendDocument", "SendMessage"]
    await run(world.runner(), steps=2)
    assert len(world.session.sent(SendDocument)) == 1  # once, whatever runs next
    assert not list(Path(tempfile.gettempdir()).glob(f"job{job.id}-*"))  # cleaned up


async def test_without_the_setting_only_the_video_comes(world):
    job = await delivered_with(world, send_file=False, send_link=False)
    assert job.extras is None
    assert world.session.sent(SendDocument) == []
    assert [m for m in world.session.sent(SendMessage) if "original file" in m.text] == []


async def test_a_file_over_the_upload_limit_comes_as_its_link(world):
    world.messenger.upload_limit = len(VIDEO_BYTES) - 1  # a bot's 50 MB, scaled down
    job = await delivered_with(world, send_file=True, send_link=False)
    assert world.session.sent(SendDocument) == []
    [link] = [m for m in world.session.sent(SendMessage) if "original file" in m.text]
    assert "more than a bot may send here. Download it:" in link.text
    assert job.video_url in link.text


async def test_a_last_frame_only_where_the_model_takes_one_and_advanced_values_checked(world):
    png = image_bytes(640, 360, kind="PNG")
    lite = Draft(USER, USER, Mode.I2V, "google:veo@3.1-lite", {}, "a fox", png, last_image=png)
    with pytest.raises(InvalidRequest) as info:
        await world.jobs.create(lite)
    assert [p.code for p in info.value.problems] == ["last_frame"]
    t2v = Draft(USER, USER, Mode.T2V, "google:3@3", {}, "a fox", last_image=png)
    with pytest.raises(InvalidRequest):
        await world.jobs.create(t2v)
    with pytest.raises(InvalidRequest) as info:
        await world.create(model="minimax:4@1", params={"seed": 5, "negative": "blur"})
    assert {p.code for p in info.value.problems} == {"seed_model", "negative_model"}
    with pytest.raises(InvalidRequest) as info:
        await world.create(params={"seed": 0})
    assert [p.code for p in info.value.problems] == ["seed"]
    assert await world.db.fetchval("SELECT count(*) FROM jobs") == 0
    assert await world.balance() == 500

    veo = Draft(USER, USER, Mode.I2V, "google:3@3", {"seed": 9}, "a fox", png, last_image=png)
    job = await world.jobs.create(veo)
    assert job.last_frame and job.fixed_seed == 9
    assert await world.jobs.last_image(job.id) == png


async def test_side_by_side_summary_once_with_a_cancelled_and_a_failed_model(world):
    world.jobs.max_active_per_user = 3
    entries = [("google:3@3", {"duration": 8}), ("klingai:6@1", {"duration": 5}),
               ("minimax:4@1", {"duration": 6})]  # fmt: skip
    draft = await world.jobs.drafts.save(
        USER, Mode.T2V, entries[0][0], entries[0][1], "a fox", compare=entries
    )
    veo, kling, hailuo = await world.jobs.create_from_draft(draft.id, USER)
    assert [j.model_id for j in (veo, kling, hailuo)] == [m for m, _ in entries]
    assert {j.group_id for j in (veo, kling, hailuo)} == {veo.id}
    cancel = await world.jobs.cancel_by_user(hailuo.id, USER)  # still waiting in line
    assert cancel.outcome is CancelOutcome.CANCELLED
    runner = world.runner()
    await run(runner)
    submitted = [t for r in world.fake.requests for t in r if t["taskType"] == "videoInference"]
    assert len(submitted) == 2  # the cancelled one never reaches Runware
    world.fake.finish(veo.task_uuid)
    world.fake.fail(kling.task_uuid, "providerContentPolicyViolation")
    world.clock.advance(6)
    await runner._poll()
    await run(runner, steps=3)
    assert (await world.job(veo.id)).status is Status.DELIVERED
    sent = [m.text for m in world.session.sent(SendMessage)]
    assert not any("Hailuo" in t and "could not be made" in t for t in sent)  # no second word
    [summary] = [t for t in sent if "Models side by side: all done" in t]
    lines = summary.split("\n")
    assert lines[1] == "<i>a fox</i>"
    assert lines[2].startswith("1. <b>Veo 3.1 Fast</b> — ready in 0:")
    assert lines[2].endswith(f" · {veo.tokens} tokens")
    assert lines[3] == f"2. <b>Kling 2.5 Turbo Pro</b> — failed, {kling.tokens} tokens back"
    assert lines[4] == f"3. <b>Hailuo 2.3</b> — cancelled, {hailuo.tokens} tokens back"
    assert await world.jobs.take_summary(await world.job(kling.id)) is None  # taken once
    assert await world.balance() == 500 - veo.tokens
