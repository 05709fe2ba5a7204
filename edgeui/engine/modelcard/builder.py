"""build_card: understand a loaded model with zero configuration, and record why.

Every field is taken from the strongest source that has it, in the order of ``card.SOURCES``:
command-line overrides > sidecar > label file beside the model > metadata inside the model
(ONNX metadata_props / TFLite associated files and TFLITE_METADATA) > shape heuristics >
defaults. ``card.provenance[field]`` keeps the source and a one-line reason for each, under
the sidecar's keys (task, decoder_kind, decoder_params, labels, label_offset, size, layout,
color, resize, pad, align, mean, std, raw_pixels, interpolation, dtype, conf, iou, top_k,
max_detections, name) and also under the card's field names (decoder, input_size, pad_value,
letterbox_align, conf_threshold, iou_threshold, thresholds).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeui.engine.decoders.base import Sniffed, SniffHints
from edgeui.engine.modelcard import heuristics
from edgeui.engine.modelcard.card import ModelCard, PreprocessSpec, Provenance
from edgeui.engine.modelcard.labels import (
    BACKGROUND_NAMES,
    check_label_count,
    find_label_file,
    resolve_offset,
)
from edgeui.engine.modelcard.onnx_meta import MetaResult, read_onnx_metadata
from edgeui.engine.modelcard.sidecar import COMMAND_LINE, find_sidecar, load_sidecar, validate
from edgeui.engine.modelcard.tflite_meta import read_tflite_metadata
from edgeui.engine.types import Labels
from edgeui.errors import EdgeUIError, SidecarError, UnsupportedModelError

log = logging.getLogger(__name__)

_DEFAULTS: dict[str, tuple[Any, str]] = {
    "conf": (0.25, "edgeui default"),
    "iou": (0.45, "edgeui default"),
    "top_k": (5, "edgeui default"),
    "max_detections": (300, "edgeui default"),
    "interpolation": ("linear", "bilinear resize, the usual training pipeline"),
    "pad": (114, "edgeui default letterbox grey"),
    "align": ("center", "edgeui default"),
    "color": ("RGB", "most models are trained on RGB"),
    "resize": ("stretch", "edgeui default"),
    "mean": ((0.0, 0.0, 0.0), "edgeui default"),
    "std": ((255.0, 255.0, 255.0), "edgeui default (pixels 0..1)"),
    "raw_pixels": (False, "edgeui default"),
}


# provenance alias -> key: card / PreprocessSpec field names for the sidecar-style keys.
_ALIASES = {"decoder": "decoder_kind", "input_size": "size", "height": "size", "width": "size",
            "pad_value": "pad", "letterbox_align": "align", "conf_threshold": "conf",
            "iou_threshold": "iou", "thresholds": "conf"}  # fmt: skip


class _Layers:
    """Facts from each source, strongest first; ``pick`` takes the first that has a key."""

    def __init__(self) -> None:
        self.layers: list[tuple[str, dict[str, tuple[Any, str]]]] = []

    def add(self, source: str, facts: Mapping[str, tuple[Any, str]]) -> None:
        self.layers.append((source, dict(facts)))

    def pick(self, key: str, sources: Sequence[str] | None = None) -> tuple[Any, Provenance] | None:
        for source, facts in self.layers:
            if (sources is None or source in sources) and key in facts:
                value, reason = facts[key]
                return value, Provenance(source, reason)
        return None


def _model_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".onnx", ".tflite"):
        return suffix[1:]
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return ""
    return "tflite" if head[4:8] == b"TFL3" else "onnx" if head[:1] == b"\x08" else ""


def _read_metadata(path: Path, fmt: str) -> tuple[MetaResult, str]:
    """Embedded metadata; any problem becomes a warning (the runtime already accepted it)."""
    source = "ONNX metadata" if fmt == "onnx" else "TFLite metadata"
    try:
        if fmt == "onnx":
            return read_onnx_metadata(path), source
        if fmt == "tflite":
            return read_tflite_metadata(path), source
    except EdgeUIError as exc:
        return MetaResult(warnings=[f"{source}: {exc}"]), source
    except Exception as exc:  # never let a metadata quirk stop a model that loads
        log.debug("metadata read failed", exc_info=True)
        return MetaResult(warnings=[f"{source}: unreadable ({type(exc).__name__}: {exc})"]), source
    return MetaResult(), source


def _user_facts(data: Mapping[str, Any], reason: str) -> dict[str, tuple[Any, str]]:
    return {key: (value, reason) for key, value in data.items()}


def _clean_count(names: Sequence[str] | None) -> int | None:
    """A class count usable as a sniffing hint (not for lists led by a background entry)."""
    if not names or names[0].strip().lower() in BACKGROUND_NAMES:
        return None
    return len(names)


def _sniff(
    runtime: Any, hints: SniffHints, kind: str | None, where: str
) -> tuple[Sniffed, bool]:
    """The decoder claim: the named kind (with what its sniffer infers) or the first match."""
    from edgeui.engine import decoders

    if kind is not None:
        decoder = decoders.REGISTRY.get(kind)
        if decoder is None:
            known = ", ".join(sorted(decoders.REGISTRY))
            said = "--decoder" if where == "command-line option" else where
            raise SidecarError(f"{said}: unknown decoder kind {kind!r}; known kinds: {known}.")
        claim = None
        try:
            # The named decoder implies its task: sniff with that, so that task-gated
            # layouts (anchor-free pose) are still recognised.
            claim = decoder.sniff(
                runtime.inputs, runtime.outputs, _replace_task(hints, decoder.task)
            )
        except (ValueError, TypeError, IndexError, ZeroDivisionError):
            claim = None
        if claim is None:
            # Decoding outputs of another layout gives garbage, never an error: stop here.
            named = f"--decoder {kind}" if where == "command-line option" else \
                f"{where}: decoder {kind!r}"
            raise UnsupportedModelError(
                f"{named} does not fit {Path(runtime.path).name}: it reads "
                f"{decoders.expected_layout(kind)}, but the outputs are "
                f"{decoders.shapes_text(runtime.outputs)}; leave the decoder out to let edgeui "
                "detect it."
            )
        return Sniffed(kind, decoder.task, dict(claim.params),
                       f"decoder {kind!r} named in {where}"), True
    claim = decoders.sniff_all(runtime.inputs, runtime.outputs, hints)
    return claim, False  # type: ignore[return-value]


def build_card(
    runtime: Any, sidecar: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> ModelCard:
    """Work out task, labels, preprocessing and decoder for a loaded runtime.

    ``sidecar``: an explicit sidecar file (else ``<stem>.yaml|.yml|.toml`` beside the model).
    ``overrides``: command-line values with the sidecar's keys; they win over everything.
    Raises SidecarError for a malformed sidecar or override and UnsupportedModelError for a
    model whose input is not an image or whose outputs no decoder recognises.
    """
    path = Path(runtime.path)
    fmt = _model_format(path)
    layers = _Layers()
    warnings: list[str] = []

    # 1-2. What the user said.
    user = validate(dict(overrides or {}), COMMAND_LINE, Path.cwd()) if overrides else {}
    layers.add("override", _user_facts(user, "command-line option"))
    sidecar_path = Path(sidecar) if sidecar is not None else find_sidecar(path)
    side = load_sidecar(sidecar_path) if sidecar_path is not None else {}
    if sidecar_path is not None:
        layers.add("sidecar", _user_facts(side, sidecar_path.name))

    # 4. What the model file says (label files are layer 3, added once the class count is known).
    meta, meta_source = _read_metadata(path, fmt)
    warnings.extend(meta.warnings)

    # The image input.
    layout_pick = layers.pick("layout")
    image = heuristics.find_image_input(
        runtime.inputs, path.name, layout_pick[0] if layout_pick else None
    )
    size_pick = layers.pick("size") or _layer_pick(meta.facts, "size", meta_source)
    fixed = image.height is not None and image.width is not None
    if fixed and size_pick is not None and tuple(size_pick[0]) != (image.height, image.width):
        if size_pick[1].source in ("override", "sidecar"):
            raise SidecarError(
                f"{size_pick[1].reason}: input size {list(size_pick[0])} [height, width] does "
                f"not match the model's fixed input {image.width}x{image.height} (width x "
                "height); remove 'size' or fix it."
            )
        warnings.append(f"{meta_source} size {list(size_pick[0])} [height, width] ignored: the "
                        f"input is fixed at {image.width}x{image.height} (width x height).")
        size_pick = None

    # Hints for the decoders.
    stated_task = layers.pick("task") or _layer_pick(meta.facts, "task", meta_source)
    user_labels = layers.pick("labels")
    meta_labels = meta.facts.get("labels")
    num_hint = _clean_count(user_labels[0] if user_labels else None) or _clean_count(
        meta_labels[0] if meta_labels else None
    )
    hw = (image.height, image.width) if fixed else (tuple(size_pick[0]) if size_pick else None)
    strides = (user.get("decoder_params") or side.get("decoder_params") or {}).get("strides") or (
        meta.facts["strides"][0] if "strides" in meta.facts else None
    )
    kpt = (user.get("decoder_params") or side.get("decoder_params") or {}).get("kpt_shape") or (
        meta.facts["kpt_shape"][0] if "kpt_shape" in meta.facts else None
    )
    hints = SniffHints(
        task=stated_task[0] if stated_task else None,
        num_classes=num_hint,
        kpt_shape=tuple(kpt) if kpt else None,
        input_hw=hw,  # type: ignore[arg-type]
        strides=tuple(strides) if strides else None,
    )

    # The decoder.
    kind_pick = layers.pick("decoder")
    where = kind_pick[1].reason if kind_pick else ""
    claim, named = _sniff(runtime, hints, kind_pick[0] if kind_pick else None, where)
    if claim is None and stated_task is not None and stated_task[1].source not in (
        "override", "sidecar"
    ):
        # Metadata's task may be one edgeui decodes differently; let the shapes decide.
        claim, named = _sniff(runtime, _replace_task(hints, None), None, where)
        if claim is not None:
            warnings.append(f"{stated_task[1].reason}, but the outputs read as {claim.task}.")
    if claim is None:
        from edgeui.engine.decoders import describe_unknown

        message = f"{path.name}: {describe_unknown(runtime.outputs)}"
        if stated_task is not None and stated_task[1].source in ("override", "sidecar"):
            raise UnsupportedModelError(_task_mismatch(runtime, hints, stated_task, path.name))
        if stated_task is not None:
            message = message.rstrip(".") + f" ({stated_task[1].reason}, and no decoder of " \
                f"that task fits)."
        raise UnsupportedModelError(message)
    provenance: dict[str, Provenance] = {}
    provenance["decoder_kind"] = (
        kind_pick[1] if named and kind_pick else Provenance("shape heuristic", claim.reason)
    )
    task = claim.task
    if stated_task is not None and stated_task[0] == task:
        provenance["task"] = stated_task[1]
    else:
        if stated_task is not None:
            warnings.append(f"{stated_task[1].reason}, but the decoder {claim.kind!r} is {task}.")
        provenance["task"] = Provenance("shape heuristic", f"decoder {claim.kind!r} is {task}")

    # Input size for dynamic inputs.
    if fixed:
        height, width = int(image.height), int(image.width)  # type: ignore[arg-type]
        provenance["size"] = Provenance(
            "shape heuristic", f"the model's input is fixed at {width}x{height} (width x height)"
        )
    elif size_pick is not None:
        (height, width), provenance["size"] = size_pick
    else:
        (height, width), why = heuristics.default_size(task)
        provenance["size"] = Provenance("default", why)

    # Decoder parameters: sniffed, then metadata facts, then the user's.
    params: dict[str, Any] = dict(claim.params)
    params_prov = (Provenance("shape heuristic", claim.reason) if params
                   else Provenance("default", "the decoder needs no parameters"))  # fmt: skip
    for key in ("strides", "kpt_shape"):
        if key in meta.facts and key not in params:
            params[key] = list(meta.facts[key][0])
            params_prov = Provenance(meta_source, meta.facts[key][1])
    user_params = layers.pick("decoder_params")
    if user_params is not None:
        params.update(user_params[0])
        params_prov = user_params[1]
    provenance["decoder_params"] = params_prov

    # 3. Labels: user > label file > metadata > COCO-80 for 80-class detectors.
    num_classes = _num_classes(claim, runtime.outputs)
    label_path: str | None = None
    if user_labels is None:
        found = find_label_file(path, num_classes, task)
        if found is not None:
            label_file, reason = found
            if label_file.notes:
                reason += f"; {label_file.notes}"
            layers.layers.insert(_insert_at(layers), ("label file", {"labels": (label_file.names,
                                                                                  reason)}))
            label_path = str(label_file.path)
    layers.add(meta_source, meta.facts)
    labels_pick = layers.pick("labels")
    if labels_pick is not None and labels_pick[1].source in ("override", "sidecar"):
        label_path = (user.get("label_path") if labels_pick[1].source == "override"
                      else side.get("label_path"))  # fmt: skip
        # The user's own names are never replaced, so a count that cannot fit is an error
        # (a silent mix of their names and "class 62" would look like a model bug).
        offset_pick = layers.pick("label_offset", ("override", "sidecar"))
        check_label_count(labels_pick[0], num_classes, _label_origin(labels_pick[1], label_path),
                          offset_pick[0] if offset_pick else None)
    labels = _labels(labels_pick, layers, num_classes, claim, task, provenance)

    # 5. Preprocessing: heuristics by family and dtype fill whatever no stronger source gave.
    heur = heuristics.preprocess_choices(image, claim.kind, task, num_classes, fmt)
    layers.add("shape heuristic", heur)
    layers.add("default", _DEFAULTS)
    values: dict[str, Any] = {}
    for key in ("color", "resize", "pad", "align", "mean", "std", "raw_pixels", "interpolation"):
        picked = layers.pick(key)
        assert picked is not None  # _DEFAULTS has every key
        values[key], provenance[key] = picked
    if image.channels == 1 and values["color"] != "GRAY":
        values["color"], provenance["color"] = "GRAY", Provenance(
            "shape heuristic", "the input has one channel"
        )
    provenance["layout"] = (
        layout_pick[1] if layout_pick else Provenance("shape heuristic", image.layout_reason)
    )
    provenance["dtype"] = Provenance(
        "shape heuristic", f"the input tensor is {image.spec.dtype}"
        + (" (quantised; the runtime converts floats)" if image.spec.quantized
           and not values["raw_pixels"] else "")
    )
    preprocess = PreprocessSpec(
        input_name=image.spec.name,
        height=height,
        width=width,
        layout=image.layout,
        channels=image.channels,
        color=values["color"],
        resize=values["resize"],
        pad_value=int(values["pad"]),
        letterbox_align=values["align"],
        mean=tuple(float(v) for v in values["mean"]),  # type: ignore[arg-type]
        std=tuple(float(v) for v in values["std"]),  # type: ignore[arg-type]
        raw_pixels=bool(values["raw_pixels"]),
        dtype=image.spec.dtype,
        interpolation=values["interpolation"],
    )

    # Thresholds and name.
    thresholds: dict[str, Any] = {}
    for key in ("conf", "iou", "top_k", "max_detections"):
        picked = layers.pick(key)
        assert picked is not None
        thresholds[key], provenance[key] = picked
    name_pick = layers.pick("name")
    if name_pick is not None:
        name, provenance["name"] = name_pick
    else:
        name, provenance["name"] = path.stem, Provenance("default", "the file name")

    # The same choices under the card's / PreprocessSpec's field names (what `inspect` shows).
    for alias, key in _ALIASES.items():
        provenance[alias] = provenance[key]
    metadata: dict[str, Any] = {"format": fmt, **meta.raw}
    with contextlib.suppress(Exception):  # a runtime without metadata() (a fake) is fine
        metadata["runtime"] = dict(runtime.metadata())
    metadata["warnings"] = warnings
    return ModelCard(
        task=task,
        preprocess=preprocess,
        decoder_kind=claim.kind,
        decoder_params=params,
        labels=labels,
        conf_threshold=float(thresholds["conf"]),
        iou_threshold=float(thresholds["iou"]),
        top_k=int(thresholds["top_k"]),
        max_detections=int(thresholds["max_detections"]),
        name=str(name),
        provenance=provenance,
        metadata=metadata,
        sidecar_path=str(sidecar_path) if sidecar_path is not None else None,
        label_path=label_path,
    )


def _task_mismatch(
    runtime: Any, hints: SniffHints, stated_task: tuple[Any, Provenance], name: str
) -> str:
    """One sentence for a task the user forced that the outputs cannot be."""
    from edgeui.engine import decoders

    task, prov = stated_task
    said = f"--task {task}" if prov.source == "override" else f"{prov.reason}: task '{task}'"
    shapes = decoders.shapes_text(runtime.outputs)
    other = decoders.sniff_all(runtime.inputs, runtime.outputs, _replace_task(hints, None))
    reads = f" (they read as {other.task})" if other is not None else ""
    fix = ("leave --task out to let edgeui detect it" if prov.source == "override"
           else "fix or remove 'task' there")  # fmt: skip
    return (f"{said}: the outputs of {name}, {shapes}, are not a {task} layout{reads}; "
            f"{fix}.")


def _layer_pick(facts: Mapping[str, tuple[Any, str]], key: str, source: str):
    if key in facts:
        value, reason = facts[key]
        return value, Provenance(source, reason)
    return None


def _insert_at(layers: _Layers) -> int:
    """Label-file facts go after the user's layers."""
    return sum(1 for source, _ in layers.layers if source in ("override", "sidecar"))


