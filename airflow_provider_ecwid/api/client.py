"""EcwidClient: the one place that talks HTTP to Ecwid. No Airflow import.

It holds one ``requests.Session`` with the Bearer token, applies connect/read time-outs to every call,
keeps under a per-minute budget with a token bucket (and, given a :class:`~.ratelimit.SharedBudget`, under the
budget that every client of the token shares, which a 429 pauses for all of them), and retries what
:mod:`retries` says is worth retrying.
400, 402, 403, 404, 409, 415, 422 and every other 4xx fail at once with a typed error.

Everything the server says passes through one :class:`TokenScrubber` before the client looks at it: a
server or proxy that repeats the Authorization header (in an error body, an HTML error page, a failed
batch item's inner body) cannot put the token into an exception, a log line, a status or a report.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from airflow_provider_ecwid import __version__
from airflow_provider_ecwid.api.ratelimit import SharedBudget, TokenBucket
from airflow_provider_ecwid.api.retries import (
    RetryableAnswer,
    RetryPolicy,
    is_retryable,
    retry_after_of,
)
from airflow_provider_ecwid.api.status import error_fields, parse_batch_status
from airflow_provider_ecwid.batch.chunks import EncodedChunk
from airflow_provider_ecwid.batch.models import BatchRequest, BatchStatus
from airflow_provider_ecwid.batch.paths import check_api_path, check_method, redact_path
from airflow_provider_ecwid.errors import (
    EcwidApiError,
    EcwidAuthError,
    EcwidConfigError,
    EcwidNotFoundError,
    EcwidResponseError,
    EcwidUnsafePathError,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://app.ecwid.com/api/v3"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RATE_LIMIT_PER_MINUTE = 500
DEFAULT_MAX_RETRIES = 5
DEFAULT_MAX_RETRY_WAIT = 300.0
PAGE_LIMIT = 100


def is_loopback_host(host: str | None) -> bool:
    """
    True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1), the hosts plain http may go to.

    ``*.localhost`` names do not count: whether they resolve to this machine depends on the resolver, and
    a name that resolves elsewhere would carry the token in clear text.
    """
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


REDACTED = "***"


class TokenScrubber:
    """
    Hides one token in what a server sent: the token itself and ``Bearer <token>`` become ``***``.

    The token is also looked for as JSON would escape it (once, and twice for an escaped inner body) and
    percent-encoded, so it is found in raw answer bytes, in decoded text and in inner bodies alike.

    :param token: the secret to hide.
    """

    def __init__(self, token: str) -> None:
        escaped = json.dumps(token)[1:-1]
        forms = sorted({token, escaped, json.dumps(escaped)[1:-1], quote(token, safe="")}, key=len, reverse=True)
        pattern = r"(?:(?i:bearer)\s+)?(?:" + "|".join(map(re.escape, forms)) + ")"
        self._text = re.compile(pattern)
        self._bytes = re.compile(pattern.encode())
        self._needles = [form.encode() for form in forms]

    def content(self, data: bytes) -> bytes:
        """Raw answer bytes with the token hidden (a substring search when it is not there)."""
        if not any(needle in data for needle in self._needles):
            return data
        return self._bytes.sub(REDACTED.encode(), data)

    def text(self, text: str) -> str:
        """Text with the token hidden."""
        return self._text.sub(REDACTED, text)

    def value(self, value: Any) -> Any:
        """A decoded JSON value with the token hidden in every string, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(key) if isinstance(key, str) else key: self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value

    def status(self, status: BatchStatus) -> BatchStatus:
        """A batch status with the token hidden in its state and in every item's id, body and error."""
        responses = tuple(
            dataclasses.replace(
                item,
                id=self.value(item.id),
                http_status_line=self.value(item.http_status_line),
                body=self.value(item.body),
                error_code=self.value(item.error_code),
                error_message=self.value(item.error_message),
            )
            for item in status.responses
        )
        return dataclasses.replace(status, raw_state=self.value(status.raw_state), responses=responses)


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EcwidConfigError(f"The Ecwid API base URL must be an http(s) URL with a host, got {base_url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise EcwidConfigError("The Ecwid API base URL must not carry credentials, a query or a fragment")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise EcwidConfigError(
            f"Refusing to send the Ecwid token over plain http to {parts.hostname}: use https "
            "(plain http is allowed only to a loopback host such as the bundled emulator)."
        )
    return base_url.rstrip("/")


