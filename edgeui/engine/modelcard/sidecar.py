"""Sidecar files: describe a model in YAML or TOML beside it (every key optional).

edgeui looks for ``<model stem>.yaml``, ``.yml`` or ``.toml`` (also ``<model file>.yaml``,
e.g. ``detector.onnx.yaml``) beside the model, or takes the one given with ``--sidecar``.
Command-line options use the same keys and win over the sidecar. Anything left out is
worked out from the model (see ``edgeui inspect MODEL``: it shows each choice and why).

A complete example (``detector.yaml`` beside ``detector.onnx``)::

    name: Parcel detector          # shown in the app and in JSON output
    task: detection                # classification | detection | segmentation | pose
    decoder:                       # or just `decoder: anchor_free`
      kind: anchor_free            # a decoder kind; `edgeui inspect` shows the one chosen
      strides: [8, 16, 32]         # decoder parameters (YOLOX / anchor grids)
      normalized: false            # boxes in 0..1 rather than input pixels
      kpt_shape: [17, 3]           # pose: keypoints x (x, y[, score])
    labels: labels.txt             # a label file (relative to this file) or a list of names
    label_offset: 0                # names[class_index + offset]; auto when left out
    input:
      size: [640, 640]             # [height, width], or one number for a square
      layout: NCHW                 # NCHW | NHWC
      color: RGB                   # RGB | BGR | GRAY
      resize: letterbox            # stretch | letterbox
      pad: 114                     # letterbox fill value, 0..255
      align: center                # center | topleft (where the image sits in the letterbox)
      mean: [0, 0, 0]              # pixel domain 0..255: x = (pixel - mean) / std
      std: 255                     # one number or three; or `scale: 0.00392` (= 1/std)
      raw_pixels: false            # feed uint8 pixels unchanged (quantised uint8 inputs)
      interpolation: linear        # linear | nearest | area
    conf: 0.25                     # detection / pose confidence threshold, 0..1
    iou: 0.45                      # NMS IoU threshold, 0..1
    top_k: 5                       # classification: how many classes to report
    max_detections: 300

The same in TOML uses ``[input]`` and ``[decoder]`` tables. The ``input`` keys may also be
written at the top level (that is how command-line overrides name them).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from edgeui.engine.types import TASKS
from edgeui.errors import SidecarError

SIDECAR_SUFFIXES = (".yaml", ".yml", ".toml")
# What ``validate`` is told for overrides from the command line (--labels, --conf, ...).
COMMAND_LINE = "command-line options"

TOP_KEYS = ("name", "task", "decoder", "labels", "label_offset", "input", "conf", "iou",
            "top_k", "max_detections")  # fmt: skip
INPUT_KEYS = ("size", "layout", "color", "resize", "pad", "align", "mean", "std", "scale",
              "raw_pixels", "interpolation")  # fmt: skip
CHOICES = {
    "layout": ("NHWC", "NCHW"),
    "color": ("RGB", "BGR", "GRAY"),
    "resize": ("stretch", "letterbox"),
    "align": ("center", "topleft"),
    "interpolation": ("linear", "nearest", "area"),
}


def find_sidecar(model_path: Path) -> Path | None:
    """The sidecar file beside a model, if any (``<stem>.yaml|.yml|.toml``)."""
    for base in (model_path.with_suffix(""), model_path):
        for suffix in SIDECAR_SUFFIXES:
            candidate = base.parent / (base.name + suffix)
            if candidate.is_file():
                return candidate
    return None


def load_sidecar_file(path: Path) -> dict[str, Any]:
    """Parse a YAML or TOML sidecar into a dict (SidecarError naming the file on failure)."""
    if path.is_dir():
        raise SidecarError(f"{path}: is a folder; give a sidecar file (model.yaml or "
                           "model.toml).")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SidecarError(f"{path}: sidecar file not found; check the path.") from None
    except UnicodeDecodeError as exc:  # an image, a model: the raw codec error says nothing
        raise SidecarError(f"{path}: is not a UTF-8 text file; give a sidecar file (YAML or "
                           "TOML text, like model.yaml or model.toml).") from exc
    except OSError as exc:
        raise SidecarError(f"{path}: cannot read the sidecar file ({exc}).") from exc
    if path.suffix.lower() == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SidecarError(f"{path}: {_toml_problem(exc, text)}") from exc
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SidecarError(f"{path}: {_yaml_problem(exc, text)}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SidecarError(f"{path}: the sidecar must be a mapping of keys (name, task, ...).")
    return data


_TOML_WHERE = re.compile(r"^(?P<problem>.*?) \((?:at line (?P<line>\d+), column (?P<col>\d+)"
                         r"|(?P<end>at end of document))\)$", re.DOTALL)


def _quoted_line(lines: list[str], index: int) -> str:
    """Line ``index`` (0-based) stripped and cut to 60 characters, for a message."""
    quoted = lines[index].strip()
    return quoted if len(quoted) <= 60 else quoted[:57] + "..."


def _toml_problem(exc: Exception, text: str) -> str:
    """"not valid TOML at line 1 ([input), column 7: expected ']' ...; check ... there."

    tomllib puts where after the problem, in parentheses: "... (at line 1, column 7)" or
    "... (at end of document)" for a bracket or a quote left open."""
    m = _TOML_WHERE.match(str(exc))
    if m is None:
        return f"not valid TOML ({exc}); check the keys, brackets and quotes."
    problem = m.group("problem").strip()
    if problem[:1].isupper() and problem[1:2].islower():  # "Expected ..." mid-sentence
        problem = problem[0].lower() + problem[1:]
    if m.group("end"):
        return (f"not valid TOML at the end of the file: {problem}; check that every bracket "
                "and quote is closed.")
    line, col = int(m.group("line")), int(m.group("col"))
    lines = text.splitlines()
    quoted = _quoted_line(lines, line - 1) if 0 < line <= len(lines) else ""
    where = f"line {line} ({quoted}), column {col}" if quoted else f"line {line}, column {col}"
    return f"not valid TOML at {where}: {problem}; check the keys, brackets and quotes there."


def _yaml_problem(exc: Exception, text: str) -> str:
    """"not valid YAML at line 2 (conf: [oops): expected ',' or ']' ..., check ...".

    PyYAML points past the last line when the file ends inside a bracket or a quote; the
    line that opened it (its context), else the last line with text, is the one to show."""
    lines = text.splitlines()
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    line = mark.line if mark is not None else None
    if line is not None and (line >= len(lines) or not lines[line].strip()):
        if context is not None and context.line < len(lines):
            line = context.line
        else:
            filled = [i for i, t in enumerate(lines) if t.strip()]
            line = filled[-1] if filled else None
    where = ""
    if line is not None and 0 <= line < len(lines):
        quoted = _quoted_line(lines, line)
        where = f" at line {line + 1} ({quoted})" if quoted else f" at line {line + 1}"
    problem = str(getattr(exc, "problem", "") or "")
    problem = problem.replace("'<stream end>'", "the end of the file").replace(
        "end of stream", "end of the file")
    problem = f": {problem}" if problem else ""
    there = " there" if where else ""  # "there" needs a line to point at
    return f"not valid YAML{where}{problem}; check the indentation, brackets and quotes{there}."


# --- validation --------------------------------------------------------------------------
class _Checker:
    def __init__(self, where: str, base_dir: Path) -> None:
        self.where = where
        self.base_dir = base_dir

    def fail(self, key: str, expected: str, value: Any) -> SidecarError:
        return SidecarError(f"{self.where}: key {key!r} must be {expected} (got {value!r}).")

    def number(self, key: str, value: Any, lo: float | None = None, hi: float | None = None,
               integer: bool = False) -> float | int:
        if isinstance(value, str):
            value = _parse_number(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value is None:
            raise self.fail(key, "an integer" if integer else "a number", value)
        if integer and float(value) != int(value):
            raise self.fail(key, "an integer", value)
        rng = f" between {lo:g} and {hi:g}" if lo is not None and hi is not None else (
            f" of at least {lo:g}" if lo is not None else "")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(key, f"{'an integer' if integer else 'a number'}{rng}", value)
        return int(value) if integer else float(value)

    def triple(self, key: str, value: Any, positive: bool = False) -> tuple[float, float, float]:
        if isinstance(value, str):
            value = [v for v in re.split(r"[\s,]+", value.strip()) if v]
            if len(value) == 1:
                value = value[0]
        items = value if isinstance(value, (list, tuple)) else [value]
        if len(items) not in (1, 3):
            raise self.fail(key, "one number or a list of three", value)
        nums = [self.number(key, v) for v in items]
        if positive and any(v <= 0 for v in nums):
            raise self.fail(key, "positive", value)
        return tuple(nums * 3 if len(nums) == 1 else nums)  # type: ignore[return-value]

    def choice(self, key: str, value: Any) -> str:
        allowed = CHOICES[key]
        if isinstance(value, str):
            for option in allowed:
                if value.strip().lower() in (option.lower(), option.lower().replace("top", "top-")):
                    return option
            if key == "align" and value.strip().lower() in ("centre", "middle"):
                return "center"
        raise self.fail(key, "one of " + ", ".join(allowed), value)

    def text(self, key: str, value: Any) -> str:
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise self.fail(key, "text", value)

    def boolean(self, key: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = value.strip().lower() if isinstance(value, str) else None
        if text in ("true", "yes", "1", "false", "no", "0"):
            return text in ("true", "yes", "1")
        raise self.fail(key, "true or false", value)


def _parse_number(text: str) -> float | None:
    text = text.strip()
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            return float(num) / float(den)
        return float(text)
    except (ValueError, ZeroDivisionError):
        return None


def _check_decoder(c: _Checker, value: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(value, str) and value.strip():
        return value.strip(), {}
    if not isinstance(value, Mapping) or not isinstance(value.get("kind"), str):
        raise c.fail("decoder", "a decoder kind, or a table with `kind` and its parameters", value)
    params: dict[str, Any] = {}
    for key, item in value.items():
        if key == "kind":
            continue
        if key == "strides":
            items = item if isinstance(item, (list, tuple)) else [item]
            params[key] = tuple(int(c.number("decoder.strides", s, 1, 1024, True)) for s in items)
        elif key == "kpt_shape":
            if not (isinstance(item, (list, tuple)) and len(item) == 2 and item[1] in (2, 3)):
                raise c.fail("decoder.kpt_shape", "[keypoints, 2 or 3]", item)
            params[key] = (int(c.number("decoder.kpt_shape", item[0], 1, 1000, True)), int(item[1]))
        elif key == "normalized":
            params[key] = c.boolean("decoder.normalized", item)
        elif isinstance(item, (str, int, float, bool, list, tuple)) or item is None:
            params[key] = tuple(item) if isinstance(item, list) else item
        else:
            raise c.fail(f"decoder.{key}", "a number, a string, true/false or a list", item)
    return value["kind"].strip(), params


def _check_labels(c: _Checker, value: Any) -> tuple[tuple[str, ...], str | None]:
    from edgeui.engine.modelcard.labels import read_label_file

    if isinstance(value, (list, tuple)):
        if not value or not all(isinstance(v, (str, int, float)) for v in value):
            raise c.fail("labels", "a list of class names or the path of a label file", value)
        return tuple("" if str(v).strip() == "???" else str(v).strip() for v in value), None
    if isinstance(value, str) and value.strip():
        path = Path(value.strip()).expanduser()
        if not path.is_absolute():
            path = c.base_dir / path
        if not path.is_file():
            folder = path.is_dir()
            if c.where == COMMAND_LINE:  # `--labels FILE`: the path as typed, like --sidecar
                if folder:
                    raise SidecarError(f"{value.strip()}: is a folder; give a label file "
                                       "(one class name per line).")
                raise SidecarError(f"{value.strip()}: label file not found; check the path.")
            looked = "" if str(path) == value.strip() else (
                f" (looked at {path}: a relative path is read from the sidecar's folder)")
            if folder:
                raise SidecarError(f"{c.where}: labels {value!r} is a folder{looked}; give a "
                                   "label file (one class name per line) or a list of names.")
            raise SidecarError(f"{c.where}: label file {value!r} not found{looked}; check the "
                               "path.")
        return read_label_file(path).names, str(path)
    raise c.fail("labels", "a list of class names or the path of a label file", value)


_SIMPLE: dict[str, Callable[[_Checker, Any], Any]] = {
    "name": lambda c, v: c.text("name", v),
    "label_offset": lambda c, v: c.number("label_offset", v, -10, 10, True),
    "conf": lambda c, v: c.number("conf", v, 0.0, 1.0),
    "iou": lambda c, v: c.number("iou", v, 0.0, 1.0),
    "top_k": lambda c, v: c.number("top_k", v, 1, 100_000, True),
    "max_detections": lambda c, v: c.number("max_detections", v, 1, 1_000_000, True),
}


def _check_size(c: _Checker, value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[\sx,]+", value.strip()) if v]
    items = value if isinstance(value, (list, tuple)) else [value]
    if len(items) not in (1, 2):
        raise c.fail("input.size", "[height, width] or one number", value)
    nums = [c.number("input.size", v, 1, 16384, True) for v in items]
    return int(nums[0]), int(nums[-1])


def validate(data: Mapping[str, Any], where: str, base_dir: Path) -> dict[str, Any]:
    """Check a sidecar/overrides mapping and return normalised facts {key: value}.

    Keys: name, task, decoder, decoder_params, labels, label_path, label_offset, size, layout,
    color, resize, pad, align, mean, std, raw_pixels, interpolation, conf, iou, top_k,
    max_detections. Raises SidecarError naming ``where``, the key and the allowed values.
    """
    c = _Checker(where, base_dir)
    out: dict[str, Any] = {}
    flat_input: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue  # an unset command-line option
        if key in INPUT_KEYS:
            flat_input[key] = value
        elif key not in TOP_KEYS:
            allowed = ", ".join(TOP_KEYS + INPUT_KEYS)
            raise SidecarError(f"{where}: unknown key {key!r}; allowed keys: {allowed}.")
    for key in TOP_KEYS:
        value = data.get(key)
        if value is None or key == "input":
            continue
        if key == "task":
            task = str(value).strip().lower() if isinstance(value, str) else value
            if task not in TASKS:
                raise c.fail("task", "one of " + ", ".join(TASKS), value)
            out["task"] = task
        elif key == "decoder":
            out["decoder"], params = _check_decoder(c, value)
            if params:
                out["decoder_params"] = params
        elif key == "labels":
            out["labels"], label_path = _check_labels(c, value)
            if label_path:
                out["label_path"] = label_path
        else:
            out[key] = _SIMPLE[key](c, value)
    nested = data.get("input")
    if nested is not None and not isinstance(nested, Mapping):
        raise c.fail("input", "a table of input settings (size, layout, color, ...)", nested)
    merged = {**flat_input, **(nested or {})}
    for key, value in merged.items():
        if value is None:
            continue
        full = f"input.{key}"
        if key not in INPUT_KEYS:
            raise SidecarError(
                f"{where}: unknown key {full!r}; allowed input keys: {', '.join(INPUT_KEYS)}."
            )
        if key == "size":
            out["size"] = _check_size(c, value)
        elif key in CHOICES:
            out[key] = c.choice(key, value)
        elif key == "pad":
            out["pad"] = c.number(full, value, 0, 255, True)
        elif key == "mean":
            out["mean"] = c.triple(full, value)
        elif key == "std":
            out["std"] = c.triple(full, value, positive=True)
        elif key == "scale":
            scale = c.triple(full, value, positive=True)
            out["std"] = tuple(1.0 / s for s in scale)
        elif key == "raw_pixels":
            out["raw_pixels"] = c.boolean(full, value)
    if "scale" in merged and "std" in merged:
        raise SidecarError(f"{where}: give either 'input.std' or 'input.scale', not both.")
    return out


def load_sidecar(path: Path) -> dict[str, Any]:
    """Read and validate a sidecar file into normalised facts."""
    return validate(load_sidecar_file(path), str(path), path.parent)
