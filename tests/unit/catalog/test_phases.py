"""The phases as data: their order, their names in the progress, and the request ids made and read in one place."""

from __future__ import annotations

import pytest

from airflow_provider_ecwid.catalog import request_ids
from airflow_provider_ecwid.catalog.phases import PHASES, STEPS, phase_named, step_after
from airflow_provider_ecwid.catalog.request_ids import GALLERY_IMAGE, KINDS, OPTIONS, RequestKind, sku_of


def test_the_steps_are_the_ones_a_saved_progress_names() -> None:
    """A progress saved by an earlier release (XCom, the state store) names its step: the names must not move."""
    assert STEPS == ("categories", "products", "options", "variations", "images", "categories-unused", "done")
    assert [phase.name for phase in PHASES] == list(STEPS[:-1])
    assert [phase.name for phase in PHASES if phase.repeats] == ["categories"]
    assert step_after("images") == "categories-unused"
    assert step_after("categories-unused") == "done"


def test_an_unknown_step_is_refused() -> None:
    with pytest.raises(ValueError, match="no phase is called 'prices'"):
        phase_named("prices")


@pytest.mark.parametrize(
    ("request_id", "sku"),
    [
        ("TEE", "TEE"),  # a product's own create or update carries its bare SKU
        ("options:TEE", "TEE"),
        ("missing:OLD-1", "OLD-1"),
        ("variation:TEE-S", "TEE-S"),
        ("variation-missing:TEE-XL", "TEE-XL"),
        ("category:Bikes > Road", "Bikes > Road"),
        ("category-missing:Shoes", "Shoes"),
        ("main-image:TEE", "TEE"),
        ("variation-image:TEE-S", "TEE-S"),
        ("gallery-image:TEE:clear", "TEE"),
        ("gallery-image:TEE:2", "TEE"),
        ("gallery-image:A:B:3", "A:B"),  # a SKU with a colon keeps it
    ],
)
def test_a_failure_names_the_row_its_request_was_for(request_id: str, sku: str) -> None:
    assert sku_of(request_id) == sku


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.prefix)
def test_every_kind_reads_back_the_key_it_made(kind: RequestKind) -> None:
    made = kind.make("SKU:1", 0) if kind.stepped else kind.make("SKU:1")
    assert kind.key(made) == "SKU:1"
    assert sku_of(made) == "SKU:1"
    others = [other for other in KINDS if other is not kind]
    assert all(other.key(made) is None for other in others)  # no prefix is another's


def test_a_kind_refuses_a_step_it_does_not_take_and_wants_one_it_does() -> None:
    with pytest.raises(ValueError, match="takes no step"):
        OPTIONS.make("TEE", 1)
    with pytest.raises(ValueError, match="needs step"):
        GALLERY_IMAGE.make("TEE")


def test_every_kind_is_listed() -> None:
    declared = [value for value in vars(request_ids).values() if isinstance(value, RequestKind)]
    assert sorted(kind.prefix for kind in declared) == sorted(kind.prefix for kind in KINDS)
