"""Opens a token's shared rate budget in the storage a connection names. No Airflow import.

``rate_limit_storage`` is a URL:

- empty: a SQLite file in this machine's temporary directory, shared by every process of the user on the host;
- ``sqlite:///absolute/path/file.sqlite``: that SQLite file (on a local disk: SQLite's locking is unsafe on NFS);
- ``redis://...`` (or ``rediss://``): a Redis server, shared by every host (the ``redis`` extra);
- ``postgresql://...``: a PostgreSQL database, shared by every host (the ``postgres`` extra).

The buckets are pyrate-limiter's; next to each lives the token's pause (the end of a 429's ``Retry-After``).
Every name in the storage is the budget's key: the store id and a hash, never the token.

A storage that cannot be used when a client opens it is an error that names it with its password masked: a
malformed URL or a refused password is an :class:`EcwidConfigError` (another try would fail the same way), a server
that does not answer within :data:`OPEN_PATIENCE` seconds an :class:`EcwidStorageUnreachableError` (Airflow retries
the try: the server may be restarting; a restart shorter than that costs nothing but the wait). Nothing has been
sent yet, and a wrong host or password should not go unnoticed. A storage that goes away later fails no call: see
:class:`~.ratelimit.SharedBudget`.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pyrate_limiter import PostgresBucket, Rate, RedisBucket, SQLiteBucket

from airflow_provider_ecwid.api.ratelimit import SharedBudget, budget_rates
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidError, EcwidStorageUnreachableError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The URL schemes ``rate_limit_storage`` accepts.
STORAGE_SCHEMES = ("sqlite", "redis", "rediss", "postgresql", "postgres")

#: Seconds a process waits for another's lock on the SQLite file before giving up.
SQLITE_BUSY_TIMEOUT = 30.0

#: Seconds to connect to (or wait on) a Redis or PostgreSQL storage before counting it as out of reach.
SERVER_TIMEOUT = 5.0

#: Seconds a client opening the storage keeps trying a server that does not answer (a restart takes a few) before
#: it raises EcwidStorageUnreachableError.
OPEN_PATIENCE = 30.0

#: What libpq says when no server answered (as opposed to a server that refused the user, password or database).
_POSTGRES_UNREACHABLE = (
    "connection refused",
    "timeout expired",
    "timed out",
    "no route to host",
    "network is unreachable",
    "could not translate host name",
    "the database system is starting up",
    "the database system is shutting down",
    "server closed the connection",
)


class _Unreachable(Exception):
    """The server did not answer this time (inside :func:`_patiently`)."""

    def __init__(self, err: Exception) -> None:
        super().__init__(str(err))
        self.err = err


def _patiently(url: str, attempt: Callable[[], T]) -> T:
    """``attempt()`` until it does not raise :class:`_Unreachable` or :data:`OPEN_PATIENCE` has passed, backing off
    1, 2, 4... s; then raise :class:`EcwidStorageUnreachableError` with the last error."""
    deadline = time.monotonic() + OPEN_PATIENCE
    wait = 1.0
    while True:
        try:
            return attempt()
        except _Unreachable as unreachable:
            if time.monotonic() + wait > deadline:
                raise _open_error(url, unreachable.err, unreachable=True) from None
            log.warning(
                "rate_limit_storage %s does not answer (%s): trying again in %.0f s, for up to %.0f s in all",
                masked_url(url),
                type(unreachable.err).__name__,
                wait,
                OPEN_PATIENCE,
            )
            time.sleep(wait)
            wait = min(wait * 2, 8.0)


#: Query parameters that carry a password (libpq and redis-py both take ``?password=``).
_PASSWORD_PARAMETER = re.compile(r"(?i)([?&](?:password|passwd|pass)=)([^&#]*)")


def _passwords(url: str) -> list[str]:
    """Every password ``url`` carries: the userinfo's (everything between ``:`` and the last ``@`` of the
    authority, so that an unencoded ``#``, ``/`` or ``?`` in it is still found) and the query's."""
    found = [match[2] for match in _PASSWORD_PARAMETER.finditer(url) if match[2]]
    _, separator, rest = url.partition("://")
    if separator and "@" in rest:
        userinfo = rest[: rest.rfind("@")]
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
    return [password for password in found if password]


def masked(text: str, url: str) -> str:
    """``text`` with every password of ``url`` replaced by ``***`` (for logs and error messages)."""
    for password in sorted(_passwords(url), key=len, reverse=True):
        text = text.replace(password, "***")
    return text


