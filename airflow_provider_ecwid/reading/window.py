"""A window on an entity's update time, fixed before the first page is read.

Offset pages are not a snapshot: an item updated while the pages are read moves past the window's end and every
later item shifts one place back. With the end fixed in the past no item can enter the window during the read,
so the items found can only be fewer than the window's count, never more: a count that does not add up says
that something was skipped, and where to read again.

Ecwid does not document whether ``updatedFrom`` and ``updatedTo`` include their bounds, so the query asks for a
second more on each side and :meth:`Window.holds` keeps the window's own items: ``start <= t < end``, which is
what makes consecutive data intervals meet without a gap or an overlap.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """
    Items updated in ``start <= t < end`` (UNIX seconds).

    :param start: the first second in the window (None: from the beginning).
    :param end: the first second after it; fixed before the first page is read.
    """

    start: int | None
    end: int

    def __post_init__(self) -> None:
        if self.start is not None and self.start >= self.end:
            raise ValueError(f"a window must end after it starts, got {self.start} to {self.end}")

    def params(self) -> dict[str, int]:
        """The search filters that cover the window whichever way Ecwid treats its bounds (one second wider)."""
        params = {"updatedTo": self.end}
        if self.start is not None:
            params["updatedFrom"] = self.start - 1
        return params

    def holds(self, timestamp: object) -> bool:
        """Whether an item with this update time belongs to the window (an unreadable one does: nothing is lost)."""
        if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
            return True
        return (self.start is None or timestamp >= self.start) and timestamp < self.end

    def halves(self, earliest: int) -> tuple[Window, Window] | None:
        """
        The window cut in two at its middle second, to read again what did not add up (None: one second wide).

        :param earliest: where an open start is taken to be (the oldest update time seen).
        """
        start = self.start if self.start is not None else min(earliest, self.end - 1)
        if self.end - start <= 1:
            return None
        middle = start + (self.end - start) // 2
        return Window(self.start, middle), Window(middle, self.end)
