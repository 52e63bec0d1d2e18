"""The one home of the rules for what a request may name: its API path and its HTTP method.

The builder and the ready-request check call these for every row (and report a problem on its row and
column); the client calls the ``check_`` forms only for what a direct caller gives it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from airflow_provider_ecwid.errors import EcwidConfigError, EcwidUnsafePathError

#: The methods Ecwid's API (and an inner request of a batch) takes.
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
#: The methods whose requests carry no body.
BODYLESS = frozenset({"GET", "DELETE"})

#: What separates segments once a segment is decoded: ``%2f`` and ``%5c`` could hide a ``..`` behind them.
_SEPARATORS = re.compile(r"[/\\]")


def path_problem(path: object) -> str | None:
    """
    Say what is wrong with ``path`` as an Ecwid API path, or return None when it is safe.

    A safe path is relative to ``https://app.ecwid.com/api/v3/{storeId}``: it starts with a single ``/``,
    names no scheme or host, has no ``.``/``..`` segment, no control characters (CR/LF would split the
    request) and no ``token`` query parameter (Ecwid rejects query tokens; the token goes in a header).
    Segments are also judged percent-decoded (as often as they decode), because a server or proxy that
    decodes ``%2e%2e`` before resolving the path would climb out of the store's API with it.
    """
    if not isinstance(path, str):
        return f"path must be a string, not {type(path).__name__}"
    if not path:
        return "path is empty"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        return "path contains a control character (CR, LF, tab...)"
    if not path.isascii():
        try:
            path.encode("utf-8")
        except UnicodeEncodeError as err:
            return f"path holds a lone surrogate at character {err.start}, which is not valid Unicode"
    if not path.startswith("/"):
        return "path must start with '/' (a path relative to the store's API base, e.g. /products/123)"
    if path.startswith("//"):
        return "path must not start with '//' (that names another host)"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return "path must not name a scheme or host"
    if "\\" in parts.path:
        return "path must not contain a backslash"
    if any(_is_dot_segment(segment) for segment in parts.path.split("/")):
        return "path must not contain '.' or '..' segments (percent-encoded ones included)"
    if "//" in parts.path:
        return "path must not contain an empty segment ('//')"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if name.strip().lower() == "token":
            return "path must not carry a token= query parameter (the token is sent in a header)"
    return None


def _is_dot_segment(segment: str) -> bool:
    """True for ``.`` and ``..``, also percent-encoded (any case, any depth) or hidden behind ``%2f``/``%5c``."""
    decoded = segment
    while "%" in decoded:
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    return any(piece in {".", ".."} for piece in _SEPARATORS.split(decoded))


def check_api_path(path: object) -> str:
    """
    Return ``path`` unchanged when it is a safe Ecwid API path, else raise :class:`EcwidUnsafePathError`.

    :param path: the path after ``/api/v3/{storeId}``, query string included, e.g. ``/products?sku=A1``.
    """
    problem = path_problem(path)
    if problem is not None:
        raise EcwidUnsafePathError(f"Unsafe Ecwid API path {redact_path(path)!r}: {problem}")
    assert isinstance(path, str)
    return path


def redact_path(path: object) -> object:
    """Return ``path`` with the value of every ``token`` query parameter hidden, for messages and logs."""
    if not isinstance(path, str) or "?" not in path:
        return path
    head, _, query = path.partition("?")
    pairs = []
    for pair in query.split("&"):
        decoded = parse_qsl(pair, keep_blank_values=True)
        is_token = bool(decoded) and decoded[0][0].strip().lower() == "token"
        pairs.append(pair.partition("=")[0] + "=***" if is_token else pair)
    return head + "?" + "&".join(pairs)


def method_problem(method: object) -> str | None:
    """
    Say what is wrong with ``method`` as an HTTP method of Ecwid's API, or return None when it is one.
    Any case and blanks around it are accepted (:func:`check_method` gives the method as sent).
    """
    if isinstance(method, str) and method.strip().upper() in HTTP_METHODS:
        return None
    return f"method must be one of GET, POST, PUT, DELETE, got {method!r}"


def check_method(method: object) -> str:
    """
    Return ``method`` as it is sent (upper case, no blanks around it), else raise :class:`EcwidConfigError`.

    :param method: ``GET``, ``POST``, ``PUT`` or ``DELETE``, in any case.
    """
    problem = method_problem(method)
    if problem is not None:
        raise EcwidConfigError(problem)
    assert isinstance(method, str)
    return method.strip().upper()
