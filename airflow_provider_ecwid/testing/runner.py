"""Running emulated batches: one first-in first-out worker per store, on the emulator's event loop.

Each store's worker takes its batches in the order they were created; inside a batch, requests run in order, or
up to ``parallel_limit`` at once in parallel mode. Inner requests go through the same catalog handlers as direct
calls.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_ecwid.testing import catalog
from airflow_provider_ecwid.testing.answers import Answer, bad_request, echo_authorization
from airflow_provider_ecwid.testing.batches import Batch, BatchItem

if TYPE_CHECKING:
    from airflow_provider_ecwid.testing.state import EmulatorState

#: How often a held worker looks whether it may start the next batch (seconds).
HOLD_POLL = 0.01


class BatchRunner:
    """
    Runs the batches of every store on the event loop: one first-in first-out worker per store.

    :param state: the emulator's shared state.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self._queues: dict[int, asyncio.Queue[Batch]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}

    def enqueue(self, batch: Batch) -> None:
        """Queue a new batch; call on the event loop."""
        queue = self._queues.get(batch.store_id)
        if queue is None:
            queue = self._queues[batch.store_id] = asyncio.Queue()
            self._workers[batch.store_id] = asyncio.get_running_loop().create_task(self._work(queue))
        queue.put_nowait(batch)

    async def stop(self) -> None:
        for worker in self._workers.values():
            worker.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        self._queues.clear()

    async def _work(self, queue: asyncio.Queue[Batch]) -> None:
        while True:
            batch = await queue.get()
            while self.state.processing_held:  # a test holds the store's work: it stays queued (cancellable)
                await asyncio.sleep(HOLD_POLL)
            if batch.deleted or batch.state == "COMPLETED":
                continue
            await self.run(batch)

    async def run(self, batch: Batch) -> None:
        """Run one batch to its end (each store's worker calls it in turn; a test may call it directly)."""
        with self.state.lock:
            batch.state = "IN_PROGRESS"
            batch.started_at = time.monotonic()
        if batch.parallel:
            limit = asyncio.Semaphore(self.state.config.parallel_limit)

            async def run_limited(item: BatchItem) -> None:
                async with limit:
                    await self._run_item(batch, item, Pacer())

            await asyncio.gather(*(run_limited(item) for item in batch.items))
        else:
            pacer = Pacer()  # one timeline for the whole batch: sleeps add up exactly, even when tiny
            for item in batch.items:
                await self._run_item(batch, item, pacer)
        with self.state.lock:
            batch.state = "COMPLETED"
            batch.finished_at = time.monotonic()

    async def _run_item(self, batch: Batch, item: BatchItem, pacer: Pacer) -> None:
        config = self.state.config
        while True:
            with self.state.lock:
                if item.status is not None or batch.deleted:  # cancelled or reset while waiting
                    return
                if batch.failed and batch.stop_on_first_failure:
                    item.status = "NOT_EXECUTED"
                    return
            await pacer.spend(config.scaled(config.processing_time))
            with self.state.lock:
                if item.status is not None or batch.deleted:
                    return
                item.attempts += 1
                answer = self._execute(batch, item)
                server_error = answer.status >= 500
                retry = server_error and not batch.stop_on_first_failure and item.attempts <= config.inner_retries
                if not retry:
                    item.http_status, item.answer = answer.status, answer.body
                    item.status = "COMPLETED" if answer.status < 400 else "FAILED"
                    batch.failed = batch.failed or item.status == "FAILED"
                    return
            await asyncio.sleep(config.scaled(config.inner_retry_delay))

    def _execute(self, batch: Batch, item: BatchItem) -> Answer:
        """Run one inner request through the catalog handlers; call with the lock held."""
        state = self.state
        parts = urlsplit(item.path)
        endpoint = catalog.endpoint_of(parts.path)
        if parts.path.startswith("/batch"):
            answer = bad_request("A batch cannot hold batch requests").answer
        elif state.config.inner_error_rate and state.rng.random() < state.config.inner_error_rate:
            answer = Answer(500, {"errorMessage": "Injected inner failure", "errorCode": "INTERNAL_ERROR"})
        elif state.config.refuse_inner and refused(state.config.refuse_inner, item):
            answer = Answer(400, {"errorMessage": "Injected refusal", "errorCode": "INJECTED_REFUSAL"})
        else:
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            store = state.stores[batch.store_id]
            answer = catalog.handle(store, item.method, parts.path, query, item.body, defer=True)
        state.count("inner", item.method, endpoint, answer.status, store_id=batch.store_id)
        if state.config.echo_authorization and answer.status >= 400:
            answer = echo_authorization(answer, batch.authorization)
        return answer


def refused(pattern: str, item: BatchItem) -> bool:
    """Whether ``EmulatorConfig.refuse_inner`` names this inner request (``METHOD path body`` as compact JSON)."""
    body = json.dumps(item.body, separators=(",", ":")) if item.body is not None else ""
    return re.search(pattern, f"{item.method} {item.path} {body}") is not None


class Pacer:
    """
    Spends emulated processing time on a timeline, so that many tiny durations add up to their true sum.

    ``asyncio.sleep`` cannot sleep 0.5 ms; sleeping only once the timeline is 5 ms ahead keeps a batch of
    10,000 requests at 0.5 ms each at 5 s, not at 10,000 times the event loop's shortest sleep.
    """

    def __init__(self) -> None:
        self.target = time.monotonic()

    async def spend(self, seconds: float) -> None:
        self.target = max(self.target, time.monotonic() - 0.05) + seconds  # never bank more than 50 ms of idling
        ahead = self.target - time.monotonic()
        if ahead >= 0.005:
            await asyncio.sleep(ahead)
        else:
            await asyncio.sleep(0)  # let the server answer calls between requests
