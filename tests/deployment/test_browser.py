"""Airflow's UI in headless chromium: the manual DAG's Trigger form, and the Ecwid connection form and Test button.

The runs here write to a second emulated store (connection ``ecwid_other_store``), so that the REST API test's
store stays as it expects whichever test runs first.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from airflow_provider_ecwid.provider_info import CONNECTION_FIELDS
from tests.deployment.browser import Screens
from tests.deployment.deployment import OTHER_STORE_ID, OTHER_TOKEN, Deployment

pytestmark = [pytest.mark.deployment, pytest.mark.needs("chromium")]

MANUAL = "ecwid_manual_batch"
FINISHED = {"success", "failed"}


def test_trigger_form_runs_the_manual_dag(screens: Screens, deployment: Deployment) -> None:
    from playwright.sync_api import expect

    page = screens.page
    requests = [{"method": "POST", "path": "/products", "body": {"sku": "UI-1", "name": "Sent from the UI form"}}]
    with screens.failing_step("filling the manual DAG's Trigger form"):
        page.goto(f"{deployment.url}/dags/{MANUAL}")
        page.get_by_role("button", name="Trigger Dag").click()
        dialog = page.get_by_role("dialog")
        # the form's defaults: no file (the inline list is used), dry run on
        expect(dialog.locator("#element_file_path")).to_have_value("")
        dry_run = dialog.locator("input[name=element_dry_run]")
        expect(dry_run).to_be_checked()
        dialog.locator("#element_ecwid_conn_id").fill("ecwid_other_store")
        dialog.locator("#element_requests_json").fill(json.dumps(requests))
        dialog.locator("label#switch\\:element_dry_run").click()
        expect(dry_run).not_to_be_checked()
        dialog.get_by_role("button", name="Advanced Options").click()
        dialog.get_by_label("Run ID").fill("ui-form-1")
        screens.shot("trigger form filled")
    with screens.failing_step("submitting the Trigger form"):
        trigger = dialog.get_by_role("button", name="Trigger", exact=True)
        expect(trigger).to_be_enabled()
        trigger.click()
        expect(dialog).to_be_hidden()
        screens.shot("triggered")
    with screens.failing_step("waiting for the run to succeed"):

        def finished() -> dict[str, Any] | None:
            run = deployment.api("GET", f"/dags/{MANUAL}/dagRuns/ui-form-1")
            return run if run["state"] in FINISHED else None

        run = deployment.wait_for("the run triggered from the UI", finished, timeout=150)
        page.goto(f"{deployment.url}/dags/{MANUAL}/runs/ui-form-1")
        page.wait_for_load_state("networkidle")
        # the run's badge and its three task instances
        expect(page.get_by_text("Success", exact=True)).to_have_count(4)
        screens.shot("run succeeded")
        assert run["state"] == "success"
        assert run["conf"]["dry_run"] is False
        assert run["conf"]["file_path"] is None
        report = deployment.api(
            "GET",
            f"/dags/{MANUAL}/dagRuns/ui-form-1/taskInstances/report/xcomEntries/return_value",
            params={"deserialize": "true", "stringify": "false"},
        )["value"]
        assert (report["total"], report["completed"]) == (1, 1)
        assert [product["sku"] for product in deployment.products(OTHER_STORE_ID)] == ["UI-1"]


def airflow_tests_portless_connections() -> bool:
    """Whether this Airflow's test endpoint takes the port 0 that its UI sends for a connection without a port
    as "no port" (the fix of apache/airflow#73298; Airflow 3.3.2 answers 400 "host or port ... differs")."""
    from airflow.api_fastapi.core_api.routes.public import connections

    same_endpoint = getattr(connections, "_same_endpoint", None)
    return same_endpoint is None or bool(same_endpoint(0, None))


def row_of(page: Any, connection_id: str) -> Any:
    """A connection's row in Admin -> Connections (the ids here are no part of one another)."""
    return page.get_by_role("row").filter(has_text=connection_id)


def press_test(page: Any, connection_id: str) -> tuple[int, dict[str, Any]]:
    """Press a connection's Test button in the list; return what the API answered the UI."""
    row = row_of(page, connection_id)
    with page.expect_response(lambda response: response.url.endswith("/api/v2/connections/test")) as answer:
        row.get_by_role("button", name="Test Connection").click()
    return answer.value.status, answer.value.json()


def test_ecwid_connection_form_and_test_button(screens: Screens, deployment: Deployment) -> None:
    from playwright.sync_api import expect

    page = screens.page
    base_url = f"{deployment.emulator_url}/api/v3"
    with screens.failing_step("opening Admin -> Connections -> Add and picking Ecwid"):
        page.get_by_role("button", name="Admin").click()
        page.get_by_role("menuitem", name="Connections").click()
        page.get_by_role("button", name="Add Connection").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Connection ID").fill("ecwid_ui")
        dialog.get_by_label("Connection Type").fill("Ecwid")
        page.keyboard.press("Enter")
        expect(dialog.get_by_label("Store ID")).to_be_visible()
        screens.shot("ecwid form")
    with screens.failing_step("checking and filling the Ecwid form's fields"):
        expect(dialog.get_by_label("Secret token")).to_have_attribute("type", "password")
        for hidden in ("Host", "Port", "Schema", "Login", "Password"):
            expect(dialog.get_by_label(hidden, exact=True)).to_have_count(0)
        dialog.get_by_label("Store ID").fill(str(OTHER_STORE_ID))
        dialog.get_by_label("Secret token").fill(OTHER_TOKEN)
        dialog.get_by_role("button", name="Extra Fields", exact=True).click()  # folds the standard fields
        for field in CONNECTION_FIELDS.values():
            expect(dialog.locator("label").filter(has_text=field["label"])).to_be_visible()
        expect(dialog.get_by_text(CONNECTION_FIELDS["base_url"]["description"])).to_be_visible()
        dialog.locator("#element_base_url").fill(base_url)
        screens.shot("ecwid extra fields")
    with screens.failing_step("saving the connection"):
        dialog.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Connection has been successfully created.")).to_be_visible()
        screens.shot("saved")
        saved = deployment.api("GET", "/connections/ecwid_ui")
        assert (saved["conn_type"], saved["login"], saved["host"], saved["port"]) == ("ecwid", "2002", None, None)
        assert json.loads(saved["extra"])["base_url"] == base_url

    with screens.failing_step("testing the connection saved from the form"):
        status, answer = press_test(page, "ecwid_ui")
        if airflow_tests_portless_connections():
            assert (status, answer["status"]) == (200, True), answer
            assert f"Connected to Ecwid store {OTHER_STORE_ID}" in answer["message"]
        else:  # Airflow 3.3.2: the UI sends port 0, the API compares it with the stored NULL (see the README)
            assert status == 400, answer
            assert "differs from the stored connection" in answer["detail"]
            expect(row_of(page, "ecwid_ui").get_by_role("button", name="Test Connection")).to_be_visible()
        screens.shot("tested the saved connection")

    # the README's way round that: a connection stored with port 0 (REST API or CLI), good and with a bad token
    extra = json.dumps({"base_url": base_url})
    for connection_id, token in (("ecwid_good", OTHER_TOKEN), ("ecwid_bad", "not-the-token")):
        body = {"connection_id": connection_id, "conn_type": "ecwid", "login": str(OTHER_STORE_ID), "port": 0}
        deployment.api("POST", "/connections", json={**body, "password": token, "extra": extra})
    with screens.failing_step("pressing Test on a good connection"):
        page.reload()
        status, answer = press_test(page, "ecwid_good")
        assert (status, answer["status"]) == (200, True), answer
        assert f"Connected to Ecwid store {OTHER_STORE_ID}" in answer["message"]
        expect(page.get_by_text("Test Connection Successful")).to_be_visible()
        expect(page.get_by_text(f"Connected to Ecwid store {OTHER_STORE_ID}")).to_be_visible()
        screens.shot("tested a good connection")
    with screens.failing_step("pressing Test on a connection with a bad token"):
        status, answer = press_test(page, "ecwid_bad")
        assert (status, answer["status"]) == (200, False), answer
        expect(page.get_by_text("Test Connection Failed")).to_be_visible()
        expect(page.get_by_text(re.compile(r"Ecwid answered 403 .*INVALID_API_TOKEN"))).to_be_visible()
        screens.shot("tested a bad token")
        assert "not-the-token" not in answer["message"]
