from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import XCom  # the class links.py reads the pushed URL from

from airflow_provider_ecwid.links import ADMIN_URL_XCOM_KEY, EcwidStoreLink, admin_url
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator


def test_admin_url_opens_the_catalog_of_the_store() -> None:
    assert admin_url("1002") == "https://my.ecwid.com/store/1002#products"


def test_the_link_reads_the_url_the_task_pushed(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: dict[str, Any] = {}

    def get_value(*, key: str, ti_key: Any) -> str | None:
        asked.update(key=key, ti_key=ti_key)
        return "https://my.ecwid.com/store/7#products" if ti_key == "ti-1" else None

    monkeypatch.setattr(XCom, "get_value", get_value)
    operator = EcwidBatchOperator(task_id="t", data=[], path="/products")
    link = operator.operator_extra_links[0]
    assert isinstance(link, EcwidStoreLink)
    assert link.name == "Ecwid store"
    # a plain string stands in for the TaskInstanceKey: the patched XCom.get_value only compares it
    assert link.get_link(operator, ti_key="ti-1") == "https://my.ecwid.com/store/7#products"  # type: ignore[arg-type]
    assert asked["key"] == ADMIN_URL_XCOM_KEY
    assert link.get_link(operator, ti_key="ti-2") == ""  # type: ignore[arg-type]
