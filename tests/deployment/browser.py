"""Airflow's UI in Debian's chromium, driven by Playwright (no browser download: the apt package's executable).

Every step takes a screenshot into one folder; a failing step's message lists them and the component logs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tests.deployment.deployment import USER, Deployment

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Screens:
    """Numbered screenshots of one page in ``folder``; ``failing_step`` turns any error into one naming them."""

    def __init__(self, page: Any, folder: Path, deployment: Deployment) -> None:
        self.page, self.folder, self.deployment = page, folder, deployment
        self.taken: list[Path] = []

    def shot(self, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path

    @contextmanager
    def failing_step(self, what: str) -> Iterator[None]:
        try:
            yield
        except Exception as err:
            with suppress(Exception):  # the page itself may be gone
                self.shot(f"failed {what}")
            names = "\n  ".join(str(path) for path in self.taken)
            raise AssertionError(f"{what}: {err}\nscreenshots:\n  {names}\n{self.deployment.where_to_look()}") from err


def log_in(page: Any, deployment: Deployment) -> None:
    """Sign in through the simple auth manager's login form."""
    page.goto(deployment.url)
    page.get_by_label("Username").fill(USER)
    page.get_by_label("Password").fill(deployment.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.wait_for_load_state("networkidle")
