"""EcwidCatalogSyncOperator's arguments: the memory folder's name, and its deprecated old one."""

from __future__ import annotations

import pytest

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
