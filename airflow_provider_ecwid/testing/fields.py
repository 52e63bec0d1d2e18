"""Ecwid's ``responseFields`` trimming, e.g. ``total,items(id,sku)``."""

from __future__ import annotations

from typing import Any

from airflow_provider_ecwid.testing.answers import bad_request

FieldTree = dict[str, "FieldTree | None"]


def parse_response_fields(text: str) -> FieldTree:
    """Parse ``a,b(c,d(e))`` into ``{"a": None, "b": {"c": None, "d": {"e": None}}}``."""
    tree, position = _parse(text.replace(" ", ""), 0)
    if position != len(text.replace(" ", "")):
        raise bad_request(f"responseFields is malformed near position {position}: {text!r}")
    return tree


def _parse(text: str, position: int) -> tuple[FieldTree, int]:
    tree: FieldTree = {}
    name = ""
    while position < len(text):
        char = text[position]
        if char == "(":
            if not name:
                raise bad_request(f"responseFields has '(' without a field name: {text!r}")
            subtree, position = _parse(text, position + 1)
            if position >= len(text) or text[position] != ")":
                raise bad_request(f"responseFields has an unclosed '(': {text!r}")
            tree[name] = subtree
            name = ""
        elif char == ")":
            break
        elif char == ",":
            if name:
                tree[name] = None
            name = ""
        else:
            name += char
        position += 1
    if name:
        tree[name] = None
    return tree, position


def trim(value: Any, tree: FieldTree | None) -> Any:
    """Keep only the fields named in ``tree`` (lists are trimmed item by item)."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [trim(item, tree) for item in value]
    if isinstance(value, dict):
        return {key: trim(value[key], subtree) for key, subtree in tree.items() if key in value}
    return value
