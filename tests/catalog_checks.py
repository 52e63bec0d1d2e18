"""What the example feed should have made of a store, checked against any view of the store: the emulator in this
process (``EcwidEmulator``) or one in a deployment's process (``tests/deployment``'s ``Deployment``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pandas as pd

EXAMPLES = Path(__file__).resolve().parents[1] / "dags_examples"


class StoreView(Protocol):
    """What the checks read of a store: its products, categories and images as the emulator keeps them."""

    def products(self, store_id: int | None = None) -> list[dict[str, Any]]: ...

    def categories(self, store_id: int | None = None) -> list[dict[str, Any]]: ...

    def images(self, store_id: int | None = None) -> list[dict[str, Any]]: ...


def expected_catalog(feed: str) -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / "data" / feed, dtype={"product_code": str, "parent_code": str})


def category_paths(emulator: StoreView, store_id: int | None = None) -> dict[int, str]:
    categories = {c["id"]: c for c in emulator.categories(store_id)}

    def path(category_id: int) -> str:
        parent = categories[category_id].get("parentId")
        name = str(categories[category_id]["name"])
        return f"{path(parent)} > {name}" if parent else name

    return {category_id: path(category_id) for category_id in categories}


def assert_store_matches(
    emulator: StoreView, feed: pd.DataFrame, store_id: int | None = None, ignore_sku_prefix: str | None = None
) -> None:
    """Products, their category paths, variations (price, stock, choices) and images, as the feed says.

    :param store_id: the store to compare (default: the emulator's first).
    :param ignore_sku_prefix: products whose SKU starts with it are another feed's (left out of the comparison).
    """
    if "parent_code" not in feed:
        feed = feed.assign(parent_code=None)
    products = feed[feed["parent_code"].isna()]
    variations = feed[feed["parent_code"].notna()]
    stored = {
        p["sku"]: p
        for p in emulator.products(store_id)
        if not (ignore_sku_prefix and str(p["sku"]).startswith(ignore_sku_prefix))
    }
    assert set(stored) == set(products["product_code"])
    paths = category_paths(emulator, store_id)
    # itertuples' fields: pandas-stubs types them as any scalar (Period, Interval...), which pd.isna does not take
    row: Any
    for row in products.itertuples():
        product = stored[row.product_code]
        assert product["name"] == row.title
        assert product["price"] == row.price
        assert product["quantity"] == row.stock
        assert product["enabled"] is (row.active == "yes")
        assert [paths[c] for c in product["categoryIds"]] == [row.category]
    combinations = {c["sku"]: c for p in stored.values() for c in p.get("combinations", [])}
    assert set(combinations) == set(variations["product_code"])
    for row in variations.itertuples():
        combination = combinations[row.product_code]
        assert (combination["price"], combination["quantity"]) == (row.price, row.stock)
        chosen = {option["name"]: option["value"] for option in combination["options"]}
        assert chosen == {
            name: getattr(row, name) for name in ("Size", "Color", "Material") if pd.notna(getattr(row, name))
        }
    if "image_url" in feed:
        images = {(i["sku"], i["kind"], i["position"]): i["url"] for i in emulator.images(store_id)}
        for row in feed.itertuples():
            kind = "variation" if pd.notna(row.parent_code) else "main"
            assert images.get((row.product_code, kind, 0)) == (row.image_url if pd.notna(row.image_url) else None)
