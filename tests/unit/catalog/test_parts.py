"""The whole-catalog sync's pure parts: feed shape checks, category paths, options, image memory."""

from __future__ import annotations

import io
from typing import IO, Any

import pandas as pd
import pytest

from airflow_provider_ecwid.catalog.categories import CategoryTree
from airflow_provider_ecwid.catalog.feed_shape import FeedShape, category_paths, gallery_urls, split_rows, url_problem
from airflow_provider_ecwid.catalog.image_memory import ImageMemory, fingerprint
from airflow_provider_ecwid.catalog.images import ImagePlanner
from airflow_provider_ecwid.catalog.variations import derive_options, plan_variations
from airflow_provider_ecwid.errors import EcwidConfigError

SHAPE = FeedShape(parent_sku_column="parent", option_columns=("Size", "Color"), image_column="image")


def test_category_paths_split_on_the_separator_and_a_list_holds_several() -> None:
    shape = FeedShape(category_column="c", category_separator="/")
    assert category_paths(shape, "Bikes / Road/Carbon") == [["Bikes", "Road", "Carbon"]]
    assert category_paths(shape, ["A/B", "C"]) == [["A", "B"], ["C"]]
    assert category_paths(shape, float("nan")) == []


def test_a_gallery_is_a_list_or_a_joined_text() -> None:
    shape = FeedShape(gallery_column="g", gallery_separator=";")
    assert gallery_urls(shape, "https://a/1.jpg; https://a/2.jpg;") == ["https://a/1.jpg", "https://a/2.jpg"]
    assert gallery_urls(shape, ["https://a/1.jpg", None]) == ["https://a/1.jpg"]
    assert gallery_urls(shape, None) == []


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"parent_sku_column": "parent"}, "both parent_sku_column and option_columns"),
        ({"on_missing_categories": "disable"}, "on_missing_categories"),
        ({"category_column": "c", "category_separator": " "}, "must not be blank"),
    ],
)
def test_shape_options_are_checked(options: dict[str, Any], match: str) -> None:
    with pytest.raises(EcwidConfigError, match=match):
        FeedShape(**options)


def test_url_problems() -> None:
    assert url_problem("https://img.example/a.jpg") is None
    assert url_problem("img.example/a.jpg") is not None
    assert url_problem("ftp://img.example/a.jpg") is not None
    assert url_problem("https://img.example/a b.jpg") is not None


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(rows, columns=["sku", "parent", "Size", "Color", "image"])
    return frame


def test_split_rows_names_every_problem_with_row_and_column() -> None:
    rows = frame(
        [
            {"sku": "T"},
            {"sku": "T-1", "parent": "T", "Size": "S", "Color": "Red"},
            {"sku": "T-2", "parent": "T", "Size": "M"},  # Color missing: disagrees with row 1
            {"sku": "T-3", "parent": "T", "Size": "S", "Color": "Red"},  # same choices as row 1
            {"sku": "X-1", "parent": "X", "Size": "S"},  # no product X
            {"sku": "T", "parent": "T", "Size": "L", "Color": "Red"},  # SKU of a product
            {"sku": "U", "image": "/relative.jpg"},
        ]
    )
    _, problems = split_rows(rows, list(rows["sku"]), SHAPE)
    found = sorted((p.row, p.column) for p in problems.shown)
    assert found == [(2, "Color"), (3, "Size"), (4, "parent"), (5, "sku"), (6, "image")]


def test_options_keep_column_order_and_first_seen_choices() -> None:
    rows = frame(
        [
            {"sku": "T"},
            {"sku": "T-1", "parent": "T", "Size": "M", "Color": "Red"},
            {"sku": "T-2", "parent": "T", "Size": "S", "Color": "Red"},
            {"sku": "T-3", "parent": "T", "Size": "M", "Color": "Blue"},
        ]
    )
    split, _ = split_rows(rows, list(rows["sku"]), SHAPE)
    options = derive_options(split.variations, SHAPE)["T"]
    assert [(o["name"], [c["text"] for c in o["choices"]]) for o in options] == [
        ("Size", ["M", "S"]),
        ("Color", ["Red", "Blue"]),
    ]


