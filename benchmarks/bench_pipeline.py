"""Pipeline benchmark: bare runtime vs full pipeline, then RSS drift over many frames.

    .venv/bin/python benchmarks/bench_pipeline.py                      # YOLOX-nano if present
    .venv/bin/python benchmarks/bench_pipeline.py --model m.onnx --drift-frames 10000

Goals (issue 3): ratio >= 0.95, pre+post <= 5 % of the frame time, end-to-end p50 <= 1.3x
bare inference, RSS drift < 10 MB over 10,000 frames after warm-up. Without --model and
without ../shared/models, a tiny generated model is used (the drift check still means
something: it measures our plumbing, not the runtime).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from edgeui.engine.bench import current_rss_mb, run_bench  # noqa: E402
from edgeui.engine.model import Model, ModelOptions  # noqa: E402
from edgeui.engine.pipeline import Pipeline  # noqa: E402
from edgeui.engine.runtimes.base import RuntimeOptions  # noqa: E402

DATA = Path(os.environ.get("EDGEUI_TEST_DATA", REPO.parent / "shared"))


def tiny_model(folder: Path) -> Path:
    import numpy as np

    from tests.helpers.modelgen import make_onnx_model

    out = np.zeros((1, 84, 8400), np.float32)
    out[0, :4, 7] = (320, 320, 60, 80)
    out[0, 4 + 3, 7] = 0.8
    return make_onnx_model(folder / "tiny_det.onnx", input_shape=(1, 3, 640, 640), outputs=[out])


def drift(model: Model, source: str, frames: int, warmup: int) -> dict[str, float]:
    """RSS after warm-up and after ``frames`` more frames (latest-frame path, JSON-ready)."""
    from edgeui.engine.record import frame_record

    sink = open(os.devnull, "w")  # noqa: SIM115 - lives for the whole run
    step = max(1, frames // 10)
    marks: dict[str, float] = {}
    samples: list[float] = []
    count = 0

    def on_result(fr) -> None:  # what `edgeui run` does per frame, minus the disk
        nonlocal count
        sink.write(json.dumps(frame_record(fr)) + "\n")
        count += 1
        if count == warmup:
            marks["before"], marks["t0"] = current_rss_mb(), time.perf_counter()
        elif count > warmup and (count - warmup) % step == 0:
            # RSS every tenth: a leak climbs steadily, an allocator's caches plateau.
            samples.append(round(current_rss_mb() - marks["before"], 2))

    # One run, one capture thread: a new thread would bring a new malloc arena.
    Pipeline(model, source, on_result=on_result).run(frames=warmup + frames)
    elapsed = time.perf_counter() - marks["t0"]
    after = current_rss_mb()
    sink.close()
    return {"frames": frames, "rss_after_warmup_mb": round(marks["before"], 1),
            "rss_after_mb": round(after, 1), "drift_mb": round(after - marks["before"], 2),
            "drift_by_tenth_mb": samples, "fps": round(frames / elapsed, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--source", default="synthetic:640x480@0")
    parser.add_argument("--frames", type=int, default=300, help="bench frames per phase")
    parser.add_argument("--drift-frames", type=int, default=10_000)
    parser.add_argument("--drift-model", type=Path,
                        help="model for the drift run (default: a tiny generated one)")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    options = ModelOptions(runtime=RuntimeOptions(threads=args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        tiny = tiny_model(Path(tmp))
        model_path = args.model or (DATA / "models" / "yolox_nano.onnx")
        if not model_path.exists():
            model_path = tiny
        report = run_bench(lambda: Model.load(model_path, options), source=args.source,
                           frames=args.frames).to_dict()
        print(json.dumps(report, indent=2))
        drift_model = Model.load(args.drift_model or tiny, options)
        result = drift(drift_model, args.source, args.drift_frames, warmup=500)
        print(json.dumps({"rss_drift": result}, indent=2))
        ok = result["drift_mb"] < 10
        print(f"RSS drift {result['drift_mb']:+.2f} MB over {args.drift_frames} frames: "
              f"{'OK' if ok else 'TOO HIGH'} (goal < 10 MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
