"""How the recent-sources list keeps local paths: names with glob characters, file: URIs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from edgeui.ui.main_window import _remembered_source


def test_an_existing_file_with_brackets_is_remembered_resolved(tmp_path, monkeypatch) -> None:
    real = tmp_path / "clips"
    real.mkdir()
    (real / "clip[1].mp4").write_bytes(b"")
    (tmp_path / "link").symlink_to(real)
    monkeypatch.chdir(tmp_path)
    # The file itself, like any other file: resolved, not kept as a pattern would be.
    assert _remembered_source("link/clip[1].mp4") == str(real / "clip[1].mp4")


def test_a_missing_bracketed_file_is_not_remembered(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clip1.txt").write_bytes(b"")  # not what "clip[1].mp4" could match
    assert _remembered_source("clip[1].mp4") is None
    assert _remembered_source(str(tmp_path / "nowhere" / "*.png")) is None


def test_a_pattern_that_matches_is_remembered_absolute(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run[3]").mkdir()
    (tmp_path / "run[3]" / "a.png").write_bytes(b"")
    assert _remembered_source("run[3]/*.png") == str(tmp_path / "run[3]" / "*.png")


def test_a_relative_file_uri_is_remembered_like_a_relative_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "relative.mp4").write_bytes(b"")
    (tmp_path / "shots").mkdir()
    expected = str(tmp_path / "relative.mp4")
    assert _remembered_source("relative.mp4") == expected
    assert _remembered_source("file:relative.mp4") == expected
    assert _remembered_source("file://" + expected) == expected
    assert _remembered_source("file:shots") == str(tmp_path / "shots")
    assert _remembered_source("file:gone.mp4") is None  # missing: like a plain missing path
