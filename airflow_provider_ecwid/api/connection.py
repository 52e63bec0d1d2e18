"""How an Airflow Connection of type ``ecwid`` maps to an EcwidClient's settings. No Airflow import.

Fields: login = store id, password = secret token, extras ``base_url``, ``timeout``, ``rate_limit_per_minute``,
``max_retries``, ``max_retry_wait``, ``rate_limit_storage``. Kept here so that the hook, the trigger and
provider_info share it.
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
)
from airflow_provider_ecwid.api.ratelimit import budget_key
from airflow_provider_ecwid.api.ratestorage import STORAGE_SCHEMES, open_shared_budget
from airflow_provider_ecwid.errors import EcwidConfigError

log = logging.getLogger(__name__)

#: Extra fields of the connection form: provider info's ``conn-fields`` (read by Airflow >= 3.2) and the source of
#: ``EcwidHook.get_connection_form_widgets()`` (Airflow 2.11 to 3.1).
CONNECTION_FIELDS: dict[str, dict[str, Any]] = {
    "base_url": {
        "label": "API base URL",
        "description": f"Leave empty for {DEFAULT_BASE_URL}. Set it for the bundled emulator or a proxy.",
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Request time-out (seconds)",
        "description": f"How long one API call may take to answer (default {DEFAULT_TIMEOUT:g} s).",
        "schema": {"type": ["number", "null"], "default": DEFAULT_TIMEOUT},
    },
    "rate_limit_per_minute": {
        "label": "Rate limit (requests per minute)",
        "description": "The client's own budget; Ecwid allows 600 a minute per token.",
        "schema": {"type": ["integer", "null"], "default": DEFAULT_RATE_LIMIT_PER_MINUTE},
    },
    "rate_limit_storage": {
        "label": "Rate limit storage",
        "description": "Where every task, trigger and worker using this token shares the rate limit: empty for a "
        "SQLite file in this machine's temp directory (one machine), or sqlite:///path, redis://host:6379/0 or "
        "postgresql://user@host/db (many machines).",
        "schema": {"type": ["string", "null"]},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries of 5xx, time-outs and connection errors (0: no retries at all). 403 is never retried.",
        "schema": {"type": ["integer", "null"], "default": DEFAULT_MAX_RETRIES},
    },
    "max_retry_wait": {
        "label": "Max retry wait (seconds)",
        "description": "The most time spent waiting between the attempts of one call; 429 and 449 (an import "
        "in progress) are retried until it is spent.",
        "schema": {"type": ["number", "null"], "default": DEFAULT_MAX_RETRY_WAIT},
    },
}

_FORM_PREFIX = "extra__ecwid__"

_HIDDEN_FIELDS = ["schema", "port", "host"]
_RELABELING = {"login": "Store ID", "password": "Secret token"}
_PLACEHOLDERS = {
    "login": "1234567",
    "password": "secret_...",
    "base_url": DEFAULT_BASE_URL,
    "extra": '{"base_url": "http://127.0.0.1:8089/api/v3", "rate_limit_per_minute": 500}',
}

#: The form's field behaviour in provider info (``ui-field-behaviour``, kebab-case keys; read by Airflow >= 3.2).
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": _HIDDEN_FIELDS,
    "relabeling": _RELABELING,
    "placeholders": _PLACEHOLDERS,
}

#: The same, as ``EcwidHook.get_ui_field_behaviour()`` returns it: Airflow 2.11 to 3.1 validate it against their
#: ``customized_form_field_behaviours.schema.json``, which requires ``hidden_fields`` and ``relabeling``, and drop a
#: dict that does not match.
HOOK_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": _HIDDEN_FIELDS,
    "relabeling": _RELABELING,
    "placeholders": _PLACEHOLDERS,
}


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
    store_id = (login or "").strip()
    token = (password or "").strip()
    if not store_id:
        raise EcwidConfigError(f"Connection {conn_id!r} has no Ecwid store id (set it as the login / Store ID)")
    if not store_id.isdigit():
        raise EcwidConfigError(f"Connection {conn_id!r}: the store id must be a number, got {store_id!r}")
    if not token:
        raise EcwidConfigError(f"Connection {conn_id!r} has no Ecwid token (set the secret_... token as the password)")
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
