"""The whole-catalog sync at 200,000 feed rows: killed in the middle of its variations, retried, every inner request
sent exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ecwid.batch.chunks import EncodedChunk
from airflow_provider_ecwid.testing import EcwidEmulator
from benchmarks.bench_whole_catalog import whole_catalog_operator
from benchmarks.bench_whole_catalog_dag import feed
from tests.integration.fakes import FakeStateStore, FakeTaskInstance, make_context

PRODUCTS = 50_000  # x (1 product row + 3 variation rows) = 200,000 feed rows, as the benchmark makes them


def done(emulator: EcwidEmulator, method: str, endpoint: str) -> int:
    """Inner requests the store carried out (answered 200): a cancelled one never ran."""
    return emulator.call_count(scope="inner", method=method, endpoint=endpoint, status=200)


# the store lags the submission (the kill cancels queued work): at 0.3 ms a request its 75,000 variation creates take
# 22 s, several times the 150 POSTs that queue them (at 0.1 ms it once kept up, and the kill found nothing queued)
@pytest.mark.ecwid_emulator(processing_time=0.0003, rate_limit_per_minute=0)
def test_a_sync_of_200000_rows_killed_in_its_variations_and_retried_sends_every_request_once(
    emulator_conn: EcwidEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_ecwid.catalog.phases import PhaseRunner

    data = feed(PRODUCTS)  # a 3-level category path, a main image and a 2-image gallery per product
    killed = whole_catalog_operator(data, str(tmp_path), poll_interval=0.2)
    noted = PhaseRunner._noted
    sent: list[int] = []

    def killed_halfway(self: PhaseRunner, chunks: Any) -> Iterator[EncodedChunk]:
        for count, chunk in enumerate(noted(self, chunks), 1):
            yield chunk
            if self.submission is not None and self.submission.identity.endswith("|phase:variations"):
                sent.append(count)
                if count == 150:  # of 300: what Airflow calls when the task is killed
                    killed.on_kill()

    monkeypatch.setattr(PhaseRunner, "_noted", killed_halfway)
    state = FakeStateStore()
    with pytest.raises(Exception, match="killed"):
        killed.execute(make_context(FakeTaskInstance(), state))
    assert max(sent) < 300  # it stopped sending
    time.sleep(1)  # the batch running at the kill finishes; the queued ones were cancelled
    variations_before_retry = done(emulator_conn, "POST", "/products/{id}/combinations")
    assert 0 < variations_before_retry < 150 * 500  # the kill cancelled some of those sent (~30,000 here)

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
