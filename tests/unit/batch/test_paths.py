from __future__ import annotations

import pytest

from airflow_provider_ecwid.batch.paths import check_api_path, path_problem, redact_path
from airflow_provider_ecwid.errors import EcwidUnsafePathError


@pytest.mark.parametrize(
    "path",
    [
        "/products",
        "/products/123",
        "/products?sku=A1&limit=5",
        "/products/123/inventory",
        "/products/123/image?externalUrl=https://cdn.example.com/a.png",
        "/batch/cancel-group?groupId=g1",
        "/products?keyword=a..b",
        "/products?keyword=%2e%2e",
        "/products/a%2eb",
    ],
)
def test_safe_paths_pass_unchanged(path: str) -> None:
    assert path_problem(path) is None
    assert check_api_path(path) == path


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("products/1", "start with '/'"),
        ("", "empty"),
        ("https://evil.example.com/products", "start with '/'"),
        ("//evil.example.com/products", "'//'"),
        ("/products//1", "empty segment"),
        ("/products/../orders", "'..'"),
        ("/products/./1", "'.'"),
        ("/products/1\r\nX-Injected: 1", "control character"),
        ("/products/1\n", "control character"),
        ("/products?token=secret_abc", "token="),
        ("/products?limit=1&TOKEN=secret_abc", "token="),
        ("/products?%74oken=secret_abc", "token="),
        ("/products\\..\\orders", "backslash"),
        ("/products/%2e%2e/%2e%2e/x", "'..'"),
        ("/products/%2E%2E/orders", "'..'"),
        ("/products/.%2E/orders", "'..'"),
        ("/products/%2e/1", "'.'"),
        ("/products/%252e%252e/orders", "'..'"),
        ("/products/%2e%2e%2forders", "'..'"),
        ("/products/%2E%2e%5Corders", "'..'"),
        (None, "must be a string"),
        (123, "must be a string"),
    ],
)
def test_unsafe_paths_are_refused_with_the_reason(path: object, reason: str) -> None:
    problem = path_problem(path)
    assert problem is not None
    assert reason in problem
    with pytest.raises(EcwidUnsafePathError, match="Unsafe Ecwid API path"):
        check_api_path(path)


def test_the_refusal_of_a_token_parameter_does_not_repeat_the_token() -> None:
    with pytest.raises(EcwidUnsafePathError) as caught:
        check_api_path("/products?sku=A&token=secret_abcdef")
    assert "secret_abcdef" not in str(caught.value)
    assert "sku=A" in str(caught.value)


def test_redact_path_hides_only_token_values() -> None:
    assert redact_path("/p?a=1&token=s3cr3t&b=2") == "/p?a=1&token=***&b=2"
    assert redact_path("/p?a=1") == "/p?a=1"
    assert redact_path("/p") == "/p"
