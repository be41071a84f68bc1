"""`CatalogChecker`: the registry and the schemas fetched, the catalog's requests validated
against them, the state kept and the admins told."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
from jsonschema import exceptions as schema_errors
from jsonschema.protocols import Validator

from services.catalog import (
    Catalog,
    Mode,
    VideoModel,
    Withdrawal,
    video_task,
)
from services.catalog_check.schemas import (
    SAMPLE_PROMPT,
    ModelState,
    SchemaServiceError,
    compile_schema,
    first_error,
    matches,
    requests_of,
    state_changes,
    unique,
    withdrawals,
)
from services.db import Database
from services.duties import Duties
from services.runware import RunwareClient, RunwareFailure

log = logging.getLogger(__name__)

Alert = Callable[[str], Awaitable[None]]


class CatalogChecker:
    def __init__(
        self,
        catalog: Catalog,
        db: Database,
        http: httpx.AsyncClient,
        schemas_url: str,
        *,
        alert: Alert | None = None,
        runware: RunwareClient | None = None,
        dry_run: bool = False,
        clock: Callable[[], float] = time.time,
        duties: Duties | None = None,
    ) -> None:
        self.catalog = catalog
        self.duties = duties
        self.db = db
        self.http = http
        self.base = schemas_url.rstrip("/")
        self.alert: Alert = alert if alert is not None else _log_only
        self.runware = runware
        self.dry_run_enabled = dry_run
        self.clock = clock
        self.states: dict[str, ModelState] = {}
        self._validators: dict[str, Validator] = {}
        self._etag: str | None = None
        self._registry: dict[str, Any] | None = None
        self._first_check = True
        self._last_dry_run = 0.0
        self.last_check: float | None = None
        self.last_error: str | None = None

    # --- state ----------------------------------------------------------------------------------

    async def load(self) -> None:
        """The last known state, from the database: nothing is fetched."""
        for row in await self.db.fetchall("SELECT * FROM model_state"):
            withdrawn = tuple(Withdrawal.from_json(w) for w in json.loads(row["withdrawn"]))
            state = ModelState(
                row["model_id"],
                row["status"],
                row["reason"],
                withdrawn,
                row["usd_cost"],
                row["checked_at"],
            )
            self.states[state.model_id] = state
            if row["schema"]:
                with contextlib.suppress(ValueError, schema_errors.SchemaError):
                    self._validators[state.model_id] = compile_schema(json.loads(row["schema"]))
            self.last_check = max(self.last_check or 0.0, state.checked_at)
        self._apply()

    def _apply(self) -> None:
        states = self.states.items()
        self.catalog.live.replace(
            retired={m: s.reason or "" for m, s in states if s.status == "retired"},
            unusable={m: s.reason or "" for m, s in states if s.status == "unusable"},
            withdrawn={m: s.withdrawn for m, s in states if s.withdrawn},
        )

    async def _store(self, state: ModelState, schema: dict[str, Any] | None) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO model_state (model_id, status, reason, schema, withdrawn, usd_cost,"
                " usd_cost_at, checked_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)"
                " ON CONFLICT (model_id) DO UPDATE SET status = excluded.status,"
                " reason = excluded.reason, schema = coalesce(excluded.schema, model_state.schema),"
                " withdrawn = excluded.withdrawn, checked_at = excluded.checked_at",
                (
                    state.model_id,
                    state.status,
                    state.reason,
                    json.dumps(schema) if schema is not None else None,
                    json.dumps([w.to_json() for w in state.withdrawn]),
                    state.usd_cost,
                    state.checked_at,
                ),
            )

    # --- the check ------------------------------------------------------------------------------

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Check now, then every `interval` seconds, until `stop` is set."""
        while not stop.is_set():
            try:
                await self.round(interval)
            except Exception:
                log.exception("catalog check failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    async def round(self, interval: float) -> None:
        """One period's check. With `duties`, one replica of the fleet checks in each period
        (and alerts the admins); the others read the state it stored."""
        if self.duties is not None and not await self.duties.once("catalog-check", interval * 0.9):
            await self.load()
            return
        await self.check()
        if self.dry_run_enabled and self.clock() - self._last_dry_run >= 86400:
            self._last_dry_run = self.clock()
            await self.dry_run_round()

    async def check(self) -> list[str]:
        """One check against the registry and the schemas; returns the changes reported."""
        now = self.clock()
        try:
            registry = await self._fetch_registry()
        except SchemaServiceError as exc:
            self.last_error = str(exc)
            log.warning("catalog check: %s; the catalog stays as it was", exc)
            return []
        self.last_error = None  # the registry answered; a model's schema may still fail below
        changes: list[str] = []
        first = self._first_check
        self._first_check = False
        for model in self.catalog.models:
            changes += await self._check_model(model, model.id in registry, first, now)
        self.last_check = now
        self._apply()
        if changes:
            log.warning("catalog check: %s", "; ".join(changes))
            await self._tell_admins(changes)
        return changes

    async def _check_model(
        self, model: VideoModel, registered: bool, first: bool, now: float
    ) -> list[str]:
        """One model's state from the registry and its schema, stored; the changes to report."""
        old = self.states.get(model.id)
        cost = old.usd_cost if old else None
        if not registered:
            state = ModelState(
                model.id, "retired", "not in Runware's model registry", (), cost, now
            )
            await self._store(state, None)
            self.states[model.id] = state
            if old is None or old.status != "retired" or first:
                return [self._describe_retired(model)]
            return []
        try:
            schema = await self._fetch_schema(model.id)
            validator = compile_schema(schema)
        except SchemaServiceError as exc:
            log.warning("catalog check: %s: %s; its state stays as it was", model.id, exc)
            self.last_error = f"{model.id}: {exc}"
            if old is None or old.status != "retired":
                return []
            # In the registry again: usable, with the last known schema if any.
            state = ModelState(model.id, "live", None, (), cost, now)
            await self._store(state, None)
            self.states[model.id] = state
            return [f"{model.name} ({model.id}): back in Runware's registry"]
        self._validators[model.id] = validator
        requests = requests_of(model, self.catalog)
        withdrawn = withdrawals(requests, validator)
        dry = [w for w in (old.withdrawn if old else ()) if w.path.startswith("dry run")]
        withdrawn = unique([*withdrawn, *dry])
        refused_all = bool(requests) and all(matches(withdrawn, f) for _, f in requests)
        status = "unusable" if refused_all else "live"
        reason = "Runware's schema refuses every combination" if refused_all else None
        state = ModelState(model.id, status, reason, tuple(withdrawn), cost, now)
        await self._store(state, schema)
        self.states[model.id] = state
        return state_changes(model, old, state)

    def _describe_retired(self, model: VideoModel) -> str:
        heir = self.catalog.successor(model.id)
        text = f"{model.name} ({model.id}): retired by Runware (not in its model registry)"
        return text + (f"; users are offered {heir.name} ({heir.id})" if heir else "")

    async def _tell_admins(self, changes: list[str]) -> None:
        text = "Model catalog check:\n" + "\n".join(f"• {c}" for c in changes)
        try:
            await self.alert(text)
        except Exception as exc:  # noqa: BLE001 - an alert must never break the check
            log.warning("could not alert the admins: %r", exc)

    async def _get_json(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, Any]:
        """GET a document of the schema service: (response, JSON body; None on 304)."""
        try:
            response = await self.http.get(f"{self.base}/{path}", headers=headers or {})
        except httpx.HTTPError as exc:
            raise SchemaServiceError(f"{path}: {type(exc).__name__}") from None
        if response.status_code == 304:
            return response, None
        if response.status_code != 200:
            raise SchemaServiceError(f"{path} answered HTTP {response.status_code}")
        try:
            return response, response.json()
        except ValueError:
            raise SchemaServiceError(f"{path} answered something that is not JSON") from None

    async def _fetch_registry(self) -> set[str]:
        headers = {"If-None-Match": self._etag} if self._etag and self._registry else None
        response, body = await self._get_json("registry.json", headers)
        if body is None:  # 304: unchanged since the last check
            body = self._registry
        models = body.get("models") if isinstance(body, dict) else None
        if not isinstance(models, dict) or not models:
            raise SchemaServiceError("registry answered without a models table")
        ids = {k for k in models if isinstance(k, str)}
        if not ids & {m.id for m in self.catalog.models}:
            # A registry that knows none of our models is more likely broken than a world in
            # which every provider retired everything at once.
            raise SchemaServiceError("registry names none of the catalog's models")
        self._registry = body
        self._etag = response.headers.get("etag") or self._etag
        return ids

    async def _fetch_schema(self, model_id: str) -> dict[str, Any]:
        _response, body = await self._get_json(f"resolve/{model_id}")
        schema = body.get("requestSchema") if isinstance(body, dict) else None
        if not isinstance(schema, dict) or not schema:
            raise SchemaServiceError("resolve answered without a requestSchema")
        return schema

    # --- before every submit --------------------------------------------------------------------

    def refusal(self, model_id: str, task: dict[str, Any]) -> str | None:
        """Why this task must not be sent (the model is retired, or its cached schema refuses
        the task: path and message), or None."""
        if model_id in self.catalog.live.retired:
            return f"model {model_id} is retired"
        validator = self._validators.get(model_id)
        if validator is None:
            return None
        return first_error(validator, task)

    async def mark_retired(self, model_id: str, reason: str) -> None:
        """Runware refused the model itself (invalidModel and kin) on a real request."""
        model = self.catalog.get(model_id)
        old = self.states.get(model_id)
        if model is None or (old is not None and old.status == "retired"):
            return
        state = ModelState(
            model_id, "retired", reason[:300], (), old.usd_cost if old else None, self.clock()
        )
        await self._store(state, None)
        self.states[model_id] = state
        self._apply()
        await self._tell_admins([self._describe_retired(model) + f": {reason[:200]}"])

    # --- dry runs -------------------------------------------------------------------------------

    async def dry_run_round(self) -> None:
        """Each live model's default text-to-video request with X-Runware-Dry-Run: a refusal
        withdraws that combination, a returned cost is recorded as the current USD price."""
        if self.runware is None:
            return
        changes: list[str] = []
        for model in self.catalog.models:
            if not self.catalog.is_live(model.id) or not model.supports(Mode.T2V):
                continue
            params = self.catalog.default_choice(model, Mode.T2V)
            if params is None:
                continue
            task = video_task(model, params, SAMPLE_PROMPT, str(uuid.uuid4()))
            old = self.states.get(model.id)
            try:
                cost = await self.runware.dry_run(task)
            except RunwareFailure as exc:
                if exc.error.error_class.value not in ("validation", "retired"):
                    log.info("dry run of %s: %s", model.id, exc.error.describe())
                    continue
                item = Withdrawal(
                    params.facts(0),
                    f"dry run: {exc.error.parameter or '-'}",
                    exc.error.message[:200],
                )
                withdrawn = unique([*(old.withdrawn if old else ()), item])
                state = ModelState(
                    model.id,
                    old.status if old else "live",
                    old.reason if old else None,
                    tuple(withdrawn),
                    old.usd_cost if old else None,
                    self.clock(),
                )
                await self._store(state, None)
                self.states[model.id] = state
                changes.append(f"{model.name} ({model.id}): withdrawn {item.describe()}")
                continue
            if cost is not None:
                async with self.db.transaction() as tx:
                    await tx.execute(
                        "UPDATE model_state SET usd_cost = ?, usd_cost_at = ? WHERE model_id = ?",
                        (cost, self.clock(), model.id),
                    )
                if old is not None:
                    self.states[model.id] = replace(old, usd_cost=cost)
        self._apply()
        if changes:
            await self._tell_admins(changes)


async def _log_only(text: str) -> None:
    log.warning("admin alert (no messenger yet): %s", text)
