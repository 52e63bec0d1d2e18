"""Typed errors raised by the Ecwid client and everything built on it.

None of these messages ever carries the store's token: they are built from the HTTP method, the API path
(which is checked to hold no ``token=``), the status code and Ecwid's own error body.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: What a validation error says was sent: normally nothing, since every row is checked before the first call.
NOTHING_SENT = "nothing was sent to Ecwid"


class EcwidError(Exception):
    """Base class of every error this provider raises on purpose."""


class EcwidConfigError(EcwidError, ValueError):
    """The connection or the client is configured in a way that cannot work (missing store id, bad URL...)."""


class EcwidStorageUnreachableError(EcwidError):
    """
    The shared rate budget's storage (Redis, PostgreSQL) did not answer when a client opened it: refused, timed out.

    Not a configuration error, so Airflow retries the try: the storage may be restarting. A wrong host answers the
    same way every time, and the message names the storage (its password masked) to check.
    """


class EcwidUnsafePathError(EcwidError, ValueError):
    """A user-supplied API path is not a plain relative Ecwid path (host, ``..``, CR/LF, ``token=``...)."""


class EcwidResponseError(EcwidError):
    """Ecwid answered 2xx with something this provider cannot use: not JSON, empty, ``null``, or lacking a field."""


class EcwidApiError(EcwidError):
    """
    Ecwid answered an HTTP error.

    :param status_code: the HTTP status of the answer.
    :param method: the HTTP method of the request.
    :param path: the API path of the request (relative to the store's base URL, never holding a token).
    :param error_code: Ecwid's ``errorCode`` (or legacy ``error_code``), when the body carried one.
    :param error_message: Ecwid's ``errorMessage`` (or legacy ``error_message``), else the body's start.
    """

    def __init__(
        self,
        status_code: int,
        method: str,
        path: str,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.method = method
        self.path = path
        self.error_code = error_code
        self.error_message = error_message
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"Ecwid answered {self.status_code} to {self.method} {self.path}"
        if self.error_code:
            text += f" [{self.error_code}]"
        if self.error_message:
            text += f": {self.error_message}"
        return text


class EcwidAuthError(EcwidApiError):
    """Ecwid answered 403: the token is wrong, or lacks a scope the request needs. Never retried."""

    def _describe(self) -> str:
        return (
            super()._describe()
            + ". Check the token and its scopes (a catalog import needs read_catalog, create_catalog and "
            "update_catalog; public_ tokens cannot write). 403s are not retried: Ecwid blocks tokens that "
            "repeat them."
        )


class EcwidNotFoundError(EcwidApiError):
    """Ecwid answered 404: the product, category or batch ticket does not exist."""


class EcwidRetriesExhaustedError(EcwidError):
    """
    A retryable failure (429, 449, 5xx, connection error or time-out) persisted past the retry budget.

    :param method: the HTTP method of the request.
    :param path: the API path of the request.
    :param attempts: how many attempts were made.
    :param waited: the seconds spent waiting between attempts.
    :param last_error: the error of the last attempt.
    """

    def __init__(self, method: str, path: str, attempts: int, waited: float, last_error: BaseException) -> None:
        self.method = method
        self.path = path
        self.attempts = attempts
        self.waited = waited
        self.last_error = last_error
        super().__init__(
            f"Gave up on {method} {path} after {attempts} attempt(s) and {waited:.1f} s of waiting; "
            f"last error: {last_error}"
        )


class EcwidInputError(EcwidError, ValueError):
    """The input cannot be read (a missing file, a malformed line); nothing was sent."""


@dataclass(frozen=True)
class RowProblem:
    """
    One reason why one input row cannot be sent (what :class:`EcwidValidationError` lists).

    :param row: the row's 0-based position in the input.
    :param request_id: the request id the row would have had, when known.
    :param column: the column (or request field) at fault.
    :param reason: what is wrong.
    """

    row: int
    request_id: str | None
    column: str
    reason: str

    def __str__(self) -> str:
        who = f"row {self.row}" + (f" (id {self.request_id!r})" if self.request_id is not None else "")
        return f"{who}, column {self.column!r}: {self.reason}"


class EcwidValidationError(EcwidError, ValueError):
    """
    The input has rows that cannot be sent.

    :param problems: the first problems found.
    :param total: how many problems there are in all.
    :param outcome: what was sent: normally nothing (the validation pass runs before the first call).
    """

    def __init__(self, problems: list[RowProblem], total: int, outcome: str = NOTHING_SENT) -> None:
        self.problems = problems
        self.total = total
        self.outcome = outcome
        lines = [f"{total} problem(s) in the input; {outcome}."]
        lines += [f"  - {problem}" for problem in problems]
        if total > len(problems):
            lines.append(f"  ... and {total - len(problems)} more")
        super().__init__("\n".join(lines))


class EcwidWaitError(EcwidError):
    """
    Waiting failed closed.

    :param message: what happened.
    :param reason: ``timeout``, ``progress_timeout`` or ``unknown_ticket``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class EcwidUnknownTicketError(EcwidWaitError):
    """Ecwid does not know a ticket (404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "unknown_ticket")


class EcwidProgressLostError(EcwidError):
    """The file a whole-catalog sync's progress record names is missing, unreadable or not the one written: the
    sync starts over (it reads the store again) rather than plan on a wrong state."""


class EcwidSyncRefusedError(EcwidError):
    """The sync would touch more of the catalog than allowed; nothing was sent."""


class EcwidSubmissionKilledError(EcwidError):
    """The task was killed while it submitted or waited; the group's not-yet-run requests were cancelled."""


#: Failures that another try cannot fix: the task fails without Airflow's retries (bad input or configuration,
#: a refused sync, a 403 that Ecwid would hold against the token if repeated).
NOT_RETRYABLE: tuple[type[EcwidError], ...] = (
    EcwidConfigError,
    EcwidInputError,
    EcwidValidationError,
    EcwidSyncRefusedError,
    EcwidAuthError,
)


#: Old public names kept for one release: each still works, with a DeprecationWarning that names the new one.
DEPRECATED_NAMES = {
    "EcwidProgressLost": "EcwidProgressLostError",
    "EcwidSyncRefused": "EcwidSyncRefusedError",
    "EcwidSubmissionKilled": "EcwidSubmissionKilledError",
}


def renamed(
    module: str, name: str, names: Mapping[str, str], namespace: Mapping[str, Any], *, stacklevel: int = 3
) -> Any:
    """
    What an old name of ``module`` stands for, with a warning that names the new one (a module's ``__getattr__``).

    :param module: the module's name.
    :param name: the name asked for.
    :param names: old name -> new name.
    :param namespace: the module's globals, where the new names live.
    :param stacklevel: the warning's stack level (3: the line that used the name, through ``__getattr__``).
    :raises AttributeError: for a name that is neither.
    """
    new = names.get(name)
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(f"{module}.{name} is deprecated: use {new}", DeprecationWarning, stacklevel=stacklevel)
    return namespace[new]


def deprecated_name(module: str, name: str) -> Any:
    """An old error class name (:data:`DEPRECATED_NAMES`), with a warning; :class:`AttributeError` otherwise."""
    return renamed(module, name, DEPRECATED_NAMES, globals(), stacklevel=4)


def __getattr__(name: str) -> Any:
    return deprecated_name(__name__, name)
