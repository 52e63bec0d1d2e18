"""The shape of a whole-catalog feed: which columns carry categories, variations and images, and their checks.

A feed is *long*: one row per product, plus one row per variation that names its product in the parent
column (e.g. ``parent_sku``) and its choices in option columns (e.g. ``Size``, ``Color``). A product row may
carry category paths (``Bikes > Road > Carbon``), a main image URL and a gallery (a list of URLs, or one text
joined by a separator); a variation row may carry its own image in the image column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import pandas as pd

from airflow_provider_ecwid.batch.problems import ProblemLog, RowProblem
from airflow_provider_ecwid.errors import EcwidConfigError

KeepOrDelete = Literal["keep", "delete"]


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


@dataclass
class FeedShape:
    """
    Which feed columns carry what, beyond the product fields.

    :param category_column: category paths of each product row (text, or a list of paths).
    :param category_separator: what separates a path's levels (default ``" > "``; blanks around it are ignored).
    :param on_missing_categories: ``keep`` (default) or ``delete`` store categories no feed path names.
    :param parent_sku_column: on a variation row, its product's SKU; empty on product rows.
    :param option_columns: the option columns of variation rows (e.g. ``["Size", "Color"]``), in display order.
    :param on_missing_variations: ``keep`` (default) or ``delete`` a product's store variations the feed does not
        name.
    :param image_column: the main image URL of a product row, the image of a variation row.
    :param gallery_column: a product row's gallery: a list of URLs, or a text joined by ``gallery_separator``.
    :param gallery_separator: the separator of a gallery given as text (default ``|``).
    """

    category_column: str | None = None
    category_separator: str = " > "
    on_missing_categories: KeepOrDelete = "keep"
    parent_sku_column: str | None = None
    option_columns: Sequence[str] = field(default_factory=tuple)
    on_missing_variations: KeepOrDelete = "keep"
    image_column: str | None = None
    gallery_column: str | None = None
    gallery_separator: str = "|"

    def __post_init__(self) -> None:
        self.option_columns = tuple(self.option_columns or ())
        for name, value in (
            ("on_missing_categories", self.on_missing_categories),
            ("on_missing_variations", self.on_missing_variations),
        ):
            if value not in ("keep", "delete"):
                raise EcwidConfigError(f"{name} must be 'keep' or 'delete', got {value!r}")
        if bool(self.parent_sku_column) != bool(self.option_columns):
            raise EcwidConfigError("variations need both parent_sku_column and option_columns")
        if not self.category_separator.strip() or not self.gallery_separator:
            raise EcwidConfigError("category_separator and gallery_separator must not be blank")

    @property
    def active(self) -> bool:
        """True when the feed carries more than flat product fields."""
        return bool(self.category_column or self.parent_sku_column or self.image_column or self.gallery_column)

    @property
    def special_columns(self) -> list[str]:
        """The columns that are not product fields."""
        named = [self.category_column, self.parent_sku_column, self.image_column, self.gallery_column]
        return [name for name in named if name] + list(self.option_columns)

    def check_columns(self, columns: Sequence[str]) -> None:
        missing = [name for name in self.special_columns if name not in columns]
        if missing:
            raise EcwidConfigError(f"the feed has no column(s) {missing}; its columns are {list(columns)}")

    # -- cell readers ---------------------------------------------------------------------------------------

    def paths(self, value: Any) -> list[list[str]]:
        """A category cell as paths of level names (a list cell holds several paths)."""
        if is_empty(value):
            return []
        cells = list(value) if isinstance(value, list | tuple) else [value]
        return [[level.strip() for level in text(cell).split(self.category_separator.strip())] for cell in cells]

    def gallery(self, value: Any) -> list[str]:
        """A gallery cell as URLs in order (a list, or a text joined by the separator)."""
        if is_empty(value):
            return []
        if isinstance(value, list | tuple):
            return [str(url).strip() for url in value if not is_empty(url)]
        if hasattr(value, "tolist"):  # a numpy array from Parquet
            return [str(url).strip() for url in value.tolist() if not is_empty(url)]
        return [url.strip() for url in str(value).split(self.gallery_separator) if url.strip()]


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
            for path in shape.paths(category):
                if any(not level for level in path):
                    why = f"category path {shape.category_separator.join(path)!r} has an empty level"
                    problems.add(RowProblem(int(row), sku, shape.category_column, why))
        urls: list[tuple[str, str]] = []
        if shape.image_column and not is_empty(image):
            urls.append((shape.image_column, text(image)))
        if shape.gallery_column and not is_variation[position]:
            urls += [(shape.gallery_column, url) for url in shape.gallery(gallery)]
        for column, url in urls:
            problem = url_problem(url)
            if problem is not None:
                problems.add(RowProblem(int(row), sku, column, f"image URL {problem}"))
