"""Files by path or URL, in one place: a local path, ``file://``, or any ObjectStoragePath scheme (``s3://``...).

The feed (:func:`open_input`), the image memory and the results file all open through :func:`open_url`. A
file opened for ``"w"`` or ``"wb"`` locally is written whole when it is closed (a temporary file, then a rename), so a
reader never sees half of it.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any


def default_memory_folder() -> str:
    """``$AIRFLOW_HOME/ecwid/image-memory`` (``~/airflow`` when AIRFLOW_HOME is not set)."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return os.path.join(home, "ecwid", "image-memory")


def _replace(path: str, data: bytes) -> None:
    """Write a local file in one step: a temporary file, then a rename."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


class _AtomicText(io.StringIO):
    """Text written to a local file in one step on close (a temporary file, then a rename)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def close(self) -> None:
        if not self.closed:
            _replace(self.path, self.getvalue().encode("utf-8"))
        super().close()


class _AtomicBytes(io.BytesIO):
    """Bytes written to a local file in one step on close (a temporary file, then a rename)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def close(self) -> None:
        if not self.closed:
            _replace(self.path, self.getvalue())
        super().close()


def is_local(url: str) -> bool:
    """A plain path or a ``file://`` URL (anything else goes through ObjectStoragePath)."""
    return "://" not in url or url.startswith("file://")


def open_url(url: str, mode: str) -> IO[Any]:
    """
    Open a path or URL for ``"rb"``, ``"r"``, ``"w"`` (text, UTF-8) or ``"wb"``.

    :param url: a local path, a ``file://`` URL or any ObjectStoragePath URL.
    :param mode: ``"rb"``, ``"r"``, ``"w"`` or ``"wb"``.
    """
    if is_local(url):
        path = url.removeprefix("file://")
        if mode == "w":
            return _AtomicText(path)
        if mode == "wb":
            return _AtomicBytes(path)
        return open(path, mode) if "b" in mode else open(path, mode, encoding="utf-8")
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    return ObjectStoragePath(url).open(mode)  # type: ignore[no-any-return]


def remove_url(url: str) -> None:
    """Delete a file by path or URL (see :func:`open_url`); one that is gone already is fine."""
    if is_local(url):
        path = url.removeprefix("file://")
        if os.path.exists(path):
            os.remove(path)
        return
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    target = ObjectStoragePath(url)
    if target.exists():
        target.unlink()


def open_input(url: str) -> IO[bytes]:
    """Open a feed for reading bytes (see :func:`open_url`)."""
    return open_url(url, "rb")