def _replace_task(hints: SniffHints, task: str | None) -> SniffHints:
    from dataclasses import replace

    return replace(hints, task=task)


def _num_classes(claim: Sniffed, outputs: Sequence[Any]) -> int | None:
    n = claim.params.get("num_classes")
    if isinstance(n, int) and n > 0:
        return n
    if claim.task == "classification":
        return heuristics.output_vector_length(outputs, int(claim.params.get("output", 0) or 0))
    if claim.task == "segmentation":
        n = claim.params.get("num_classes") or claim.params.get("classes")
        return n if isinstance(n, int) and n > 0 else None
    return None


def _label_origin(prov: Provenance, label_path: str | None) -> str:
    """Where the user's labels came from, for an error sentence."""
    if prov.source == "override":
        return f"--labels {label_path}" if label_path else "the labels option"
    if label_path:
        return f"{prov.reason}: label file {Path(label_path).name}"
    return f"{prov.reason}: labels"


def _labels_clearly_wrong(labels_pick: tuple[Any, Provenance], num_classes: int | None) -> bool:
    """Embedded or found labels far too few for the model's classes (the user's own win)."""
    names, prov = labels_pick
    if prov.source in ("override", "sidecar") or not num_classes:
        return False
    return len(names) < num_classes // 2


def _labels(
    labels_pick: tuple[Any, Provenance] | None,
    layers: _Layers,
    num_classes: int | None,
    claim: Sniffed,
    task: str,
    provenance: dict[str, Provenance],
) -> Labels:
    if labels_pick is not None and _labels_clearly_wrong(labels_pick, num_classes):
        names, prov = labels_pick
        labels_pick = None
        mismatch = f"{len(names)} names ({prov.source}) cannot label {num_classes} classes"
    else:
        mismatch = ""
    if labels_pick is None:
        if task in ("detection", "pose") and num_classes == 80:
            from edgeui.resources import resource_path

            coco = resource_path("labels", "coco80.txt")
            if coco.is_file():
                names = tuple(n.strip() for n in coco.read_text("utf-8").splitlines() if n.strip())
                provenance["labels"] = Provenance(
                    "default", f"{mismatch or 'no labels found'}: the COCO-80 names for 80 classes"
                )
                return Labels(names, 0)
        if task == "pose" and num_classes == 1:
            provenance["labels"] = Provenance("default", "a one-class pose model detects people")
            return Labels(("person",), 0)
        provenance["labels"] = Provenance(
            "default", f"{mismatch or 'no labels found'}: classes shown as 'class N'"
        )
        return Labels()
    names, prov = labels_pick
    provenance["labels"] = prov
    offset_pick = layers.pick("label_offset", ("override", "sidecar"))
    if offset_pick is not None:
        offset, provenance["label_offset"] = offset_pick
    else:
        offset, why = resolve_offset(
            names, num_classes, zero_based_real="ssd" in claim.kind.lower(), task=task
        )
        provenance["label_offset"] = Provenance("shape heuristic", why)
    return Labels(tuple(names), int(offset))
