"""The emulator's orders and customers over HTTP: fields, filters, paging, trimming, deletions, latest-stats,
pages read inside batches, seeding and the churn knob (a shop that keeps selling while an export reads it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_ecwid.testing import EcwidEmulator
from airflow_provider_ecwid.testing.emulator import _parse_args
from airflow_provider_ecwid.testing.sales_data import FULFILLMENT_STATUSES, NEXT_FULFILLMENT, PAYMENT_STATUSES
from airflow_provider_ecwid.testing.tracking import date_text, parse_time
from tests.integration.helpers import Api

JAN_1 = parse_time("2026-01-01", "")
JUN_30 = parse_time("2026-06-30 23:59:59", "")


@pytest.fixture
def api(ecwid_emulator: EcwidEmulator) -> Api:
    """300 orders updated evenly through the first half of 2026, placed by 40 customers seeded in 2025."""
    ecwid_emulator.seed_customers(40, updated_from="2025-01-01", updated_to="2025-12-31", seed=7)
    ecwid_emulator.seed_orders(300, updated_from=JAN_1, updated_to=JUN_30, seed=7)
    return Api(ecwid_emulator)


def get(api: Api, path: str, **params: Any) -> dict[str, Any]:
    answer = api.call("GET", path, params=params)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def ids(api: Api, path: str = "/orders", **params: Any) -> list[Any]:
    return [item["id"] for item in get(api, path, **params)["items"]]


def every(api: Api, path: str = "/orders", **params: Any) -> list[dict[str, Any]]:
    """Every item of a search, page by page."""
    items: list[dict[str, Any]] = []
    while True:
        page = get(api, path, offset=len(items), **params)
        items += page["items"]
        if not page["items"] or len(items) >= page["total"]:
            return items


def test_orders_carry_the_contracts_fields_and_vary_their_optional_parts(api: Api) -> None:
    orders = every(api)
    assert len(orders) == 300
    first = orders[0]
    assert (first["id"], first["orderNumber"], first["vendorOrderNumber"]) == ("ORD-1001", 1001, "ORD-1001")
    assert isinstance(first["internalId"], int)
    for order in orders:
        assert {"email", "total", "subtotal", "tax", "couponDiscount", "items", "billingPerson"} <= order.keys()
        assert order["paymentStatus"] in PAYMENT_STATUSES
        assert order["fulfillmentStatus"] in FULFILLMENT_STATUSES
        assert order["updateDate"] == date_text(order["updateTimestamp"])
        assert order["createDate"] == date_text(order["createTimestamp"])
        assert order["createTimestamp"] <= order["updateTimestamp"]
        assert 1 <= len(order["items"]) <= 5
        for item in order["items"]:
            assert {"id", "productId", "sku", "name", "price", "quantity"} <= item.keys()
        shipping = order.get("shippingOption", {}).get("shippingRate", 0)
        expected = order["subtotal"] - order["couponDiscount"] + order["tax"] + shipping
        assert order["total"] == pytest.approx(expected, abs=0.011)
    # the optional parts come and go, so an export's schema must hold without them
    assert 0 < sum("customerId" in order for order in orders) < 300
    assert 0 < sum("shippingPerson" in order for order in orders) < 300
    assert 0 < sum("discountCoupon" in order for order in orders) < 300
    assert 0 < sum(order["couponDiscount"] == 0 for order in orders) < 300
    assert {len(order["items"]) for order in orders} == {1, 2, 3, 4, 5}
    assert sum("selectedOptions" in item for order in orders for item in order["items"]) > 0
    assert 0 < sum("phone" in order["billingPerson"] for order in orders) < 300
    assert set(order["paymentStatus"] for order in orders) >= {"PAID", "AWAITING_PAYMENT"}


def test_searches_answer_by_update_time_then_id_and_page_by_offset(api: Api) -> None:
    orders = every(api)
    keys = [(order["updateTimestamp"], order["internalId"]) for order in orders]
    assert keys == sorted(keys)
    assert (orders[0]["updateTimestamp"], orders[-1]["updateTimestamp"]) == (JAN_1, JUN_30)
    page = get(api, "/orders", offset=250, limit=20)
    assert (page["total"], page["count"], page["offset"], page["limit"]) == (300, 20, 250, 20)
    assert [order["id"] for order in page["items"]] == [order["id"] for order in orders[250:270]]
    capped = get(api, "/orders", limit=500)
    assert (capped["limit"], capped["count"]) == (100, 100)
    assert get(api, "/orders", offset=300)["items"] == []
    assert api.call("GET", "/orders", params={"limit": "many"}).status_code == 400


def test_update_and_create_windows_accept_seconds_and_dates(api: Api) -> None:
    orders = every(api)
    middle = orders[150]["updateTimestamp"]
    after = every(api, updatedFrom=middle)
    assert after == [order for order in orders if order["updateTimestamp"] >= middle]
    assert len(after) == 150  # the window's low bound is inclusive
    before = get(api, "/orders", updatedTo=date_text(middle), limit=1)
    assert before["total"] == 151
    march = every(api, updatedFrom="2026-03-01", updatedTo="2026-03-31 23:59:59")
    assert march
    assert march == [order for order in orders if "2026-03-01" <= order["updateDate"][:10] <= "2026-03-31"]
    created = every(api, createdFrom=middle, createdTo=middle + 30 * 86_400)
    assert created == [order for order in orders if middle <= order["createTimestamp"] <= middle + 30 * 86_400]
    assert api.call("GET", "/orders", params={"updatedFrom": "last week"}).status_code == 400


def test_order_filters(api: Api) -> None:
    orders = every(api)
    someone = next(order for order in orders if "customerId" in order)
    theirs = [order["id"] for order in orders if order.get("customerId") == someone["customerId"]]
    assert ids(api, customerId=someone["customerId"]) == theirs
    assert ids(api, email=someone["email"].upper()) == [o["id"] for o in orders if o["email"] == someone["email"]]
    assert ids(api, ids=f"{orders[5]['id']},{orders[2]['internalId']},999999") == [orders[2]["id"], orders[5]["id"]]
    coupon = next(order["discountCoupon"]["code"] for order in orders if "discountCoupon" in order)
    with_coupon = [o["id"] for o in orders if o.get("discountCoupon", {}).get("code") == coupon]
    assert ids(api, couponCode=coupon, limit=100) == with_coupon[:100]
    assert (
        ids(api, totalFrom=100, totalTo=150, limit=100) == [o["id"] for o in orders if 100 <= o["total"] <= 150][:100]
    )
    paid = [o["id"] for o in orders if o["paymentStatus"] in ("PAID", "REFUNDED")]
    assert get(api, "/orders", paymentStatus="PAID,REFUNDED")["total"] == len(paid)
    shipped = [o["id"] for o in orders if o["fulfillmentStatus"] == "SHIPPED"]
    assert ids(api, fulfillmentStatus="SHIPPED") == shipped
    sku = orders[7]["items"][0]["sku"]
    assert orders[7]["id"] in ids(api, keywords=sku.lower())
    assert ids(api, keywords=orders[9]["id"]) == [orders[9]["id"]]
    for bad in ({"paymentStatus": "PAID,SOMEHOW"}, {"fulfillmentStatus": "LOST"}, {"totalFrom": "lots"}):
        answer = api.call("GET", "/orders", params=bad)
        assert answer.status_code == 400, bad
        assert answer.json()["errorCode"] == "WRONG_PARAMETER"


def test_response_fields_trim_searches_and_single_reads(api: Api) -> None:
    page = get(api, "/orders", limit=3, responseFields="total,items(id,updateTimestamp,items(sku))")
    assert set(page) == {"total", "items"}
    assert set(page["items"][0]) == {"id", "updateTimestamp", "items"}
    assert set(page["items"][0]["items"][0]) == {"sku"}
    one = get(api, f"/orders/{page['items'][1]['id']}", responseFields="id,email")
    assert set(one) == {"id", "email"}
    customers = get(api, "/customers", limit=2, responseFields="items(id,email)")
    assert [set(customer) for customer in customers["items"]] == [{"id", "email"}] * 2


def test_one_order_by_any_of_its_ids_and_404_for_unknown_ones(api: Api) -> None:
    order = get(api, "/orders", offset=41, limit=1)["items"][0]
    for name in (order["id"], order["internalId"], order["orderNumber"]):
        assert get(api, f"/orders/{name}") == order
    for unknown in ("ORD-1", "ORD-999999", "OTHER-1042", "nothing"):
        answer = api.call("GET", f"/orders/{unknown}")
        assert answer.status_code == 404, unknown
        assert answer.json()["errorCode"] == "ORDER_NOT_FOUND"


def test_customers_fields_filters_and_one_read(api: Api) -> None:
    customers = every(api, "/customers")
    assert len(customers) == 40
    for customer in customers:
        assert {"id", "email", "name", "registered", "updated", "totalOrderCount", "billingPerson"} <= customer.keys()
        assert customer["updated"] == date_text(customer["updateTimestamp"])
        assert customer["registered"] == date_text(customer["createTimestamp"])
    keys = [(customer["updateTimestamp"], customer["id"]) for customer in customers]
    assert keys == sorted(keys)
    one = customers[12]
    assert ids(api, "/customers", email=one["email"]) == [one["id"]]
    surname = one["name"].split(" ")[1]
    assert ids(api, "/customers", keyword=surname) == [c["id"] for c in customers if surname in c["name"]]
    middle = customers[20]["updateTimestamp"]
    assert ids(api, "/customers", updatedFrom=middle) == [c["id"] for c in customers[20:]]
    assert get(api, "/customers", createdTo=date_text(middle))["total"] == sum(
        c["createTimestamp"] <= middle for c in customers
    )
    assert get(api, f"/customers/{one['id']}") == one
    assert api.call("GET", "/customers/1").status_code == 404
    # orders name seeded customers, with their email
    by_id = {customer["id"]: customer for customer in customers}
    for order in every(api):
        if "customerId" in order:
            assert order["email"] == by_id[order["customerId"]]["email"]


def test_deleted_orders_and_customers_are_listed_by_date_and_paged(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    ecwid_emulator.set_churn(updates=0, deletes=2, seed=1)
    get(api, "/orders", limit=1)
    ecwid_emulator.advance_clock(100)
    middle = int(ecwid_emulator.state.now())
    get(api, "/orders", limit=1)
    get(api, "/customers", limit=1)
    log = ecwid_emulator.churn_log()["changes"]
    deleted_orders = [change["id"] for change in log if change["entity"] == "orders"]
    assert len(deleted_orders) == 4
    listed = get(api, "/orders/deleted")
    assert (listed["total"], listed["count"]) == (4, 4)
    assert [item["id"] for item in listed["items"]] == deleted_orders
    assert [item["id"] for item in get(api, "/orders/deleted", from_date=middle)["items"]] == deleted_orders[2:]
    assert [item["id"] for item in get(api, "/orders/deleted", to_date=date_text(middle - 1))["items"]] == (
        deleted_orders[:2]
    )
    assert get(api, "/orders/deleted", offset=3, limit=500)["limit"] == 100
    customers = get(api, "/customers/deleted")["items"]
    assert [item["id"] for item in customers] == [c["id"] for c in log if c["entity"] == "customers"]
    assert all(isinstance(item["id"], int) for item in customers)
    for order_id in deleted_orders:
        assert api.call("GET", f"/orders/{order_id}").status_code == 404
    assert get(api, "/orders", limit=1)["total"] == 300 - 4  # a page's total is counted before its own churn


def test_latest_stats_say_when_the_orders_last_changed(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    assert get(api, "/latest-stats")["ordersUpdated"] == date_text(JUN_30)
    ecwid_emulator.set_churn(updates=1)
    get(api, "/orders", limit=1)
    changed = ecwid_emulator.churn_log()["changes"][0]["at"]
    assert changed > JUN_30
    assert get(api, "/latest-stats")["ordersUpdated"] == date_text(changed)
    assert get(api, "/latest-stats")["productsUpdated"] == date_text(0)  # orders are not the catalog


@pytest.mark.ecwid_emulator(rate_limit_per_minute=0)
def test_search_pages_read_inside_a_batch_answer_like_direct_calls(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    window = {"updatedTo": JUN_30, "responseFields": "total,count,items(id,total,items(sku))"}
    paths = [f"/orders?offset={offset}&limit=100&updatedTo={JUN_30}" for offset in (0, 100, 200)]
    paths += ["/customers?offset=0&limit=30", "/orders/ORD-1010", "/orders/deleted", "/orders?paymentStatus=NOPE"]
    paths.append(f"/orders?offset=100&limit=50&updatedTo={JUN_30}&responseFields={window['responseFields']}")
    requests = [{"id": f"r{n}", "method": "GET", "path": path} for n, path in enumerate(paths)]
    status = api.wait(api.batch(requests, stopOnFirstFailure=False))
    answers = {row["id"]: (row["status"], json.loads(row["escapedHttpBody"])) for row in status["responses"]}
    assert answers["r0"] == ("COMPLETED", get(api, "/orders", offset=0, updatedTo=JUN_30))
    assert answers["r1"][1]["items"] == get(api, "/orders", offset=100, updatedTo=JUN_30)["items"]
    assert [o["id"] for o in answers["r2"][1]["items"]] == [f"ORD-{1001 + n}" for n in range(200, 300)]
    assert answers["r3"][1]["items"] == get(api, "/customers", limit=30)["items"]
    assert answers["r4"][1]["id"] == "ORD-1010"
    assert answers["r5"][1]["items"] == []
    assert answers["r6"][0] == "FAILED"
    assert answers["r6"][1]["errorCode"] == "WRONG_PARAMETER"
    assert answers["r7"][1] == get(api, "/orders", offset=100, limit=50, **window)
    again = api.batch(requests[:1])
    api.wait(again)
    unescaped = api.status(again, escaped=False)
    assert unescaped["responses"][0]["httpBody"] == answers["r0"][1]
    assert ecwid_emulator.call_count(scope="inner", method="GET", endpoint="/orders") == 6
    assert ecwid_emulator.call_count(scope="inner", method="GET", endpoint="/orders/{id}") == 1


@pytest.mark.ecwid_emulator(rate_limit_per_minute=0)
def test_a_batched_page_answers_what_the_store_held_when_it_ran(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    ecwid_emulator.set_churn(updates=50, deletes=20, seed=3)
    first = {"id": "first", "method": "GET", "path": "/orders?offset=0&limit=100"}
    ticket = api.batch([first, {**first, "id": "again"}])
    status = api.wait(ticket)
    pages = {row["id"]: json.loads(row["escapedHttpBody"]) for row in status["responses"]}
    assert pages["first"]["total"] == 300
    assert pages["again"]["total"] == 300 - 20  # the first page's deletions, seen by the second
    assert pages["first"]["items"] != pages["again"]["items"]
    get(api, "/orders", limit=100)  # more churn: the batch's pages must not change with it
    later = api.status(ticket)
    assert [json.loads(row["escapedHttpBody"]) for row in later["responses"]] == list(pages.values())
    moved = {c["id"] for c in ecwid_emulator.churn_log()["changes"] if c["action"] == "updated" and c["page"] == 1}
    assert len(moved) > 40
    assert not moved & {order["id"] for order in pages["again"]["items"]}  # updated ones moved to the end


@pytest.mark.ecwid_emulator(customers=20, orders=500, seed=11, seeded_from="2026-11-01", seeded_to="2026-11-30")
def test_seeding_is_deterministic_and_configurable(ecwid_emulator: EcwidEmulator) -> None:
    api = Api(ecwid_emulator)
    seeded = every(api)
    assert len(seeded) == 500
    assert seeded[0]["updateDate"] == "2026-11-01 00:00:00 +0000"
    assert seeded[-1]["updateDate"] == "2026-11-30 00:00:00 +0000"
    ecwid_emulator.reset()
    assert every(api) == seeded  # the same seed: the same orders
    with EcwidEmulator(customers=20, orders=500, seed=12, seeded_from="2026-11-01", seeded_to="2026-11-30") as other:
        different = every(Api(other))
    assert [o["updateTimestamp"] for o in different] == [o["updateTimestamp"] for o in seeded]
    assert [o["total"] for o in different] != [o["total"] for o in seeded]


def test_seeding_runs_of_times_a_test_chooses(ecwid_emulator: EcwidEmulator) -> None:
    day = ecwid_emulator.seed_orders(5_000, updated_from="2026-12-01", updated_to="2026-12-01 23:59:59", seed=1)
    older = ecwid_emulator.seed_orders(95_000, updated_from="2025-12-01", updated_to="2026-11-30", seed=1)
    assert (day["first_id"], day["last_id"], older["first_id"]) == ("ORD-1001", "ORD-6000", "ORD-6001")
    api = Api(ecwid_emulator)
    on_the_day = get(api, "/orders", updatedFrom="2026-12-01", updatedTo="2026-12-01 23:59:59", limit=100)
    assert on_the_day["total"] == 5_000
    assert get(api, "/orders", updatedTo="2026-11-30 23:59:59", limit=1)["total"] == 95_000
    last = get(api, "/orders", offset=99_999, limit=5)
    assert (last["total"], [o["id"] for o in last["items"]]) == (100_000, ["ORD-6000"])
    assert get(api, "/orders", limit=1)["items"][0]["id"] == "ORD-6001"  # the older run answers first
    with pytest.raises(ValueError, match="overlap"):
        ecwid_emulator.seed_orders(10, updated_from="2026-06-01", updated_to="2026-06-02")
    with pytest.raises(ValueError, match="date"):
        ecwid_emulator.seed_orders(10, updated_from="soon")
    control = api.session.post(
        f"{ecwid_emulator.url}/_emulator/stores/{api.store_id}/customers/seed", params={"count": 3, "seed": 2}
    )
    assert control.status_code == 200, control.text
    assert get(api, "/customers")["total"] == 3


@pytest.mark.ecwid_emulator(rate_limit_per_minute=0)
def test_churn_shifts_offset_pages_under_a_fixed_window(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    """The trap the knob sets: reading a fixed window page by page while orders change skips unchanged ones."""
    seeded = {order["id"]: order for order in every(api)}
    ecwid_emulator.set_churn(updates=5, deletes=1, seed=4)
    read: list[str] = []
    offset = 0
    while True:
        page = get(api, "/orders", offset=offset, limit=50, updatedTo=JUN_30)
        if not page["items"]:
            break
        read += [order["id"] for order in page["items"]]
        offset += 50
    log = ecwid_emulator.churn_log()
    assert (log["pages"]["orders"], log["updated"], log["deleted"]) == (7, 35, 7)
    changed = {change["id"] for change in log["changes"]}
    assert all(change["at"] > JUN_30 for change in log["changes"])
    everything = {f"ORD-{1001 + n}" for n in range(300)}
    skipped_unchanged = everything - changed - set(read)
    assert skipped_unchanged  # unchanged orders lost to the shifting pages: what an export must not do
    deleted = {change["id"] for change in log["changes"] if change["action"] == "deleted"}
    moved = [change["id"] for change in log["changes"] if change["action"] == "updated"]
    ecwid_emulator.set_churn()  # off, and its log starts afresh
    later = every(api, updatedFrom=JUN_30 + 1)
    assert {order["id"] for order in later} == set(moved) - deleted
    assert all(order["updateTimestamp"] > JUN_30 for order in later)
    assert all(order["updateDate"] == date_text(order["updateTimestamp"]) for order in later)
    for order in later:  # an update moves the fulfilment one step on and changes nothing else
        before = seeded[order["id"]]
        steps = moved.count(order["id"])
        status = before["fulfillmentStatus"]
        for _ in range(steps):
            status = NEXT_FULFILLMENT.get(status, status)
        assert order["fulfillmentStatus"] == status
        kept = {"fulfillmentStatus", "updateTimestamp", "updateDate"}
        assert {k: v for k, v in order.items() if k not in kept} == {k: v for k, v in before.items() if k not in kept}
    assert any(seeded[order["id"]]["fulfillmentStatus"] != order["fulfillmentStatus"] for order in later)
    every_status = ",".join(PAYMENT_STATUSES)  # a filter that reads every order of the window
    assert ids(api, updatedFrom=JUN_30 + 1, paymentStatus=every_status) == [order["id"] for order in later]
    batched = api.wait(api.batch([{"id": "moved", "method": "GET", "path": f"/orders?updatedFrom={JUN_30 + 1}"}]))
    assert json.loads(batched["responses"][0]["escapedHttpBody"])["items"] == later
    assert ecwid_emulator.churn_log()["changes"] == []
    now = get(api, "/orders", updatedTo=JUN_30, limit=1)["total"]
    assert now == len(everything - changed)
    assert get(api, "/orders", updatedTo=JUN_30, limit=1)["total"] == now  # off: nothing changes


def test_the_churn_knob_over_the_control_api(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    control = f"{ecwid_emulator.url}/_emulator/stores/{api.store_id}/churn"
    assert api.session.post(control, params={"updates": 2, "deletes": 1, "seed": 9}).status_code == 200
    get(api, "/customers", limit=5)
    report = api.session.get(control).json()
    assert (report["updates"], report["deletes"], report["pages"]) == (2, 1, {"orders": 0, "customers": 1})
    assert [(c["entity"], c["action"]) for c in report["changes"]] == [("customers", "updated")] * 2 + [
        ("customers", "deleted")
    ]
    deleted = {change["id"] for change in report["changes"] if change["action"] == "deleted"}
    updated = next(change for change in report["changes"] if change["id"] not in deleted)
    customer = get(api, f"/customers/{updated['id']}")
    assert (customer["updateTimestamp"], customer["updated"]) == (updated["at"], updated["date"])
    assert api.session.post(control, params={"updates": -1}).status_code == 400


def test_the_command_line_seeds_and_churns() -> None:
    argv = ["--customers", "20000", "--orders", "100000", "--seeded-from", "2026-01-01", "--seeded-to", "2026-12-01"]
    _, config = _parse_args([*argv, "--churn-updates", "3", "--churn-deletes", "1", "--order-prefix", "SHOP"])
    assert (config.customers, config.orders, config.churn_updates, config.churn_deletes) == (20000, 100000, 3, 1)
    assert (config.seeded_from, config.seeded_to, config.order_prefix) == ("2026-01-01", "2026-12-01", "SHOP")
    with pytest.raises(SystemExit):
        _parse_args(["--seeded-from", "2026-12-02", "--seeded-to", "2026-12-01"])
