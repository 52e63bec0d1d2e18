"""Category paths against the store's category tree: what exists, what to create level by level, what to drop.

The store's categories are read once; a path such as ``("Bikes", "Road", "Carbon")`` is known when each level
is a child (by exact name) of the one before. Missing paths are created one level at a time, parents first,
because a child's ``parentId`` is the id its parent gets when it is created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_ecwid.catalog.request_ids import CATEGORY

Path = tuple[str, ...]


class CategoryTree:
    """
    The store's categories by path, and the ids of those created during the sync.

    :param categories: every store category (``id``, ``name``, ``parentId``), as ``GET /categories`` pages them.
    """

    def __init__(self, categories: Iterable[Mapping[str, Any]]) -> None:
        by_id = {int(item["id"]): item for item in categories if isinstance(item.get("id"), int)}
        self.ids: dict[Path, int] = {}
        for category_id in by_id:
            path = self._path_of(category_id, by_id)
            if path is not None:
                self.ids.setdefault(path, category_id)

    @staticmethod
    def _path_of(category_id: int, by_id: Mapping[int, Mapping[str, Any]]) -> Path | None:
        names: list[str] = []
        seen: set[int] = set()
        current: int | None = category_id
        while current:
            if current in seen or current not in by_id:
                return None  # a cycle or a parent we cannot see: not addressable by path
            seen.add(current)
            names.append(str(by_id[current].get("name", "")))
            parent = by_id[current].get("parentId")
            current = int(parent) if isinstance(parent, int) else None
        return tuple(reversed(names))

    def missing_levels(self, paths: Iterable[Path]) -> list[list[Path]]:
        """The paths (and their ancestors) the store lacks, grouped by depth: parents before children."""
        wanted: set[Path] = set()
        for path in paths:
            for depth in range(1, len(path) + 1):
                wanted.add(path[:depth])
        missing = sorted(path for path in wanted if path not in self.ids)
        deepest = max((len(path) for path in missing), default=0)
        return [[path for path in missing if len(path) == depth] for depth in range(1, deepest + 1)]

    def create_requests(self, level: Iterable[Path], separator: str) -> list[dict[str, Any]]:
        """``POST /categories`` for each path of one level (their parents exist by now)."""
        requests = []
        for path in level:
            body: dict[str, Any] = {"name": path[-1], "enabled": True}
            if len(path) > 1:
                body["parentId"] = self.ids[path[:-1]]
            requests.append({"id": request_id(path, separator), "method": "POST", "path": "/categories", "body": body})
        return requests

    def unused(self, paths: Iterable[Path]) -> list[tuple[Path, int]]:
        """Store categories that no feed path names or passes through, deepest first (children before parents)."""
        used: set[Path] = set()
        for path in paths:
            used.update(path[:depth] for depth in range(1, len(path) + 1))
        return sorted(
            ((path, category_id) for path, category_id in self.ids.items() if path not in used),
            key=lambda pair: (-len(pair[0]), pair[0]),
        )


def request_id(path: Path, separator: str) -> str:
    """The id of the request that creates ``path``."""
    return CATEGORY.make(separator.join(path))
