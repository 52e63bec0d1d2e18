"""The catalog sync reads its feed once: one open of a local file, one download of an object-storage URL."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import fsspec
import pytest

from airflow_provider_ecwid.errors import EcwidValidationError
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.runtime import storage
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeTaskInstance, make_context
from tests.integration.helpers import fails_without_retry, wait_for_batches

CSV = "sku,name,price\n" + "".join(f"R-{n:04d},Product {n},{n}.5\n" for n in range(1200))


def run_sync(data: object, run_id: str = "run-1", **options: Any) -> dict[str, Any]:
    ti = FakeTaskInstance(run_id=run_id)
    EcwidCatalogSyncOperator(task_id="sync", data=data, chunk_size=100, **options).execute(make_context(ti))
    summary: dict[str, Any] = ti.xcom["sync_summary"]
    return summary


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path or URL the sync opens, in order."""
    seen: list[str] = []
    real = storage.open_input

    def counting(url: str) -> IO[bytes]:
        seen.append(url)
        return real(url)

    monkeypatch.setattr(storage, "open_input", counting)
    return seen


def test_a_local_feed_is_opened_once_per_run(emulator_conn: EcwidEmulator, tmp_path: Path, opens: list[str]) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(CSV)
    assert run_sync(str(path))["new"] == 1200
    assert opens == [str(path)]
    wait_for_batches(emulator_conn)
    assert run_sync(str(path), run_id="run-2")["unchanged"] == 1200
    assert opens == [str(path)] * 2


def test_an_object_storage_feed_is_downloaded_once(
    emulator_conn: EcwidEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An fsspec memory filesystem stands in for S3 (ObjectStoragePath is fsspec underneath): count its reads."""
    opens: list[str] = []

    def open_url(url: str) -> IO[bytes]:
        opens.append(url)
        stream: IO[bytes] = fsspec.open(url, "rb").open()
        return stream

    monkeypatch.setattr(storage, "open_input", open_url)
    memory = fsspec.filesystem("memory")
    memory.pipe("/feeds/nightly.csv", CSV.encode())
    reads: list[str] = []
    real_open = type(memory)._open

    def counting_open(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(path)
        return real_open(self, path, *args, **kwargs)

    monkeypatch.setattr(type(memory), "_open", counting_open)
    try:
        summary = run_sync("memory://feeds/nightly.csv", dry_run=True)
    finally:
        memory.rm("/feeds/nightly.csv")
    assert summary["new"] == 1200
    assert opens == ["memory://feeds/nightly.csv"]
    assert reads == ["/feeds/nightly.csv"]  # one download, however many steps the sync has


def test_every_bad_row_is_named_from_the_one_read(tmp_path: Path, opens: list[str]) -> None:
    path = tmp_path / "feed.csv"
    path.write_text("sku,name,price\nA,a,1\n,b,2\nA,c,3\n")
    with fails_without_retry(EcwidValidationError) as err:
        run_sync(str(path))
    assert sorted((problem.row, problem.column) for problem in err.value.problems) == [(1, "sku"), (2, "id")]
    assert opens == [str(path)]
