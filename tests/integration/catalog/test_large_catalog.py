"""The whole-catalog sync at 200,000 feed rows: killed in the middle of its variations, retried, every inner request
sent exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ecwid.batch.chunks import EncodedChunk
from airflow_provider_ecwid.testing import EcwidEmulator
from benchmarks.bench_whole_catalog import whole_catalog_operator
from benchmarks.bench_whole_catalog_dag import feed
from tests.integration.fakes import FakeStateStore, FakeTaskInstance, make_context
from tests.integration.helpers import wait_for_batches

PRODUCTS = 50_000  # x (1 product row + 3 variation rows) = 200,000 feed rows, as the benchmark makes them


def done(emulator: EcwidEmulator, method: str, endpoint: str) -> int:
    """Inner requests the store carried out (answered 200): a cancelled one never ran."""
    return emulator.call_count(scope="inner", method=method, endpoint=endpoint, status=200)


HELD_FROM = 75  # the store starts no variation batch posted after this one...
KILLED_AT = 150  # ...of 300, until the task is killed here: the kill always finds 75+ batches queued to cancel


@pytest.mark.ecwid_emulator(processing_time=0.0001, rate_limit_per_minute=0)
def test_a_sync_of_200000_rows_killed_in_its_variations_and_retried_sends_every_request_once(
    emulator_conn: EcwidEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_ecwid.catalog.phase_runner import PhaseRunner

    data = feed(PRODUCTS)  # a 3-level category path, a main image and a 2-image gallery per product
    killed = whole_catalog_operator(data, str(tmp_path), poll_interval=0.2)
    noted = PhaseRunner._noted
    sent: list[int] = []

    def killed_halfway(self: PhaseRunner, chunks: Any) -> Iterator[EncodedChunk]:
        for count, chunk in enumerate(noted(self, chunks), 1):
            yield chunk  # the next step runs once this chunk has been posted
            if self.submission is not None and self.submission.identity.endswith("|phase:variations"):
                sent.append(count)
                if count == HELD_FROM:
                    emulator_conn.hold_processing()  # a busy store: what comes next waits in its queue
                if count == KILLED_AT:
                    killed.on_kill()  # what Airflow calls when the task is killed

    monkeypatch.setattr(PhaseRunner, "_noted", killed_halfway)
    state = FakeStateStore()
    try:
        with pytest.raises(Exception, match="killed"):
            killed.execute(make_context(FakeTaskInstance(), state))
    finally:
        emulator_conn.release_processing()
    assert KILLED_AT <= max(sent) < 300  # it stopped sending at the kill
    wait_for_batches(emulator_conn)  # the batch running at the hold finishes; the queued ones were cancelled
    variations_before_retry = done(emulator_conn, "POST", "/products/{id}/combinations")
    assert variations_before_retry <= HELD_FROM * 500  # what was posted after the hold never ran

    monkeypatch.setattr(PhaseRunner, "_noted", noted)
    ti = FakeTaskInstance()  # the retry of the same task run
    whole_catalog_operator(data, str(tmp_path), poll_interval=0.2).execute(make_context(ti, state))
    assert ti.xcom["sync_summary"]["failed_count"] == 0

    assert done(emulator_conn, "POST", "/categories") == 5 + 25 + 100
    assert done(emulator_conn, "POST", "/products") == PRODUCTS
    assert done(emulator_conn, "POST", "/products/{id}/combinations") == 3 * PRODUCTS
    assert done(emulator_conn, "POST", "/products/{id}/image") == PRODUCTS
    assert done(emulator_conn, "POST", "/products/{id}/gallery") == 2 * PRODUCTS
    products = emulator_conn.products()
    assert len(products) == PRODUCTS
    variation_skus = [item["sku"] for product in products for item in product.get("combinations") or []]
    assert len(variation_skus) == len(set(variation_skus)) == 3 * PRODUCTS
