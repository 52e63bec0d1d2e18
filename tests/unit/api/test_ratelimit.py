from __future__ import annotations

import threading

import pytest

from airflow_provider_ecwid.api.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)


def test_burst_passes_then_calls_are_spaced_by_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, burst=3, clock=clock, sleep=clock.sleep)  # one call a second
    waits = [bucket.acquire() for _ in range(6)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([1.0, 2.0, 3.0])


def test_tokens_refill_with_time_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(600, burst=2, clock=clock, sleep=clock.sleep)  # ten a second
    bucket.acquire(), bucket.acquire()
    clock.now += 100  # a long pause refills only up to the burst
    assert [bucket.acquire() for _ in range(3)] == pytest.approx([0, 0, 0.1])


def test_never_more_than_budget_plus_burst_in_any_minute() -> None:
    clock = FakeClock()
    per_minute, burst = 500, 50
    bucket = TokenBucket(per_minute, burst=burst, clock=clock, sleep=clock.sleep)
    sent_at = []
    for _ in range(2000):
        clock.now += bucket.acquire()  # the caller sleeps, time moves on
        sent_at.append(clock.now)
    # sliding window over the send times
    start = 0
    most = 0
    for end, moment in enumerate(sent_at):
        while sent_at[start] <= moment - 60:
            start += 1
        most = max(most, end - start + 1)
    assert most <= per_minute + burst
    assert most <= 600  # Ecwid's own limit, with the defaults
    assert sent_at[-1] == pytest.approx((2000 - burst) / (per_minute / 60), rel=1e-6)


def test_is_safe_across_threads() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, burst=5, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(25)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 200 calls, 5 free: every other call reserved its own distinct slot one second apart
    assert sorted(clock.slept) == pytest.approx([float(n) for n in range(1, 196)])


def test_rejects_a_budget_that_cannot_work() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="at least 1"):
        TokenBucket(60, burst=0)
