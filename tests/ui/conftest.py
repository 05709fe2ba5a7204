"""pytest-qt setup for the app tests: offscreen platform, and no QThread left running."""

from __future__ import annotations

import os

import numpy as np
import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Before any QApplication exists: the suite needs no display server.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Settings, models and caches in a temporary folder: tests never touch the user's."""
    root = tmp_path_factory.mktemp("edgeui-home")
    monkeypatch.setenv("EDGEUI_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("EDGEUI_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("EDGEUI_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("EDGEUI_SYSTEM_CONFIG", str(root / "none.toml"))


@pytest.fixture(autouse=True)
def _no_dangling_qthreads(request: pytest.FixtureRequest):
    """Fail any test that leaves a QThread running (napari's ``_dangling_qthreads`` idea)."""
    import gc

    yield
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        return
    from PySide6.QtCore import QThread

    gc.collect()
    running = []
    for obj in gc.get_objects():
        try:
            if isinstance(obj, QThread) and obj.isRunning():
                running.append(obj)
        except RuntimeError:  # the C++ object is already gone
            continue
    for thread in running:  # stop them so one leak doesn't cascade into every later test
        thread.quit()
        thread.wait(2000)
    if running:
        names = ", ".join(t.objectName() or repr(t) for t in running)
        pytest.fail(f"test left {len(running)} QThread(s) running: {names}", pytrace=False)


# --- a stand-in for the engine Pipeline, for tests of the worker's own behaviour ----------
class FakeModel:
    """A 'model' whose result names it, so tests can tell which one produced a frame."""

    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.task = "classification"
        self.thresholds: dict = {}
        self.loaded_in_thread: int | None = None

    def set_thresholds(self, **changes) -> None:
        self.thresholds.update(changes)

    def predict(self, image):
        from edgeui.engine.types import Classification, Result

        return Result(
            "classification", image.shape[1], image.shape[0],
            classes=(Classification(0, self.name, 0.9),),
        )  # fmt: skip


class FakePipeline:
    """Implements the Pipeline API the worker uses, with a synthetic frame per loop."""

    instances: list = []  # noqa: RUF012 - test bookkeeping

    def __init__(self, model=None, source=None, *, fps_limit=None, retry=True,
                 on_result=None, on_event=None, on_error=None, on_model=None):  # fmt: skip
        import threading

        import numpy as np

        self._stop = threading.Event()
        self._paused = False
        self._model = model
        self._pending = None
        self.on_result, self.on_event, self.on_error, self.on_model = (
            on_result, on_event, on_error, on_model,
        )  # fmt: skip
        self.source = source
        self.produced = 0
        self.produced_50 = threading.Event()
        self.run_thread: int | None = None
        self.image = np.zeros((48, 64, 3), np.uint8)
        FakePipeline.instances.append(self)

    def set_model(self, model_or_loader) -> None:
        self._pending = model_or_loader

    def set_source(self, source, options=None) -> None:
        from edgeui.errors import SourceError

        if source == "bad://":
            raise SourceError("bad:// is not a source edgeui knows; use a camera index or a path.")
        self.source = source

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()

    def stats(self):
        from types import SimpleNamespace

        return SimpleNamespace(processed=self.produced, dropped=0)

    def run(self, *, frames=None, duration=None) -> None:
        import threading
        import time
        from types import SimpleNamespace

        from edgeui.engine.types import Frame

        self.run_thread = threading.get_ident()
        while not self._stop.is_set():
            pending, self._pending = self._pending, None
            if pending is not None:
                try:
                    model = pending() if not hasattr(pending, "predict") else pending
                    self._model = model
                    self.on_model(model)
                except Exception as exc:
                    self.on_error(exc)
            if self._paused or self._model is None:
                self._stop.wait(0.002)
                continue
            self.produced += 1
            frame = Frame(self.image, self.produced, time.time(), time.monotonic(), "fake")
            result = self._model.predict(self.image)
            self.on_result(SimpleNamespace(
                frame=frame, result=result, timings=None, model_name=self._model.name, error=None,
            ))  # fmt: skip
            if self.produced >= 50:
                self.produced_50.set()
            self._stop.wait(0.0005)


@pytest.fixture
def fake_pipeline_factory():
    FakePipeline.instances.clear()
    return FakePipeline


@pytest.fixture
def window(qtbot, tmp_path):
    """A main window with default settings and a worker that is never started: for the
    window's own logic. Modules that need another window define their own."""
    from edgeui.config import Settings
    from edgeui.ui.main_window import MainWindow
    from edgeui.ui.worker import InferenceWorker

    settings = Settings(snapshots_dir=str(tmp_path / "snaps"), path=tmp_path / "edgeui.toml")
    worker = InferenceWorker(source="synthetic")
    win = MainWindow(worker, settings)
    qtbot.addWidget(win)
    yield win
    worker.stop()


@pytest.fixture
def still(tmp_path) -> str:
    """A small photo of the test's own (no shared folder needed)."""
    import cv2

    path = tmp_path / "images" / "cat.bmp"
    path.parent.mkdir(exist_ok=True)
    assert cv2.imwrite(str(path), np.full((48, 64, 3), 120, np.uint8))
    return str(path)


@pytest.fixture
def clip(tmp_path) -> str:
    """A video file that exists (the window only needs its name and kind)."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"")
    return str(path)
