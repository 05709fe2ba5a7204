"""Kiosk soak: the whole app (window, worker, overlays, panel, chart) cycling models and sources.

    python benchmarks/bench_gui_soak.py [--seconds 300] [--switch-every 15]

A kiosk runs for months and a demo cycles through models, so what must not grow is measured
here, not in the engine alone (benchmarks/bench_pipeline.py does that): resident memory,
Python objects, threads and Qt objects under the window, sampled each time the cycle of
(model, source) pairs comes round again. The first two cycles are warm-up (every model
loaded twice: lazy imports, the allocator's arenas). Loading a model frees and takes tens of
MB at once, so single samples swing by +-15 MB: the drift is the least-squares trend of the
samples after warm-up, over their span, with their range beside it. Goal (the engine's,
issue 3): RSS drift < 10 MB.

Models: those in ../shared/models (YOLOX ONNX on the synthetic pattern, MobileNet on a photo
folder, DeepLab on the dog photo, MoveNet on the squat photo), else generated ones.
Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
WARMUP_CYCLES = 2
SHARED = Path(os.environ.get("EDGEUI_TEST_DATA", REPO.parent / "shared"))


def plan() -> list[tuple[str, str]]:
    """(model path, source) pairs to cycle through."""
    models, images = SHARED / "models", SHARED / "images"
    pairs = [
        ("yolox_nano.onnx", "synthetic:640x480@0"),
        ("mobilenet_v2_1.0_224_quant.tflite", str(images)),
        ("deeplabv3_mnv2_dm05_pascal_quant.tflite", str(images / "dog_segmentation.bmp")),
        ("movenet_single_pose_lightning_ptq.tflite", str(images / "squat.bmp")),
    ]
    found = [(str(models / m), s) for m, s in pairs if (models / m).is_file()]
    if found:
        return found
    import numpy as np

    from tests.helpers.modelgen import make_onnx_model

    folder = Path(tempfile.mkdtemp())
    det = np.zeros((1, 84, 8400), np.float32)
    det[0, :4, 7], det[0, 4 + 3, 7] = (320, 320, 60, 80), 0.8
    return [
        (str(make_onnx_model(folder / "det.onnx", input_shape=(1, 3, 640, 640),
                             outputs=[det])), "synthetic:640x480@0"),
        (str(make_onnx_model(folder / "cls.onnx", input_shape=(1, 3, 224, 224))),
         "synthetic:320x240@30"),
    ]


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def trimmed_rss_mb() -> float | None:
    """RSS after glibc hands freed heap back to the OS (Linux only; None elsewhere): a leak
    stays, allocator fragmentation from loading models does not."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # musl or another libc
        return None
    return rss_mb()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--switch-every", type=float, default=15.0)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from edgeui.ui.main_window import MainWindow
    from edgeui.ui.worker import InferenceWorker

    os.environ.setdefault("EDGEUI_CONFIG_DIR", tempfile.mkdtemp())
    os.environ.setdefault("EDGEUI_DATA_DIR", tempfile.mkdtemp())
    app = QApplication.instance() or QApplication([])
    pairs = plan()
    worker = InferenceWorker(source=pairs[0][1])
    window = MainWindow(worker)
    window.resize(1280, 800)
    window.show()
    worker.start()

    def spin(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    processed = [0, 0]  # total, last reading (the count restarts with each model)

    def count() -> None:
        now = worker.pipeline_stats().processed
        processed[0] += now - processed[1] if now >= processed[1] else now
        processed[1] = now

    counter = QTimer()
    counter.timeout.connect(count)
    counter.start(200)

    def sample() -> dict[str, float]:
        gc.collect()
        return {"t": round(time.perf_counter() - t0, 1), "frames": processed[0],
                "rss_mb": round(rss_mb(), 1), "trimmed_rss_mb": _round(trimmed_rss_mb()),
                "py_objects": len(gc.get_objects()),
                "threads": threading.active_count(),
                "qobjects": len(window.findChildren(QObject))}

    t0 = time.perf_counter()
    samples, failures, step = [], [], 0
    worker.model_failed.connect(lambda path, msg: failures.append(f"{path}: {msg}"))
    while time.perf_counter() - t0 < args.seconds:
        model, source = pairs[step % len(pairs)]
        window.load_model(model)
        window.set_source(source)
        spin(args.switch_every)
        step += 1
        if step % len(pairs) == 0:
            samples.append(sample())
            if not args.json:
                print(json.dumps(samples[-1]), flush=True)
    counter.stop()
    count()
    window.close()
    worker.stop()
    app.processEvents()

    report: dict[str, object] = {"pairs": [(Path(m).name, s) for m, s in pairs],
                                 "switches": step, "frames": processed[0],
                                 "samples": samples, "model_failures": failures}
    measured = samples[WARMUP_CYCLES - 1:]  # from the end of warm-up
    if len(measured) >= 3:
        import numpy as np

        first, last = measured[0], measured[-1]
        t = np.array([m["t"] for m in measured])
        rss = np.array([m["rss_mb"] for m in measured])
        slope = float(np.polyfit(t, rss, 1)[0])  # MB a second
        if all(m["trimmed_rss_mb"] is not None for m in measured):
            trimmed = np.array([m["trimmed_rss_mb"] for m in measured])
            trim_slope = float(np.polyfit(t, trimmed, 1)[0])
            report["trimmed_rss_drift_mb"] = round(trim_slope * (t[-1] - t[0]), 1)
            report["trimmed_rss_range_mb"] = [float(trimmed.min()), float(trimmed.max())]
        report.update({
            "rss_drift_mb": round(slope * (t[-1] - t[0]), 1),
            "rss_trend_mb_per_hour": round(slope * 3600, 1),
            "rss_range_mb": [float(rss.min()), float(rss.max())],
            "py_objects_growth": last["py_objects"] - first["py_objects"],
            "threads_growth": last["threads"] - first["threads"],
            "qobjects_growth": last["qobjects"] - first["qobjects"],
        })
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['frames']} frames, {step} switches over {args.seconds:g} s "
              f"({len(pairs)} model/source pairs)")
        if "rss_drift_mb" in report:
            lo, hi = report["rss_range_mb"]
            if "trimmed_rss_drift_mb" in report:
                tlo, thi = report["trimmed_rss_range_mb"]
                print(f"after malloc_trim: RSS trend {report['trimmed_rss_drift_mb']:+} MB, "
                      f"samples {tlo:g} to {thi:g} MB")
            print(f"after warm-up: RSS trend {report['rss_drift_mb']:+} MB over the run "
                  f"({report['rss_trend_mb_per_hour']:+} MB/h; goal < 10), samples {lo:g} to "
                  f"{hi:g} MB; "
                  f"Python objects {report['py_objects_growth']:+}, "
                  f"threads {report['threads_growth']:+}, "
                  f"Qt objects {report['qobjects_growth']:+}")
        else:
            print(f"run longer: the drift needs {WARMUP_CYCLES + 2} full cycles "
                  f"({WARMUP_CYCLES} of warm-up)")
        for failure in failures:
            print(f"model failed: {failure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
