"""What ``airflow.providers.common.compat`` does not cover, for Airflow 2.11 to 3.3 alike.

Import Airflow names from ``airflow.providers.common.compat.sdk`` first; this module holds only the rest:

- :data:`OUTLET_ASSETS_RUN_IN_DAGS_TEST`: whether ``airflow dags test`` runs a task with an outlet Asset no DAG
  processor registered yet (the example DAGs read it).
- :func:`carry_pandas3_dataframes_in_xcom`: Airflow's XCom serializer knows a DataFrame by its class path.
  pandas 2 names it ``pandas.core.frame.DataFrame``, pandas 3 ``pandas.DataFrame``; Airflow 3.3 registers its
  pandas serializer under both names, Airflow 2.11 to 3.2 only under the first, so a task that returns a pandas 3
  DataFrame fails there with ``cannot serialize object of type <class 'pandas.DataFrame'>``. The function
  registers Airflow's own pandas serializer under the second name too, exactly as Airflow 3.3 does: the same
  Parquet payload, so XComs written before an upgrade stay readable after it. Importing the provider's operators
  calls it, so DAGs need nothing extra.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["OUTLET_ASSETS_RUN_IN_DAGS_TEST", "carry_pandas3_dataframes_in_xcom"]


def _airflow_version() -> tuple[int, int]:
    from airflow import __version__

    major, minor = __version__.split(".")[:2]
    return int(major), int(minor)


#: Airflow 3.0's ``airflow dags test`` refuses a task whose outlet Asset no DAG processor has registered yet
#: (AirflowInactiveAssetInInletOrOutletException); 2.11 and 3.1+ run it. Example DAGs declare their outlets only
#: where a newcomer's ``airflow dags test`` can run them.
OUTLET_ASSETS_RUN_IN_DAGS_TEST = _airflow_version() != (3, 0)

PANDAS2_NAME = "pandas.core.frame.DataFrame"
PANDAS3_NAME = "pandas.DataFrame"

#: Where Airflow keeps the serializer registry its XCom uses: the Task SDK (3.2+), else core (2.11 to 3.1).
SERDE_MODULES = ("airflow.sdk.serde", "airflow.serialization.serde")


def _registry() -> ModuleType | None:
    """The serializer registry that this Airflow's XCom uses: the Task SDK's (3.2+) or core's (2.11 to 3.1)."""
    for module_name in SERDE_MODULES:
        try:
            return importlib.import_module(module_name)
        except ImportError:
            continue
    return None


def carry_pandas3_dataframes_in_xcom() -> bool:
    """
    Register Airflow's own pandas serializer for ``pandas.DataFrame`` where Airflow knows only pandas 2's name.

    Idempotent, and a no-op on Airflow 3.3+ (which registers both names) or where Airflow's registry has no
    pandas serializer at all.

    :return: whether the registry was changed.
    """
    serde = _registry()
    if serde is None:
        return False
    serializers: dict[str, Any] = getattr(serde, "_serializers", {})
    deserializers: dict[str, Any] = getattr(serde, "_deserializers", {})
    allowed: set[str] = getattr(serde, "_extra_allowed", set())
    pandas_module = serializers.get(PANDAS2_NAME)
    if pandas_module is None or PANDAS3_NAME in serializers:
        return False
    serializers[PANDAS3_NAME] = pandas_module
    deserializers.setdefault(PANDAS3_NAME, deserializers.get(PANDAS2_NAME, pandas_module))
    allowed.add(PANDAS3_NAME)
    log.debug("Registered Airflow's pandas XCom serializer for %s in %s", PANDAS3_NAME, serde.__name__)
    return True
