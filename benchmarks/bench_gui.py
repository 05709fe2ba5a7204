"""GUI benchmarks: event-loop lag under load, paint cost, app fps vs the bare pipeline.

    python benchmarks/bench_gui.py [--model M] [--source S] [--seconds N]

1. GUI event-loop lag p99 (a 5 ms QTimer probe) while inference runs flat out. Goal ≤ 16 ms.
2. frame -> QImage -> painted with overlays, 1280x720, 20 boxes and a segmentation map.
   Goal ≤ 3 ms.
3. the app's inference fps / the engine Pipeline's fps for the same model and source,
   measured one after the other in this process. Goal ≥ 0.95.

Default model: YOLOX-nano from ../shared/models when present, else a generated classifier.
Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def default_model() -> str:
    shared = Path(os.environ.get("EDGEUI_TEST_DATA", REPO.parent / "shared")) / "models"
    yolox = shared / "yolox_nano.onnx"
    if yolox.is_file():
        return str(yolox)
    from tests.helpers.modelgen import make_onnx_model

    path = Path(tempfile.mkdtemp()) / "classifier.onnx"
    return str(make_onnx_model(path, input_shape=(1, 3, 224, 224)))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def bench_pipeline_fps(model_path: str, source: str, seconds: float) -> float:
    """The engine alone: Pipeline.run in this thread for ``seconds``."""
    from edgeui.engine.model import Model
    from edgeui.engine.pipeline import Pipeline

    model = Model.load(model_path)
    pipe = Pipeline(model, source)
    pipe.run(frames=5)  # warm-up (first inference, allocations)
    pipe.reset_stats()
    t0 = time.perf_counter()
    pipe.run(duration=seconds)
    elapsed = time.perf_counter() - t0
    return pipe.stats().processed / elapsed


def bench_app(model_path: str, source: str, seconds: float) -> tuple[float, list[float]]:
    """The app: window + worker flat out; returns (inference fps, event-loop lags in ms)."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from edgeui.ui.main_window import MainWindow
    from edgeui.ui.worker import InferenceWorker

    app = QApplication.instance() or QApplication([])
    worker = InferenceWorker(source=source)
    window = MainWindow(worker)
    window.resize(1280, 800)
    window.show()
    loop = QEventLoop()
    worker.model_changed.connect(lambda _m: loop.quit())
    window.load_model(model_path)
    worker.start()
    QTimer.singleShot(30000, loop.quit)
    loop.exec()  # until the model is running
    warm = QEventLoop()  # a second of warm-up, then measure
    QTimer.singleShot(1000, warm.quit)
    warm.exec()

    lags: list[float] = []
    period = 5.0
    last = [time.perf_counter()]

    def probe() -> None:
        now = time.perf_counter()
        lags.append(max(0.0, (now - last[0]) * 1e3 - period))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(timer.timerType().PreciseTimer)
    timer.timeout.connect(probe)
    start_stats = worker.pipeline_stats()
    t0 = time.perf_counter()
    last[0] = t0
    timer.start(int(period))
    done = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), done.quit)
    done.exec()
    timer.stop()
    elapsed = time.perf_counter() - t0
    end_stats = worker.pipeline_stats()
    fps = (end_stats.processed - start_stats.processed) / elapsed
    painted = window.view.frames_painted
    window.close()
    worker.stop()
    app.processEvents()
    print(f"  (painted {painted} frames, delivered {worker.results_delivered}, "
          f"coalesced {worker.results_coalesced})")
    return fps, lags


def bench_paint(repeats: int = 200) -> dict[str, float]:
    """Per-frame cost of wrapping a 1280x720 frame and painting it with overlays."""
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from edgeui.engine.types import Detections, Labels, Result, SegmentationMap
    from edgeui.ui.widgets.video_view import VideoView

    QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (720, 1280, 3), np.uint8) for _ in range(4)]
    xy = rng.uniform(0, 1100, (20, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + rng.uniform(40, 180, (20, 2))], 1)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, 720)
    dets = Detections(boxes, rng.uniform(0.3, 1, 20).astype(np.float32),
                      rng.integers(0, 80, 20), tuple(f"class {i}" for i in range(20)))
    det_result = Result("detection", 1280, 720, detections=dets)
    cmap = np.zeros((720, 1280), np.uint8)
    cmap[200:500, 300:900] = 15
    seg_result = Result("segmentation", 1280, 720,
                        segmentation=SegmentationMap(cmap, Labels(tuple(f"c{i}" for i in range(21)))))
    view = VideoView()
    target = QImage(1280, 720, QImage.Format.Format_RGB32)
    out: dict[str, float] = {}
    for name, result in (("detection", det_result), ("segmentation", seg_result)):
        times = []
        for i in range(repeats):
            t0 = time.perf_counter()
            view.show_frame(frames[i % len(frames)], result)
            painter = QPainter(target)
            view.paint_into(painter, 1280, 720)
            painter.end()
            times.append((time.perf_counter() - t0) * 1e3)
        out[f"{name}_p50"] = pct(times[10:], 50)
        out[f"{name}_p99"] = pct(times[10:], 99)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--source", default="synthetic:640x480@0")  # unpaced: flat out
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    model = args.model or default_model()
    print(f"model: {model}\nsource: {args.source}")

    paint = bench_paint()
    print(f"paint 1280x720 + 20 boxes:   p50 {paint['detection_p50']:.2f} ms  "
          f"p99 {paint['detection_p99']:.2f} ms  (goal ≤ 3 ms)")
    print(f"paint 1280x720 + seg blend:  p50 {paint['segmentation_p50']:.2f} ms  "
          f"p99 {paint['segmentation_p99']:.2f} ms")

    pipe_fps = bench_pipeline_fps(model, args.source, args.seconds)
    app_fps, lags = bench_app(model, args.source, args.seconds)
    print(f"event-loop lag while inferring: p50 {pct(lags, 50):.2f} ms  p99 {pct(lags, 99):.2f} ms"
          f"  max {max(lags):.1f} ms  (goal p99 ≤ 16 ms; {len(lags)} probes)")
    print(f"pipeline fps {pipe_fps:.1f}  app fps {app_fps:.1f}  ratio {app_fps / pipe_fps:.3f}"
          f"  (goal ≥ 0.95)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
