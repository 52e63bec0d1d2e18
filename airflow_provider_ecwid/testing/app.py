"""The emulator's HTTP face: a FastAPI app that answers like ``https://app.ecwid.com/api/v3/{storeId}``.

API calls go through, in order: dropped-connection fault, latency, auth (403), rate limit (429), injected
5xx (503), import lock (449), then the batch or catalog handlers. Every API call is counted with its final
status; with ``echo_authorization`` an error answer then repeats the request's Authorization header.
``/_emulator/...`` is the inspection and control API that Ecwid does not have (seeding orders and customers,
the churn knob, the clock...); it is never counted or limited.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response

from airflow_provider_ecwid.testing import catalog
from airflow_provider_ecwid.testing.answers import (
    Answer,
    EcwidFault,
    bad_request,
    echo_authorization,
    proxy_error_page,
)
from airflow_provider_ecwid.testing.batches import parse_items, shorten
from airflow_provider_ecwid.testing.images import sources as image_sources
from airflow_provider_ecwid.testing.runner import BatchRunner
from airflow_provider_ecwid.testing.state import EmulatorState
from airflow_provider_ecwid.testing.store import product_view

API_PREFIX = "/api/v3"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


def _json_response(answer: Answer, now: float) -> Response:
    """The answer, dated by the emulator's clock (the HTTP ``Date`` header, as a real server's own clock)."""
    content = b"" if answer.body is None else json.dumps(answer.body).encode()
    headers = {**answer.headers, "Date": formatdate(now, usegmt=True)}
    return Response(content, status_code=answer.status, media_type="application/json", headers=headers)


def _drop_connection(request: Request) -> bool:
    """Close the socket without an answer (uvicorn's send callable holds the transport)."""
    transport = getattr(getattr(request.scope.get("_ecwid_send"), "__self__", None), "transport", None)
    if transport is None:
        return False
    transport.abort()
    return True


def _lose_answer(state: EmulatorState, request: Request) -> bool:
    rate = state.config.lost_answer_rate
    return bool(rate) and state.rng.random() < rate and _drop_connection(request)


class _KeepSend:
    """Pure ASGI wrapper that lets the app reach uvicorn's send callable (to drop connections)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["_ecwid_send"] = send
        await self.app(scope, receive, send)


def create_app(state: EmulatorState) -> Any:
    """
    Build the ASGI app around ``state``.

    :param state: the emulator's memory and knobs.
    """
    runner = BatchRunner(state)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await runner.stop()

    app = FastAPI(title="Ecwid emulator", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.emulator = state

    @app.api_route(f"{API_PREFIX}/{{store_id}}/{{path:path}}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def api_call(store_id: str, path: str, request: Request) -> Response:
        config = state.config
        if config.drop_rate and state.rng.random() < config.drop_rate and _drop_connection(request):
            state.count("dropped", request.method, catalog.endpoint_of("/" + path), 0)
            return Response(status_code=500)
        if config.latency:
            await asyncio.sleep(config.scaled(config.latency))
        method = request.method
        api_path = "/" + path
        endpoint = "/batch/cancel-group" if api_path == "/batch/cancel-group" else catalog.endpoint_of(api_path)
        try:
            answer = await _answer(state, runner, store_id, method, api_path, request)
        except EcwidFault as fault:
            answer = fault.answer
        if endpoint == "/batch" and method == "POST" and answer.status == 200 and _lose_answer(state, request):
            state.count("lost_answer", method, endpoint, answer.status)  # the batch exists; its ticket is lost
            return Response(status_code=500)
        state.count("http", method, endpoint, answer.status)
        if config.echo_authorization and answer.status >= 400:
            authorization = request.headers.get("authorization")
            if answer.status >= 500:
                page = proxy_error_page(answer, authorization)
                return Response(page, status_code=answer.status, media_type="text/html", headers=answer.headers)
            answer = echo_authorization(answer, authorization)
        return _json_response(answer, state.now())

    _add_inspection_routes(app, state)
    return _KeepSend(app)


async def _answer(
    state: EmulatorState, runner: BatchRunner, store_id: str, method: str, api_path: str, request: Request
) -> Answer:
    query_pairs = parse_qsl(request.url.query, keep_blank_values=True)
    query = dict(query_pairs)
    has_token = any(name.lower() == "token" for name, _ in query_pairs)
    token = state.authenticate(store_id, request.headers.get("authorization"), has_token)
    state.check_rate(token)
    if state.config.error_rate and state.rng.random() < state.config.error_rate:
        raise EcwidFault(503, "SERVICE_UNAVAILABLE", "Injected failure, try again")
    if method in WRITE_METHODS and state.import_locked():
        raise EcwidFault(449, "IMPORT_IN_PROGRESS", "The catalog cannot be modified: an import is in progress")
    sid = int(store_id)
    if api_path == "/batch" or api_path.startswith("/batch/"):
        return await _batch_call(state, runner, sid, method, api_path, query, request)
    body = await _json_body(request) if method in ("POST", "PUT") else None
    with state.lock:
        return catalog.handle(state.stores[sid], method, api_path, query, body)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON") from None


async def _batch_call(
    state: EmulatorState,
    runner: BatchRunner,
    store_id: int,
    method: str,
    api_path: str,
    query: dict[str, str],
    request: Request,
) -> Answer:
    if api_path == "/batch/cancel-group" and method == "POST":
        if not query.get("groupId"):
            raise bad_request("groupId is required")
        return Answer(200, {"updateCount": state.cancel_group(store_id, query["groupId"])})
    if api_path != "/batch":
        raise EcwidFault(404, "ENDPOINT_NOT_FOUND", f"No such endpoint: {api_path}")
    if method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise EcwidFault(415, "UNSUPPORTED_MEDIA_TYPE", "The batch body must be sent as application/json")
        batch, is_new = state.create_batch(store_id, parse_items(await _json_body(request)), query)
        if is_new:
            if state.config.echo_authorization:
                batch.authorization = request.headers.get("authorization")
            runner.enqueue(batch)
        return Answer(200, {"ticket": batch.ticket})
    if method == "GET":
        if query.get("ticket"):
            with state.lock:
                batch = state.find_batch(store_id, query["ticket"])
                answer = batch.status_answer(escaped=query.get("escapedJson", "").lower() == "true")
                return Answer(200, shorten(answer, state.config.short_status))
        return catalog.page_answer(state.list_batches(store_id, query.get("status") or None), query)
    if method == "DELETE":
        ticket = query.get("ticket") or query.get("ticketId")
        if not ticket:
            raise bad_request("ticket is required")
        return Answer(200, {"deleteCount": state.delete_batch(store_id, ticket)})
    raise EcwidFault(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on /batch")


def _add_inspection_routes(app: FastAPI, state: EmulatorState) -> None:
    @app.get("/_emulator/stats")
    def stats() -> dict[str, Any]:
        return state.stats()

    @app.get("/_emulator/stores/{store_id}/products")
    def products(store_id: int) -> list[dict[str, Any]]:
        with state.lock:
            store = state.stores[store_id]
            return [product_view(store, product) for product in store.products.values()]

    @app.get("/_emulator/stores/{store_id}/images")
    def images(store_id: int) -> list[dict[str, Any]]:
        with state.lock:
            return image_sources(state.stores[store_id])

    @app.get("/_emulator/stores/{store_id}/categories")
    def categories(store_id: int) -> list[dict[str, Any]]:
        with state.lock:
            return list(state.stores[store_id].categories.values())

    @app.get("/_emulator/batches")
    def batches() -> list[dict[str, Any]]:
        with state.lock:
            return [batch.timings() for batch in state.batches.values()]

    @app.post("/_emulator/reset")
    def reset() -> dict[str, bool]:
        state.reset()
        return {"reset": True}

    @app.post("/_emulator/clock/advance")
    def advance(seconds: float) -> dict[str, float]:
        state.advance_clock(seconds)
        return {"offset": state.clock_offset}

    @app.post("/_emulator/processing")
    def processing(held: bool) -> dict[str, bool]:
        state.hold_processing(held)
        return {"held": held}

    @app.post("/_emulator/import-lock")
    def import_lock(seconds: float) -> dict[str, float]:
        state.lock_imports(seconds)
        return {"seconds": seconds}

    @app.post("/_emulator/stores/{store_id}/{kind}/seed", response_model=None)
    def seed(
        store_id: int,
        kind: str,
        count: int,
        updated_from: str | None = None,
        updated_to: str | None = None,
        seed: int | None = None,
    ) -> dict[str, Any] | Response:
        try:
            return state.seed_sales(store_id, kind, count, updated_from, updated_to, seed)
        except (KeyError, ValueError) as err:
            return Response(json.dumps({"error": str(err)}), status_code=400, media_type="application/json")

    @app.get("/_emulator/stores/{store_id}/churn")
    def churn(store_id: int) -> dict[str, Any]:
        return state.churn_report(store_id)

    @app.post("/_emulator/stores/{store_id}/churn", response_model=None)
    def set_churn(
        store_id: int, updates: int = 0, deletes: int = 0, seed: int | None = None
    ) -> dict[str, Any] | Response:
        try:
            return state.set_churn(store_id, updates, deletes, seed)
        except (KeyError, ValueError) as err:
            return Response(json.dumps({"error": str(err)}), status_code=400, media_type="application/json")