def test_variations_send_only_what_differs() -> None:
    rows = frame(
        [
            {"sku": "T"},
            {"sku": "T-1", "parent": "T", "Size": "M", "Color": "Red"},
            {"sku": "T-2", "parent": "T", "Size": "S", "Color": "Red"},
        ]
    ).assign(price=[None, 5.0, 6.0])  # type: ignore[list-item]  # None is a missing price; the stubs want a scalar
    split, _ = split_rows(rows, list(rows["sku"]), SHAPE)
    store = {
        "T": [
            {
                "id": 7,
                "sku": "T-1",
                "price": 5,
                "options": [{"name": "Color", "value": "Red"}, {"name": "Size", "value": "M"}],
            },
            {
                "id": 8,
                "sku": "T-2",
                "price": 5.5,
                "options": [{"name": "Size", "value": "S"}, {"name": "Color", "value": "Red"}],
            },
            {"id": 9, "sku": "T-OLD", "options": []},
        ]
    }
    plan = plan_variations(split.variations, SHAPE, {"T": 1}, store, {})
    assert plan.requests == [
        {"id": "variation:T-2", "method": "PUT", "path": "/products/1/combinations/8", "body": {"price": 6.0}}
    ]
    deleting = FeedShape(**{**SHAPE.__dict__, "on_missing_variations": "delete"})
    assert [r["method"] for r in plan_variations(split.variations, deleting, {"T": 1}, store, {}).requests] == [
        "DELETE",
        "PUT",
    ]
    blocked = plan_variations(split.variations, SHAPE, {"T": 1}, store, {"T": "its options failed"})
    assert (blocked.requests, blocked.skipped) == ([], {"T-1": "its options failed", "T-2": "its options failed"})


def test_category_tree_creates_parents_first_and_lists_unused_children_first() -> None:
    tree = CategoryTree([{"id": 1, "name": "Bikes"}, {"id": 2, "name": "Old", "parentId": 1}])
    levels = tree.missing_levels([("Bikes", "Road", "Carbon"), ("Apparel",)])
    assert levels == [[("Apparel",)], [("Bikes", "Road")], [("Bikes", "Road", "Carbon")]]
    assert tree.create_requests(levels[1], " > ")[0]["body"] == {"name": "Road", "enabled": True, "parentId": 1}
    assert tree.unused([("Bikes", "Road")]) == [(("Bikes", "Old"), 2)]


class Files:
    """An in-memory opener for the image memory."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def open(self, url: str, mode: str) -> IO[Any]:
        if mode == "r":
            if url not in self.files:
                raise FileNotFoundError(url)
            return io.StringIO(self.files[url])
        files = self.files

        class Writer(io.StringIO):
            def close(self) -> None:
                files[url] = self.getvalue()
                super().close()

        return Writer()


def test_image_memory_round_trip_and_store_check() -> None:
    files = Files()
    memory = ImageMemory("mem://store-1.json", 1, files.open).load()
    memory.remember("A", "main", fingerprint("https://a/1.jpg"))
    memory.save()
    again = ImageMemory("mem://store-1.json", 1, files.open).load()
    assert again.get("A", "main") == fingerprint("https://a/1.jpg")
    again.remember("A", "main", None)
    again.save()
    assert ImageMemory("mem://store-1.json", 1, files.open).load().skus == {}
    with pytest.raises(ValueError, match="belongs to store 1"):
        ImageMemory("mem://store-1.json", 2, files.open).load()
    files.files["mem://store-1.json"] = "{cut sho"
    assert ImageMemory("mem://store-1.json", 1, files.open).load().skus == {}  # resend everything: safe


def test_images_sent_only_when_their_url_changed_and_galleries_replaced() -> None:
    shape = FeedShape(image_column="image", gallery_column="gallery")
    products = pd.DataFrame(
        {"sku": ["A", "B"], "image": ["https://a/1.jpg", None], "gallery": ["https://a/g1.jpg|https://a/g2.jpg", None]}
    )
    files = Files()
    memory = ImageMemory("m", 1, files.open)
    memory.remember("A", "main", fingerprint("https://a/1.jpg"))
    memory.remember("B", "main", fingerprint("https://a/old.jpg"))
    plan = ImagePlanner(
        products,
        products.iloc[0:0].assign(_parent=[]),
        shape,
        product_ids={"A": 10, "B": 11},
        variation_ids={},
        new_products=set(),
        memory=memory,
    )
    assert [(r["method"], r["path"]) for r in plan.requests()] == [
        ("DELETE", "/products/10/gallery"),
        ("POST", "/products/10/gallery?externalUrl=https%3A%2F%2Fa%2Fg1.jpg"),
        ("POST", "/products/10/gallery?externalUrl=https%3A%2F%2Fa%2Fg2.jpg"),
        ("DELETE", "/products/11/image"),  # the feed dropped B's image
    ]
    refreshed = ImagePlanner(
        products,
        products.iloc[0:0].assign(_parent=[]),
        shape,
        product_ids={"A": 10, "B": 11},
        variation_ids={},
        new_products={"A"},
        memory=memory,
        refresh=True,
    )
    assert ("POST", "/products/10/image?externalUrl=https%3A%2F%2Fa%2F1.jpg") in [
        (r["method"], r["path"]) for r in refreshed.requests()
    ]
    assert ("DELETE", "/products/10/gallery") not in [(r["method"], r["path"]) for r in refreshed.requests()]
