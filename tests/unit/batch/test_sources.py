"""Input sources: one class per kind, picked by a registry keyed by the data's type and the file's suffix."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd
import pytest

from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.sources import (
    CsvSource,
    FileSource,
    FrameSource,
    JsonLinesSource,
    ParquetSource,
    ReadyRequestsSource,
    RowsSource,
    make_source,
    register_file_format,
)
from airflow_provider_ecwid.errors import EcwidConfigError


def test_the_registry_picks_a_source_by_type_and_suffix(tmp_path: Path) -> None:
    assert isinstance(make_source(pd.DataFrame({"a": [1]})), FrameSource)
    assert isinstance(make_source([{"a": 1}]), RowsSource)
    assert isinstance(make_source([{"method": "GET", "path": "/profile"}]), ReadyRequestsSource)
    assert isinstance(make_source(tmp_path / "feed.CSV.gz"), CsvSource)
    assert isinstance(make_source("s3://bucket/feed.pq"), ParquetSource)
    assert isinstance(make_source("feed.ndjson"), JsonLinesSource)
    assert isinstance(make_source("feed.data", file_format="parquet"), ParquetSource)
    with pytest.raises(EcwidConfigError, match="file_format must be one of csv, jsonl, parquet"):
        make_source("feed.csv", file_format="xlsx")


class PipeSource(FileSource):
    """A made-up format: ``key=value`` pairs separated by pipes, one row a line."""

    format_name = "pipes"

    def read(self, handle: IO[bytes], rows: int) -> Iterator[pd.DataFrame]:
        lines = [line for line in io.TextIOWrapper(handle, encoding="utf-8").read().splitlines() if line]
        for start in range(0, len(lines), rows):
            yield pd.DataFrame(
                [dict(pair.split("=", 1) for pair in line.split("|")) for line in lines[start : start + rows]]
            )


def test_a_new_format_is_one_class_and_one_registration(tmp_path: Path) -> None:
    register_file_format(PipeSource, ".pipes")
    feed = tmp_path / "feed.pipes"
    feed.write_text("sku=A|name=Apple\nsku=B|name=Banana\nsku=C|name=Cherry\n", encoding="utf-8")
    source = make_source(str(feed))
    assert isinstance(source, PipeSource)
    plan = BatchPlan(source, RequestBuilder(path="/products", method="POST"), chunk_size=2)
    assert plan.validate().requests == 3
    bodies = [request["body"] for chunk in plan.chunks() for request in json.loads(chunk.payload)]
    assert bodies == [{"sku": "A", "name": "Apple"}, {"sku": "B", "name": "Banana"}, {"sku": "C", "name": "Cherry"}]
