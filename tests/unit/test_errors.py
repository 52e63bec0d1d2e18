"""Every error the provider raises on purpose lives in errors.py and can be imported from the package."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import airflow_provider_ecwid
from airflow_provider_ecwid import errors
from airflow_provider_ecwid.errors import EcwidError


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_error_class_is_defined_in_errors_and_exported() -> None:
    for module in pkgutil.walk_packages(airflow_provider_ecwid.__path__, "airflow_provider_ecwid."):
        importlib.import_module(module.name)
    errors = _subclasses(EcwidError) | {EcwidError}
    assert len(errors) >= 14
    misplaced = sorted(
        f"{cls.__module__}.{cls.__qualname__}" for cls in errors if cls.__module__ != EcwidError.__module__
    )
    assert misplaced == []
    exported = set(airflow_provider_ecwid.__all__)
    assert sorted(cls.__name__ for cls in errors if cls.__name__ not in exported) == []
    for cls in errors:
        assert getattr(airflow_provider_ecwid, cls.__name__) is cls


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("EcwidProgressLost", "EcwidProgressLostError"),
        ("EcwidSyncRefused", "EcwidSyncRefusedError"),
        ("EcwidSubmissionKilled", "EcwidSubmissionKilledError"),
    ],
)
@pytest.mark.parametrize("module", ["airflow_provider_ecwid", "airflow_provider_ecwid.errors"])
def test_an_old_error_name_still_works_with_a_warning_naming_the_new_one(module: str, old: str, new: str) -> None:
    imported = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated: use {new}"):
        assert getattr(imported, old) is getattr(errors, new)


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import airflow_provider_ecwid

    with pytest.raises(AttributeError, match="EcwidNoSuchError"):
        airflow_provider_ecwid.EcwidNoSuchError  # noqa: B018
    with pytest.raises(AttributeError, match="EcwidNoSuchError"):
        errors.EcwidNoSuchError  # noqa: B018


def test_every_error_class_name_ends_in_error() -> None:
    assert sorted(cls.__name__ for cls in _subclasses(EcwidError) if not cls.__name__.endswith("Error")) == []
