"""A batch plan: one input, one way to turn rows into requests, one chunk size.

``validate()`` reads the whole input once and reports every problem (nothing is sent before it passes);
``chunks()`` reads it again, slice by slice, and yields encoded batches, so memory holds a few chunks, not
the catalog.
"""

from __future__ import annotations

from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

from airflow_provider_ecwid.batch.build import RequestBuilder, SliceCheck, request_patterns
from airflow_provider_ecwid.batch.chunks import EncodedChunk, RequestRows, check_chunk_size, first_requests, iter_chunks
from airflow_provider_ecwid.batch.models import BatchRequest
from airflow_provider_ecwid.batch.problems import ProblemLog, RowProblem
from airflow_provider_ecwid.batch.ready import ready_requests
from airflow_provider_ecwid.batch.sources import InputSource, MadeRequestsSource, ReadyRequestsSource
from airflow_provider_ecwid.batch.wire import WireRows

#: Rows read and converted at a time, in chunks; bounds memory to a few chunks.
SLICE_CHUNKS = 10
#: The same for a DataFrame, whose rows are in memory already: bigger slices encode faster (about 1.5x).
FRAME_SLICE_CHUNKS = 40
#: Slices encoded at once: Arrow's kernels release the GIL, so two threads use two cores.
ENCODE_THREADS = 2
#: How many of the first requests the dry-run summary shows.
SHOWN_REQUESTS = 3


@dataclass
class PlanSummary:
    """
    What a plan would send: the dry-run report and the progress totals.

    :param requests: how many requests.
    :param chunks: how many batches.
    :param by_pattern: requests per ``METHOD path-pattern``.
    :param first_requests: the first few requests, each the JSON object its batch will hold, byte for byte.
    """

    requests: int = 0
    chunks: int = 0
    by_pattern: Counter[str] = field(default_factory=Counter)
    first_requests: list[bytes] = field(default_factory=list)

    def lines(self) -> list[str]:
        text = [f"{self.requests:,} request(s) in {self.chunks:,} batch(es)"]
        text += [f"  {count:>9,}  {pattern}" for pattern, count in self.by_pattern.most_common()]
        text += ["first requests:"] + [f"  {request[:300].decode(errors='replace')}" for request in self.first_requests]
        return text


