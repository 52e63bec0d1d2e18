"""Records made on demand from their position, so that a store can hold a million orders in a few kilobytes.

A table hands out positions 0, 1, 2... in runs (:class:`Segment`): a run is a count, a range of update times and
a seed, and record ``i``'s update time is a non-decreasing function of ``i`` inside its run. Runs never overlap in
time, so the records whose update time falls in a window are a range of positions in each run, found by
arithmetic. What changed after seeding is kept apart: an overlay of changed fields for records moved to a new
update time, and the positions deleted, with when. Only those cost memory.

The table answers in one order: by update time, then by position (and so by id, which grows with the position).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: The field of the overlay that holds a moved record's new update time.
UPDATE_TIME = "updateTimestamp"


@dataclass(frozen=True)
class Segment:
    """
    One seeded run of records.

    :param first: the position of its first record.
    :param count: how many records it holds (at least 1).
    :param start: the update time (UNIX seconds) of its first record.
    :param end: the update time of its last record (at least ``start``).
    :param seed: the seed its records are made from.
    :param pool: a number the record maker may use (orders: how many customers existed when they were seeded).
    """

    first: int
    count: int
    start: int
    end: int
    seed: int
    pool: int = 0

    @property
    def stop(self) -> int:
        """The position after its last record."""
        return self.first + self.count

    def time_of(self, position: int) -> int:
        """The seeded update time of the record at ``position`` (non-decreasing in the position)."""
        if self.count == 1:
            return self.start
        return self.start + (position - self.first) * (self.end - self.start) // (self.count - 1)

    def first_at_or_after(self, when: int) -> int:
        """The smallest position whose seeded update time is ``when`` or later (``stop`` if none is)."""
        if when <= self.start:
            return self.first
        if when > self.end:
            return self.stop
        # time_of(first + k) >= when  <=>  k * span >= (when - start) * (count - 1), as the floor is exact
        steps = -(-(when - self.start) * (self.count - 1) // (self.end - self.start))
        return self.first + steps


class LazyTable:
    """The records of one kind (orders, customers) of one store: seeded runs, an overlay, and deletions."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []  # in the order seeded, so by position
        self._by_time: list[Segment] = []
        self.size = 0
        #: position -> the fields changed since seeding (always the new ``updateTimestamp``)
        self.overlay: dict[int, dict[str, Any]] = {}
        self._moved: list[tuple[int, int]] = []  # sorted (new update time, position) of the overlay's records
        self._gone: list[int] = []  # sorted positions no longer at their seeded place (moved or deleted)
        self._gone_set: set[int] = set()
        #: position -> when it was deleted
        self.deleted: dict[int, int] = {}
        #: (position, when) in the order of deletion
        self.deletions: list[tuple[int, int]] = []
        #: the newest update or deletion time of any record (0: never)
        self.last_change = 0

    # -- seeding ---------------------------------------------------------------------------------------------

    def add_segment(self, count: int, start: int, end: int, seed: int, pool: int = 0) -> Segment:
        """Append ``count`` records updated from ``start`` to ``end``; the range must not overlap another run's."""
        if count < 1:
            raise ValueError(f"a seeded run holds at least one record, got {count}")
        if end < start:
            raise ValueError(f"the update times must not run backwards: {start} > {end}")
        for other in self.segments:
            if start <= other.end and other.start <= end:
                raise ValueError(
                    f"update times {start}..{end} overlap those of records seeded before ({other.start}..{other.end}):"
                    " seed each run over a time range of its own"
                )
        segment = Segment(self.size, count, start, end, seed, pool)
        self.segments.append(segment)
        bisect.insort(self._by_time, segment, key=lambda item: item.start)
        self.size += count
        self.last_change = max(self.last_change, end)
        return segment

    def segment_of(self, position: int) -> Segment:
        """The run that holds ``position`` (which must be below :attr:`size`)."""
        index = bisect.bisect_right(self.segments, position, key=lambda item: item.first) - 1
        return self.segments[index]

    # -- one record ------------------------------------------------------------------------------------------

    def exists(self, position: int) -> bool:
        """Whether a record was seeded at ``position`` and is not deleted."""
        return 0 <= position < self.size and position not in self.deleted

    def live_count(self) -> int:
        return self.size - len(self.deleted)

    def update_time(self, position: int) -> int:
        changed = self.overlay.get(position)
        if changed is not None:
            return int(changed[UPDATE_TIME])
        return self.segment_of(position).time_of(position)

    def key(self, position: int) -> tuple[int, int]:
        """Where the record sorts in an answer: by update time, then position."""
        return self.update_time(position), position

    def move(self, position: int, when: int, fields: dict[str, Any]) -> None:
        """
        Record a change of ``position`` at ``when``: ``fields`` join its overlay and its update time moves.

        The overlay's dict is replaced, never changed in place, so a page that kept the old one still answers
        what it read.
        """
        previous = self.overlay.get(position)
        if previous is not None:
            self._moved.remove((int(previous[UPDATE_TIME]), position))
        else:
            self._forget_place(position)
        changed = {**(previous or {}), **fields, UPDATE_TIME: when}
        self.overlay[position] = changed
        bisect.insort(self._moved, (when, position))
        self.last_change = max(self.last_change, when)

    def delete(self, position: int, when: int) -> None:
        """Delete the record at ``position`` at ``when``."""
        previous = self.overlay.pop(position, None)
        if previous is not None:
            self._moved.remove((int(previous[UPDATE_TIME]), position))
        else:
            self._forget_place(position)
        self.deleted[position] = when
        self.deletions.append((position, when))
        self.last_change = max(self.last_change, when)

    def _forget_place(self, position: int) -> None:
        bisect.insort(self._gone, position)
        self._gone_set.add(position)

    # -- windows ---------------------------------------------------------------------------------------------

    def window(self, low: int | None = None, high: int | None = None) -> Window:
        """The live records updated from ``low`` to ``high`` (inclusive; None: unbounded), in answer order."""
        return Window(self, low, high)

    def gone_between(self, start: int, stop: int) -> int:
        """How many positions in ``[start, stop)`` are not at their seeded place."""
        return bisect.bisect_left(self._gone, stop) - bisect.bisect_left(self._gone, start)


