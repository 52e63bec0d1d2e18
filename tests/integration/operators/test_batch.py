"""EcwidBatchOperator against the emulator over HTTP: inputs, validation before sending, chunking, retries."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from airflow_provider_ecwid.errors import (
    EcwidConfigError,
    EcwidInputError,
    EcwidRetriesExhaustedError,
    EcwidValidationError,
)
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from airflow_provider_ecwid.testing.tracking import TIMES
from tests.integration.fakes import FakeStateStore, FakeTaskInstance, TaskLogs, make_context
from tests.integration.helpers import fails_without_retry, wait_for_batches

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


def products_frame(count: int, prefix: str = "SKU") -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {
            "sku": [f"{prefix}-{n:04d}" for n in range(count)],
            "name": [f"Product {n}" for n in range(count)],
            "price": np.round(np.linspace(1, 100, count), 2),
            "quantity": np.arange(count),
            "enabled": [n % 2 == 0 for n in range(count)],
        }
    )
    return frame


def run(operator: EcwidBatchOperator, context: Context | None = None) -> Any:
    return operator.execute(context if context is not None else make_context())


def test_dataframe_to_products(emulator_conn: EcwidEmulator) -> None:
    frame = products_frame(1203)
    ti = FakeTaskInstance()
    tickets = run(EcwidBatchOperator(task_id="t", data=frame, path="/products", id_column="sku"), make_context(ti))
    assert len(tickets) == 3
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == 3  # one POST per 500 requests
    # tickets reach XCom as they exist, growing chunk by chunk
    assert [value for key, value in ti.pushes if key == "tickets"] == [tickets[:1], tickets[:2], tickets]
    assert ti.xcom["ecwid_admin_url"] == "https://my.ecwid.com/store/1002#products"
    wait_for_batches(emulator_conn)
    stored = {p["sku"]: p for p in emulator_conn.products()}
    assert set(stored) == set(frame["sku"])
    assert stored["SKU-0002"]["price"] == frame.loc[2, "price"]
    assert stored["SKU-0002"]["enabled"] is True
    assert stored["SKU-0003"]["quantity"] == 3


def test_records_and_ready_requests(emulator_conn: EcwidEmulator) -> None:
    rows = [{"sku": "A", "name": "a", "price": 1}, {"sku": "B", "name": "b", "price": None}]
    run(EcwidBatchOperator(task_id="rows", data=rows, path="/products"))
    wait_for_batches(emulator_conn)
    product_b = next(p for p in emulator_conn.products() if p["sku"] == "B")
    assert "price" not in product_b  # None is left out, not sent as null
    ready = [{"id": "x", "method": "PUT", "path": f"/products/{product_b['id']}", "body": {"price": 7}}]
    run(EcwidBatchOperator(task_id="ready", data=ready))
    wait_for_batches(emulator_conn)
    assert next(p for p in emulator_conn.products() if p["sku"] == "B")["price"] == 7


def test_update_by_path_template_and_method_column(emulator_conn: EcwidEmulator) -> None:
    run(EcwidBatchOperator(task_id="create", data=products_frame(3), path="/products"))
    wait_for_batches(emulator_conn)
    ids = {p["sku"]: p["id"] for p in emulator_conn.products()}
    changes = pd.DataFrame(
        {
            "ecwid_id": [ids["SKU-0000"], ids["SKU-0001"]],
            "action": ["put", "DELETE"],
            "price": [42.0, np.nan],
        }
    )
    run(EcwidBatchOperator(task_id="change", data=changes, path="/products/{ecwid_id}", method_column="action"))
    wait_for_batches(emulator_conn)
    after = {p["sku"]: p for p in emulator_conn.products()}
    assert after["SKU-0000"]["price"] == 42.0
    assert "SKU-0001" not in after
    inventory = pd.DataFrame({"ecwid_id": [ids["SKU-0002"]], "quantityDelta": [-2]})
    run(EcwidBatchOperator(task_id="stock", data=inventory, path="/products/{ecwid_id}/inventory", method="PUT"))
    wait_for_batches(emulator_conn)
    assert next(p for p in emulator_conn.products() if p["sku"] == "SKU-0002")["quantity"] == 0


def test_body_callable_builds_nested_bodies(emulator_conn: EcwidEmulator) -> None:
    frame = pd.DataFrame({"sku": ["A"], "name": ["a"], "cats": ["1;2"]})

    def body(row: dict[str, Any]) -> dict[str, Any]:
        return {"sku": row["sku"], "name": row["name"], "categoryIds": [int(c) for c in row["cats"].split(";")]}

    run(EcwidBatchOperator(task_id="nested", data=frame, path="/products", body=body))
    wait_for_batches(emulator_conn)
    assert emulator_conn.products()[0]["categoryIds"] == [1, 2]


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_files_are_read_in_slices(emulator_conn: EcwidEmulator, tmp_path: Path, suffix: str) -> None:
    frame = products_frame(1100)
    path = tmp_path / f"feed.{suffix}"
    if suffix == "csv":
        frame.to_csv(path, index=False)
    elif suffix == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    tickets = run(EcwidBatchOperator(task_id="file", data=str(path), path="/products", chunk_size=300))
    assert len(tickets) == 4
    wait_for_batches(emulator_conn)
    assert sorted(p["sku"] for p in emulator_conn.products()) == list(frame["sku"])


def test_file_url(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    products_frame(5).to_csv(path, index=False)
    run(EcwidBatchOperator(task_id="url", data=f"file://{path}", path="/products"))
    wait_for_batches(emulator_conn)
    assert len(emulator_conn.products()) == 5


def test_json_safe_values_on_the_wire(emulator_conn: EcwidEmulator) -> None:
    frame = pd.DataFrame(
        {
            "sku": ["A", "B"],
            "price": [np.float32(1.5), np.nan],
            "quantity": pd.array([3, None], dtype="Int64"),
            "enabled": [np.bool_(True), np.bool_(False)],
            "costPrice": [Decimal("0.10"), None],
            "description": [pd.Timestamp("2026-11-27 10:00", tz="UTC"), pd.NaT],
            "attributes": [[{"name": "color", "value": "red"}], None],
        }
    )
    run(EcwidBatchOperator(task_id="types", data=frame, path="/products"))
    wait_for_batches(emulator_conn)
    stored = {p["sku"]: p for p in emulator_conn.products()}
    assert stored["A"]["price"] == 1.5
    assert stored["A"]["quantity"] == 3
    assert stored["A"]["enabled"] is True
    assert stored["A"]["costPrice"] == 0.1
    assert stored["A"]["description"] == "2026-11-27T10:00:00+00:00"
    assert stored["A"]["attributes"] == [{"name": "color", "value": "red"}]
    assert set(stored["B"]) - TIMES == {
        "id",
        "sku",
        "enabled",
    }  # every empty value left out (the store's times aside)


# -- bad input: a clear error, and nothing sent ---------------------------------------------------------------

BAD_INPUTS = [
    (pd.DataFrame({"sku": ["A"], "price": [np.inf]}), {}, "infinity"),
    (pd.DataFrame({"sku": ["A"], "image": [b"\x89PNG"]}), {}, "externalUrl"),
    (pd.DataFrame({"ecwid_id": [1, None], "price": [1, 2]}), {"path": "/products/{ecwid_id}"}, "is empty"),
    (pd.DataFrame({"ecwid_id": ["1", " "], "price": [1, 2]}), {"path": "/products/{ecwid_id}"}, "is empty"),
    (pd.DataFrame({"ecwid_id": [".."], "price": [1]}), {"path": "/products/{ecwid_id}"}, "'..'"),
    (pd.DataFrame({"sku": ["A"], "price": [1]}), {"path": "/products/{ecwid_id}"}, "not in the input"),
    (pd.DataFrame({"sku": ["A", "A"], "price": [1, 2]}), {"id_column": "sku"}, "duplicate id"),
    (pd.DataFrame({"sku": ["A"], "m": ["PATCH"]}), {"method_column": "m"}, "PATCH"),
    (pd.DataFrame({"sku": [None], "price": [np.nan]}), {}, "needs a body"),
    (pd.DataFrame({"sku": ["A"]}), {"method": "PATCH"}, "method must be one of"),
    (pd.DataFrame({"sku": ["A"]}), {"path": "https://evil.example.com/products"}, "not a safe"),
    (pd.DataFrame({"sku": ["A"]}), {"path": "//evil.example.com/products"}, "not a safe"),
    (pd.DataFrame({"sku": ["A"]}), {"path": "/products/../orders"}, "not a safe"),
    (pd.DataFrame({"sku": ["A"]}), {"path": "/products\r\nX: y"}, "not a safe"),
    (pd.DataFrame({"sku": ["A"]}), {"path": "/products?token=abc"}, "not a safe"),
    ([{"path": "/products/../x", "method": "GET"}], {"path": None}, "'..'"),
    ([{"path": "/products", "method": "POST"}], {"path": None}, "needs a body"),
]


@pytest.mark.parametrize(("data", "options", "message"), BAD_INPUTS)
def test_bad_input_fails_before_any_call(
    emulator_conn: EcwidEmulator,
    data: object,
    options: dict[str, Any],
    message: str,
) -> None:
    arguments = {"path": "/products", **options}
    with fails_without_retry((EcwidValidationError, EcwidConfigError), match=message):
        run(EcwidBatchOperator(task_id="bad", data=data, **arguments))
    assert emulator_conn.call_count() == 0


def test_all_problems_are_reported_together_with_row_column_and_reason(emulator_conn: EcwidEmulator) -> None:
    frame = pd.DataFrame({"ecwid_id": [*range(30), None], "price": [np.inf] * 25 + [1.0] * 6})
    with fails_without_retry(EcwidValidationError) as caught:
        run(EcwidBatchOperator(task_id="bad", data=frame, path="/products/{ecwid_id}", method="PUT"))
    error = caught.value
    assert error.total == 26
    assert len(error.problems) == 20
    assert "row 0 (id '0'), column 'price': infinity is not a JSON number" in str(error)
    assert "and 6 more" in str(error)
    assert emulator_conn.call_count() == 0


@pytest.mark.parametrize("chunk_size", [0, 501, -1, 2.5])
def test_chunk_size_outside_1_to_500_is_an_error(chunk_size: object) -> None:
    with pytest.raises(EcwidConfigError, match="chunk_size"):
        EcwidBatchOperator(task_id="bad", data=[], path="/products", chunk_size=chunk_size)  # type: ignore[arg-type]  # wrong on purpose


def test_missing_file_and_bad_csv_line(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    with fails_without_retry(EcwidInputError, match="does not exist"):
        run(EcwidBatchOperator(task_id="missing", data=str(tmp_path / "nope.csv"), path="/products"))
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,price\nA,1\nB,2,extra\n")
    with fails_without_retry(EcwidInputError, match="line 3"):
        run(EcwidBatchOperator(task_id="badcsv", data=str(bad), path="/products"))
    assert emulator_conn.call_count() == 0


def test_empty_dataframe_is_a_no_op(emulator_conn: EcwidEmulator, task_logs: TaskLogs) -> None:
    assert run(EcwidBatchOperator(task_id="empty", data=pd.DataFrame(columns=["sku"]), path="/products")) == []
    assert "nothing to send" in task_logs.text()
    assert emulator_conn.call_count() == 0


def test_dry_run_sends_nothing_and_summarises(emulator_conn: EcwidEmulator, task_logs: TaskLogs) -> None:
    result = run(EcwidBatchOperator(task_id="dry", data=products_frame(1001), path="/products", dry_run=True))
    first = [json.loads(text) for text in result.pop("first_requests")]
    assert result == {"dry_run": True, "requests": 1001, "chunks": 3, "by_pattern": {"POST /products": 1001}}
    assert [(request["id"], request["body"]["sku"]) for request in first] == [
        ("0", "SKU-0000"),
        ("1", "SKU-0001"),
        ("2", "SKU-0002"),
    ]
    logs = task_logs.text()
    assert "Dry run: nothing was sent" in logs
    assert '"sku":"SKU-0000"' in logs  # the preview is logged as sent
    assert emulator_conn.call_count() == 0


# -- idempotency -------------------------------------------------------------------------------------------------


# 2 calls in a window of 10 s, not Ecwid's minute: the 429 pauses the token's shared budget for what Retry-After
# says (up to the window), and the retried task waits that out before its first call
@pytest.mark.ecwid_emulator(rate_limit_per_minute=2, rate_limit_window=10)
@pytest.mark.parametrize("with_state_store", [True, False])
def test_a_retried_task_creates_each_chunk_exactly_once(
    ecwid_emulator: EcwidEmulator, monkeypatch: pytest.MonkeyPatch, with_state_store: bool
) -> None:
    # the emulator allows 2 calls a window and the client does not retry: the first try fails after 2 chunks
    monkeypatch.setenv("AIRFLOW_CONN_ECWID_DEFAULT", ecwid_emulator.connection_json(max_retries=0))
    frame = products_frame(5 * 20)
    state = FakeStateStore() if with_state_store else None
    with pytest.raises(EcwidRetriesExhaustedError):
        run(EcwidBatchOperator(task_id="t", data=frame, path="/products", chunk_size=20), make_context(None, state))
    assert len(ecwid_emulator.batches()) == 2
    ecwid_emulator.state.config.rate_limit_per_minute = 0
    tickets = run(
        EcwidBatchOperator(task_id="t", data=frame, path="/products", chunk_size=20), make_context(None, state)
    )
    wait_for_batches(ecwid_emulator)
    assert len(tickets) == 5
    assert len(ecwid_emulator.batches()) == 5  # each chunk created exactly once
    assert len({b["ticket"] for b in ecwid_emulator.batches()}) == 5
    assert sorted(p["sku"] for p in ecwid_emulator.products()) == list(frame["sku"])
    resubmitted = ecwid_emulator.call_count(method="POST", endpoint="/batch", status=200)
    assert resubmitted == (5 if with_state_store else 7)  # the state store skips the 2 sent chunks entirely


def test_deduplication_keys_and_group_are_deterministic(emulator_conn: EcwidEmulator) -> None:
    frame = products_frame(10)
    first = run(EcwidBatchOperator(task_id="t", data=frame, path="/products", chunk_size=5))
    again = run(EcwidBatchOperator(task_id="t", data=frame, path="/products", chunk_size=5))
    assert first == again
    batches = emulator_conn.batches()
    assert len(batches) == 2
    assert len({b["group_id"] for b in batches}) == 1
    other_run = run(
        EcwidBatchOperator(task_id="t", data=frame, path="/products", chunk_size=5),
        make_context(FakeTaskInstance(run_id="run-2")),
    )
    assert set(other_run).isdisjoint(first)


@pytest.mark.ecwid_emulator(processing_time=0.05)
def test_on_kill_cancels_the_group(emulator_conn: EcwidEmulator) -> None:
    operator = EcwidBatchOperator(task_id="k", data=products_frame(40), path="/products", chunk_size=10)
    run(operator)
    operator.on_kill()
    wait_for_batches(emulator_conn)
    assert len(emulator_conn.products()) < 40
    assert emulator_conn.call_count(method="POST", endpoint="/batch/cancel-group") == 1


def test_on_kill_never_raises(emulator_conn: EcwidEmulator, task_logs: TaskLogs) -> None:
    operator = EcwidBatchOperator(task_id="k", data=[], path="/products")
    operator.group_id = "g"
    emulator_conn.stop()
    operator.hook.get_conn().retry_policy.max_retries = 0  # the stopped emulator's refusals are not retried
    operator.on_kill()
    assert "could not cancel group g" in task_logs.text()


def test_token_never_reaches_logs_or_xcom(emulator_conn: EcwidEmulator, task_logs: TaskLogs) -> None:
    ti = FakeTaskInstance()
    operator = EcwidBatchOperator(
        task_id="s", data=products_frame(3), path="/products", wait_for_completion=True, poll_interval=0.05
    )  # the default 10 s between polls made this test take 0 s or 10 s, by luck
    result = run(operator, make_context(ti))
    logs = task_logs.text()
    assert "chunk 1/1 submitted" in logs  # the logs were captured
    token = emulator_conn.token()
    assert token not in logs
    assert token not in json.dumps(ti.pushes) + json.dumps(result)


def test_the_store_link_works_when_nothing_is_sent(emulator_conn: EcwidEmulator) -> None:
    ti = FakeTaskInstance()
    run(EcwidBatchOperator(task_id="t", data=products_frame(3), path="/products", dry_run=True), make_context(ti))
    assert ti.xcom["ecwid_admin_url"] == "https://my.ecwid.com/store/1002#products"
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == 0
