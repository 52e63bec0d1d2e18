"""EcwidCatalogSyncOperator's arguments: only its own, checked when the DAG file is parsed; the memory folder."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator


def test_memory_path_is_kept_and_templated() -> None:
    operator = EcwidCatalogSyncOperator(task_id="sync", data=[], memory_path="/shared/ecwid")
    assert operator.memory_path == "/shared/ecwid"
    assert "memory_path" in operator.template_fields
    assert "image_memory_path" not in operator.template_fields


def test_the_old_name_still_works_with_a_warning_naming_the_new_one() -> None:
    with pytest.warns(DeprecationWarning, match="image_memory_path=...\\) is deprecated: use memory_path"):
        operator = EcwidCatalogSyncOperator(task_id="sync", data=[], image_memory_path="/shared/ecwid")
    assert operator.memory_path == "/shared/ecwid"


def test_both_names_that_differ_are_refused() -> None:
    with pytest.warns(DeprecationWarning, match="use memory_path"), pytest.raises(EcwidConfigError, match="differ"):
        EcwidCatalogSyncOperator(task_id="sync", data=[], memory_path="/a", image_memory_path="/b")


def test_no_operator_subclasses_another() -> None:
    from airflow_provider_ecwid.operators.batch import EcwidBatchOperator

    assert not issubclass(EcwidCatalogSyncOperator, EcwidBatchOperator)
    assert not issubclass(EcwidBatchOperator, EcwidCatalogSyncOperator)


@pytest.mark.parametrize("argument", ["path", "method", "method_column", "body", "id_column"])
def test_the_batch_operators_request_arguments_are_not_the_syncs(argument: str) -> None:
    """The sync decides its requests itself: it neither takes nor templates the batch operator's request shape."""
    assert argument not in EcwidCatalogSyncOperator.template_fields
    unknown: dict[str, Any] = {argument: "x"}
    with pytest.raises((TypeError, AirflowException), match=argument):  # Airflow 3: TypeError; 2.11: its own
        EcwidCatalogSyncOperator(task_id="sync", data=[], **unknown)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"on_missing": "remove"}, "on_missing must be"),
        ({"max_missing_share": 2}, "max_missing_share"),
        ({"null_values": "none"}, "null_values must be"),
        ({"lookup": "index"}, "lookup must be"),
        ({"on_missing_categories": "disable"}, "on_missing_categories must be"),
        ({"on_missing_variations": "disable"}, "on_missing_variations must be"),
        ({"parent_sku_column": "parent"}, "variations need both"),
        ({"category_separator": " "}, "must not be blank"),
        ({"catalog_memory_max_age": -1}, "must not be negative"),
    ],
)
def test_a_wrong_setting_fails_when_the_dag_file_is_parsed(arguments: dict[str, Any], match: str) -> None:
    with pytest.raises(EcwidConfigError, match=match):
        EcwidCatalogSyncOperator(task_id="sync", data=[], **arguments)


def test_a_templated_setting_is_checked_once_rendered() -> None:
    templated: dict[str, Any] = {"on_missing": "{{ params.on_missing }}"}
    operator = EcwidCatalogSyncOperator(task_id="sync", data=[], **templated)
    assert operator.on_missing == templated["on_missing"]  # not refused while it is a template
    setattr(operator, "on_missing", "remove")  # noqa: B010  (what a wrong rendering leaves)
    with pytest.raises(EcwidConfigError, match="on_missing must be"):
        operator._product_settings()
