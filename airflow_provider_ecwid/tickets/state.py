"""What the provider needs of Airflow 3.3's task state store: JSON values by key, kept across a task's tries."""

from __future__ import annotations

from typing import Any, Protocol


class StateStore(Protocol):
    """Where a task's progress survives a retry: Airflow 3.3's task state store (``context["task_state_store"]``)."""

    def get(self, key: str, default: Any = None) -> Any:
        """The value kept under ``key``, or ``default``."""
        ...

    def set(self, key: str, value: Any) -> None:
        """Keep ``value`` (JSON) under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        ...
