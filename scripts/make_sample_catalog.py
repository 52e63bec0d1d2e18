"""Write the example DAGs' sample catalogs (deterministic: the same files every time).

    .venv/bin/python scripts/make_sample_catalog.py

catalog.csv: about 1,000 products with categories, prices, stock. catalog_bad_rows.csv: 40 products of which
3 are rows Ecwid rejects (a negative price, a fractional stock, a negative compare-to price), to show how
failed rows are reported while every good row still lands.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent.parent / "dags_examples" / "data"
CATEGORIES = ["Hats", "Shirts", "Shoes", "Bags", "Socks", "Scarves", "Gloves", "Belts", "Jackets", "Jewellery"]
ADJECTIVES = ["Classic", "Organic", "Vintage", "Everyday", "Premium", "Travel", "Summer", "Winter", "Urban", "Cozy"]


def catalog(count: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        category = CATEGORIES[n % len(CATEGORIES)]
        price = round(rng.uniform(4, 250), 2)
        rows.append(
            {
                "product_code": f"{prefix}-{n:05d}",
                "title": f"{rng.choice(ADJECTIVES)} {category} #{n}",
                "category": category,
                "price": price,
                "list_price": round(price * rng.uniform(1.0, 1.4), 2) if rng.random() < 0.3 else None,
                "stock": rng.randint(0, 120),
                "weight_kg": round(rng.uniform(0.05, 3.0), 3),
                "active": "yes" if rng.random() < 0.95 else "no",
                "description": f"<p>{category} made to last. Item {n}.</p>",
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    catalog(1000, seed=7, prefix="DEMO").to_csv(DATA / "catalog.csv", index=False)
    bad = catalog(40, seed=11, prefix="BAD")
    bad["stock"] = bad["stock"].astype(float)
    bad.loc[5, "price"] = -3.5  # Ecwid: 400, price must not be negative
    bad.loc[17, "stock"] = 2.5  # Ecwid: 400, quantity must be a whole number
    bad.loc[31, "list_price"] = -10  # Ecwid: 400, compareToPrice must not be negative
    bad.to_csv(DATA / "catalog_bad_rows.csv", index=False)


if __name__ == "__main__":
    main()