def masked_url(url: str) -> str:
    """``url`` with its passwords, in the userinfo or the query, replaced by ``***``."""
    return masked(url, url)


def _open_error(url: str, err: Exception, *, unreachable: bool) -> EcwidError:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
    what = f"rate_limit_storage {masked_url(url)} cannot be used: {type(err).__name__}"
    if reason:
        what += f": {masked(reason, url)}"
    if unreachable:
        return EcwidStorageUnreachableError(
            f"{what}. The server did not answer: it may be restarting (Airflow retries the task), or the host or "
            "port in the connection's extra field rate_limit_storage is wrong."
        )
    return EcwidConfigError(
        f"{what}. Check the connection's extra field rate_limit_storage (URL, user, password, database), or "
        "leave it empty for this machine's SQLite file."
    )


def default_sqlite_path() -> Path:
    """
    The SQLite file shared by default: ``<temp dir>/airflow-provider-ecwid-<uid>/rate-budget.sqlite``.

    The temporary directory, not AIRFLOW_HOME: it is on a local disk of every machine and always writable, while
    AIRFLOW_HOME is often on a network share (where SQLite's and the file lock's locking is not safe) or read-only
    in a container image. The user id keeps two users of one host from sharing (or blocking) one file.
    """
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"airflow-provider-ecwid-{uid}" / "rate-budget.sqlite"


def open_shared_budget(storage: str | None, key: str, per_minute: float, **timing: Any) -> SharedBudget:
    """
    The shared budget named ``key`` with ``per_minute`` calls a minute, in ``storage`` (see the module).

    ``timing`` goes to :class:`~.ratelimit.SharedBudget` (``sleep`` and ``clock``, for tests).

    :raises EcwidConfigError: for a URL of another kind, when the storage's client library is missing, or when the
        storage refuses the URL or its password.
    :raises EcwidStorageUnreachableError: when the storage's server does not answer.
    """
    rates = budget_rates(per_minute)
    url = (storage or "").strip()
    scheme = urlsplit(url).scheme.lower() if url else "sqlite"
    timing = {"per_minute": per_minute, **timing}
    if scheme == "sqlite":
        return _sqlite(url, key, rates, timing)
    if scheme in ("redis", "rediss"):
        return _redis(url, key, rates, timing)
    if scheme in ("postgresql", "postgres"):
        return _postgres(url, key, rates, timing)
    raise EcwidConfigError(
        f"rate_limit_storage must be empty or a sqlite:///, redis:// or postgresql:// URL, not a {scheme!r} URL"
    )


def _sqlite(url: str, key: str, rates: list[Rate], timing: dict[str, Any]) -> SharedBudget:
    parts = urlsplit(url)
    if url and (parts.netloc or not parts.path.strip("/")):
        raise EcwidConfigError("rate_limit_storage: write a SQLite file as sqlite:///absolute/path/to/file.sqlite")
    path = Path(parts.path) if url else default_sqlite_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    bucket = SQLiteBucket.init_from_file(rates, table=key, db_path=str(path), use_file_lock=True)
    errors = (sqlite3.OperationalError, OSError)
    pauses = SQLitePauses(path, key)
    return SharedBudget(bucket, pauses, key, storage=f"SQLite file {path}", storage_errors=errors, **timing)


def _missing(extra: str, err: ImportError) -> EcwidConfigError:
    return EcwidConfigError(
        f"rate_limit_storage names {extra.title()}, whose client library is not installed ({err.name}): "
        f"pip install 'airflow-provider-ecwid[{extra}]'"
    )


def _redis(url: str, key: str, rates: list[Rate], timing: dict[str, Any]) -> SharedBudget:
    try:
        from redis import Redis
        from redis.exceptions import AuthenticationError, RedisError, ResponseError
    except ImportError as err:
        raise _missing("redis", err) from None

    def redis_bucket() -> RedisBucket:  # loads the bucket's script into Redis (again, after a restart)
        bucket = RedisBucket.init(rates, client, key)
        assert isinstance(bucket, RedisBucket)  # a sync client gives a bucket, not an awaitable
        return bucket

    def connect() -> RedisBucket:
        try:
            client.ping()
            return redis_bucket()
        except (AuthenticationError, ResponseError) as err:  # a wrong password, a server that refuses us...
            raise _open_error(url, err, unreachable=False) from None
        except RedisError as err:  # refused, timed out: the server is not there (now)
            raise _Unreachable(err) from None

    try:
        client = Redis.from_url(url, socket_connect_timeout=SERVER_TIMEOUT, socket_timeout=SERVER_TIMEOUT)
    except ValueError as err:  # a malformed URL
        raise _open_error(url, err, unreachable=False) from None
    bucket = _patiently(url, connect)
    pauses = RedisPauses(client, key)
    return SharedBudget(
        bucket, pauses, key, reopen=redis_bucket, storage=masked_url(url), storage_errors=(RedisError,), **timing
    )


