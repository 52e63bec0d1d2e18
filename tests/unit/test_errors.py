"""Every error the provider raises on purpose lives in errors.py and can be imported from the package."""

from __future__ import annotations

import importlib
import pkgutil

import airflow_provider_ecwid
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
