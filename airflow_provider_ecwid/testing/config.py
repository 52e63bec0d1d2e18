"""The emulator's knobs: stores and tokens, realism (time), and fault injection."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from airflow_provider_ecwid.testing.tracking import to_seconds

SHORT_STATUS_MODES = (None, "no_counters", "half", "total_one", "total_negative", "foreign_ids")


@dataclass
class EmulatorConfig:
    """
    How the emulator behaves. Every knob is also a CLI flag of ``python -m airflow_provider_ecwid.testing.emulator``.

    :param stores: store id -> its tokens (a token belongs to one store).
    :param processing_time: seconds each inner batch request takes (before the time factor).
    :param latency: extra seconds added to every HTTP call (before the time factor).
    :param time_factor: multiplies every emulated duration: processing, latency, inner retry delays.
    :param seed: seed of the random faults, for reproducible runs.
    :param rate_limit_per_minute: calls per token per rolling window before 429 (0 disables the limit).
    :param rate_limit_window: the window of that limit in seconds (Ecwid: 60; shorter makes 429 tests fast).
    :param error_rate: probability that an API call answers 503 without doing anything.
    :param inner_error_rate: probability that an inner batch request answers 500.
    :param drop_rate: probability that an API call's connection is closed without an answer.
    :param import_lock_windows: ``(start, duration)`` pairs, in seconds from the first authenticated API
        call, during which catalog writes (and POST /batch) answer 449.
    :param inner_retries: how often Ecwid retries an inner 5xx when stopOnFirstFailure is false.
    :param inner_retry_delay: seconds between those retries (before the time factor).
    :param deduplication_ttl: seconds a deduplicationKey is remembered (Ecwid: one hour).
    :param parallel_limit: how many requests of a parallel batch run at once (Ecwid: 100).
    :param lost_answer_rate: probability that a batch is created and then its answer is lost (the connection is
        closed before the ticket is sent back), as when a network breaks at the worst moment.
    :param short_status: answer finished batches in a way that does not account for every request:
        ``no_counters`` (only ``{"status": "COMPLETED"}``), ``half`` (counters and results of the first half),
        ``total_one`` or ``total_negative`` (a wrong ``totalRequests``), ``foreign_ids`` (results that name
        other ids); None (default) answers in full.
    :param echo_authorization: a careless server or proxy: error answers repeat the request's Authorization
        header (so the token). 4xx bodies add it to their errorMessage, 5xx answers become a proxy's HTML
        error page that shows it, and failed batch items repeat the header of the POST /batch that made them.
    :param refuse_inner: a regular expression: an inner batch request whose ``METHOD path body`` (the body as
        compact JSON, e.g. ``POST /categories {"name":"Road","enabled":true,"parentId":3}``) it matches answers
        400 ``INJECTED_REFUSAL`` and changes nothing, as a store refusing that one request. None (default):
        nothing is refused; set it back to None to let a later run succeed.
    :param timestamp_resolution: seconds to which every catalog timestamp (``productsUpdated``,
        ``updateTimestamp``, a deletion's date...) is floored: 1 (default) or coarser, e.g. 60 (minutes).
    :param nested_changes_move_product: a change to a product's variations or images moves its
        ``updateTimestamp`` (default; Ecwid does not document it). Off: only ``productsUpdated`` moves.
    :param customers: customers seeded in every store (at start and on reset), made from ``seed``.
    :param orders: orders seeded in every store after the customers (placed by them, 15 % by guests).
    :param seeded_from: the update time of the first seeded order and customer: UNIX seconds or a date text
        (``2026-12-01``, ``2026-12-01 12:00:00``); default a year before ``seeded_to``.
    :param seeded_to: the update time of the last one; default the emulator's clock at seeding.
        Update times spread evenly from one to the other, in the order of the ids.
    :param order_prefix: an order's ``id`` is ``{order_prefix}-{orderNumber}``, e.g. ``ORD-1042``.
    :param churn_updates: after each page of ``GET /orders`` or ``GET /customers`` served (directly or in a
        batch), this many random records of that kind are updated (update time moved to now).
    :param churn_deletes: ... and this many are deleted. The emulator logs every such change.
    """

    stores: dict[int, list[str]] = field(default_factory=lambda: {1002: ["secret_demo"]})
    processing_time: float = 0.0
    latency: float = 0.0
    time_factor: float = 1.0
    seed: int | None = None
    rate_limit_per_minute: int = 600
    rate_limit_window: float = 60.0
    error_rate: float = 0.0
    inner_error_rate: float = 0.0
    drop_rate: float = 0.0
    import_lock_windows: list[tuple[float, float]] = field(default_factory=list)
    inner_retries: int = 5
    inner_retry_delay: float = 3.0
    deduplication_ttl: float = 3600.0
    parallel_limit: int = 100
    lost_answer_rate: float = 0.0
    short_status: str | None = None
    echo_authorization: bool = False
    refuse_inner: str | None = None
    timestamp_resolution: int = 1
    nested_changes_move_product: bool = True
    customers: int = 0
    orders: int = 0
    seeded_from: int | str | None = None
    seeded_to: int | str | None = None
    order_prefix: str = "ORD"
    churn_updates: int = 0
    churn_deletes: int = 0

    def __post_init__(self) -> None:
        if self.short_status not in SHORT_STATUS_MODES:
            raise ValueError(f"short_status must be one of {SHORT_STATUS_MODES}, got {self.short_status!r}")
        for name in ("error_rate", "inner_error_rate", "drop_rate", "lost_answer_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in ("processing_time", "latency", "inner_retry_delay", "deduplication_ttl"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.time_factor < 0:
            raise ValueError("time_factor must not be negative")
        if self.rate_limit_per_minute < 0:
            raise ValueError("rate_limit_per_minute must not be negative (0 disables it)")
        if self.timestamp_resolution < 1:
            raise ValueError("timestamp_resolution must be at least 1 second")
        if self.parallel_limit < 1:
            raise ValueError("parallel_limit must be at least 1")
        start, end = to_seconds(self.seeded_from), to_seconds(self.seeded_to)  # a bad date fails here
        if start is not None and end is not None and start > end:
            raise ValueError(f"seeded_from ({self.seeded_from}) is after seeded_to ({self.seeded_to})")
        for name in ("customers", "orders", "churn_updates", "churn_deletes"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not re.fullmatch(r"[A-Za-z0-9_]+", self.order_prefix):
            raise ValueError(f"order_prefix must be letters, digits or _, got {self.order_prefix!r}")
        if self.refuse_inner is not None:
            re.compile(self.refuse_inner)  # a bad pattern fails here, not inside a running batch
        tokens = [token for store_tokens in self.stores.values() for token in store_tokens]
        if len(tokens) != len(set(tokens)):
            raise ValueError("a token belongs to one store only")

    def scaled(self, seconds: float) -> float:
        """An emulated duration in real seconds."""
        return seconds * self.time_factor
