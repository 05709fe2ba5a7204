"""Local paths with glob characters: a file or folder that exists as given is itself, only a
path that does not exist is a pattern; a missing one is one sentence naming both readings."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeui.cli import main
from edgeui.engine.sources import open_source, source_kind
from edgeui.engine.sources.images import ImageSource, list_images
from edgeui.engine.sources.video import VideoSource
from edgeui.errors import SourceError
from tests.engine.test_sources import read_all, write_avi


def write_png(path: Path, level: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((8, 8, 3), level, np.uint8))
    return path


def test_an_existing_video_with_brackets_in_its_name_is_that_video(tmp_path: Path) -> None:
    clip = write_avi(tmp_path / "clip[1].avi", n=3)
    write_avi(tmp_path / "clip1.avi", n=5)  # what "clip[1].avi" matches as a pattern
    assert source_kind(str(clip)) == "video"
    src = open_source(str(clip), realtime=False)
    assert isinstance(src, VideoSource)
    assert len(read_all(src)) == 3


def test_an_existing_image_with_brackets_and_spaces_is_that_image(tmp_path: Path) -> None:
    shot = write_png(tmp_path / "shot [2].png")
    write_png(tmp_path / "shot 2.png")
    assert source_kind(str(shot)) == "images"
    src = open_source(str(shot))
    assert isinstance(src, ImageSource) and src.files == [shot]


def test_an_existing_folder_with_brackets_is_that_folder(tmp_path: Path) -> None:
    a = write_png(tmp_path / "run[3]" / "a.png")
    write_png(tmp_path / "run3" / "other.png")
    assert list_images(str(tmp_path / "run[3]")) == [a]
    # A pattern inside it: the folder's name is literal, the "*" is the pattern.
    b = write_png(tmp_path / "run[3]" / "b.png")
    assert list_images(str(tmp_path / "run[3]" / "*.png")) == [a, b]


def test_file_uri_to_a_bracketed_file_is_that_file(tmp_path: Path) -> None:
    shot = write_png(tmp_path / "shot[1].png")
    assert open_source("file:" + str(shot)).files == [shot]
    assert open_source("FILE://" + str(shot)).files == [shot]


def test_a_path_that_does_not_exist_is_still_a_pattern(tmp_path: Path) -> None:
    one, two = write_png(tmp_path / "img1.png"), write_png(tmp_path / "img2.png")
    write_png(tmp_path / "img3.png")
    assert list_images(str(tmp_path / "img[12].png")) == [one, two]
    assert list_images(str(tmp_path / "img?.png"))[:2] == [one, two]


def test_a_home_relative_folder_is_a_slideshow(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    a = write_png(tmp_path / "shots" / "a.png")
    assert source_kind("~/shots") == "images"
    assert open_source("~/shots").files == [a]


def test_a_missing_bracketed_path_says_both_readings(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        open_source(str(tmp_path / "gone[1].mp4"))
    text = str(info.value)
    assert "gone[1].mp4" in text and "not found" in text and "pattern" in text


def test_a_pattern_matching_only_other_files_names_the_images(tmp_path: Path) -> None:
    (tmp_path / "notes1.txt").write_text("x")
    with pytest.raises(SourceError, match="no images"):
        open_source(str(tmp_path / "notes[1].*"))


def test_cli_run_with_a_missing_bracketed_source_is_one_line_exit_2(tmp_path, capsys) -> None:
    code = main(["run", str(tmp_path / "m.onnx"), "--source", str(tmp_path / "clip[1].mp4")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "clip[1].mp4" in err[0], err
    assert "not found" in err[0] and "pattern" in err[0]
