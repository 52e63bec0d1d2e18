"""The emulator's change tracking over HTTP: latest-stats, product timestamps and their search, deleted products."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from airflow_provider_ecwid.testing import EcwidEmulator
from airflow_provider_ecwid.testing.emulator import _parse_args
from airflow_provider_ecwid.testing.tracking import date_text, parse_time
from tests.integration.helpers import Api


def stats(api: Api) -> dict[str, Any]:
    answer = api.call("GET", "/latest-stats", params={"productCountRequired": "true", "categoryCountRequired": "true"})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def create(api: Api, sku: str, **fields: Any) -> int:
    answer = api.call("POST", "/products", json={"sku": sku, "name": sku, "price": 1.0, **fields})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def product(api: Api, product_id: int) -> dict[str, Any]:
    result: dict[str, Any] = api.call("GET", f"/products/{product_id}").json()
    return result


def skus(api: Api, **params: Any) -> list[str]:
    return [item["sku"] for item in api.call("GET", "/products", params=params).json()["items"]]


def test_latest_stats_move_with_every_catalog_change_and_count_when_asked(ecwid_emulator: EcwidEmulator) -> None:
    api = Api(ecwid_emulator)
    plain = api.call("GET", "/latest-stats").json()
    assert "productCount" not in plain
    assert "categoryCount" not in plain
    assert plain["productsUpdated"] == "1970-01-01 00:00:00 +0000"
    ecwid_emulator.advance_clock(10)
    create(api, "A")
    first = stats(api)
    assert (first["productCount"], first["categoryCount"]) == (1, 0)
    assert first["categoriesUpdated"] == "1970-01-01 00:00:00 +0000"
    ecwid_emulator.advance_clock(10)
    assert api.call("POST", "/categories", json={"name": "Bikes"}).status_code == 200
    second = stats(api)
    assert second["categoryCount"] == 1
    assert second["categoriesUpdated"] == second["productsUpdated"]  # productsUpdated covers categories too
    assert parse_time(second["productsUpdated"], "") - parse_time(first["productsUpdated"], "") in (10, 11)


def test_products_carry_their_times_and_are_found_and_sorted_by_them(ecwid_emulator: EcwidEmulator) -> None:
    api = Api(ecwid_emulator)
    first = create(api, "A", price=3.0)
    ecwid_emulator.advance_clock(100)
    second = create(api, "B", price=2.0)
    ecwid_emulator.advance_clock(100)
    assert api.call("PUT", f"/products/{first}", json={"price": 4.0, "updateTimestamp": 1}).status_code == 200
    a, b = product(api, first), product(api, second)
    assert a["updateTimestamp"] - a["createTimestamp"] in (200, 201)  # a body cannot set them
    assert a["updated"] == date_text(a["updateTimestamp"])
    assert a["created"] == date_text(a["createTimestamp"])
    assert skus(api, updatedFrom=b["updateTimestamp"] + 1) == ["A"]
    assert skus(api, updatedFrom=date_text(b["updateTimestamp"]), sortBy="UPDATED_TIME_ASC") == ["B", "A"]
    assert skus(api, sortBy="UPDATED_TIME_ASC") == ["B", "A"]
    assert skus(api, sortBy="UPDATED_TIME_DESC") == ["A", "B"]
    assert skus(api, sortBy="ADDED_TIME_DESC") == ["B", "A"]
    assert skus(api, sortBy="PRICE_ASC") == ["B", "A"]
    assert skus(api, sortBy="NAME_DESC") == ["B", "A"]
    assert skus(api) == ["A", "B"]  # RELEVANCE: as stored
    assert skus(api, createdTo=a["createTimestamp"]) == ["A"]
    assert skus(api, updatedTo=b["updateTimestamp"]) == ["B"]
    assert api.call("GET", "/products", params={"sortBy": "SIDEWAYS"}).status_code == 400
    assert api.call("GET", "/products", params={"updatedFrom": "yesterday"}).status_code == 400


@pytest.mark.parametrize("moves", [True, False])
def test_variation_and_image_changes_move_the_product_only_with_the_knob(
    ecwid_emulator: EcwidEmulator, moves: bool
) -> None:
    ecwid_emulator.state.config.nested_changes_move_product = moves
    ecwid_emulator.reset()
    api = Api(ecwid_emulator)
    options = [{"type": "SELECT", "name": "Size", "choices": [{"text": "S"}]}]
    product_id = create(api, "TEE", options=options)
    before, stats_before = product(api, product_id)["updateTimestamp"], stats(api)["productsUpdated"]
    ecwid_emulator.advance_clock(30)
    body = {"sku": "TEE-S", "options": [{"name": "Size", "value": "S"}]}
    assert api.call("POST", f"/products/{product_id}/combinations", json=body).status_code == 200
    ecwid_emulator.advance_clock(30)
    image = api.call("POST", f"/products/{product_id}/image", params={"externalUrl": "https://img.example/a.jpg"})
    assert image.status_code == 200
    after = product(api, product_id)["updateTimestamp"]
    assert (after - before >= 60) is moves
    assert stats(api)["productsUpdated"] != stats_before  # the catalog changed either way


def test_deleted_products_are_listed_by_date_and_paged(ecwid_emulator: EcwidEmulator) -> None:
    api = Api(ecwid_emulator)
    ids = [create(api, f"P{n}") for n in range(3)]
    assert api.call("DELETE", f"/products/{ids[0]}").status_code == 200
    ecwid_emulator.advance_clock(100)
    middle = int(ecwid_emulator.state.now())
    assert api.call("DELETE", f"/products/{ids[1]}").status_code == 200
    everything = api.call("GET", "/products/deleted").json()
    assert (everything["total"], everything["count"], everything["offset"]) == (2, 2, 0)
    assert [item["id"] for item in everything["items"]] == ids[:2]
    assert everything["items"][0]["date"] == date_text(parse_time(everything["items"][0]["date"], ""))
    since = api.call("GET", "/products/deleted", params={"from_date": middle}).json()
    assert [item["id"] for item in since["items"]] == [ids[1]]
    until = api.call("GET", "/products/deleted", params={"to_date": date_text(middle - 50)}).json()
    assert [item["id"] for item in until["items"]] == [ids[0]]
    page = api.call("GET", "/products/deleted", params={"offset": 1, "limit": 500}).json()
    assert (page["count"], page["limit"], page["items"][0]["id"]) == (1, 100, ids[1])
    assert stats(api)["productCount"] == 1


@pytest.mark.ecwid_emulator(timestamp_resolution=60)
def test_coarse_timestamps_are_floored_to_the_minute(ecwid_emulator: EcwidEmulator) -> None:
    api = Api(ecwid_emulator)
    now = ecwid_emulator.state.now()
    ecwid_emulator.advance_clock(60 - now % 60 + 5)  # five seconds into a minute
    first = create(api, "A")
    ecwid_emulator.advance_clock(30)
    second = create(api, "B")
    stamps = {product(api, first)["updateTimestamp"], product(api, second)["updateTimestamp"]}
    assert len(stamps) == 1
    assert stamps.pop() % 60 == 0
    assert parse_time(stats(api)["productsUpdated"], "") % 60 == 0


def test_answers_are_dated_by_the_emulators_clock(ecwid_emulator: EcwidEmulator) -> None:
    api = Api(ecwid_emulator)
    ecwid_emulator.advance_clock(86_400)
    answer = api.call("GET", "/latest-stats")
    dates = [value for name, value in answer.headers.items() if name.lower() == "date"]
    assert len(dates) == 1
    assert abs(parsedate_to_datetime(dates[0]).timestamp() - ecwid_emulator.state.now()) < 5


def test_the_command_line_sets_the_tracking_knobs() -> None:
    _, config = _parse_args(["--timestamp-resolution", "60", "--nested-changes-keep-product-time"])
    assert (config.timestamp_resolution, config.nested_changes_move_product) == (60, False)
    _, default = _parse_args([])
    assert (default.timestamp_resolution, default.nested_changes_move_product) == (1, True)
