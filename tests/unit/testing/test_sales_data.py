"""The emulator's seeded orders without a server: made from their seed and position, the same every time, with
update times that follow their position (which is what makes a window a range of positions)."""

from __future__ import annotations

import pytest

from airflow_provider_ecwid.testing.lazy_table import Segment
from airflow_provider_ecwid.testing.sales_data import fast_date_text, make_order
from airflow_provider_ecwid.testing.tracking import date_text

SEGMENT = Segment(first=0, count=1_000, start=1_796_083_200, end=1_796_169_599, seed=7)


@pytest.mark.parametrize("timestamp", [0, 59, 86_399, 951_782_400, 1_796_083_200, 1_796_169_599])
def test_the_fast_date_text_is_the_date_text(timestamp: int) -> None:
    assert fast_date_text(timestamp) == date_text(timestamp)


def test_an_order_is_the_same_every_time_it_is_made() -> None:
    first = make_order(SEGMENT, 17, None, "ORD")
    assert make_order(SEGMENT, 17, None, "ORD") == first
    assert make_order(SEGMENT, 18, None, "ORD") != first
    other_seed = Segment(first=0, count=1_000, start=SEGMENT.start, end=SEGMENT.end, seed=8)
    assert make_order(other_seed, 17, None, "ORD") != first  # the same position of another seed: another order


def test_update_times_follow_the_position_within_the_segment() -> None:
    times = [make_order(SEGMENT, position, None, "ORD")["updateTimestamp"] for position in range(0, 1_000, 37)]
    assert times == sorted(times)
    assert SEGMENT.start <= times[0]
    assert times[-1] <= SEGMENT.end
    assert SEGMENT.first_at_or_after(times[5]) <= 5 * 37