def _check_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    if not params:
        return {}
    for name in params:
        if str(name).strip().lower() == "token":
            raise EcwidUnsafePathError("A token= query parameter is not allowed: the token is sent in a header")
    return {name: _param_value(value) for name, value in params.items() if value is not None}


def _param_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(item) for item in value)
    return value


def checked_credentials(store_id: str | int | None, token: str | None, source: str = "") -> tuple[str, str]:
    """
    A store id and token, trimmed and checked once for every way to a client (a connection, or code).

    :param store_id: the store id (digits).
    :param token: the secret token (it must fit in a header; it is never repeated in a message).
    :param source: what the message names first, e.g. ``Connection 'ecwid_default'``.
    :raises EcwidConfigError: for a missing or malformed value.
    """
    where = f"{source}: " if source else ""
    store = str(store_id if store_id is not None else "").strip()
    if not store:
        raise EcwidConfigError(f"{where}no Ecwid store id (set it as the connection's login / Store ID)")
    if not store.isdigit():
        raise EcwidConfigError(f"{where}the Ecwid store id must be a number, got {store!r}")
    secret = (token or "").strip()
    if not secret:
        raise EcwidConfigError(f"{where}no Ecwid token: the token is empty (set the secret_... token as the password)")
    if any(char.isspace() or not char.isprintable() for char in secret):
        raise EcwidConfigError(
            f"{where}the Ecwid token holds whitespace or control characters, so it cannot go in a header; "
            "check the connection's password (the token is not repeated here)"
        )
    return store, secret


