"""Recent sources on a case-insensitive file system (Windows, macOS): one path, one entry.

CI runs on Linux, so Windows' rule is put in place of os.path.normcase."""

from __future__ import annotations

import ntpath
import os
import sys
from pathlib import Path

import pytest

from edgeui.config import Settings


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEUI_CONFIG_DIR", str(tmp_path / "user"))
    monkeypatch.setenv("EDGEUI_SYSTEM_CONFIG", str(tmp_path / "etc" / "edgeui.toml"))
    monkeypatch.setenv("EDGEUI_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os.path, "normcase", ntpath.normcase)


def test_one_path_in_two_letter_cases_is_one_entry_with_the_newest_spelling(
    case_insensitive,
) -> None:
    s = Settings.load()
    s.add_recent_source("C:\\Clips\\Demo.mp4")
    s.add_recent_source("0")
    s.add_recent_source("c:/clips/demo.MP4")
    assert s.recent_sources == ["c:/clips/demo.MP4", "0"]
    assert s.last_source == "c:/clips/demo.MP4"


def test_streams_and_cameras_keep_their_case(case_insensitive) -> None:
    s = Settings.load()
    for uri in ("rtsp://cam/Live", "rtsp://cam/live", "camera:BRIO", "camera:brio"):
        s.add_recent_source(uri)
    assert s.recent_sources == ["camera:brio", "camera:BRIO", "rtsp://cam/live",
                                "rtsp://cam/Live"]  # fmt: skip


def test_a_saved_list_with_case_twins_loads_as_one_entry(tmp_path, case_insensitive) -> None:
    s = Settings.load()
    s.recent_sources = ["D:\\Shots\\New", "d:\\shots\\new", "D:\\SHOTS\\NEW", "rtsp://x/A"]
    s.save()
    again = Settings.load()
    assert again.recent_sources == ["D:\\Shots\\New", "rtsp://x/A"]  # the newest first


def test_on_a_case_sensitive_system_both_spellings_stay() -> None:
    s = Settings.load()
    s.add_recent_source("/data/Clip.mp4")
    s.add_recent_source("/data/clip.mp4")
    assert s.recent_sources == ["/data/clip.mp4", "/data/Clip.mp4"]


def test_macos_folds_case_though_its_normcase_does_not(monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    s = Settings.load()
    s.add_recent_source("/Users/me/Clip.mov")
    s.add_recent_source("/users/me/clip.mov")
    assert s.recent_sources == ["/users/me/clip.mov"]
