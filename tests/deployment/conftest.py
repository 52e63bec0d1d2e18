"""One real Airflow deployment, shared by the REST API test and the browser test, for this folder only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deployment.browser import CHROMIUM_ARGS, Screens, log_in
from tests.deployment.deployment import Deployment, start_deployment
from tests.services import CHROMIUM


@pytest.fixture(scope="package")  # stopped once this folder's tests are done: the rest of the suite runs without it
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The emulator and Airflow's API server, scheduler, DAG processor and triggerer; stopped by process group
    when the folder's tests are done, also after a failure."""
    started = time.monotonic()
    running = start_deployment(tmp_path_factory.mktemp("deployment"))
    print(f"deployment up in {time.monotonic() - started:.1f} s: {running.url} ({running.root})")  # noqa: T201
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")  # Playwright's sync API keeps an event loop running until it stops
def browser(deployment: Deployment) -> Iterator[Any]:
    """Headless chromium (Debian's package; Playwright downloads no browser here)."""
    from playwright.sync_api import sync_playwright  # the deployment extra (newest row)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def screens(
    browser: Any, deployment: Deployment, screenshots: Path, request: pytest.FixtureRequest
) -> Iterator[Screens]:
    """A signed-in page, and its screenshots (in a folder named after the test)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(30_000)
    folder = screenshots / request.node.name
    folder.mkdir()
    try:
        screens = Screens(page, folder, deployment)
        with screens.failing_step("signing in"):
            log_in(page, deployment)
            screens.shot("signed in")
        yield screens
    finally:
        page.close()