class BatchPlan:
    """
    How one input becomes batches.

    :param source: the input.
    :param builder: how rows become requests (unused for ready requests).
    :param chunk_size: requests per batch, 1 to 500.
    :param more_parts: further ``(source, builder)`` pairs whose requests follow, in the same batches (the
        builder is None for a source of ready requests)
        (the catalog sync sends its creates, updates and missing-product changes as one submission).
    """

    def __init__(
        self,
        source: InputSource,
        builder: RequestBuilder,
        chunk_size: int = 500,
        *,
        more_parts: Sequence[tuple[InputSource, RequestBuilder | None]] = (),
    ) -> None:
        self.parts: list[tuple[InputSource, RequestBuilder | None]] = [(source, builder), *more_parts]
        self.chunk_size = check_chunk_size(chunk_size)
        self.slice_rows = self.chunk_size * SLICE_CHUNKS

    def _slices(self) -> Iterator[tuple[int, RequestBuilder | None, Any]]:
        """Every slice of every part: its first row in the whole input, its builder (None: ready requests), rows."""
        offset = 0
        for source, builder in self.parts:
            rows_in_part = 0
            size = self.chunk_size * FRAME_SLICE_CHUNKS if source.in_memory else self.slice_rows
            for first_row, rows in source.slices(size):
                yield offset + first_row, None if source.holds_requests else builder, rows
                rows_in_part = first_row + len(rows)
            offset += rows_in_part

    def _requests(self, problems: ProblemLog) -> Iterator[list[BatchRequest]]:
        """The requests slice by slice, checked row by row, without bodies."""
        for first_row, builder, rows in self._slices():
            if builder is None:
                yield ready_requests(rows, first_row, problems)
            else:
                yield builder.build(rows, first_row, problems, make=False)

    def validate(self) -> PlanSummary:
        """Check every row; raise EcwidValidationError listing the problems, else return the summary."""
        problems = ProblemLog()
        summary = PlanSummary()
        positional = all(
            not source.holds_requests and builder is not None and builder.id_column is None
            for source, builder in self.parts
        )
        id_hashes = array("q")  # 8 bytes per row, not a dict of every id, to find duplicates
        for first_row, builder, rows in self._slices():
            show = SHOWN_REQUESTS - len(summary.first_requests)
            if builder is None:
                requests = ready_requests(rows, first_row, problems)
                checked = SliceCheck(len(requests), request_patterns(requests), map(_request_id, requests))
                summary.first_requests += first_requests(WireRows(requests), show)
            else:
                checked = builder.check(rows, first_row, problems)
                if show > 0:  # as the encode pass writes them: its first rows once more through the same call
                    preview = builder.encode(rows.iloc[:show], first_row, ProblemLog())
                    summary.first_requests += first_requests(preview, show)
            summary.requests += checked.requests
            summary.by_pattern.update(checked.patterns)
            if not positional:  # ids from row positions cannot repeat
                id_hashes.extend(map(hash, checked.ids))
        if len(id_hashes) > 1:
            hashes = np.frombuffer(id_hashes, dtype=np.int64)
            hashes.sort()  # in place: no second array of every id
            repeated = set(hashes[1:][hashes[1:] == hashes[:-1]].tolist())
            if repeated:
                self._report_duplicates(repeated, problems)
        problems.raise_if_any()
        summary.chunks = -(-summary.requests // self.chunk_size)
        return summary

    def _report_duplicates(self, repeated_hashes: set[int], problems: ProblemLog) -> None:
        """A second read, only for the ids whose hash repeats: report each id used more than once."""
        first_use: dict[str, int] = {}
        row = 0
        for requests in self._requests(ProblemLog()):
            for request in requests:
                if request.id is not None and hash(request.id) in repeated_hashes:  # None: reported already
                    if request.id in first_use:
                        why = f"duplicate id (first used by row {first_use[request.id]})"
                        problems.add(RowProblem(row, request.id, "id", why))
                    else:
                        first_use[request.id] = row
                row += 1

    def chunks(self) -> Iterator[EncodedChunk]:
        """
        Yield the encoded batches in order; call after :meth:`validate` passed.

        Should the input change between the two reads, a slice with a problem stops the submission before any
        batch holding one of its rows is yielded.
        """
        yield from iter_chunks(self._encoded_slices(), self.chunk_size)

    def _encoded_slices(self) -> Iterator[RequestRows]:
        """The slices encoded, a few at once in threads, in order; the input is read in this thread meanwhile."""
        pool = ThreadPoolExecutor(ENCODE_THREADS, thread_name_prefix="ecwid-encode")
        pending: deque[Future[tuple[RequestRows, ProblemLog]]] = deque()
        try:
            for first_row, builder, rows in self._slices():
                pending.append(pool.submit(_encode_slice, builder, rows, first_row))
                if len(pending) >= ENCODE_THREADS:
                    yield _collect(pending.popleft())
            while pending:
                yield _collect(pending.popleft())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _encode_slice(builder: RequestBuilder | None, rows: Any, first_row: int) -> tuple[RequestRows, ProblemLog]:
    """One slice encoded by its builder (None: ready requests); a problem there is reported in the log."""
    problems = ProblemLog()
    if builder is None:
        return WireRows(ready_requests(rows, first_row, problems)), problems
    return builder.encode(rows, first_row, problems), problems


def _collect(future: Future[tuple[RequestRows, ProblemLog]]) -> RequestRows:
    """A slice's requests; a problem there means the input changed since it was validated: stop at once."""
    rows, found = future.result()
    found.raise_if_any(
        "the input changed after it was validated; batches before this row's may have been sent, none after"
    )
    return rows


_request_id = attrgetter("id")


def ready_plan(
    requests: Sequence[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]], chunk_size: int
) -> tuple[BatchPlan, PlanSummary]:
    """
    Ready batch requests as a plan, validated.

    :param requests: the requests, or a function that makes them anew at each call (they are then made as
        they are checked and again as they are sent, never all held at once).
    :param chunk_size: requests per batch.
    """
    source = MadeRequestsSource(requests) if callable(requests) else ReadyRequestsSource(list(requests))
    plan = BatchPlan(source, RequestBuilder(path=None), chunk_size)
    return plan, plan.validate()
