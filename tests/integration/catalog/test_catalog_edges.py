"""The catalog sync at its edges: retried while its batches are queued, the missing-product cap, SKUs as text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_provider_ecwid.errors import EcwidConfigError, EcwidSyncRefusedError, EcwidValidationError
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeTaskInstance, make_context
from tests.integration.helpers import fails_without_retry, wait_for_batches


def feed(count: int, enabled: bool = True) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {"sku": [f"RETRY-{n:04d}" for n in range(count)], "name": "p", "price": 5.0, "enabled": enabled}
    )
    return frame


def run_sync(data: Any, try_number: int = 1, run_id: str = "run-1", **options: Any) -> dict[str, Any]:
    ti = FakeTaskInstance(run_id=run_id)
    ti.try_number = try_number
    options.setdefault("poll_interval", 0.05)  # a retry waits for the store's earlier batches: 10 s polls by default
    EcwidCatalogSyncOperator(task_id="sync", data=data, **options).execute(make_context(ti))
    summary: dict[str, Any] = ti.xcom["sync_summary"]
    return summary


@pytest.mark.ecwid_emulator(processing_time=0.002)
@pytest.mark.parametrize("lookup", ["scan", "batch"])
def test_a_sync_retried_while_its_batches_are_queued_creates_nothing_twice(
    emulator_conn: EcwidEmulator, lookup: str
) -> None:
    first = run_sync(feed(1200), lookup=lookup)
    assert first["new"] == 1200
    assert any(batch["status"] != "COMPLETED" for batch in emulator_conn.batches())  # still queued
    retry = run_sync(feed(1200), try_number=2, lookup=lookup)
    wait_for_batches(emulator_conn)
    assert (retry["new"], retry["unchanged"]) == (0, 1200)
    skus = Counter(product["sku"] for product in emulator_conn.products())
    assert len(skus) == 1200
    assert max(skus.values()) == 1


def test_the_missing_share_of_disable_counts_live_products_only(emulator_conn: EcwidEmulator) -> None:
    store = pd.concat([feed(5), feed(100).iloc[5:].assign(enabled=False)], ignore_index=True)
    run_sync(store)
    wait_for_batches(emulator_conn)
    with fails_without_retry(EcwidSyncRefusedError, match="5 of 5 enabled store products"):
        run_sync(pd.DataFrame({"sku": ["OTHER-1"], "name": ["o"]}), run_id="run-2", on_missing="disable")
    wait_for_batches(emulator_conn)
    assert sum(product["enabled"] for product in emulator_conn.products()) == 5


@pytest.mark.parametrize("share", [5, -0.1, True, "0.5"])
def test_max_missing_share_must_be_a_fraction(share: object) -> None:
    with pytest.raises(EcwidConfigError, match="max_missing_share must be a fraction"):
        EcwidCatalogSyncOperator(task_id="sync", data=[], max_missing_share=share)  # type: ignore[arg-type]  # wrong on purpose


def test_skus_from_a_csv_stay_text(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text("sku,name,price\n00123,a,1.5\n0042,b,2\n")
    run_sync(str(path))
    wait_for_batches(emulator_conn)
    assert sorted(product["sku"] for product in emulator_conn.products()) == ["00123", "0042"]
    assert run_sync(str(path), run_id="run-2")["unchanged"] == 2


def test_a_sku_with_blanks_around_it_is_refused_before_anything_is_sent(emulator_conn: EcwidEmulator) -> None:
    data = pd.DataFrame({"sku": ["SEED-0", " SEED-1 "], "name": ["a", "b"]})
    with fails_without_retry(EcwidValidationError, match="starts or ends with blanks") as err:
        run_sync(data)
    assert (err.value.problems[0].row, err.value.problems[0].column) == (1, "sku")
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == 0


def test_a_bad_lookup_is_refused_when_the_operator_is_made(emulator_conn: EcwidEmulator) -> None:
    with pytest.raises(EcwidConfigError, match="lookup must be 'auto', 'scan' or 'batch'"):
        EcwidCatalogSyncOperator(task_id="sync", data=feed(3), lookup="everything")  # type: ignore[arg-type]
    assert emulator_conn.stats()["http_total"] == 0  # refused before the first call, like the other arguments
