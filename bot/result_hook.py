"""The URL where Runware POSTs finished results in webhook mode: /runware/<job id>/<token>.

Nothing in a request is believed before the token matches the job's (the runner checks it in
constant time); an unknown job or a wrong token gets a bare 404 whatever the body says."""

from __future__ import annotations

import json

from aiohttp import web

from services.runner import JobRunner
from telegram_side.webhook import Handler

RESULT_PATH = "/runware"


def result_route(runner: JobRunner) -> tuple[str, Handler]:
    async def receive(request: web.Request) -> web.Response:
        job_id = request.match_info["job_id"]
        if not job_id.isdigit():
            return web.Response(status=404)
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            body = None  # read as "nothing final": the job's poll comes forward instead
        known = await runner.pushed(int(job_id), request.match_info["token"], body)
        return web.Response(status=200 if known else 404)

    return f"{RESULT_PATH}/{{job_id}}/{{token}}", receive
