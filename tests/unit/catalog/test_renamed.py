"""The catalog's classes renamed for what they are: the old names still work for one release, with a warning."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("airflow_provider_ecwid.catalog.diff", "CatalogSync", "ProductDiff"),
        ("airflow_provider_ecwid.catalog.planner", "WholeCatalogSync", "CatalogPlanner"),
    ],
)
def test_an_old_name_warns_and_names_the_new_one(module: str, old: str, new: str) -> None:
    loaded = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{module}.{old} is deprecated: use {new}"):
        found = getattr(loaded, old)
    assert found is getattr(loaded, new)


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    diff = importlib.import_module("airflow_provider_ecwid.catalog.diff")
    with pytest.raises(AttributeError, match="has no attribute 'CatalogDiff'"):
        diff.CatalogDiff  # noqa: B018
