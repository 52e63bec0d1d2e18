"""The emulator's auth and catalog endpoints, over real HTTP, as docs/ecwid-api.md describes them."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.helpers import Api

STORES = {1002: ["secret_demo"], 2002: ["secret_other"]}


@pytest.fixture
def api(ecwid_emulator: EcwidEmulator) -> Api:
    return Api(ecwid_emulator)


def error_code(response: requests.Response) -> str:
    return str(response.json()["errorCode"])


# -- auth ---------------------------------------------------------------------------------------------------


@pytest.mark.ecwid_emulator(stores=STORES)
def test_auth_is_a_bearer_header_of_this_store(ecwid_emulator: EcwidEmulator) -> None:
    url = f"{ecwid_emulator.base_url}/1002/profile"
    assert requests.get(url, timeout=5).status_code == 403
    assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 403
    other_store = requests.get(url, headers={"Authorization": "Bearer secret_other"}, timeout=5)
    assert other_store.status_code == 403
    assert error_code(other_store) == "INVALID_API_TOKEN"
    good = requests.get(url, headers={"Authorization": "Bearer secret_demo"}, timeout=5)
    assert good.status_code == 200
    assert good.json()["generalInfo"]["storeId"] == 1002
    in_query = requests.get(url, params={"token": "secret_demo"}, headers={"Authorization": "Bearer secret_demo"})
    assert in_query.status_code == 403
    assert Api(ecwid_emulator, 2002).call("GET", "/profile").json()["generalInfo"]["storeId"] == 2002


@pytest.mark.ecwid_emulator(stores=STORES)
def test_stores_are_separate(ecwid_emulator: EcwidEmulator) -> None:
    Api(ecwid_emulator, 1002).call("POST", "/products", json={"sku": "A", "name": "a"})
    assert Api(ecwid_emulator, 2002).call("GET", "/products").json()["total"] == 0
    assert [p["sku"] for p in ecwid_emulator.products(1002)] == ["A"]
    assert ecwid_emulator.products(2002) == []


# -- products -----------------------------------------------------------------------------------------------


def test_create_read_update_delete_a_product(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    created = api.call("POST", "/products", json={"sku": "HAT-1", "name": "Hat", "price": 9.5, "quantity": 3})
    assert created.status_code == 200
    product_id = created.json()["id"]
    product = api.call("GET", f"/products/{product_id}").json()
    assert product["enabled"] is False  # Ecwid makes a product without `enabled` disabled
    assert (product["sku"], product["price"], product["quantity"]) == ("HAT-1", 9.5, 3)

    assert api.call("PUT", f"/products/{product_id}", json={"price": 12}).json() == {"updateCount": 1}
    updated = api.call("GET", f"/products/{product_id}").json()
    assert (updated["price"], updated["name"], updated["quantity"]) == (12, "Hat", 3)  # partial update

    assert api.call("PUT", f"/products/{product_id}/inventory", json={"quantityDelta": -2}).json() == {"updateCount": 1}
    assert api.call("GET", f"/products/{product_id}").json()["quantity"] == 1

    assert api.call("DELETE", f"/products/{product_id}").json() == {"deleteCount": 1}
    gone = api.call("GET", f"/products/{product_id}")
    assert gone.status_code == 404
    assert error_code(gone) == "PRODUCT_NOT_FOUND"
    assert ecwid_emulator.products() == []


def test_duplicate_sku_is_409_and_empty_sku_is_generated(api: Api) -> None:
    assert api.call("POST", "/products", json={"sku": "A1", "name": "a"}).status_code == 200
    duplicate = api.call("POST", "/products", json={"sku": "A1", "name": "b"})
    assert duplicate.status_code == 409
    assert error_code(duplicate) == "SKU_ALREADY_EXISTS"
    generated = api.call("POST", "/products", json={"name": "no sku"}).json()["id"]
    assert api.call("GET", f"/products/{generated}").json()["sku"]
    other = api.call("POST", "/products", json={"sku": "B1", "name": "b"}).json()["id"]
    assert api.call("PUT", f"/products/{other}", json={"sku": "A1"}).status_code == 409


@pytest.mark.parametrize(
    "body",
    [{"price": "cheap"}, {"quantity": 1.5}, {"enabled": "yes"}, {"categoryIds": 5}, {"price": -1}, {"price": True}],
)
def test_wrong_field_types_are_400(api: Api, body: dict[str, object]) -> None:
    answer = api.call("POST", "/products", json={"sku": "X", **body})
    assert answer.status_code == 400
    assert error_code(answer) == "WRONG_PARAMETER"
    assert "errorMessage" in answer.json()


def test_a_whole_float_is_a_fine_integer(api: Api) -> None:
    assert api.call("POST", "/products", json={"sku": "W", "quantity": 3.0}).status_code == 200


def test_search_filters_paging_and_response_fields(api: Api) -> None:
    ids = [
        api.call("POST", "/products", json={"sku": f"S{n:03d}", "name": f"Item {n}"}).json()["id"] for n in range(150)
    ]
    assert [p["sku"] for p in api.call("GET", "/products", params={"sku": "S007"}).json()["items"]] == ["S007"]
    by_ids = api.call("GET", "/products", params={"productId": f"{ids[1]},{ids[2]}"}).json()
    assert sorted(p["id"] for p in by_ids["items"]) == [ids[1], ids[2]]
    assert api.call("GET", "/products", params={"keyword": "item 14"}).json()["total"] == 11  # 14, 140-149

    first = api.call("GET", "/products", params={"limit": 500}).json()
    assert (first["total"], first["count"], first["limit"]) == (150, 100, 100)
    second = api.call("GET", "/products", params={"offset": 100}).json()
    assert second["count"] == 50
    trimmed = api.call("GET", "/products", params={"responseFields": "total,items(id,sku)", "limit": 2}).json()
    assert trimmed == {"total": 150, "items": [{"id": ids[0], "sku": "S000"}, {"id": ids[1], "sku": "S001"}]}
    assert api.call("GET", "/products", params={"responseFields": "items(id"}).status_code == 400


def test_categories_crud(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    product_id = api.call("POST", "/products", json={"sku": "T", "name": "Tee"}).json()["id"]
    category = api.call("POST", "/categories", json={"name": "Hats", "productIds": [product_id]}).json()["id"]
    assert api.call("PUT", f"/categories/{category}", json={"name": "Caps"}).json() == {"updateCount": 1}
    assert api.call("GET", f"/categories/{category}").json()["name"] == "Caps"
    assert api.call("GET", "/categories").json()["total"] == 1
    assert ecwid_emulator.categories()[0]["productIds"] == [product_id]
    assert api.call("DELETE", f"/categories/{category}").json() == {"deleteCount": 1}
    assert api.call("GET", f"/categories/{category}").status_code == 404


def test_unknown_endpoint_and_method(api: Api) -> None:
    assert api.call("GET", "/orders-of-the-moon").status_code == 404
    assert api.call("PATCH", "/products").status_code == 405
    assert (
        api.call("POST", "/products", data=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )


def test_counters_by_method_endpoint_and_status(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    api.call("GET", "/profile")
    api.call("GET", "/products/1")
    api.call("GET", "/products/2")
    assert ecwid_emulator.call_count(method="GET", endpoint="/products/{id}", status=404) == 2
    assert ecwid_emulator.call_count(endpoint="/profile") == 1
    stats = requests.get(f"{ecwid_emulator.url}/_emulator/stats", timeout=5).json()
    assert stats["http_total"] == 3
    requests.post(f"{ecwid_emulator.url}/_emulator/reset", timeout=5)
    assert ecwid_emulator.call_count() == 0


@pytest.mark.ecwid_emulator(stores=STORES)
def test_inner_requests_are_also_counted_by_store(ecwid_emulator: EcwidEmulator) -> None:
    first, other = Api(ecwid_emulator, 1002), Api(ecwid_emulator, 2002)
    create = {"method": "POST", "path": "/products", "body": {"sku": "A", "name": "A"}}
    first.wait(first.batch([create, {**create, "body": {"sku": "B", "name": "B"}}]))
    other.wait(other.batch([create, create]))  # the second is a 409: the SKU exists
    stats = requests.get(f"{ecwid_emulator.url}/_emulator/stats", timeout=5).json()
    by_store = {(row["store_id"], row["status"]): row["count"] for row in stats["inner_by_store"]}
    assert by_store == {(1002, 200): 2, (2002, 200): 1, (2002, 409): 1}
    assert stats["inner_total"] == 4
