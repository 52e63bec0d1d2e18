"""Product options and combinations (variations): the checks Ecwid makes and the combination endpoints.

A product's ``options`` list its choices; a combination names one choice of each choice-type option the
product has, and its SKU is unique in the store across products and other combinations.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow_provider_ecwid.testing.answers import Answer, EcwidFault, bad_request
from airflow_provider_ecwid.testing.store import (
    NUMBER,
    Store,
    check_fields,
    combination_view,
    find_combination,
    find_product,
)

CHOICE_TYPES = frozenset({"SELECT", "RADIO", "SIZE"})
OPTION_TYPES = CHOICE_TYPES | {"CHECKBOX", "TEXTFIELD", "TEXTAREA", "DATE", "FILES"}
COMBINATION_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "sku": (str,),
    "price": NUMBER,
    "compareToPrice": NUMBER,
    "costPrice": NUMBER,
    "quantity": (int,),
    "unlimited": (bool,),
    "options": (list,),
    "weight": NUMBER,
}


def check_options(options: Any) -> None:
    """A product's ``options``: named, typed, unique names, choices with unique texts; raise a 400 otherwise."""
    if options is None:
        return
    names: set[str] = set()
    for position, option in enumerate(options):
        where = f"options[{position}]"
        if not isinstance(option, dict) or not isinstance(option.get("name"), str) or not option["name"]:
            raise bad_request(f"{where} must be an object with a non-empty name")
        if option["name"] in names:
            raise bad_request(f"{where}: the option name {option['name']!r} is used twice")
        names.add(option["name"])
        kind = option.get("type", "SELECT")
        if kind not in OPTION_TYPES:
            raise bad_request(f"{where}: unknown option type {kind!r}")
        choices = option.get("choices") or []
        if not isinstance(choices, list):
            raise bad_request(f"{where}: choices must be a list")
        texts = [choice.get("text") if isinstance(choice, dict) else None for choice in choices]
        if any(not isinstance(text, str) or not text for text in texts):
            raise bad_request(f"{where}: every choice needs a non-empty text")
        if len(set(texts)) != len(texts):
            raise bad_request(f"{where}: a choice text is used twice")
        if kind in CHOICE_TYPES and not texts:
            raise bad_request(f"{where}: a {kind} option needs at least one choice")


def _choice_options(product: dict[str, Any]) -> dict[str, set[str]]:
    return {
        option["name"]: {choice["text"] for choice in option.get("choices") or []}
        for option in product.get("options") or []
        if option.get("type", "SELECT") in CHOICE_TYPES
    }


def _check_combination_options(product: dict[str, Any], options: Any) -> tuple[tuple[str, str], ...]:
    """The combination's choices, checked against the product's options; its key (sorted name/value pairs)."""
    wanted = _choice_options(product)
    if not wanted:
        raise bad_request(f"Product #{product['id']} has no options to make variations of")
    if not isinstance(options, list):
        raise bad_request("A variation needs options: one {name, value} for each option of the product")
    chosen: dict[str, str] = {}
    for option in options:
        if not isinstance(option, dict) or not isinstance(option.get("name"), str):
            raise bad_request("Each variation option must be an object with a name and a value")
        name, value = option["name"], option.get("value")
        if name not in wanted:
            raise bad_request(f"The product has no option {name!r}")
        if name in chosen:
            raise bad_request(f"The variation names option {name!r} twice")
        if value not in wanted[name]:
            raise bad_request(f"Option {name!r} has no choice {value!r}")
        chosen[name] = value
    if set(chosen) != set(wanted):
        raise bad_request(f"A variation must choose every option; missing: {sorted(set(wanted) - set(chosen))}")
    return tuple(sorted(chosen.items()))


def _key(options: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(option["name"]), str(option.get("value"))) for option in options))


def _check_unique(store: Store, product: dict[str, Any], fields: dict[str, Any], own_id: int | None) -> None:
    sku = fields.get("sku")
    if sku:
        owner = store.variation_skus.get(sku)
        if store.sku_index.get(sku) is not None or (owner is not None and owner[1] != own_id):
            raise EcwidFault(409, "SKU_ALREADY_EXISTS", f"The SKU {sku!r} is already used in the store")
    if "options" in fields:
        key = _check_combination_options(product, fields["options"])
        for other_id, other in store.combinations.get(product["id"], {}).items():
            if other_id != own_id and _key(other.get("options") or []) == key:
                raise bad_request(f"Variation #{other_id} has the same options already")


def list_combinations(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    combinations = store.combinations.get(product["id"], {}).values()
    return Answer(200, [combination_view(store, product["id"], combination) for combination in combinations])


def get_combination(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product, combination = find_combination(store, ids[0], ids[1])
    return Answer(200, combination_view(store, product["id"], combination))


def create_combination(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    fields = check_fields(body, COMBINATION_FIELD_TYPES, "variation")
    if "options" not in fields:
        raise bad_request("A variation needs options: one {name, value} for each option of the product")
    _check_unique(store, product, fields, None)
    combination_id = store.new_id()
    known = store.combinations.setdefault(product["id"], {})
    number = 1 + max((item["combinationNumber"] for item in known.values()), default=0)
    combination = {**copy.deepcopy(fields), "id": combination_id, "combinationNumber": number}
    if not combination.get("sku"):
        combination["sku"] = f"{product['sku']}-{number}"
    known[combination_id] = combination
    store.variation_skus[combination["sku"]] = (product["id"], combination_id)
    store.changes.touch_nested(product)
    return Answer(200, {"id": combination_id})


def update_combination(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product, combination = find_combination(store, ids[0], ids[1])
    fields = check_fields(body, COMBINATION_FIELD_TYPES, "variation")
    _check_unique(store, product, fields, combination["id"])
    new_sku = fields.get("sku")
    if new_sku and new_sku != combination.get("sku"):
        store.variation_skus.pop(combination.get("sku", ""), None)
        store.variation_skus[new_sku] = (product["id"], combination["id"])
    combination.update({k: copy.deepcopy(v) for k, v in fields.items() if k not in ("id", "combinationNumber")})
    store.changes.touch_nested(product)
    return Answer(200, {"updateCount": 1})


def delete_combination(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product, combination = find_combination(store, ids[0], ids[1])
    del store.combinations[product["id"]][combination["id"]]
    store.variation_skus.pop(combination.get("sku", ""), None)
    store.images_of(product["id"]).variations.pop(combination["id"], None)
    store.changes.touch_nested(product)
    return Answer(200, {"deleteCount": 1})


def delete_all_combinations(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    known = store.combinations.pop(product["id"], {})
    for combination in known.values():
        store.variation_skus.pop(combination.get("sku", ""), None)
    store.images_of(product["id"]).variations.clear()
    store.changes.touch_nested(product)
    return Answer(200, {"deleteCount": len(known)})


def forget_product(store: Store, product_id: int) -> None:
    """Drop a deleted product's combinations, their SKUs and every image of it."""
    for combination in store.combinations.pop(product_id, {}).values():
        store.variation_skus.pop(combination.get("sku", ""), None)
    store.images.pop(product_id, None)
