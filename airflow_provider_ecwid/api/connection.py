"""How an Airflow Connection of type ``ecwid`` maps to an EcwidClient's settings. No Airflow import.

Fields: login = store id, password = secret token, extras ``base_url``, ``timeout``, ``rate_limit_per_minute``,
``max_retries``, ``max_retry_wait``, ``rate_limit_storage`` (the form that shows them is described in
:mod:`airflow_provider_ecwid.provider_info`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_ecwid.api.client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_RATE_LIMIT_PER_MINUTE,
    DEFAULT_TIMEOUT,
    EcwidClient,
    checked_credentials,
)
from airflow_provider_ecwid.api.ratelimit import budget_key
from airflow_provider_ecwid.api.ratestorage import STORAGE_SCHEMES, open_shared_budget
from airflow_provider_ecwid.errors import EcwidConfigError

log = logging.getLogger(__name__)

_FORM_PREFIX = "extra__ecwid__"


@dataclass(frozen=True)
class EcwidConnectionSettings:
    """
    Everything needed to build an EcwidClient, read from one Airflow connection.

    :param conn_id: the connection id (named in every error).
    :param store_id: the store's numeric id.
    :param token: the secret token.
    :param base_url: the API base URL without the store id.
    :param timeout: the read time-out in seconds.
    :param rate_limit_per_minute: the client's own request budget.
    :param max_retries: retries of 5xx, time-outs and connection errors (0 disables every retry).
    :param max_retry_wait: the most seconds of waiting between attempts of one call (bounds 429 and 449).
    :param rate_limit_storage: where the token's budget is shared (None: a SQLite file in the temp directory).
    """

    conn_id: str
    store_id: str
    token: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    rate_limit_per_minute: float = DEFAULT_RATE_LIMIT_PER_MINUTE
    max_retries: int = DEFAULT_MAX_RETRIES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    rate_limit_storage: str | None = None

    def __repr__(self) -> str:
        return f"EcwidConnectionSettings(conn_id={self.conn_id!r}, store_id={self.store_id!r}, token=***)"

    def make_client(self) -> EcwidClient:
        """Build a client from these settings, sharing the token's budget with every other client of it."""
        key = budget_key(self.store_id, self.token, self.base_url.rstrip("/"))
        return EcwidClient(
            self.store_id,
            self.token,
            base_url=self.base_url,
            timeout=self.timeout,
            rate_limit_per_minute=self.rate_limit_per_minute,
            max_retries=self.max_retries,
            max_retry_wait=self.max_retry_wait,
            shared_budget=open_shared_budget(self.rate_limit_storage, key, self.rate_limit_per_minute),
        )


def _number(conn_id: str, extra: Mapping[str, Any], name: str, default: float, kind: type) -> Any:
    value = extra.get(name)
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise EcwidConfigError(
            f"Connection {conn_id!r}: extra field {name!r} must be a number, got {value!r}"
        ) from None
    if number < 0:
        raise EcwidConfigError(f"Connection {conn_id!r}: extra field {name!r} must not be negative")
    return number


def _storage(conn_id: str, extra: Mapping[str, Any]) -> str | None:
    value = str(extra.get("rate_limit_storage") or "").strip()
    if value and value.split(":", 1)[0].lower() not in STORAGE_SCHEMES:  # the URL may hold a password: not shown
        raise EcwidConfigError(
            f"Connection {conn_id!r}: extra field 'rate_limit_storage' must be empty or a sqlite:///, redis:// or "
            "postgresql:// URL"
        )
    return value or None


def _plain_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """Accept extras saved by older connection forms as ``extra__ecwid__<name>`` beside plain ``<name>``."""
    plain = {name.removeprefix(_FORM_PREFIX): value for name, value in extra.items() if name.startswith(_FORM_PREFIX)}
    plain.update({name: value for name, value in extra.items() if not name.startswith(_FORM_PREFIX)})
    return plain


def settings_from_connection(
    conn_id: str,
    *,
    login: str | None,
    password: str | None,
    host: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> EcwidConnectionSettings:
    """
    Read and check an ``ecwid`` connection's fields.

    :param conn_id: the connection id, named in every error.
    :param login: the store id.
    :param password: the secret token.
    :param host: accepted as the API base URL when it is a full http(s) URL and ``base_url`` is not set.
    :param extra: the connection's extra fields.
    """
    extra = _plain_extra(extra or {})
    store_id, token = checked_credentials(login, password, f"Connection {conn_id!r}")
    if token.startswith("public_"):
        log.warning(
            "Connection %r holds a public_ token: it can only read the storefront and cannot import a "
            "catalog. Use the app's secret_ token.",
            conn_id,
        )
    base_url = str(extra.get("base_url") or "").strip()
    if not base_url and host:
        if "://" not in host:
            raise EcwidConfigError(
                f"Connection {conn_id!r}: put the API base URL in the extra field base_url "
                f"(e.g. {DEFAULT_BASE_URL}); the host field alone is not used"
            )
        base_url = host.strip()
    return EcwidConnectionSettings(
        rate_limit_storage=_storage(conn_id, extra),
        conn_id=conn_id,
        store_id=store_id,
        token=token,
        base_url=base_url or DEFAULT_BASE_URL,
        timeout=_number(conn_id, extra, "timeout", DEFAULT_TIMEOUT, float) or DEFAULT_TIMEOUT,
        rate_limit_per_minute=_number(conn_id, extra, "rate_limit_per_minute", DEFAULT_RATE_LIMIT_PER_MINUTE, float)
        or DEFAULT_RATE_LIMIT_PER_MINUTE,
        max_retries=_number(conn_id, extra, "max_retries", DEFAULT_MAX_RETRIES, int),
        max_retry_wait=_number(conn_id, extra, "max_retry_wait", DEFAULT_MAX_RETRY_WAIT, float),
    )
