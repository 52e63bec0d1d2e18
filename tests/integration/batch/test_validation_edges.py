"""Every problem is found before the first call, whichever read slice it is in (issue: inf in the last slice)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from airflow_provider_ecwid.errors import EcwidValidationError
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import make_context
from tests.integration.helpers import Refused, fails_without_retry


def feed(rows: int) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {
            "sku": [f"EDGE-{n:05d}" for n in range(rows)],
            "name": [f"Product {n}" for n in range(rows)],
            "price": np.linspace(1, 50, rows).round(2),
            "quantity": np.arange(rows),
        }
    )
    return frame


def assert_nothing_sent(emulator: EcwidEmulator, err: Refused[EcwidValidationError], row: int) -> None:
    assert emulator.call_count(method="POST", endpoint="/batch") == 0
    assert emulator.batches() == []
    assert err.value.total == 1
    assert err.value.problems[0].row == row
    assert "nothing was sent" in str(err.value)


# ("1e999" is inf to pandas 3's CSV reader but text to pandas 2's, which then sends the whole column as text)
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_file_with_a_bad_price_in_its_last_slice_sends_nothing(
    emulator_conn: EcwidEmulator, tmp_path: Path, bad: Any
) -> None:
    frame = feed(6000).astype({"price": object})
    frame.loc[5999, "price"] = bad
    path = tmp_path / "feed.csv"
    frame.to_csv(path, index=False)
    operator = EcwidBatchOperator(task_id="t", data=str(path), path="/products", id_column="sku")
    with fails_without_retry(EcwidValidationError) as err:
        operator.execute(make_context())
    assert_nothing_sent(emulator_conn, err, 5999)
    assert err.value.problems[0].column == "price"


def test_dataframe_with_inf_in_its_last_slice_sends_nothing(emulator_conn: EcwidEmulator) -> None:
    frame = feed(2000)  # chunk_size 10: slices of 400 rows, so the bad row is in the fifth
    frame.loc[1999, "price"] = np.inf
    operator = EcwidBatchOperator(task_id="t", data=frame, path="/products", id_column="sku", chunk_size=10)
    with fails_without_retry(EcwidValidationError) as err:
        operator.execute(make_context())
    assert_nothing_sent(emulator_conn, err, 1999)


def test_body_callable_raising_in_the_last_slice_sends_nothing(emulator_conn: EcwidEmulator) -> None:
    def body(row: dict[str, Any]) -> dict[str, Any]:
        if row["sku"] == "EDGE-05999":
            raise RuntimeError("no body for this one")
        return {"sku": row["sku"], "price": row["price"]}

    operator = EcwidBatchOperator(task_id="t", data=feed(6000), path="/products", id_column="sku", body=body)
    with fails_without_retry(EcwidValidationError) as err:
        operator.execute(make_context())
    assert_nothing_sent(emulator_conn, err, 5999)
    assert "no body for this one" in str(err.value)


def test_sync_with_inf_in_its_last_slice_sends_nothing(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    frame = feed(6000)
    frame.loc[5999, "price"] = -np.inf
    path = tmp_path / "feed.parquet"
    frame.to_parquet(path)
    operator = EcwidCatalogSyncOperator(task_id="sync", data=str(path))
    with fails_without_retry(EcwidValidationError) as err:
        operator.execute(make_context())
    assert_nothing_sent(emulator_conn, err, 5999)
