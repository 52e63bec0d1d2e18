"""The whole-catalog sync's progress record stays small at any size; its large parts round-trip through a file."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ecwid.catalog.progress import Pending, SyncProgress
from airflow_provider_ecwid.catalog.progress_files import ProgressFiles
from airflow_provider_ecwid.errors import EcwidProgressLostError
from airflow_provider_ecwid.runtime.storage import open_url, remove_url

MIB = 1024 * 1024


def large_progress(products: int = 50_000, per_product: int = 3, tickets: int = 400) -> SyncProgress:
    """A progress as a 200,000-row sync has it while its variations phase is in flight (every field full)."""
    variations = [f"P{p:06d}-V{v}" for p in range(products) for v in range(per_product)]
    progress = SyncProgress(
        step="variations",
        depth=3,
        category_ids={f"Top {c}\x1fMiddle {c}\x1fLeaf {c}": 10_000 + c for c in range(1_000)},
        product_ids={f"P{p:06d}": 500_000_000 + p for p in range(products)},
        created_products=[f"P{p:06d}" for p in range(0, products, 2)],
        options_stale=[f"P{p:06d}" for p in range(0, products, 7)],
        variation_requests={
            f"P{p:06d}": [{"method": "PUT", "sku": f"P{p:06d}-V{v}", "price": 9.5} for v in range(per_product)]
            for p in range(1, products, 2)
        },
        variation_ids={sku: 700_000_000 + index for index, sku in enumerate(variations)},
        new_variations=variations[: len(variations) // 2],
        blocked={f"P{p:06d}": "the product could not be created" for p in range(0, products, 500)},
        sent={"categories": 3_000, "products": products, "options": 0},
        failed_count=250,
        failed=[{"sku": f"P{p:06d}", "phase": "products", "http_status": 400} for p in range(100)],
        product_changes={"new": products // 2, "changed": products // 4, "unchanged": products // 4},
        state_keys=[
            *(f"ecwid_phase:{'a' * 32}:products:ecwid_chunk_{index}" for index in range(tickets)),
            f"ecwid_phase:{'a' * 32}:variations:ecwid_killed",
            *(f"ecwid_phase:{'a' * 32}:variations:ecwid_chunk_{index}" for index in range(tickets)),
        ],
        feed_digest="f" * 64,
        outcomes=[
            {"phase": "products", "sku": f"P{p:06d}", "method": "POST", "path": "/products", "status": "COMPLETED"}
            for p in range(products)
        ],
    )
    progress.pending = Pending(
        phase="variations",
        tickets=[f"{index:08d}-0000-4000-8000-{index:012d}" for index in range(tickets)],
        expected={
            f"{index:08d}-0000-4000-8000-{index:012d}": {"requests": 375, "ids": "e" * 64} for index in range(tickets)
        },
        skus=variations,
        targets={f"r{index}": ["POST", f"/products/{index}/combinations"] for index in range(len(variations))},
    )
    return progress


@pytest.fixture(scope="module")
def progress() -> SyncProgress:
    return large_progress()


def test_a_200000_row_sync_keeps_under_1_mib_in_xcom_and_the_state_store_and_round_trips(
    progress: SyncProgress, tmp_path: Path
) -> None:
    whole = len(json.dumps(progress.to_json()))
    assert whole > 10 * MIB  # what the record used to be
    files = ProgressFiles(str(tmp_path), open_url, remove_url)
    record = files.save(progress)
    assert len(json.dumps(record)) < MIB  # what goes to XCom and the state store
    assert record["pending"]["tickets"] == progress.pending.tickets  # type: ignore[union-attr]
    [written] = list(tmp_path.iterdir())
    assert written.name.startswith(f"progress-{progress.run_key}-")
    assert written.name.endswith(".json.gz")
    assert str(written) == record["spill"]["path"]
    assert ProgressFiles(str(tmp_path), open_url, remove_url).load(json.loads(json.dumps(record))) == progress


def test_each_save_keeps_one_file_and_the_end_deletes_it(tmp_path: Path) -> None:
    files = ProgressFiles(str(tmp_path), open_url, remove_url)
    progress = large_progress(products=10, tickets=2)
    first = files.save(progress)
    progress.step, progress.pending = "images", None
    second = files.save(progress)
    files.prune()
    assert [str(path) for path in tmp_path.iterdir()] == [second["spill"]["path"]] != [first["spill"]["path"]]
    assert files.load(second) == progress
    files.clear()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.unlink(),
        lambda path: path.write_bytes(path.read_bytes()[:-5]),
        lambda path: path.write_bytes(gzip.compress(b'{"product_ids": {}}')),
    ],
    ids=["missing", "truncated", "another-file"],
)
def test_a_lost_or_altered_file_is_never_loaded(tmp_path: Path, damage: Any) -> None:
    files = ProgressFiles(str(tmp_path), open_url, remove_url)
    record = files.save(large_progress(products=10, tickets=2))
    damage(Path(record["spill"]["path"]))
    with pytest.raises(EcwidProgressLostError, match="progress file"):
        ProgressFiles(str(tmp_path), open_url, remove_url).load(record)


def test_a_record_whose_digest_matches_but_body_is_not_progress_is_refused(tmp_path: Path) -> None:
    files = ProgressFiles(str(tmp_path), open_url, remove_url)
    record = files.save(large_progress(products=10, tickets=2))
    data = gzip.compress(b'{"product_ids": {}}')
    Path(record["spill"]["path"]).write_bytes(data)
    record["spill"]["digest"] = hashlib.sha256(data).hexdigest()
    with pytest.raises(EcwidProgressLostError, match="not a progress file"):
        files.load(record)
