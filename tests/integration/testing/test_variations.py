"""The emulator's options and combinations (variations), categories with parents and the products' category
filter, over real HTTP and through batches, as docs/ecwid-api.md describes them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.helpers import Api

OPTIONS = [
    {"type": "SELECT", "name": "Size", "choices": [{"text": "S"}, {"text": "M"}]},
    {"type": "RADIO", "name": "Color", "choices": [{"text": "Red"}, {"text": "Blue"}]},
]


@pytest.fixture
def api(ecwid_emulator: EcwidEmulator) -> Api:
    return Api(ecwid_emulator)


def choose(size: str, color: str) -> list[dict[str, str]]:
    return [{"name": "Size", "value": size}, {"name": "Color", "value": color}]


def tee(api: Api, sku: str = "TEE") -> int:
    answer = api.call("POST", "/products", json={"sku": sku, "name": "Tee", "options": OPTIONS})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def test_combination_create_update_list_delete(api: Api) -> None:
    product = tee(api)
    created = api.call(
        "POST", f"/products/{product}/combinations", json={"sku": "TEE-S-R", "options": choose("S", "Red"), "price": 5}
    )
    assert created.status_code == 200
    combination = created.json()["id"]
    second = api.call(
        "POST", f"/products/{product}/combinations", json={"sku": "TEE-M-B", "options": choose("M", "Blue")}
    )
    assert second.status_code == 200
    path = f"/products/{product}/combinations/{combination}"
    assert api.call("PUT", path, json={"price": 6, "quantity": 4}).json() == {"updateCount": 1}
    listed = api.call("GET", f"/products/{product}/combinations").json()
    assert [(c["sku"], c["combinationNumber"], c.get("price")) for c in listed] == [
        ("TEE-S-R", 1, 6),
        ("TEE-M-B", 2, None),
    ]
    assert api.call("GET", path).json()["quantity"] == 4
    shown = api.call("GET", f"/products/{product}").json()
    assert [c["sku"] for c in shown["combinations"]] == ["TEE-S-R", "TEE-M-B"]  # product answers carry them
    assert shown["options"] == OPTIONS
    assert api.call("DELETE", path).json() == {"deleteCount": 1}
    assert api.call("DELETE", path).status_code == 404
    assert api.call("DELETE", f"/products/{product}/combinations").json() == {"deleteCount": 1}
    assert api.call("GET", f"/products/{product}/combinations").json() == []


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (None, "needs options"),
        ([{"name": "Size", "value": "S"}], "missing"),
        (choose("XL", "Red"), "no choice"),
        ([*choose("S", "Red"), {"name": "Fit", "value": "Slim"}], "no option"),
        ([{"name": "Size", "value": "S"}, {"name": "Size", "value": "M"}], "twice"),
    ],
)
def test_a_combination_must_choose_one_choice_of_every_option(
    api: Api, options: list[dict[str, str]] | None, why: str
) -> None:
    product = tee(api)
    body: dict[str, Any] = {"sku": "TEE-X"} if options is None else {"sku": "TEE-X", "options": options}
    answer = api.call("POST", f"/products/{product}/combinations", json=body)
    assert answer.status_code == 400
    assert why in answer.json()["errorMessage"]


def test_a_product_without_options_has_no_variations_and_same_choices_twice_is_refused(api: Api) -> None:
    plain = api.call("POST", "/products", json={"sku": "PLAIN"}).json()["id"]
    answer = api.call("POST", f"/products/{plain}/combinations", json={"options": choose("S", "Red")})
    assert answer.status_code == 400
    product = tee(api)
    assert (
        api.call("POST", f"/products/{product}/combinations", json={"options": choose("S", "Red")}).status_code == 200
    )
    again = api.call("POST", f"/products/{product}/combinations", json={"options": choose("S", "Red")})
    assert again.status_code == 400
    assert "same options" in again.json()["errorMessage"]


@pytest.mark.parametrize(
    "options",
    [
        [{"name": "Size"}],  # a SELECT needs choices
        [{"name": "Size", "choices": [{"text": "S"}, {"text": "S"}]}],
        [{"name": "A", "choices": [{"text": "x"}]}, {"name": "A", "choices": [{"text": "y"}]}],
        [{"name": "Size", "type": "WHEEL", "choices": [{"text": "S"}]}],
        [{"choices": [{"text": "S"}]}],
    ],
)
def test_malformed_product_options_are_400(api: Api, options: list[dict[str, Any]]) -> None:
    answer = api.call("POST", "/products", json={"sku": "BAD", "options": options})
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "WRONG_PARAMETER"


def test_skus_are_unique_across_products_and_combinations(api: Api) -> None:
    product = tee(api)
    other = tee(api, "OTHER")
    assert api.call("POST", f"/products/{product}/combinations", json={"sku": "V1", "options": choose("S", "Red")}).ok
    clashes = [
        api.call("POST", "/products", json={"sku": "V1"}),  # a product may not take a variation's SKU
        api.call("POST", f"/products/{other}/combinations", json={"sku": "V1", "options": choose("S", "Red")}),
        api.call("POST", f"/products/{product}/combinations", json={"sku": "OTHER", "options": choose("M", "Red")}),
        api.call("PUT", f"/products/{other}", json={"sku": "V1"}),
    ]
    assert [answer.status_code for answer in clashes] == [409, 409, 409, 409]
    assert {answer.json()["errorCode"] for answer in clashes} == {"SKU_ALREADY_EXISTS"}
    # the SKU search may find a product by its variation's SKU
    found = api.call("GET", "/products", params={"sku": "V1"}).json()["items"]
    assert [item["sku"] for item in found] == ["TEE"]
    # deleting the product frees its variations' SKUs
    assert api.call("DELETE", f"/products/{product}").status_code == 200
    assert api.call("POST", "/products", json={"sku": "V1"}).status_code == 200


def test_categories_have_parents_and_products_filter_by_category(api: Api) -> None:
    bikes = api.call("POST", "/categories", json={"name": "Bikes"}).json()["id"]
    road = api.call("POST", "/categories", json={"name": "Road", "parentId": bikes}).json()["id"]
    carbon = api.call("POST", "/categories", json={"name": "Carbon", "parentId": road}).json()["id"]
    assert api.call("POST", "/categories", json={"name": "Orphan", "parentId": 999}).status_code == 400
    assert api.call("PUT", f"/categories/{bikes}", json={"parentId": carbon}).status_code == 400  # a cycle
    tops = api.call("GET", "/categories", params={"parent": 0}).json()["items"]
    assert [item["name"] for item in tops] == ["Bikes"]
    below_road = api.call("GET", "/categories", params={"parent": road}).json()["items"]
    assert [(item["name"], item["parentId"]) for item in below_road] == [("Carbon", road)]

    api.call("POST", "/products", json={"sku": "R1", "categoryIds": [road]})
    api.call("POST", "/products", json={"sku": "C1", "categoryIds": [carbon]})
    api.call("POST", "/products", json={"sku": "N1"})
    in_road = api.call("GET", "/products", params={"category": road}).json()["items"]
    assert [item["sku"] for item in in_road] == ["R1"]
    deep = api.call("GET", "/products", params={"category": bikes, "includeProductsFromSubcategories": "true"})
    assert sorted(item["sku"] for item in deep.json()["items"]) == ["C1", "R1"]


def test_inner_requests_answer_like_direct_calls(api: Api) -> None:
    product = tee(api)
    ticket = api.batch(
        [
            {
                "id": "ok",
                "method": "POST",
                "path": f"/products/{product}/combinations",
                "body": {"sku": "B-S", "options": choose("S", "Blue")},
            },
            {
                "id": "bad",
                "method": "POST",
                "path": f"/products/{product}/combinations",
                "body": {"sku": "B-X", "options": choose("XL", "Blue")},
            },
            {"id": "clash", "method": "POST", "path": "/products", "body": {"sku": "B-S"}},
            {"id": "list", "method": "GET", "path": f"/products/{product}/combinations"},
        ],
        stopOnFirstFailure=False,
    )
    results = {item["id"]: item for item in api.wait(ticket)["responses"]}
    assert {name: item["httpStatusCode"] for name, item in results.items()} == {
        "ok": 200,
        "bad": 400,
        "clash": 409,
        "list": 200,
    }
    assert json.loads(results["clash"]["escapedHttpBody"])["errorCode"] == "SKU_ALREADY_EXISTS"
    assert [c["sku"] for c in json.loads(results["list"]["escapedHttpBody"])] == ["B-S"]
