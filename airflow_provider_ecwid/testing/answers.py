"""The shape of an emulated answer: an HTTP status and a JSON body, plus Ecwid's error bodies."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

STATUS_LINES = {
    200: "OK",
    400: "Bad Request",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    449: "Retry With",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Deferred(ABC):
    """
    A body made only when it is sent: a batch keeps a page of orders as positions, not as a hundred orders.

    It must render to what the request would have answered when it ran, whatever changed since.
    """

    @abstractmethod
    def render(self) -> Any:
        """The JSON body."""


def rendered(body: Any) -> Any:
    """The JSON body of an answer, made now if it was deferred."""
    return body.render() if isinstance(body, Deferred) else body


@dataclass
class Answer:
    """
    What the emulator answers to one request, direct or inside a batch.

    :param status: the HTTP status code.
    :param body: the JSON body (None for an empty body), or a :class:`Deferred` one (only for a batch's inner
        requests: ``catalog.handle`` renders it unless asked to defer).
    :param headers: extra response headers (e.g. Retry-After).
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status_line(self) -> str:
        return STATUS_LINES.get(self.status, "")


class EcwidFault(Exception):
    """Raised by a handler to answer an Ecwid error body ``{"errorMessage", "errorCode"}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.answer = Answer(status, {"errorMessage": message, "errorCode": code}, headers or {})


def echo_authorization(answer: Answer, authorization: str | None) -> Answer:
    """An error answer whose errorMessage repeats the Authorization header, as a careless server's would."""
    body = answer.body if isinstance(answer.body, dict) else {"errorMessage": str(answer.body)}
    message = f"{body.get('errorMessage', '')} (request headers: Authorization: {authorization})"
    return Answer(answer.status, {**body, "errorMessage": message}, answer.headers)


def proxy_error_page(answer: Answer, authorization: str | None) -> str:
    """A proxy's HTML error page that dumps the request headers, token included."""
    title = f"{answer.status} {answer.status_line}"
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>The upstream server failed. Request headers:</p><pre>Authorization: {authorization}</pre></body></html>"
    )


def bad_request(message: str, code: str = "WRONG_PARAMETER") -> EcwidFault:
    return EcwidFault(400, code, message)


def not_found(message: str, code: str = "NOT_FOUND") -> EcwidFault:
    return EcwidFault(404, code, message)
