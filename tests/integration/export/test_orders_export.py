"""Exporting orders from the emulator over HTTP while the store changes them: no unchanged order lost or doubled.

The emulator's churn knob updates and deletes random orders after every page it serves (inside batches too), so
the offset pages of the window shift under the read, the way Ecwid's do when orders change during an export.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from airflow_provider_ecwid.export.schema import ORDERS
from airflow_provider_ecwid.operators.export import EcwidExportOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeTaskInstance, make_context

NOVEMBER = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
ORDERS_IN_NOVEMBER = 1_200


def export_november(tmp_path: Path, run_id: str, **arguments: Any) -> tuple[dict[str, Any], list[str]]:
    output = tmp_path / f"{run_id}.parquet"
    operator = EcwidExportOperator(
        task_id="export",
        entity="orders",
        updated_from=NOVEMBER[0],
        updated_to=NOVEMBER[1],
        output=str(output),
        **arguments,
    )
    result = operator.execute(make_context(FakeTaskInstance(run_id=run_id)))
    table = pq.read_table(output)
    assert table.schema == ORDERS
    return result, table.column("id").to_pylist()


@pytest.fixture
def orders(emulator_conn: EcwidEmulator) -> list[str]:
    """1,200 orders updated in November, and 500 in October that no November export may hold."""
    emulator_conn.seed_customers(200, updated_from="2026-10-01", updated_to="2026-10-02", seed=1)
    emulator_conn.seed_orders(500, updated_from="2026-10-01", updated_to="2026-10-31 23:59:59", seed=2)
    seeded = emulator_conn.seed_orders(
        ORDERS_IN_NOVEMBER, updated_from="2026-11-01", updated_to="2026-11-30 23:59:59", seed=3
    )
    first, last = (int(str(seeded[end]).split("-")[1]) for end in ("first_id", "last_id"))
    return [f"ORD-{number}" for number in range(first, last + 1)]


def test_a_quiet_window_is_exported_whole_in_a_few_calls(orders: list[str], tmp_path: Path) -> None:
    result, ids = export_november(tmp_path, "quiet", poll_interval=0.05)
    assert sorted(ids) == sorted(orders)
    assert result["calls"] <= 4  # the count, one batch of 12 pages, its status (paging: 13 calls)
    assert result["rereads"] == 0


@pytest.mark.parametrize("seed", range(20))
def test_orders_changed_during_the_read_never_cost_an_unchanged_one(
    emulator_conn: EcwidEmulator, orders: list[str], tmp_path: Path, seed: int
) -> None:
    emulator_conn.set_churn(updates=3, deletes=2, seed=seed)
    result, ids = export_november(tmp_path, f"churn-{seed}", pages_per_batch=4, poll_interval=0.05)
    log = emulator_conn.churn_log()
    changed = {str(change["id"]) for change in log["changes"]}
    assert log["changes"], "the store changed nothing during the read"
    assert len(ids) == len(set(ids))  # no order twice
    missing = set(orders) - changed - set(ids)
    assert not missing, f"unchanged orders lost: {sorted(missing)[:10]}"
    assert set(ids) <= set(orders)  # October's stay out
    assert result["rereads"] >= 1


def test_a_day_of_5000_changed_orders_costs_at_most_six_calls(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    emulator_conn.seed_orders(20_000, updated_from="2026-10-01", updated_to="2026-11-30 23:59:59", seed=4)
    emulator_conn.seed_orders(5_000, updated_from="2026-12-01", updated_to="2026-12-01 23:59:59", seed=5)
    operator = EcwidExportOperator(
        task_id="export",
        entity="orders",
        updated_from="2026-12-01T00:00:00+00:00",
        updated_to="2026-12-02T00:00:00+00:00",
        output=str(tmp_path / "day.parquet"),
        poll_interval=0.5,
    )
    result = operator.execute(make_context(FakeTaskInstance(run_id="day")))
    assert result["rows"] == 5_000
    assert result["calls"] <= 6  # the count, one batch of 50 pages, its status reads (paging: 51 calls)
    ids = pq.read_table(tmp_path / "day.parquet").column("id").to_pylist()
    assert len(set(ids)) == 5_000
