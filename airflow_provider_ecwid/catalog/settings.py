"""The sync's settings, as frozen objects checked when they are made: in the operator's ``__init__`` for every
argument that no template fills (a DAG file with a wrong one fails when it is parsed), else when the task runs,
before any call. Plain Python: nothing here loads pandas.

:class:`ProductSettings` is what the product diff needs, :class:`FeedShape` which columns carry categories,
variations and images, :class:`Lookup` how SKUs are mapped to product ids.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.tickets.verdict import check_fraction

if TYPE_CHECKING:  # the batch layer's builder loads pandas
    from airflow_provider_ecwid.batch.build import NullValues

#: How SKUs are mapped to product ids: ``auto`` (the cheaper way), ``scan`` (page the catalog) or ``batch``.
LookupMode = Literal["auto", "scan", "batch"]

#: What to do with store products whose SKU the feed does not name.
OnMissing = Literal["keep", "disable", "delete"]
#: What to do with store categories or variations the feed does not name.
KeepOrDelete = Literal["keep", "delete"]
#: Seconds between status calls while batched lookups run: GETs run fast, so sooner than the operator's poll.
LOOKUP_POLL_INTERVAL = 2.0


def check_lookup(mode: Any) -> LookupMode:
    """Accept a lookup mode; refuse anything else before the first call."""
    if mode not in get_args(LookupMode):
        raise EcwidConfigError(f"lookup must be 'auto', 'scan' or 'batch', got {mode!r}")
    return mode  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Lookup:
    """
    How the sync maps SKUs to product ids, and how long batched lookups may wait (the operator's own limits).

    :param mode: ``auto`` (the cheaper way), ``scan`` (page the catalog) or ``batch`` (lookups inside batches).
    :param timeout: the most seconds batched lookups may wait in all (None: no limit).
    :param progress_timeout: seconds without a newly completed lookup before failing (None: no limit).
    :param poll_interval: seconds between status calls while they run.
    """

    mode: LookupMode = "auto"
    timeout: float | None = None
    progress_timeout: float | None = 3600.0
    poll_interval: float = LOOKUP_POLL_INTERVAL

    def __post_init__(self) -> None:
        check_lookup(self.mode)

    def deadline(self) -> float | None:
        """The wall-clock time after which waiting fails, counted from now (None: no limit)."""
        return None if self.timeout is None else time.time() + self.timeout


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        choices = ", ".join(repr(choice) for choice in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise EcwidConfigError(f"{name} must be {choices}, got {value!r}")


@dataclass(frozen=True)
class ProductSettings:
    """
    How the feed's product rows are compared with the store's products and sent.

    :param feed_sku_column: what the feed calls its SKU column (sent as Ecwid's ``sku``).
    :param body_columns: the product fields to send; None: every column of the feed.
    :param enabled_default: ``enabled`` sent with new products when the feed has no ``enabled`` column
        (Ecwid makes a product without it disabled).
    :param on_missing: ``keep``, ``disable`` or ``delete`` store products whose SKU is not in the feed.
    :param max_missing_share: refuse when ``on_missing`` would touch more than this share of the catalog (None:
        no cap).
    :param null_values: ``omit`` or ``null`` for empty feed values.
    """

    feed_sku_column: str = "sku"
    body_columns: tuple[str, ...] | None = None
    enabled_default: bool = True
    on_missing: OnMissing = "keep"
    max_missing_share: float | None = 0.1
    null_values: NullValues = "omit"

    def __post_init__(self) -> None:
        _one_of("on_missing", self.on_missing, get_args(OnMissing))
        _one_of("null_values", self.null_values, ("omit", "null"))
        object.__setattr__(self, "max_missing_share", check_fraction(self.max_missing_share, "max_missing_share"))
        if self.body_columns is not None:
            object.__setattr__(self, "body_columns", tuple(str(name) for name in self.body_columns))
        if not isinstance(self.feed_sku_column, str) or not self.feed_sku_column:
            raise EcwidConfigError(f"sku_column must name a column, got {self.feed_sku_column!r}")

    @property
    def reads_whole_catalog(self) -> bool:
        """Products missing from the feed are acted on, so the lookup must see the whole catalog."""
        return self.on_missing != "keep"


@dataclass(frozen=True)
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
        object.__setattr__(self, "option_columns", tuple(self.option_columns or ()))
        _one_of("on_missing_categories", self.on_missing_categories, get_args(KeepOrDelete))
        _one_of("on_missing_variations", self.on_missing_variations, get_args(KeepOrDelete))
        if bool(self.parent_sku_column) != bool(self.option_columns):
            raise EcwidConfigError("variations need both parent_sku_column and option_columns")
        if not self.category_separator.strip() or not self.gallery_separator:
            raise EcwidConfigError("category_separator and gallery_separator must not be blank")

    @property
    def active(self) -> bool:
        """True when the feed carries more than flat product fields (the sync then runs in phases)."""
        return bool(self.category_column or self.parent_sku_column or self.image_column or self.gallery_column)

    @property
    def has_images(self) -> bool:
        """The feed has image columns (the images phase runs)."""
        return bool(self.image_column or self.gallery_column)

    @property
    def special_columns(self) -> list[str]:
        """The columns that are not product fields."""
        named = [self.category_column, self.parent_sku_column, self.image_column, self.gallery_column]
        return [name for name in named if name] + list(self.option_columns)

    def check_columns(self, columns: Sequence[str]) -> None:
        """Refuse a feed that lacks a column this shape names."""
        missing = [name for name in self.special_columns if name not in columns]
        if missing:
            raise EcwidConfigError(f"the feed has no column(s) {missing}; its columns are {list(columns)}")
