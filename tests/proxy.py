"""A round-robin HTTP proxy on 127.0.0.1, standing in for the load balancer (and its TLS) in
front of the bot's replicas: each request goes to the next replica; a replica that refuses the
connection (down, restarting) is skipped for the next one, as nginx does with its upstreams."""

from __future__ import annotations

import itertools

import aiohttp
from aiohttp import web


class RoundRobinProxy:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends  # "http://127.0.0.1:port"; the list may change while running
        self.url = ""
        self.sent: list[str] = []  # which backend answered each request
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()
        return self.url

    async def stop(self) -> None:
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if self._http is None or self._http.closed:
            return web.Response(status=502, text="the balancer is stopping")
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        for _ in range(len(self.backends)):
            backend = self.backends[next(self._turn) % len(self.backends)]
            try:
                async with self._http.request(
                    request.method,
                    backend + request.path_qs,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=65),
                ) as answer:
                    content = await answer.read()
                    self.sent.append(backend)
                    return web.Response(
                        status=answer.status,
                        body=content,
                        headers={"Content-Type": answer.headers.get("Content-Type", "text/plain")},
                    )
            except aiohttp.ClientConnectorError:
                continue  # that replica is down: the next one
            except (aiohttp.ClientError, TimeoutError):
                break  # it died while handling the request: Telegram sends it again
        return web.Response(status=502, text="no replica answered")