def _postgres(url: str, key: str, rates: list[Rate], timing: dict[str, Any]) -> SharedBudget:
    try:
        import psycopg
        from psycopg_pool import ConnectionPool, PoolTimeout
    except ImportError as err:
        raise _missing("postgres", err) from None

    def connect() -> None:  # one plain connection first: its error says why (refused, no such database...)
        try:
            psycopg.connect(url, connect_timeout=int(SERVER_TIMEOUT)).close()
        except psycopg.Error as err:  # libpq gives no SQLSTATE here: tell by its words whether anyone answered
            if any(words in str(err).lower() for words in _POSTGRES_UNREACHABLE):
                raise _Unreachable(err) from None
            raise _open_error(url, err, unreachable=False) from None  # a malformed URL, a refused password...

    _patiently(url, connect)
    # check: a connection that a restart of the server broke is replaced before use, not handed out
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=2,
        timeout=SERVER_TIMEOUT,
        check=ConnectionPool.check_connection,
        kwargs={"connect_timeout": int(SERVER_TIMEOUT)},
        open=True,
    )
    try:
        bucket = PostgresBucket(pool, key, rates)
        pauses = PostgresPauses(pool, key)
    except (psycopg.Error, PoolTimeout) as err:
        pool.close()
        raise _open_error(url, err, unreachable=isinstance(err, (psycopg.OperationalError, PoolTimeout))) from None
    errors = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
    return SharedBudget(bucket, pauses, key, storage=masked_url(url), storage_errors=errors, **timing)


class SQLitePauses:
    """
    The token's pause in the bucket's SQLite file: one row per budget key.

    :param path: the SQLite file.
    :param key: the budget's key.
    """

    def __init__(self, path: Path, key: str) -> None:
        self.key = key
        self._conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT, check_same_thread=False, isolation_level=None)
        self._conn.execute("CREATE TABLE IF NOT EXISTS ecwid_pause (key TEXT PRIMARY KEY, until REAL NOT NULL)")

    def until(self) -> float:
        row = self._conn.execute("SELECT until FROM ecwid_pause WHERE key = ?", (self.key,)).fetchone()
        return float(row[0]) if row else 0.0

    def extend(self, until: float) -> None:
        self._conn.execute(
            "INSERT INTO ecwid_pause (key, until) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET until = max(until, excluded.until)",
            (self.key, until),
        )

    def close(self) -> None:
        self._conn.close()


#: Sets the pause only when it ends later than the one already set, and lets Redis forget it once it has passed.
_REDIS_EXTEND = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
"""


class RedisPauses:
    """
    The token's pause in Redis, under ``<key>:paused_until``.

    :param client: a sync ``redis.Redis``.
    :param key: the budget's key.
    """

    def __init__(self, client: Any, key: str) -> None:
        self._client = client
        self.key = f"{key}:paused_until"

    def until(self) -> float:
        value = self._client.get(self.key)
        return float(value) if value else 0.0

    def extend(self, until: float) -> None:
        keep_ms = max(1, int((until - time.time()) * 1000) + 60_000)
        self._client.eval(_REDIS_EXTEND, 1, self.key, repr(until), keep_ms)

    def close(self) -> None:
        self._client.close()


class PostgresPauses:
    """
    The token's pause in PostgreSQL: one row per budget key in ``ecwid_rate_pause``.

    :param pool: a psycopg ``ConnectionPool``.
    :param key: the budget's key.
    """

    def __init__(self, pool: Any, key: str) -> None:
        self._pool = pool
        self.key = key
        with pool.connection() as conn:  # one transaction: two clients opening at once do not collide
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('ecwid_rate_pause'))")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS ecwid_rate_pause (key TEXT PRIMARY KEY, until DOUBLE PRECISION NOT NULL)"
            )

    def until(self) -> float:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT until FROM ecwid_rate_pause WHERE key = %s", (self.key,)).fetchone()
        return float(row[0]) if row else 0.0

    def extend(self, until: float) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO ecwid_rate_pause (key, until) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET until = GREATEST(ecwid_rate_pause.until, EXCLUDED.until)",
                (self.key, until),
            )

    def close(self) -> None:
        self._pool.close()
