"""The provider's compat module: a pandas DataFrame crosses Airflow's XCom serializer on every matrix row."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt

import airflow_provider_ecwid.operators  # noqa: F401  (importing the operators registers the serializer)
from airflow_provider_ecwid import compat


def test_a_dataframe_round_trips_through_airflows_xcom_serializer() -> None:
    serde = compat._registry()
    assert serde is not None
    frame = pd.DataFrame({"sku": ["A1", "A2"], "price": [1.5, None], "enabled": [True, False]})
    # what XCom does with a task's return value and with the operator's input: Airflow's serde, both ways
    back = serde.deserialize(serde.serialize(frame))
    pdt.assert_frame_equal(back, frame)


def test_the_registration_is_idempotent() -> None:
    assert compat.carry_pandas3_dataframes_in_xcom() is False  # already done on import, or not needed
    serde = compat._registry()
    assert serde is not None
    assert serde._serializers[compat.PANDAS3_NAME] is serde._serializers[compat.PANDAS2_NAME]
