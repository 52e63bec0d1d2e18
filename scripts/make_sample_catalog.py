"""Write the example DAGs' sample catalogs (deterministic: the same files every time).

    .venv/bin/python scripts/make_sample_catalog.py

catalog.csv: a whole-catalog feed as merchants export it. 400 products in category paths three levels deep
(``Apparel > Tops > Shirts``), each with a main image URL and most with a gallery (URLs joined by ``|``); 60 of
them have variations in a long shape: one row per variation naming its product in ``parent_code``, with 2 or 3
option columns (``Size``, ``Color``, ``Material``), its own price, stock and sometimes its own image.
catalog_changed.csv: the same feed with one variation's price changed, one product's main image changed and one
new variation (the demo's third run sends exactly those three). catalog_bad_rows.csv: 40 flat products of which
3 are rows Ecwid rejects (a negative price, a fractional stock, a negative compare-to price), to show how
failed rows are reported while every good row still lands.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pandas as pd

DATA = Path(__file__).resolve().parent.parent / "dags_examples" / "data"
IMAGES = "https://images.example.com/demo"
TREE = {
    "Apparel": {"Tops": ["Shirts", "Sweaters"], "Bottoms": ["Jeans", "Shorts"]},
    "Outdoor": {"Camping": ["Tents", "Stoves"], "Cycling": ["Helmets", "Lights"]},
    "Home": {"Kitchen": ["Mugs", "Knives"], "Living": ["Lamps", "Rugs"]},
}
PATHS = [
    f"{top} > {middle} > {leaf}"
    for top, middles in TREE.items()
    for middle, leaves in middles.items()
    for leaf in leaves
]
ADJECTIVES = ["Classic", "Organic", "Vintage", "Everyday", "Premium", "Travel", "Summer", "Winter", "Urban", "Cozy"]
SIZES, COLORS, MATERIALS = ["S", "M", "L"], ["Red", "Blue", "Black"], ["Cotton", "Wool"]
COLUMNS = [
    "product_code", "parent_code", "title", "category", "price", "list_price", "stock", "weight_kg", "active",
    "description", "Size", "Color", "Material", "image_url", "gallery_urls",
]  # fmt: skip


def _offer(n: int, rng: random.Random, title: str, price: float) -> dict[str, Any]:
    """The fields every sample product has, drawn in one order (the committed files depend on it)."""
    return {
        "title": f"{rng.choice(ADJECTIVES)} {title} #{n}",
        "price": price,
        "list_price": round(price * rng.uniform(1.0, 1.4), 2) if rng.random() < 0.3 else None,
        "stock": rng.randint(0, 120),
        "weight_kg": round(rng.uniform(0.05, 3.0), 3),
        "active": "yes" if rng.random() < 0.95 else "no",
    }


def _product(n: int, rng: random.Random) -> dict[str, Any]:
    path = PATHS[n % len(PATHS)]
    leaf = path.rsplit(" > ", 1)[-1]
    price = round(rng.uniform(4, 250), 2)
    code = f"DEMO-{n:05d}"
    gallery = [f"{IMAGES}/{code}-{k}.jpg" for k in range(1, rng.randint(0, 3) + 1)]
    return {
        "product_code": code,
        "category": path,
        **_offer(n, rng, leaf, price),
        "description": f"<p>{leaf} made to last. Item {n}.</p>",
        "image_url": f"{IMAGES}/{code}.jpg",
        "gallery_urls": "|".join(gallery) or None,
    }


def _variations(product: dict[str, Any], rng: random.Random, dimensions: int) -> list[dict[str, Any]]:
    """Every combination of the product's options but the last (so a new one can be added later)."""
    options = [("Size", SIZES), ("Color", COLORS[:2]), ("Material", MATERIALS)][:dimensions]
    combos = list(itertools.product(*(choices for _, choices in options)))[:-1]
    rows = []
    for number, combo in enumerate(combos, 1):
        row: dict[str, Any] = {
            "product_code": f"{product['product_code']}-V{number}",
            "parent_code": product["product_code"],
            "price": round(product["price"] + rng.choice([0, 0, 2.5, 5]), 2),
            "stock": rng.randint(0, 40),
            "image_url": f"{IMAGES}/{product['product_code']}-v{number}.jpg" if number <= 2 else None,
        }
        row.update({name: value for (name, _), value in zip(options, combo, strict=True)})
        rows.append(row)
    return rows


def whole_catalog(count: int = 400, with_variations: int = 60, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for n in range(count):
        product = _product(n, rng)
        rows.append(product)
        if n < with_variations:
            rows += _variations(product, rng, dimensions=2 if n % 2 else 3)
    frame: pd.DataFrame = pd.DataFrame(rows, columns=COLUMNS)
    return frame


def changed(feed: pd.DataFrame) -> pd.DataFrame:
    """One variation's price, one product's main image, one new variation: the demo's third run."""
    feed = feed.copy()
    variation = feed.index[feed["product_code"] == "DEMO-00001-V1"][0]
    feed.loc[variation, "price"] = round(float(feed.loc[variation, "price"]) + 1.25, 2)
    product = feed.index[feed["product_code"] == "DEMO-00002"][0]
    feed.loc[product, "image_url"] = f"{IMAGES}/DEMO-00002-new.jpg"
    parent = feed.loc[feed["product_code"] == "DEMO-00001"].iloc[0]
    new = {"product_code": "DEMO-00001-V6", "parent_code": "DEMO-00001", "price": parent["price"], "stock": 3,
           "Size": SIZES[2], "Color": COLORS[1]}  # fmt: skip
    grown: pd.DataFrame = pd.concat([feed, pd.DataFrame([new], columns=COLUMNS)], ignore_index=True)
    return grown


def flat_catalog(count: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        price = round(rng.uniform(4, 250), 2)
        offer = _offer(n, rng, "item", price)
        rows.append({"product_code": f"{prefix}-{n:05d}", "category": PATHS[n % len(PATHS)], **offer,
                     "description": f"<p>Item {n}.</p>"})  # fmt: skip
    columns = ["product_code", "title", "category", "price", "list_price", "stock", "weight_kg", "active"]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=[*columns, "description"])
    return frame


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    feed = whole_catalog()
    feed.to_csv(DATA / "catalog.csv", index=False)
    changed(feed).to_csv(DATA / "catalog_changed.csv", index=False)
    bad = flat_catalog(40, seed=11, prefix="BAD")
    bad["stock"] = bad["stock"].astype(float)
    bad.loc[5, "price"] = -3.5  # Ecwid: 400, price must not be negative
    bad.loc[17, "stock"] = 2.5  # Ecwid: 400, quantity must be a whole number
    bad.loc[31, "list_price"] = -10  # Ecwid: 400, compareToPrice must not be negative
    bad.to_csv(DATA / "catalog_bad_rows.csv", index=False)


if __name__ == "__main__":
    main()
