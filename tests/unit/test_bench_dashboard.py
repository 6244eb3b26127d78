"""The bench's bundle figure: every script of the build, gzipped as a browser downloads it."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bench.dashboard import bundle_gzip_bytes


def test_the_bundle_is_each_script_gzipped_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    scripts = {"index-A1.js": b"console.log('a');" * 400, "vendor-B2.js": b"let x = 1;" * 50}
    for name, body in scripts.items():
        (tmp_path / "assets" / name).write_bytes(body)
    (tmp_path / "assets" / "index-C3.css").write_bytes(b"body{}" * 1000)
    (tmp_path / "index.html").write_bytes(b"<!doctype html>" * 100)
    expected = sum(len(gzip.compress(body, 9)) for body in scripts.values())
    assert bundle_gzip_bytes(tmp_path) == expected
    assert expected < sum(len(body) for body in scripts.values())


def test_no_build_is_an_error_not_zero(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make dashboard"):
        bundle_gzip_bytes(tmp_path)
