"""Files by path or URL: one dispatch for the feed, the image memory and the results file."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_ecwid.runtime.storage import open_input, open_url


def test_a_local_path_and_a_file_url_are_the_same_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "memory.json"
    with open_url(f"file://{target}", "w") as handle:
        handle.write('{"a": 1}')
    assert target.read_text(encoding="utf-8") == '{"a": 1}'
    with open_url(str(target), "r") as handle:
        assert handle.read() == '{"a": 1}'
    with open_input(str(target)) as raw:
        assert raw.read() == b'{"a": 1}'


def test_a_local_text_file_appears_whole_on_close(tmp_path: Path) -> None:
    target = tmp_path / "results.csv"
    handle = open_url(str(target), "w")
    handle.write("a,b\r\n1,2\r\n")
    assert not target.exists()  # nothing half-written is visible
    handle.close()
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"  # CSV line ends kept as written
    assert [path.name for path in tmp_path.iterdir()] == ["results.csv"]


def test_a_local_binary_file_appears_whole_on_close(tmp_path: Path) -> None:
    target = tmp_path / "deeper" / "progress.json.gz"
    with open_url(f"file://{target}", "wb") as handle:
        handle.write(b"\x1f\x8b gzip bytes")
        assert not target.exists()  # nothing half-written is visible
    assert target.read_bytes() == b"\x1f\x8b gzip bytes"
    assert [path.name for path in target.parent.iterdir()] == ["progress.json.gz"]
