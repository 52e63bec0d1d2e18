"""The sample feed of the example DAGs: its columns renamed to Ecwid's product fields (no DAG in this file).

The nightly import and the multi-store sync read the same feed (``data/*.csv``); this module says once how its
columns map to Ecwid's fields, so both DAGs send the same catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
FEED_TO_ECWID = {
    "product_code": "sku",
    "parent_code": "parent_sku",
    "title": "name",
    "category": "category",
    "price": "price",
    "list_price": "compareToPrice",
    "stock": "quantity",
    "weight_kg": "weight",
    "description": "description",
    "Size": "Size",
    "Color": "Color",
    "Material": "Material",
    "image_url": "image",
    "gallery_urls": "gallery",
}
#: The whole-catalog columns of the shaped feed, as EcwidCatalogSyncOperator's arguments.
CATALOG_COLUMNS: dict[str, Any] = {
    "category_column": "category",  # "Apparel > Tops > Shirts": created level by level when missing
    "parent_sku_column": "parent_sku",  # a row naming a parent is a variation of that product
    "option_columns": ["Size", "Color", "Material"],
    "image_column": "image",
    "gallery_column": "gallery",  # URLs joined by "|"
}


def shaped_feed(name: str) -> Any:
    """
    Read ``data/<name>`` and rename its columns to Ecwid's product fields; 'yes'/'no' -> ``enabled``.

    :param name: a CSV file in ``dags_examples/data/``, or an absolute path (a feed of the same columns elsewhere).
    :return: a pandas DataFrame (absent columns stay empty).
    """
    import pandas as pd  # in the task: DAG files are parsed often and should import little

    feed = pd.read_csv(DATA / name, dtype={"product_code": str, "parent_code": str})
    products = feed.reindex(columns=list(FEED_TO_ECWID)).rename(columns=FEED_TO_ECWID)
    products["enabled"] = feed["active"].str.lower().eq("yes")
    return products