class EcwidClient:
    """
    A small, thread-safe client of one Ecwid store's REST API.

    :param store_id: the store's numeric id.
    :param token: the ``secret_...`` token; sent only in the ``Authorization`` header.
    :param base_url: the API base without the store id; ``http`` is accepted only for loopback hosts.
    :param timeout: the read time-out of each call in seconds (the connect time-out is at most 10 s).
    :param rate_limit_per_minute: the client's own budget; Ecwid allows 600 a minute per token.
    :param max_retries: how many times a 5xx, time-out or connection error is tried again (0 disables every
        retry).
    :param max_retry_wait: the most seconds spent waiting between attempts of one call, in total; 429 and 449
        (an import in progress) are retried until it is spent.
    :param session: a ``requests.Session`` to use instead of a new one.
    :param shared_budget: the token's budget shared with every other client of it (None: this client's own
        token bucket only); the client closes it.
    :param sleep: the function that waits, for retries and the rate limit (injectable for tests).
    """

    def __init__(
        self,
        store_id: str | int,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        rate_limit_per_minute: float = DEFAULT_RATE_LIMIT_PER_MINUTE,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        session: requests.Session | None = None,
        shared_budget: SharedBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store_id, token = checked_credentials(store_id, token)
        #: HTTP requests sent, retries included (what a task spent of the store's budget)
        self.http_calls = 0
        if timeout <= 0:
            raise EcwidConfigError(f"timeout must be positive, got {timeout}")
        if max_retries < 0 or max_retry_wait < 0:
            raise EcwidConfigError("max_retries and max_retry_wait must not be negative")
        self.base_url = _check_base_url(base_url)
        self.store_url = f"{self.base_url}/{self.store_id}"
        self.timeout = (min(10.0, float(timeout)), float(timeout))
        self.retry_policy = RetryPolicy(int(max_retries), float(max_retry_wait), sleep)
        self.rate_limiter = TokenBucket(rate_limit_per_minute, sleep=sleep)
        self.shared_budget = shared_budget
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token.strip()}"
        self.scrub = TokenScrubber(token.strip())
        self.session.headers["User-Agent"] = (
            f"airflow-provider-ecwid/{__version__} python-requests/{requests.__version__}"
        )
        self.session.headers["Accept"] = "application/json"
        #: the HTTP ``Date`` of the last answer (the store's clock), for ``latest_stats``
        self.last_date: str | None = None

    @property
    def max_retries(self) -> int:
        return self.retry_policy.max_retries

    @property
    def max_retry_wait(self) -> float:
        return self.retry_policy.max_retry_wait

    def __repr__(self) -> str:
        return f"EcwidClient(store_id={self.store_id!r}, base_url={self.base_url!r})"

    def __enter__(self) -> EcwidClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session and the shared budget's storage."""
        self.session.close()
        if self.shared_budget is not None:
            self.shared_budget.close()

    # -- the generic call ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
    ) -> Any:
        """
        Call ``method path`` on the store's API and return the decoded JSON answer (None when empty).

        :param method: GET, POST, PUT or DELETE; checked by :func:`~.batch.paths.check_method`.
        :param path: the path after ``/api/v3/{storeId}``; checked by :func:`~.batch.paths.check_api_path`.
        :param params: query parameters (booleans become true/false, lists comma-joined, None dropped).
        :param json_body: a JSON-serializable body.
        :param data: an already encoded JSON body (takes precedence over ``json_body``).
        """
        method = check_method(method)
        check_api_path(path)
        if data is None and json_body is not None:
            data = json.dumps(json_body, allow_nan=False, separators=(",", ":")).encode()
        return self._call(method, path, params, data)

    def _call(self, method: str, path: str, params: Mapping[str, Any] | None, data: bytes | None) -> Any:
        """One call with a method and path of this module's own (constants, so not checked again), retried."""
        query = _check_params(params)
        shown_path = str(redact_path(path))
        retrying = self.retry_policy.retrying(method, shown_path)
        return retrying(self._send_once, method, path, shown_path, query, data)

    def _send_once(self, method: str, path: str, shown_path: str, query: dict[str, Any], data: bytes | None) -> Any:
        self.http_calls += 1
        self.rate_limiter.acquire()
        if self.shared_budget is not None:
            self.shared_budget.acquire()
        headers = {"Content-Type": "application/json"} if data is not None else None
        started = time.monotonic()
        response = self.session.request(
            method,
            self.store_url + path,
            params=query,
            data=data,
            headers=headers,
            timeout=self.timeout,
            allow_redirects=False,
        )
        log.debug(
            "Ecwid %s %s -> %s in %.0f ms",
            method,
            shown_path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        content = self.scrub.content(response.content)  # the one door for what the server says
        self.last_date = response.headers.get("Date")
        if response.status_code < 300:
            return self._decode(response.status_code, content, method, shown_path)
        error = self._api_error(response, content, method, shown_path)
        if is_retryable(response.status_code):
            retry_after = retry_after_of(response.status_code, response.headers.get("Retry-After"))
            if retry_after is not None and self.shared_budget is not None:  # a 429: every client of the token waits
                self.shared_budget.pause(retry_after)
            raise RetryableAnswer(error, retry_after)
        raise error

    def _decode(self, status: int, content: bytes, method: str, shown_path: str) -> Any:
        if not content.strip():
            return None
        try:
            answer = json.loads(content)
        except ValueError:
            raise EcwidResponseError(
                f"Ecwid answered {status} to {method} {shown_path} with a body that is not JSON"
            ) from None
        # the bytes were scrubbed; only a JSON \\uXXXX escape could still spell the token once decoded (a walk
        # costs several times the decoding, so it is spent only then)
        return self.scrub.value(answer) if b"\\u" in content else answer

    def _api_error(self, response: requests.Response, content: bytes, method: str, shown_path: str) -> EcwidApiError:
        try:
            body: Any = json.loads(content)
        except ValueError:  # not JSON (a proxy's page) or empty: its start, else the status line's reason
            body = content.decode("utf-8", errors="replace")[:500].strip() or str(response.reason or "")
        code, message = error_fields(self.scrub.value(body))
        status = response.status_code
        error_class = {403: EcwidAuthError, 404: EcwidNotFoundError}.get(status, EcwidApiError)
        return error_class(status, method, shown_path, code, message)

    # -- batches --------------------------------------------------------------------------------------

    def create_batch(
        self,
        requests_: EncodedChunk | Sequence[BatchRequest | Mapping[str, Any]],
        *,
        stop_on_first_failure: bool = True,
        allow_parallel_mode: bool = False,
        deduplication_key: str | None = None,
        group_id: str | None = None,
    ) -> str:
        """
        Create a batch and return its ticket.

        Requests given one by one are checked as the operator checks ready requests (path, method, id, body; an
        :class:`~.errors.EcwidValidationError` names each problem) before anything is sent; a chunk of the
        operator's plan was checked when it was made and is sent as it is.

        :param requests_: 1 to 500 requests (``BatchRequest`` objects or dicts with ``path``, ``method`` and
            optionally ``id`` and ``body``), or an :class:`~.batch.chunks.EncodedChunk` of the core.
        :param stop_on_first_failure: Ecwid's default; the rest of the batch becomes NOT_EXECUTED on a failure.
        :param allow_parallel_mode: let Ecwid run up to 100 requests at once; only for independent requests.
        :param deduplication_key: Ecwid returns the first ticket for a repeated key within an hour. When
            None, a random key is made for this call so that the client's own retries never create a
            second batch.
        :param group_id: a group that :meth:`cancel_group` can stop later.
        """
        if isinstance(requests_, EncodedChunk):
            chunk = requests_
        else:
            from airflow_provider_ecwid.batch.ready import checked_batch  # the data stack loads only here

            chunk = checked_batch(requests_)
        params = {
            "stopOnFirstFailure": stop_on_first_failure,
            "allowParallelMode": allow_parallel_mode,
            "deduplicationKey": deduplication_key or str(uuid.uuid4()),
            "groupId": group_id,
        }
        answer = self._call("POST", "/batch", params, chunk.payload)
        ticket = answer.get("ticket") if isinstance(answer, Mapping) else None
        if not isinstance(ticket, str | int) or not str(ticket):
            raise EcwidResponseError(f"Ecwid's answer to POST /batch holds no ticket: {answer!r:.200}")
        return str(ticket)

    def get_batch(self, ticket: str) -> BatchStatus:
        """Read a batch's status (with ``escapedJson=true``, as Ecwid's client does). 404: unknown ticket."""
        answer = self._call("GET", "/batch", {"ticket": ticket, "escapedJson": True}, None)
        return self.scrub.status(parse_batch_status(ticket, answer))

    def cancel_batch(self, ticket: str) -> int:
        """Delete a batch that has not started; return Ecwid's ``deleteCount`` (0 once it runs)."""
        answer = self._call("DELETE", "/batch", {"ticket": ticket}, None)
        return _count(answer, "deleteCount", "delete_count")

    def cancel_group(self, group_id: str) -> int:
        """Mark every not-yet-run request of ``group_id`` as not executed; return ``updateCount``."""
        answer = self._call("POST", "/batch/cancel-group", {"groupId": group_id}, None)
        return _count(answer, "updateCount", "update_count")

    def list_batches(self, status: str | None = None) -> Iterator[dict[str, Any]]:
        """Yield ``{"ticket", "status"}`` of the store's batches, optionally of one status, page by page."""
        yield from self._pages("/batch", {"status": status}, "list of batches")

    # -- catalog --------------------------------------------------------------------------------------

    def get_profile(self) -> dict[str, Any]:
        """Read the store profile (allowed for every valid token: a good connection test)."""
        answer = self._call("GET", "/profile", None, None)
        return answer if isinstance(answer, dict) else {}

    def iter_products(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """
        Yield every product matching ``filters`` (Ecwid's search parameters, e.g. ``sku``, ``keyword``,
        ``responseFields``), 100 per call.
        """
        yield from self._pages("/products", filters, "product search")

    def latest_stats(self) -> tuple[dict[str, Any], str | None]:
        """When the catalog last changed (``GET /latest-stats`` with both counts), and the answer's HTTP Date."""
        answer = self._call("GET", "/latest-stats", {"productCountRequired": True, "categoryCountRequired": True}, None)
        if not isinstance(answer, dict) or "productsUpdated" not in answer:
            raise EcwidResponseError(f"Ecwid's latest-stats answer has no productsUpdated: {answer!r:.200}")
        return answer, self.last_date

    def iter_deleted_products(self, from_date: int | str) -> Iterator[dict[str, Any]]:
        """Yield ``{"id", "date"}`` of every product deleted since ``from_date`` (UNIX seconds or a date)."""
        yield from self._pages("/products/deleted", {"from_date": from_date}, "deleted products list")

    def iter_categories(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Yield every category matching ``filters`` (e.g. ``parent``), 100 per call."""
        yield from self._pages("/categories", filters, "category search")

    def _pages(self, path: str, params: Mapping[str, Any], what: str) -> Iterator[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        while True:
            answer = self._call("GET", path, {**params, "offset": offset, "limit": PAGE_LIMIT}, None)
            if not isinstance(answer, Mapping) or not isinstance(answer.get("items"), list):
                raise EcwidResponseError(f"Ecwid's {what} answer has no items list: {answer!r:.200}")
            items = answer["items"]
            yield from items
            offset += len(items)
            total = answer.get("total")
            if not items or len(items) < PAGE_LIMIT or (isinstance(total, int) and offset >= total):
                return


def _count(answer: Any, camel: str, snake: str) -> int:
    if isinstance(answer, Mapping):
        value = answer.get(camel, answer.get(snake))
        if isinstance(value, int):
            return value
    raise EcwidResponseError(f"Ecwid's answer holds no {camel}: {answer!r:.200}")


__all__ = ["DEFAULT_BASE_URL", "REDACTED", "EcwidClient", "TokenScrubber", "is_loopback_host"]
