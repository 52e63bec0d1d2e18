"""The whole-catalog sync's request ids: made and read here only.

Every request a phase sends carries an id that says what it is for, ``<kind>:<key>``: ``options:TEE`` sets the
options of product ``TEE``, ``category:Bikes/Road`` creates that category. A product's own create or update
carries its bare SKU. The id is how a settled phase finds what each request created or why it failed, and how a
failure names its feed row (:func:`sku_of`), so a new kind of request gets its :class:`RequestKind` here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestKind:
    """
    One kind of request id: ``<prefix>:<key>``, or ``<prefix>:<key>:<step>`` when stepped.

    :param prefix: the id's first part (no colon in it).
    :param stepped: the id ends in one step of several for the same key (a gallery: ``clear``, then ``0``,
        ``1``... one per image).
    """

    prefix: str
    stepped: bool = False

    def make(self, key: str, step: int | str | None = None) -> str:
        """The id of this kind for ``key`` (and ``step``, when stepped)."""
        if self.stepped != (step is not None):
            raise ValueError(f"a {self.prefix!r} request id {'needs' if self.stepped else 'takes no'} step")
        return f"{self.prefix}:{key}" + (f":{step}" if step is not None else "")

    def key(self, request_id: str) -> str | None:
        """The key (a SKU, or a category path) of an id of this kind; None for an id of another kind."""
        if not request_id.startswith(f"{self.prefix}:"):
            return None
        rest = request_id[len(self.prefix) + 1 :]
        return rest.rsplit(":", 1)[0] if self.stepped else rest


#: ``POST /categories``: a category path, its levels joined by the feed's separator.
CATEGORY = RequestKind("category")
#: ``DELETE /categories/{id}`` of a store category no feed path uses.
UNUSED_CATEGORY = RequestKind("category-missing")
#: A store product the feed no longer names, disabled or deleted (see ``catalog.diff``).
MISSING_PRODUCT = RequestKind("missing")
#: ``PUT /products/{id}`` of a known product's options.
OPTIONS = RequestKind("options")
#: A variation's create or update.
VARIATION = RequestKind("variation")
#: ``DELETE`` of a store variation the feed no longer names.
MISSING_VARIATION = RequestKind("variation-missing")
#: A product's main image (set or dropped).
MAIN_IMAGE = RequestKind("main-image")
#: A product's gallery: dropped (step ``clear``), then one request per image (steps ``0``, ``1``...).
GALLERY_IMAGE = RequestKind("gallery-image", stepped=True)
#: A variation's image.
VARIATION_IMAGE = RequestKind("variation-image")

#: Every kind, in the order :func:`sku_of` tries them.
KINDS = (
    MAIN_IMAGE,
    GALLERY_IMAGE,
    VARIATION_IMAGE,
    CATEGORY,
    UNUSED_CATEGORY,
    MISSING_PRODUCT,
    OPTIONS,
    VARIATION,
    MISSING_VARIATION,
)
#: The image kinds, by the image group's kind (``catalog.images.ImageGroup``).
IMAGE_KINDS = {"main": MAIN_IMAGE, "gallery": GALLERY_IMAGE, "variation": VARIATION_IMAGE}


def sku_of(request_id: str) -> str:
    """The SKU (or category path) a request id names: ``gallery-image:TEE:2`` -> ``TEE``; a bare SKU as it is."""
    for kind in KINDS:
        key = kind.key(request_id)
        if key is not None:
            return key
    return request_id
