"""The provider's compat module: a pandas DataFrame crosses Airflow's XCom serializer on every matrix row."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pandas.testing as pdt
import pytest

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
    compat.carry_pandas3_dataframes_in_xcom()  # done on import already, or not needed: either way, done now
    assert compat.carry_pandas3_dataframes_in_xcom() is False
    serde = compat._registry()
    assert serde is not None
    assert serde._serializers[compat.PANDAS3_NAME] is serde._serializers[compat.PANDAS2_NAME]


def _registry_knowing(*names: str) -> SimpleNamespace:
    """A stand-in for Airflow's serde registry that knows the pandas serializer by ``names``."""
    pandas_module = object()
    return SimpleNamespace(
        __name__="airflow.serialization.serde",
        _serializers=dict.fromkeys(names, pandas_module),
        _deserializers=dict.fromkeys(names, pandas_module),
        _extra_allowed=set(),
    )


def test_a_registry_knowing_only_pandas2s_name_learns_pandas3s(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _registry_knowing(compat.PANDAS2_NAME)  # Airflow 2.11 to 3.2
    monkeypatch.setattr(compat, "_registry", lambda: registry)
    assert compat.carry_pandas3_dataframes_in_xcom() is True
    assert registry._serializers[compat.PANDAS3_NAME] is registry._serializers[compat.PANDAS2_NAME]
    assert registry._deserializers[compat.PANDAS3_NAME] is registry._deserializers[compat.PANDAS2_NAME]
    assert compat.PANDAS3_NAME in registry._extra_allowed
    assert compat.carry_pandas3_dataframes_in_xcom() is False  # the second time changes nothing


@pytest.mark.parametrize(
    "registry",
    [None, _registry_knowing(), _registry_knowing(compat.PANDAS2_NAME, compat.PANDAS3_NAME)],
    ids=["no registry", "no pandas serializer", "both names (Airflow 3.3)"],
)
def test_nothing_is_registered_where_it_is_not_needed(
    registry: SimpleNamespace | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = None if registry is None else dict(registry._serializers)
    monkeypatch.setattr(compat, "_registry", lambda: registry)
    assert compat.carry_pandas3_dataframes_in_xcom() is False
    assert before is None or (registry is not None and registry._serializers == before)
