"""A whole-catalog feed read against its shape (``catalog.settings.FeedShape``): its cells, and its checks.

A feed is *long*: one row per product, plus one row per variation that names its product in the parent
column (e.g. ``parent_sku``) and its choices in option columns (e.g. ``Size``, ``Color``). A product row may
carry category paths (``Bikes > Road > Carbon``), a main image URL and a gallery (a list of URLs, or one text
joined by a separator); a variation row may carry its own image in the image column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from airflow_provider_ecwid.batch.problems import ProblemLog, RowProblem
from airflow_provider_ecwid.catalog.settings import FeedShape

__all__ = ["FeedRows", "FeedShape", "category_paths", "gallery_urls", "is_empty", "split_rows", "text", "url_problem"]


def is_empty(value: Any) -> bool:
    """True for None, NaN/NA and blank text (what a CSV or a DataFrame leaves in an empty cell)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values
        return False


def text(value: Any) -> str:
    """A cell as text: whole floats without ``.0`` (a CSV reads ``42`` in a column with blanks as 42.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def category_paths(shape: FeedShape, value: Any) -> list[list[str]]:
    """A category cell as paths of level names (a list cell holds several paths)."""
    if is_empty(value):
        return []
    cells = list(value) if isinstance(value, list | tuple) else [value]
    return [[level.strip() for level in text(cell).split(shape.category_separator.strip())] for cell in cells]


def gallery_urls(shape: FeedShape, value: Any) -> list[str]:
    """A gallery cell as URLs in order (a list, or a text joined by the separator)."""
    if is_empty(value):
        return []
    if isinstance(value, list | tuple):
        return [str(url).strip() for url in value if not is_empty(url)]
    if hasattr(value, "tolist"):  # a numpy array from Parquet
        return [str(url).strip() for url in value.tolist() if not is_empty(url)]
    return [url.strip() for url in str(value).split(shape.gallery_separator) if url.strip()]


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an image source (Ecwid fetches absolute http(s) URLs only), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
        return f"{url!r} is not an absolute http(s) URL"
    return None


@dataclass
class FeedRows:
    """
    A checked feed split into products and variations, with row numbers kept for messages.

    :param products: product rows (their position in the feed is ``products.index``).
    :param variations: variation rows (position likewise), with the parent SKU as text.
    """

    products: pd.DataFrame
    variations: pd.DataFrame


def split_rows(frame: pd.DataFrame, skus: Sequence[str], shape: FeedShape) -> tuple[FeedRows, ProblemLog]:
    """
    Split the feed into product and variation rows and check what ties them together.

    Problems: a variation whose parent is not a product row of the feed; a SKU used by two rows (product or
    variation); a variation whose option columns differ from its siblings' (one fills Size, another leaves it
    empty) or repeat a sibling's choices; an empty option value; a category path with an empty level; an image
    URL that is not absolute http(s). Every problem names the feed row, the column and the reason.

    :param frame: the feed, SKU column named ``sku``; its index is the feed row number.
    :param skus: each row's SKU as text.
    :param shape: the columns' roles.
    """
    problems = ProblemLog()
    first_use: dict[str, int] = {}
    for row, sku in enumerate(skus):
        if sku in first_use:
            problems.add(RowProblem(row, sku, "sku", f"SKU {sku!r} is used by row {first_use[sku]} too"))
        else:
            first_use[sku] = row
    frame = frame.assign(sku=list(skus))
    parents = (
        frame[shape.parent_sku_column].map(lambda v: "" if is_empty(v) else text(v))
        if shape.parent_sku_column
        else pd.Series("", index=frame.index)
    )
    is_variation = (parents != "").to_numpy()
    products = frame.loc[~is_variation]
    variations = frame.loc[is_variation].assign(_parent=parents[is_variation])
    product_skus = set(products["sku"])
    _check_variations(variations, product_skus, shape, problems)
    _check_cells(frame, is_variation, shape, problems)
    return FeedRows(products, variations), problems


def _check_variations(variations: pd.DataFrame, product_skus: set[str], shape: FeedShape, problems: ProblemLog) -> None:
    parent_column = shape.parent_sku_column or ""
    seen: dict[str, tuple[tuple[str, ...], int]] = {}  # parent -> (option columns used, first row)
    choices: dict[tuple[str, tuple[str, ...]], int] = {}
    for row, sku, parent, values in zip(
        variations.index,
        variations["sku"],
        variations["_parent"],
        variations[list(shape.option_columns)].itertuples(index=False, name=None),
        strict=True,
    ):
        if parent not in product_skus:
            why = f"names parent {parent!r}, which is no product row of the feed"
            problems.add(RowProblem(int(row), sku, parent_column, why))
            continue
        used = tuple(name for name, value in zip(shape.option_columns, values, strict=True) if not is_empty(value))
        if not used:
            problems.add(RowProblem(int(row), sku, shape.option_columns[0], "a variation needs at least one option"))
            continue
        first = seen.setdefault(parent, (used, int(row)))
        if first[0] != used:
            differ = sorted(set(first[0]) ^ set(used))[0]
            why = f"options disagree with row {first[1]} of product {parent!r}: one sets {differ!r}, the other not"
            problems.add(RowProblem(int(row), sku, differ, why))
            continue
        key = (parent, tuple(text(value) for value in values if not is_empty(value)))
        if key in choices:
            why = f"the same choices as row {choices[key]} of product {parent!r}"
            problems.add(RowProblem(int(row), sku, used[0], why))
        else:
            choices[key] = int(row)


def _check_cells(frame: pd.DataFrame, is_variation: Any, shape: FeedShape, problems: ProblemLog) -> None:
    nothing = [None] * len(frame)
    categories = frame[shape.category_column].tolist() if shape.category_column else nothing
    images = frame[shape.image_column].tolist() if shape.image_column else nothing
    galleries = frame[shape.gallery_column].tolist() if shape.gallery_column else nothing
    rows = zip(frame.index.tolist(), frame["sku"].tolist(), categories, images, galleries, strict=True)
    for position, (row, sku, category, image, gallery) in enumerate(rows):
        if shape.category_column:
            for path in category_paths(shape, category):
                if any(not level for level in path):
                    why = f"category path {shape.category_separator.join(path)!r} has an empty level"
                    problems.add(RowProblem(int(row), sku, shape.category_column, why))
        urls: list[tuple[str, str]] = []
        if shape.image_column and not is_empty(image):
            urls.append((shape.image_column, text(image)))
        if shape.gallery_column and not is_variation[position]:
            urls += [(shape.gallery_column, url) for url in gallery_urls(shape, gallery)]
        for column, url in urls:
            problem = url_problem(url)
            if problem is not None:
                problems.add(RowProblem(int(row), sku, column, f"image URL {problem}"))
