"""Operator extra links: the store's Ecwid admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskInstanceKey

ADMIN_URL_XCOM_KEY = "ecwid_admin_url"


def admin_url(store_id: str) -> str:
    """The catalog page of a store's Ecwid admin (control panel)."""
    return f"https://my.ecwid.com/store/{store_id}#products"


class EcwidStoreLink(BaseOperatorLink):
    """Links a task to the catalog page of the Ecwid store it wrote to (pushed to XCom at execute)."""

    name = "Ecwid store"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        return str(XCom.get_value(key=ADMIN_URL_XCOM_KEY, ti_key=ti_key) or "")
