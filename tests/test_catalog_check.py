"""The live check of the catalog against Runware's registry and request schemas, over HTTP on
127.0.0.1 (the fake's schema service is generated from the same rules that judge its submits):
what users see when Runware retires a model or tightens a schema, what admins are told, and
that a schema service in trouble changes nothing."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from handlers.callbacks import Again
from services.catalog import CATALOG_PATH, Mode, ValidParams, load_catalog, video_task
from services.catalog_check import CatalogChecker
from services.duties import Duties
from services.jobs import Draft, Status
from services.runware import RunwareClient, RunwareOptions
from tests.fake_runware import RunwareServer
from tests.harness import Harness

KEY = "rw-test-key-0123456789"
ADMIN = 9
SEEDANCE = "bytedance:2@2"


class Alerts(list):
    async def __call__(self, text: str) -> None:
        self.append(text)


@pytest.fixture
async def server() -> AsyncIterator[RunwareServer]:
    fake = RunwareServer(KEY, latency=0.1)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/schemas"  # nothing listens there any more


def snapshot(checker: CatalogChecker) -> tuple:
    live = checker.catalog.live
    return (
        dict(live.retired),
        dict(live.unusable),
        {m: [w.to_json() for w in ws] for m, ws in live.withdrawn.items()},
        {m: (s.status, s.withdrawn) for m, s in checker.states.items()},
    )


# --- the check itself ---------------------------------------------------------------------------


async def test_the_first_check_accepts_the_catalog_and_stores_what_it_found(db, server, http):
    catalog = load_catalog()
    alerts = Alerts()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=alerts)
    assert await checker.check() == []
    assert alerts == [] and checker.last_error is None and checker.last_check is not None
    rows = await db.fetchall("SELECT model_id, status, schema FROM model_state")
    assert {r["model_id"] for r in rows} == {m.id for m in catalog.models}
    assert all(r["status"] == "live" and json.loads(r["schema"]) for r in rows)
    assert catalog.live.withdrawn == {} and catalog.live.retired == {}
    assert all(catalog.available(m.id) for m in catalog.models)


async def test_one_replica_checks_for_the_fleet_and_the_others_read_its_findings(db, server, http):
    server.rules.change(SEEDANCE, durations=[3, 5, 8, 10])
    alerts = Alerts()
    a, b = (
        CatalogChecker(
            load_catalog(), db, http, server.schemas_url, alert=alerts, duties=Duties(db)
        )
        for _ in range(2)
    )
    await asyncio.gather(a.round(3600), b.round(3600))  # two replicas starting together
    [alert] = alerts  # the admins hear it once
    assert "withdrawn duration=12" in alert
    registry = server.registry_requests
    await b.round(3600)  # b's next round, within the period: b reads what a stored
    assert server.registry_requests == registry
    for checker in (a, b):
        assert set(checker.catalog.live.withdrawn) == {SEEDANCE}


async def test_a_schema_that_forbids_one_duration_withdraws_just_that_duration(db, server, http):
    catalog = load_catalog()
    alerts = Alerts()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=alerts)
    await checker.check()
    server.rules.change(SEEDANCE, durations=[3, 5, 8, 10])  # 12 s no longer accepted
    [change] = await checker.check()
    assert change.startswith("Seedance 1.0 Pro Fast (bytedance:2@2): withdrawn duration=12: ")
    assert "duration: " in change  # the schema's path and message
    [alert] = alerts
    assert change in alert
    seedance = catalog.get(SEEDANCE)
    for mode in (Mode.T2V, Mode.I2V):
        base = catalog.default_choice(seedance, mode)
        assert catalog.offered(seedance, mode, base, "duration") == [3, 5, 8, 10]
        assert [p.code for p in catalog.validate(seedance, mode, {"duration": 12})] == ["withdrawn"]
        assert seedance in catalog.for_mode(mode)
    assert set(catalog.live.withdrawn) == {SEEDANCE}  # nothing else moved
    assert await checker.check() == [] and len(alerts) == 1  # told once per change

    server.rules.change(SEEDANCE, durations=[3, 5, 8, 10, 12])
    assert await checker.check() == [
        "Seedance 1.0 Pro Fast (bytedance:2@2): offered again duration=12"
    ]
    assert catalog.live.withdrawn == {}


async def test_a_schema_refusing_everything_hides_the_model(db, server, http):
    catalog = load_catalog()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=Alerts())
    server.rules.change("runway:1@2", durations=[7])
    changes = await checker.check()
    assert any("Runway Gen-4.5 (runway:1@2): hidden" in c for c in changes)
    assert catalog.available("runway:1@2") is None
    assert all(m.id != "runway:1@2" for m in catalog.for_mode(Mode.T2V))


SERVICE_FAULTS = [
    ("HTTP 500", [(500, '{"error": "internal"}')]),
    ("not JSON", [(200, "<html>maintenance</html>")]),
    ("registry without models", [(200, '{"models": {}}')]),
    ("registry naming none of ours", [(200, '{"models": {"acme:1@1": {}}}')]),
    ("a list instead of an object", [(200, "[1, 2, 3]")]),
]


@pytest.mark.parametrize(("name", "faults"), SERVICE_FAULTS, ids=[f[0] for f in SERVICE_FAULTS])
async def test_a_schema_service_in_trouble_changes_nothing(db, server, http, name, faults):
    catalog = load_catalog()
    alerts = Alerts()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=alerts)
    server.rules.change(SEEDANCE, durations=[3, 5, 8, 10])
    server.rules.retire("runway:1@2")
    await checker.check()
    before, told = snapshot(checker), len(alerts)
    server.schema_faults.extend(faults)
    assert await checker.check() == []
    assert snapshot(checker) == before and len(alerts) == told
    assert checker.last_error
    assert len(catalog.for_mode(Mode.T2V)) == len(catalog.models) - 2  # Vidu 2.0, Runway


async def test_garbage_schemas_for_every_model_change_nothing(db, server, http):
    catalog = load_catalog()
    alerts = Alerts()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=alerts)
    server.rules.change(SEEDANCE, durations=[3, 5, 8, 10])
    await checker.check()
    before, told = snapshot(checker), len(alerts)
    registry = json.dumps(server.rules.registry())
    server.schema_faults.append((200, registry))
    server.schema_faults.extend([(200, '{"requestSchema": {"type": 12}}')] * 6)
    server.schema_faults.extend([(200, "garbage")] * 6)
    assert await checker.check() == []
    assert snapshot(checker) == before and len(alerts) == told
    assert "not JSON" in (checker.last_error or "")


async def test_an_unreachable_schema_service_changes_nothing(db, server, http):
    catalog = load_catalog()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=Alerts())
    server.rules.retire("runway:1@2")
    await checker.check()
    before = snapshot(checker)
    checker.base = closed_port_url().rstrip("/")
    assert await checker.check() == []
    assert snapshot(checker) == before and "ConnectError" in (checker.last_error or "")


async def test_a_restart_without_network_keeps_the_last_known_state(db, server, http):
    catalog = load_catalog()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=Alerts())
    server.rules.change(SEEDANCE, durations=[3, 5, 8, 10])
    server.rules.retire("runway:1@2")
    await checker.check()

    fresh = load_catalog()  # a new process: the catalog file says nothing of either
    alerts = Alerts()
    offline = CatalogChecker(fresh, db, http, closed_port_url(), alert=alerts)
    await offline.load()
    assert fresh.available("runway:1@2") is None and fresh.successor("runway:1@2") is None
    seedance = fresh.get(SEEDANCE)
    assert [p.code for p in fresh.validate(seedance, Mode.T2V, {"duration": 12})] == ["withdrawn"]
    # the stored schema still guards the submit
    valid = load_catalog().validate(seedance, Mode.T2V, {"duration": 12})
    assert isinstance(valid, ValidParams)
    task = video_task(seedance, valid, "a fox", "22222222-2222-4222-8222-222222222222")
    assert offline.refusal(SEEDANCE, task).startswith("duration: ")
    assert offline.refusal("runway:1@2", task) == "model runway:1@2 is retired"
    assert await offline.check() == [] and alerts == []
    assert fresh.available("runway:1@2") is None

    # back online, the first check after the start tells the admins what is still retired
    online = CatalogChecker(load_catalog(), db, http, server.schemas_url, alert=alerts)
    await online.load()
    await online.check()
    [alert] = alerts
    assert "Runway Gen-4.5 (runway:1@2): retired" in alert
    await online.check()
    assert len(alerts) == 1


async def test_a_retired_model_that_comes_back_is_offered_again(db, server, http):
    catalog = load_catalog()
    alerts = Alerts()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=alerts)
    server.rules.retire("runway:1@2")
    await checker.check()
    assert catalog.available("runway:1@2") is None
    server.rules.retired.discard("runway:1@2")
    assert await checker.check() == ["Runway Gen-4.5 (runway:1@2): back in Runware's registry"]
    assert catalog.available("runway:1@2") is not None


async def test_dry_runs_record_the_cost_and_withdraw_what_runware_refuses(db, server, http):
    catalog = load_catalog()
    alerts = Alerts()
    runware = RunwareClient(KEY, f"{server.url}/v1", RunwareOptions(max_attempts=1))
    checker = CatalogChecker(
        catalog, db, http, server.schemas_url, alert=alerts, runware=runware, dry_run=True
    )
    await checker.check()
    server.dry_run_cost = 0.61
    server.rules.change(SEEDANCE, durations=[3, 8, 10, 12])  # its default 5 s refused
    try:
        await checker.dry_run_round()
    finally:
        await runware.close()
    t2v = [m.id for m in catalog.models if Mode.T2V in m.modes]
    assert sorted(t["model"] for t in server.dry_runs) == sorted(t2v)
    assert server.accepted == {}  # nothing was generated (or billed)
    costs = {r["model_id"]: r["usd_cost"] for r in await db.fetchall("SELECT * FROM model_state")}
    assert all(costs[m] == 0.61 for m in t2v if m != SEEDANCE)
    [alert] = alerts
    assert "Seedance 1.0 Pro Fast (bytedance:2@2): withdrawn" in alert and "dry run" in alert
    seedance = catalog.get(SEEDANCE)
    assert [p.code for p in catalog.validate(seedance, Mode.T2V, {"duration": 5})] == ["withdrawn"]


# --- what users and admins see ------------------------------------------------------------------


def successor_catalog(folder):
    """The real catalog, with Veo 3.1 named as the successor of Veo 3.1 Fast."""
    text = CATALOG_PATH.read_text(encoding="utf-8")
    old = 'replaces = ["google:3@0", "google:2@0"]'
    assert old in text
    path = folder / "models.toml"
    path.write_text(
        text.replace(old, 'replaces = ["google:3@0", "google:2@0", "google:3@3"]'),
        encoding="utf-8",
    )
    return path


async def delivered(h: Harness, model: str, params: dict, prompt: str):
    jobs = h.services.jobs
    job = await jobs.create(Draft(h.user_id, h.user_id, Mode.T2V, model, params, prompt))
    job = await jobs.move(job, Status.SUBMITTED)
    job = await jobs.move(job, Status.SUCCEEDED, video_url="https://v/x.mp4")
    return await jobs.move(job, Status.DELIVERED, file_id="FILE1", delivered_as="video")


def labels(h: Harness) -> list[str]:
    return [text for text, _ in h.buttons()]


async def test_a_model_retired_between_two_checks_moves_users_to_its_successor(tmp_path, server):
    h = await Harness.start(
        tmp_path, runware_schemas_url=server.schemas_url, catalog_path=successor_catalog(tmp_path)
    )
    try:
        checker, catalog = h.services.checker, h.services.catalog
        alerts = Alerts()
        checker.alert = alerts
        await h.give(5000)
        assert await checker.check() == []

        card = await h.open_card("Veo 3.1 Fast ·", "a fox in the snow")
        assert "Veo 3.1 Fast" in card.text
        old = {"duration": 6, "aspect": "9:16", "options": {"audio": False}}
        job = await delivered(h, "google:3@3", old, "waves at sunset")

        server.rules.retire("google:3@3")
        await checker.check()
        [alert] = alerts
        assert "Veo 3.1 Fast (google:3@3): retired" in alert and "Veo 3.1 (google:3@2)" in alert
        assert await checker.check() == [] and len(alerts) == 1

        # the menu: gone from both screens
        await h.send("/start")
        await h.tap("Text to video")
        assert not any(label.startswith("Veo 3.1 Fast") for label in labels(h))
        await h.tap("More models")
        assert not any(label.startswith("Veo 3.1 Fast") for label in labels(h))
        assert any(label.startswith("Veo 3.1 ·") for label in labels(h))
        await h.tap("Cancel")

        # the old card: a plain word, then the successor's card, re-priced; no job yet
        veo = catalog.get("google:3@2")
        await h.press(h.button("Generate", card), card)
        notice, new_card = h.texts()[-2:]
        assert "Veo 3.1 Fast was retired by its provider. Here is Veo 3.1" in notice
        price = catalog.validate(veo, Mode.T2V, {"duration": 8}).price
        assert "<b>Veo 3.1</b>" in new_card and f"Price: <b>{price} tokens</b>" in new_card
        assert "a fox in the snow" in new_card
        assert [j.id for j in await h.jobs()] == [job.id]
        await h.tap("Generate")
        made = (await h.jobs())[-1]
        assert made.model_id == "google:3@2" and made.tokens == price

        # "Again" on the old video: the closest settings on the successor
        await h.press(Again(job=job.id).pack())
        notice, again = h.texts()[-2:]
        assert "Veo 3.1 Fast was retired" in notice
        assert "<b>Veo 3.1</b>" in again and "Duration: 6 s" in again and "9:16" in again
        assert "Sound: off" in again and "waves at sunset" in again
        expected = catalog.validate(veo, Mode.T2V, old).price
        assert f"Price: <b>{expected} tokens</b>" in again
        await h.tap("Cancel")

        # a plain text remembers the last settings (Veo 3.1 now): no notice needed
        await h.send("a heron at dawn")
        assert "<b>Veo 3.1</b>" in h.last_text() and "a heron at dawn" in h.last_text()
        assert server.accepted == {}
    finally:
        await h.close()


async def test_a_retired_model_without_successor_keeps_the_prompt(tmp_path, server):
    h = await Harness.start(tmp_path, runware_schemas_url=server.schemas_url)
    try:
        checker = h.services.checker
        checker.alert = Alerts()
        await h.give(5000)
        await checker.check()
        card = await h.open_card("Runway Gen-4.5 ·", "a lighthouse in a storm", more_models=True)
        server.rules.retire("runway:1@2")
        await checker.check()
        [alert] = checker.alert
        assert "Runway Gen-4.5 (runway:1@2): retired" in alert and "offered" not in alert
        await h.press(h.button("Generate", card), card)
        notice, models = h.texts()[-2:]
        assert "Runway Gen-4.5 was retired by its provider and has no successor" in notice
        assert "choose a model" in models and "Runway" not in models
        await h.tap("Hailuo 2.3 ·")
        await h.tap("Next")
        assert "Check and confirm" in h.last_text()
        assert "Hailuo 2.3" in h.last_text() and "a lighthouse in a storm" in h.last_text()
        assert await h.jobs() == []
    finally:
        await h.close()


async def test_models_command_shows_the_state_of_each_model(tmp_path, server):
    h = await Harness.start(tmp_path, runware_schemas_url=server.schemas_url)
    try:
        checker = h.services.checker
        checker.alert = Alerts()
        await h.give(5000)
        server.rules.retire("runway:1@2")
        server.rules.change(SEEDANCE, durations=[3, 5, 8, 10])
        await checker.check()
        stranger = h.as_user(5000)
        await stranger.give(10)
        await stranger.send("/models")
        assert "Veo 3.1 Fast" not in stranger.last_text()
        admin = h.as_user(ADMIN)
        await admin.send("/models")
        text = "\n".join(admin.texts()[-2:])
        assert "last check: 20" in text and "never" not in text
        veo = h.services.catalog.default_choice(h.services.catalog.get("google:3@3"), Mode.T2V)
        assert "<b>Veo 3.1 Fast</b> <code>google:3@3</code>: live" in text
        assert f"tokens: {veo.price} (t2v, 8 s)" in text
        assert "<b>Runway Gen-4.5</b> <code>runway:1@2</code>: retired" in text
        assert "− duration=12: duration: " in text
        assert "(price estimated)" in text  # Kling's price is not documented
    finally:
        await h.close()


async def test_a_model_withdrawn_for_a_while_is_not_called_retired(tmp_path, server):
    h = await Harness.start(tmp_path, runware_schemas_url=server.schemas_url)
    try:
        catalog = h.services.catalog
        await h.give(5000)
        card = await h.open_card("Hailuo 2.3 ·", "rain on a tin roof")
        catalog.live.suspend("minimax:4@1", time.time() + 600, "providerError: down")
        await h.press(h.button("Generate", card), card)
        notice, models = h.texts()[-2:]
        assert "Hailuo 2.3 is not available right now" in notice and "retired" not in notice
        assert "choose a model" in models and "Hailuo" not in models
        assert await h.jobs() == []
        admin = h.as_user(ADMIN)
        await admin.send("/models")
        assert "<code>minimax:4@1</code>: withdrawn until " in admin.last_text()
        catalog.live.suspend("minimax:4@1", time.time() - 1, "providerError: down")
        await h.send("/start")
        await h.tap("Text to video")
        assert any(label.startswith("Hailuo 2.3") for label in labels(h))
    finally:
        await h.close()


async def test_a_schema_without_seed_withdraws_the_seed_and_nothing_else(db, server, http):
    catalog = load_catalog()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=Alerts())
    await checker.check()
    runway = catalog.get("runway:1@2")
    base = catalog.default_choice(runway, Mode.T2V)
    assert catalog.advanced(runway, base).seed
    server.rules.change("runway:1@2", top={})  # Runware stops taking a seed for Runway
    [change] = await checker.check()
    assert "withdrawn adv.seed=True" in change
    assert not catalog.advanced(runway, base).seed  # the Advanced screen stops offering it
    assert [p.code for p in catalog.validate(runway, Mode.T2V, {"seed": 5})] == ["withdrawn"]
    assert isinstance(catalog.validate(runway, Mode.T2V, {}), ValidParams)  # the rest stays


async def test_a_schema_without_video_input_withdraws_the_extension_alone(db, server, http):
    catalog = load_catalog()
    checker = CatalogChecker(catalog, db, http, server.schemas_url, alert=Alerts())
    await checker.check()
    veo = catalog.get("google:3@3")
    assert catalog.extension(veo) is not None and catalog.extension(veo).duration == 7
    server.rules.change("google:3@3", video_input=False)  # Runware stops taking inputs.video
    [change] = await checker.check()
    assert "withdrawn extend=True" in change
    assert catalog.extension(veo) is None  # no "Extend" button from now on
    assert isinstance(catalog.validate(veo, Mode.T2V, {}), ValidParams)  # the rest stays
    assert catalog.extension(catalog.get("klingai:6@1")) is None  # never offered there
