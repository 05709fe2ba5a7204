"""`edgeui infer MODEL IMAGE`: run a model on one image."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edgeui.commands.common import add_model_arguments, model_options_from_args, plural
from edgeui.engine.model import Model
from edgeui.engine.preprocess import read_image
from edgeui.engine.probe import load_model
from edgeui.errors import EdgeUIError, ImageReadError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="a .onnx or .tflite file")
    parser.add_argument("image", type=Path, help="an image file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--mask-out", type=Path, metavar="PNG",
                        help="segmentation: write the class-index map as an 8-bit PNG")
    add_model_arguments(parser)


def result_payload(model: Model, result_dict: dict[str, Any]) -> dict[str, Any]:
    return {"model": str(model.path), "runtime": model.runtime.describe(), **result_dict}


def main(args: argparse.Namespace) -> int:
    if args.mask_out is not None and args.mask_out.suffix.lower() != ".png":
        # The mask is written as PNG (lossless class indices); a .jpg name would lie.
        raise EdgeUIError(
            f"--mask-out {args.mask_out}: the mask is written as a PNG; give a file name "
            "ending in .png."
        )
    model = load_model(args.model, model_options_from_args(args))
    # Runtime warnings (a missing execution provider) were logged once as they happened.
    image = read_image(args.image)
    result = model.predict(image)
    if args.mask_out is not None:
        if result.segmentation is None:
            raise EdgeUIError(
                f"--mask-out needs a segmentation model; "
                f"{model.path.name} is a {result.task} model."
            )
        write_mask(args.mask_out, result.segmentation.class_map)
    payload = result_payload(model, result.to_dict())
    if args.json:
        json.dump(payload, sys.stdout)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(payload))
    return 0


def write_mask(path: Path, class_map: np.ndarray) -> None:
    mask = np.clip(class_map, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".png", mask)
    try:
        if not ok:
            raise OSError("PNG encoding failed")
        Path(path).write_bytes(buf.tobytes())
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise ImageReadError(
            f"{path}: cannot write the mask ({why.lower()}); check that the folder exists "
            "and is writable."
        ) from exc


def format_table(p: dict[str, Any]) -> str:
    """A readable, aligned summary of one result."""
    img = p["image"]
    lines = [
        f"model    {p['model']}",
        f"runtime  {p['runtime']}",
        f"task     {p['task']}  ·  image {img['width']}x{img['height']}",
    ]
    if p["task"] == "classification":
        lines.append(f"{'rank':>4}  {'index':>5}  {'score':>6}  label")
        for rank, c in enumerate(p.get("classes", []), 1):
            lines.append(f"{rank:>4}  {c['index']:>5}  {c['score']:>6.3f}  {c['label']}")
    elif p["task"] == "detection":
        dets = p.get("detections", [])
        lines.append(plural(len(dets), "detection"))
        if dets:
            lines.append(f"{'label':<20} {'score':>6}  {'x1':>7} {'y1':>7} {'x2':>7} {'y2':>7}")
        for d in dets:
            x1, y1, x2, y2 = d["box"]
            coords = f"{x1:>7.1f} {y1:>7.1f} {x2:>7.1f} {y2:>7.1f}"
            lines.append(f"{d['label'][:20]:<20} {d['score']:>6.3f}  {coords}")
    elif p["task"] == "segmentation":
        seg = p.get("segmentation", {})
        lines.append(f"{'class':<20} {'share':>7}")
        for label, share in sorted(seg.get("classes", {}).items(), key=lambda kv: -kv[1]):
            lines.append(f"{label[:20]:<20} {share:>7.1%}")
    elif p["task"] == "pose":
        for i, pose in enumerate(p.get("poses", []), 1):
            lines.append(f"person {i}  score {pose['score']:.3f}")
            for k in pose["keypoints"]:
                lines.append(
                    f"  {k['name']:<15} x {k['x']:>7.1f}  y {k['y']:>7.1f}  score {k['score']:.2f}"
                )
    t = p["timings_ms"]
    lines.append(
        f"timings  preprocess {t['preprocess']:.1f} ms · inference {t['inference']:.1f} ms"
        f" · postprocess {t['postprocess']:.1f} ms"
    )
    return "\n".join(lines) + "\n"
