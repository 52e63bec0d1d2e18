"""The Arrow route of a builder, called directly: what it encodes, or None when it leaves the slice."""

from __future__ import annotations

import pandas as pd

from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.columnar import CheckedColumns, EncodedRows, encode_columns, validate_columns


def arrow_encoded(builder: RequestBuilder, frame: pd.DataFrame, first_row: int) -> EncodedRows | None:
    """The slice as the Arrow route encodes it, or None when the row route must."""
    shape = builder.arrow_shape(frame)
    return None if shape is None else encode_columns(shape, frame, first_row)


def arrow_checked(builder: RequestBuilder, frame: pd.DataFrame) -> CheckedColumns | None:
    """The Arrow route's validation pass over the slice, or None when the row route must check it."""
    shape = builder.arrow_shape(frame)
    if shape is None:
        return None
    ids = None if builder.id_column is None else builder.request_ids(frame, 0)
    return validate_columns(shape, frame, ids)