class Window:
    """
    The live records of a table whose update time is in a window, in answer order, without making a list of them.

    Two sorted sequences merged: records at their seeded place (ranges of positions, less the moved and deleted
    ones) and moved records (the overlay, sorted by their new time).

    :param table: the table.
    :param low: the earliest update time (inclusive), or None.
    :param high: the latest update time (inclusive), or None.
    """

    def __init__(self, table: LazyTable, low: int | None, high: int | None) -> None:
        self.table = table
        self.ranges: list[tuple[Segment, int, int]] = []
        for segment in table._by_time:
            start = segment.first if low is None else segment.first_at_or_after(low)
            stop = segment.stop if high is None else segment.first_at_or_after(high + 1)
            if start < stop:
                self.ranges.append((segment, start, stop))
        self._cumulative = [0]
        for _segment, start, stop in self.ranges:
            self._cumulative.append(self._cumulative[-1] + stop - start - table.gone_between(start, stop))
        moved = table._moved
        first = 0 if low is None else bisect.bisect_left(moved, (low, -1))
        last = len(moved) if high is None else bisect.bisect_left(moved, (high + 1, -1))
        self.moved = moved[first:last]

    @property
    def placed(self) -> int:
        """How many records of the window are at their seeded place."""
        return self._cumulative[-1]

    def __len__(self) -> int:
        return self.placed + len(self.moved)

    def __iter__(self) -> Iterator[int]:
        return self._merged(0, 0)

    def positions(self, offset: int, limit: int) -> list[int]:
        """The positions of the records ``offset`` to ``offset + limit - 1`` of the window."""
        if offset >= len(self) or limit <= 0:
            return []
        moved_before = self._moved_before(offset)
        merged = self._merged(offset - moved_before, moved_before)
        return [position for _, position in zip(range(limit), merged, strict=False)]

    def _moved_before(self, offset: int) -> int:
        """How many moved records come before the window's record at ``offset`` (a search over the split)."""
        low, high = max(0, offset - self.placed), min(offset, len(self.moved))
        while low < high:
            moved = (low + high) // 2
            placed = offset - moved
            # too few moved records taken if the next moved one sorts before the last placed one taken
            if placed > 0 and self._placed_key(placed - 1) > self.moved[moved]:
                low = moved + 1
            else:
                high = moved
        return low

    def _placed_key(self, rank: int) -> tuple[int, int]:
        segment, position = self._placed_at(rank)
        return segment.time_of(position), position

    def _placed_at(self, rank: int) -> tuple[Segment, int]:
        """The segment and position of the window's ``rank``-th record at its seeded place."""
        index = bisect.bisect_right(self._cumulative, rank) - 1
        segment, start, stop = self.ranges[index]
        wanted = rank - self._cumulative[index] + 1  # how many live positions from start up to the answer
        low, high = start, stop - 1
        while low < high:
            middle = (low + high) // 2
            if middle + 1 - start - self.table.gone_between(start, middle + 1) >= wanted:
                high = middle
            else:
                low = middle + 1
        return segment, low

    def _placed_from(self, rank: int) -> Iterator[tuple[int, int]]:
        """The keys of the records at their seeded place, from the ``rank``-th on."""
        if rank >= self.placed:
            return
        index = bisect.bisect_right(self._cumulative, rank) - 1
        _segment, position = self._placed_at(rank)
        gone = self.table._gone_set
        for order, (segment, start, stop) in enumerate(self.ranges[index:]):
            for current in range(position if order == 0 else start, stop):
                if current not in gone:
                    yield segment.time_of(current), current

    def _merged(self, placed_rank: int, moved_rank: int) -> Iterator[int]:
        placed = self._placed_from(placed_rank)
        moved = iter(self.moved[moved_rank:])
        next_placed, next_moved = next(placed, None), next(moved, None)
        while next_placed is not None or next_moved is not None:
            if next_moved is None or (next_placed is not None and next_placed < next_moved):
                assert next_placed is not None
                yield next_placed[1]
                next_placed = next(placed, None)
            else:
                yield next_moved[1]
                next_moved = next(moved, None)
