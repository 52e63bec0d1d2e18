"""The emulator's images by URL (main, gallery, variation), over real HTTP and in batches.

Like Ecwid, the store answers with its own CDN URLs and never shows the URL an image came from; the
emulator's inspection view (``EcwidEmulator.images``) is the only place that records it.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.helpers import Api

OPTIONS = [{"type": "SELECT", "name": "Size", "choices": [{"text": "S"}, {"text": "M"}]}]


@pytest.fixture
def api(ecwid_emulator: EcwidEmulator) -> Api:
    return Api(ecwid_emulator)


def product(api: Api) -> int:
    return int(api.call("POST", "/products", json={"sku": "P", "options": OPTIONS}).json()["id"])


def image(api: Api, path: str, url: str) -> int:
    answer = api.call("POST", path, params={"externalUrl": url})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def test_main_image_is_replaced_and_answers_show_cdn_urls_only(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    pid = product(api)
    first = image(api, f"/products/{pid}/image", "https://shop.example/a.png")
    second = image(api, f"/products/{pid}/image", "https://shop.example/b.png")
    assert first != second
    shown = api.call("GET", f"/products/{pid}").json()
    assert shown["originalImage"]["id"] == second
    assert "shop.example" not in json.dumps(shown)  # the source URL is never shown again
    assert shown["imageUrl"].startswith("https://")
    assert [(row["kind"], row["url"]) for row in ecwid_emulator.images()] == [("main", "https://shop.example/b.png")]
    assert api.call("DELETE", f"/products/{pid}/image").json() == {"deleteCount": 1}
    assert "imageUrl" not in api.call("GET", f"/products/{pid}").json()
    assert ecwid_emulator.images() == []


def test_gallery_add_delete_one_and_replace_in_order(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    pid = product(api)
    ids = [image(api, f"/products/{pid}/gallery", f"https://shop.example/g{n}.jpg") for n in range(3)]
    gallery = api.call("GET", f"/products/{pid}").json()["galleryImages"]
    assert [item["id"] for item in gallery] == ids
    assert api.call("DELETE", f"/products/{pid}/gallery/{ids[1]}").json() == {"deleteCount": 1}
    assert api.call("DELETE", f"/products/{pid}/gallery/{ids[1]}").status_code == 404
    assert [row["url"] for row in ecwid_emulator.images()] == [
        "https://shop.example/g0.jpg",
        "https://shop.example/g2.jpg",
    ]
    # replace: delete all, then add in the new order
    assert api.call("DELETE", f"/products/{pid}/gallery").json() == {"deleteCount": 2}
    for name in ("z", "y"):
        image(api, f"/products/{pid}/gallery", f"https://shop.example/{name}.jpg")
    assert [(row["position"], row["url"]) for row in ecwid_emulator.images()] == [
        (1, "https://shop.example/z.jpg"),
        (2, "https://shop.example/y.jpg"),
    ]
    media = api.call("GET", f"/products/{pid}").json()["media"]["images"]
    assert [item["isMain"] for item in media] == [False, False]


def test_variation_image(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    pid = product(api)
    cid = api.call(
        "POST", f"/products/{pid}/combinations", json={"sku": "P-S", "options": [{"name": "Size", "value": "S"}]}
    )
    path = f"/products/{pid}/combinations/{cid.json()['id']}/image"
    image(api, path, "https://shop.example/s.jpg")
    shown = api.call("GET", f"/products/{pid}/combinations").json()[0]
    assert shown["imageUrl"].startswith("https://")
    assert "shop.example" not in shown["imageUrl"]
    assert [(row["sku"], row["kind"], row["url"]) for row in ecwid_emulator.images()] == [
        ("P-S", "variation", "https://shop.example/s.jpg")
    ]
    assert api.call("DELETE", path).json() == {"deleteCount": 1}
    assert "imageUrl" not in api.call("GET", f"/products/{pid}/combinations").json()[0]
    assert (
        api.call(
            "POST", f"/products/{pid}/combinations/999/image", params={"externalUrl": "https://a.example/x.jpg"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "url", ["https://missing.invalid/a.jpg", "http://not-an-image.invalid/a.txt", "ftp://a.example/x", "nope", ""]
)
def test_a_url_that_cannot_be_fetched_is_400(api: Api, ecwid_emulator: EcwidEmulator, url: str) -> None:
    pid = product(api)
    for path in (f"/products/{pid}/image", f"/products/{pid}/gallery"):
        answer = api.call("POST", path, params={"externalUrl": url})
        assert answer.status_code == 400
        assert answer.json()["errorMessage"]
    assert ecwid_emulator.images() == []


def test_images_in_a_batch_fail_alone_and_answer_as_direct_calls(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    pid = product(api)
    good, bad = quote("https://shop.example/ok.jpg", safe=""), quote("https://missing.invalid/no.jpg", safe="")
    ticket = api.batch(
        [
            {"id": "main", "method": "POST", "path": f"/products/{pid}/image?externalUrl={good}"},
            {"id": "broken", "method": "POST", "path": f"/products/{pid}/gallery?externalUrl={bad}"},
            {"id": "gallery", "method": "POST", "path": f"/products/{pid}/gallery?externalUrl={good}"},
            {"id": "read", "method": "GET", "path": f"/products/{pid}"},
        ],
        stopOnFirstFailure=False,
    )
    results = {item["id"]: item for item in api.wait(ticket)["responses"]}
    assert {name: item["httpStatusCode"] for name, item in results.items()} == {
        "main": 200,
        "broken": 400,
        "gallery": 200,
        "read": 200,
    }
    read = json.loads(results["read"]["escapedHttpBody"])
    assert "shop.example" not in json.dumps(read)
    assert len(read["galleryImages"]) == 1
    assert sorted(row["kind"] for row in ecwid_emulator.images()) == ["gallery", "main"]
    assert ecwid_emulator.call_count(scope="inner", endpoint="/products/{id}/gallery", status=400) == 1
