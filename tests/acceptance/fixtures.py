"""Faithful imitations of public model families' export formats, built without downloads.

Each builder writes a tiny model with the tensor names, shapes, dtypes, quantisation and
metadata conventions of a real exporter (Ultralytics ONNX/TFLite, TF1/TF2 Object Detection
SSDs, TF Hub MobileNet/DeepLab with TFLITE_METADATA, torchvision ONNX). Outputs are constants
chosen by the test (the real op for SSD: ``TFLite_Detection_PostProcess`` decodes constant
box encodings against constant anchors), so the expected answers are exact.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.helpers.modelgen import (
    OutputSpec,
    _GraphBuilder,
    make_onnx_model,
    make_tflite_model,
)

# --------------------------------------------------------------------------- label sets

COCO80 = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip
# COCO category ids (1-based, 1..90) with no class: TF label maps hold "???" there.
COCO_UNUSED_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)

PASCAL_VOC = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tv",
)  # fmt: skip


def coco91_ids() -> list[int]:
    """COCO category id (1..90) of each of the 80 classes, in order."""
    return [i for i in range(1, 91) if i not in COCO_UNUSED_IDS]


def tf_labelmap_txt() -> str:
    """TF Object Detection ``labelmap.txt``: 91 lines, "???" first and at the unused ids."""
    lines = ["???"] * 91
    for cid, name in zip(coco91_ids(), COCO80, strict=True):
        lines[cid] = name
    return "\n".join(lines) + "\n"


def coral_coco_labels_txt() -> str:
    """Coral's ``coco_labels.txt``: "<id-1>  name" lines, with gaps at the unused ids."""
    return "".join(
        f"{cid - 1}  {name}\n" for cid, name in zip(coco91_ids(), COCO80, strict=True)
    )


def imagenet_like_names(n: int = 1000) -> list[str]:
    """1000 ImageNet-style names (synthetic, but 285 is "Egyptian cat" as in ImageNet)."""
    names = [f"imagenet class {i}" for i in range(n)]
    names[285] = "Egyptian cat"
    names[652] = "military uniform"
    return names


# --------------------------------------------------------------------------- Ultralytics


def ultralytics_metadata(
    task: str = "detect",
    names: Sequence[str] = COCO80,
    imgsz: Sequence[int] = (640, 640),
    kpt_shape: Sequence[int] | None = None,
    version: str = "8.3.40",
    batch: int = 1,
) -> dict:
    """The dict Ultralytics' Exporter builds (``self.metadata``) before writing it."""
    meta: dict = {
        "description": f"Ultralytics YOLO11n{'-pose' if task == 'pose' else ''} model "
        "trained on /usr/src/ultralytics/ultralytics/cfg/datasets/coco.yaml",
        "author": "Ultralytics",
        "date": "2024-11-20T10:12:07.512473",
        "version": version,
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
        "stride": 32,
        "task": task,
        "batch": batch,
        "imgsz": list(imgsz),
        "names": dict(enumerate(names)),
        "args": {"batch": batch, "half": False, "int8": False, "nms": False},
    }
    if kpt_shape is not None:
        meta["kpt_shape"] = list(kpt_shape)
    return meta


def onnx_props(meta: Mapping) -> dict[str, str]:
    """How Ultralytics writes metadata into ONNX: ``{k: str(v)}`` (names a Python dict repr)."""
    return {k: str(v) for k, v in meta.items()}


def zip_append(path: Path, files: Mapping[str, bytes], deflate: bool = False) -> Path:
    """Append files as a zip (Ultralytics writes metadata.json with ZIP_DEFLATED)."""
    buf = io.BytesIO()
    mode = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", mode) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with path.open("ab") as f:
        f.write(buf.getvalue())
    return path


def make_symbolic_outputs(path: Path, dims: Mapping[str, Sequence[int | str]]) -> Path:
    """Rewrite ONNX output shapes as a dynamic export declares them (e.g. batch, anchors)."""
    import onnx

    model = onnx.load(str(path))
    for out in model.graph.output:
        if out.name in dims:
            shape = out.type.tensor_type.shape
            for d, v in zip(shape.dim, dims[out.name], strict=True):
                if isinstance(v, str):
                    d.ClearField("dim_value")
                    d.dim_param = v
                else:
                    d.dim_value = v
    onnx.save(model, str(path))
    return path


def yolo_4c(
    boxes_xywh: Sequence[Sequence[float]],
    classes: Sequence[int],
    scores: Sequence[float],
    nc: int = 80,
    n: int = 8400,
    extra: int = 0,
    scale: float = 1.0,
) -> np.ndarray:
    """A [1, 4+nc+extra, n] anchor-free output holding the given boxes (cx, cy, w, h).

    Every other anchor holds a small box with low class scores, as a real output does;
    ``scale`` puts those background boxes in pixels (ONNX, 640) or 0..1 (TFLite, 1).
    """
    rng = np.random.default_rng(0)
    out = np.zeros((1, 4 + nc + extra, n), np.float32)
    out[0, 0:2] = rng.uniform(0, scale, (2, n))
    out[0, 2:4] = 0.02 * scale
    out[0, 4 : 4 + nc] = rng.uniform(0, 0.05, (nc, n))
    for j, (b, c, s) in enumerate(zip(boxes_xywh, classes, scores, strict=True)):
        k = 1000 + 37 * j
        out[0, :4, k] = b
        out[0, 4 + c, k] = s
    return out


# --------------------------------------------------------------------------- TFLITE_METADATA


@dataclass(frozen=True)
class AssocFile:
    name: str
    description: str = ""
    type: int = 2  # TENSOR_AXIS_LABELS


@dataclass(frozen=True)
class TensorMeta:
    name: str
    description: str = ""
    color_space: int | None = None  # 1 RGB, 2 GRAYSCALE: marks an image tensor
    mean: Sequence[float] | None = None
    std: Sequence[float] | None = None
    files: Sequence[AssocFile] = field(default_factory=tuple)


def model_metadata(
    name: str,
    description: str,
    inputs: Sequence[TensorMeta],
    outputs: Sequence[TensorMeta],
    version: str = "v1",
    author: str = "TensorFlow",
    license: str = "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0.",
    files: Sequence[AssocFile] = (),
) -> bytes:
    """A ``ModelMetadata`` flatbuffer (tflite-support metadata_schema.fbs, identifier M001).

    Written by hand with flatbuffers.Builder; field ids follow the schema order:
    ModelMetadata(name 0, description 1, version 2, subgraph_metadata 3, author 4, license 5,
    associated_files 6),
    SubGraphMetadata(name, description, input_tensor_metadata, output_tensor_metadata),
    TensorMetadata(name, description, dimension_names, content, process_units, stats,
    associated_files), Content(content_properties_type, content_properties, range),
    ImageProperties(color_space, default_size), ProcessUnit(options_type, options),
    NormalizationOptions(mean, std), AssociatedFile(name, description, type, locale).
    """
    import flatbuffers

    b = flatbuffers.Builder(1024)

    def vec_tables(offsets: list[int]) -> int:
        b.StartVector(4, len(offsets), 4)
        for o in reversed(offsets):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    def vec_floats(values: Sequence[float]) -> int:
        b.StartVector(4, len(values), 4)
        for v in reversed(values):
            b.PrependFloat32(float(v))
        return b.EndVector()

    def assoc(f: AssocFile) -> int:
        n, d = b.CreateString(f.name), b.CreateString(f.description)
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, n, 0)
        b.PrependUOffsetTRelativeSlot(1, d, 0)
        b.PrependInt8Slot(2, f.type, 0)
        return b.EndObject()

    def tensor(t: TensorMeta) -> int:
        n, d = b.CreateString(t.name), b.CreateString(t.description)
        content = units = files = 0
        if t.color_space is not None:
            b.StartObject(2)  # ImageProperties
            b.PrependInt8Slot(0, t.color_space, 0)
            props = b.EndObject()
            b.StartObject(3)  # Content
            b.PrependUint8Slot(0, 2, 0)  # ContentProperties.ImageProperties
            b.PrependUOffsetTRelativeSlot(1, props, 0)
            content = b.EndObject()
        if t.mean is not None and t.std is not None:
            mean, std = vec_floats(t.mean), vec_floats(t.std)
            b.StartObject(2)  # NormalizationOptions
            b.PrependUOffsetTRelativeSlot(0, mean, 0)
            b.PrependUOffsetTRelativeSlot(1, std, 0)
            norm = b.EndObject()
            b.StartObject(2)  # ProcessUnit
            b.PrependUint8Slot(0, 1, 0)  # ProcessUnitOptions.NormalizationOptions
            b.PrependUOffsetTRelativeSlot(1, norm, 0)
            units = vec_tables([b.EndObject()])
        if t.files:
            files = vec_tables([assoc(f) for f in t.files])
        b.StartObject(7)
        b.PrependUOffsetTRelativeSlot(0, n, 0)
        b.PrependUOffsetTRelativeSlot(1, d, 0)
        if content:
            b.PrependUOffsetTRelativeSlot(3, content, 0)
        if units:
            b.PrependUOffsetTRelativeSlot(4, units, 0)
        if files:
            b.PrependUOffsetTRelativeSlot(6, files, 0)
        return b.EndObject()

    ins = vec_tables([tensor(t) for t in inputs])
    outs = vec_tables([tensor(t) for t in outputs])
    b.StartObject(4)  # SubGraphMetadata (only the fields we set)
    b.PrependUOffsetTRelativeSlot(2, ins, 0)
    b.PrependUOffsetTRelativeSlot(3, outs, 0)
    sub = vec_tables([b.EndObject()])
    model_files = vec_tables([assoc(f) for f in files]) if files else 0
    strings = [b.CreateString(s) for s in (name, description, version, author, license)]
    b.StartObject(8)
    for slot, off in zip((0, 1, 2, 4, 5), strings, strict=True):
        b.PrependUOffsetTRelativeSlot(slot, off, 0)
    b.PrependUOffsetTRelativeSlot(3, sub, 0)
    if model_files:
        b.PrependUOffsetTRelativeSlot(6, model_files, 0)  # ModelMetadata.associated_files
    b.Finish(b.EndObject(), file_identifier=b"M001")
    return bytes(b.Output())


# --------------------------------------------------------------------------- SSD with the real op


@dataclass(frozen=True)
class SsdBox:
    """One detection the SSD should emit: (ymin, xmin, ymax, xmax) 0..1, 0-based class, score."""

    box: tuple[float, float, float, float]
    cls: int
    score: float


def make_ssd_postprocess_tflite(
    path: str | Path,
    detections: Sequence[SsdBox],
    input_shape: Sequence[int] = (1, 300, 300, 3),
    input_dtype: str = "uint8",
    input_quant: tuple[float, int] | None = (0.0078125, 128),
    num_classes: int = 90,
    max_detections: int = 10,
    num_anchors: int = 64,
    quantized_head: bool = True,
    output_order: Sequence[int] = (0, 1, 2, 3),
    output_names: Sequence[str] | None = None,
    input_name: str = "normalized_input_image_tensor",
) -> Path:
    """An SSD whose detections come from the real ``TFLite_Detection_PostProcess`` custom op.

    The op (registered by LiteRT) decodes constant box encodings against constant anchors
    (CENTER_SIZE, scales 10/10/5/5 as the TF OD API writes) and class predictions with a
    background column 0, then runs its fast NMS: class ids come out 0-based over real classes,
    exactly as on a real model. ``quantized_head`` feeds uint8 encodings/predictions as a
    quantised TF1 model does. ``output_order`` permutes the op outputs (boxes, classes, scores,
    count) in the subgraph's output list, as TF2 exports do; names default to TF1's.
    """
    from flatbuffers import flexbuffers

    g = _GraphBuilder()
    s = g.s
    op = s.BuiltinOperator
    x = g.tensor(input_name, input_shape, input_dtype, quant=input_quant)
    xf = x
    if input_dtype != "float32":
        xf = g.tensor("input_float", input_shape, "float32")
        g.op(op.DEQUANTIZE if input_quant else op.CAST, [x], [xf])
    axes = g.const("mean_axes", np.arange(len(input_shape), dtype=np.int32))
    mean = g.tensor("mean", (), "float32")
    ro = s.ReducerOptionsT()
    ro.keepDims = False
    g.op(op.MEAN, [xf, axes], [mean], s.BuiltinOptions.ReducerOptions, ro)
    zero = g.tensor("zero", (), "float32")
    g.binary(op.MUL, mean, g.const("zero_const", np.array(0.0, np.float32)), zero)

    n = num_anchors
    # Anchors (ycenter, xcenter, h, w): a grid of small boxes; encodings 0 keep them as they
    # are, except for the wanted detections whose anchors sit exactly on their boxes.
    ys, xs = np.meshgrid(np.linspace(0.05, 0.95, 8), np.linspace(0.05, 0.95, n // 8))
    anchors = np.stack([ys.ravel(), xs.ravel(), np.full(n, 0.1), np.full(n, 0.1)], 1)
    anchors = anchors.astype(np.float32)
    enc = np.zeros((1, n, 4), np.float32)
    cls = np.zeros((1, n, num_classes + 1), np.float32)
    cls[0, :, 0] = 0.6  # background wins on every other anchor
    for j, d in enumerate(detections):
        k = 3 + 5 * j
        y1, x1, y2, x2 = d.box
        anchors[k] = ((y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1)
        cls[0, k, 0] = 0.0
        cls[0, k, 1 + d.cls] = d.score
    if quantized_head:
        enc_q, cls_q = (0.05, 128), (1 / 256, 0)
        be_f = g.tensor("box_encodings_float", enc.shape, "float32")
        g.binary(op.ADD, g.const("box_encodings_const", enc), zero, be_f)
        be = g.tensor("raw_outputs/box_encodings", enc.shape, "uint8", quant=enc_q)
        g.op(op.QUANTIZE, [be_f], [be])
        cp_f = g.tensor("class_predictions_float", cls.shape, "float32")
        g.binary(op.ADD, g.const("class_predictions_const", cls), zero, cp_f)
        cp = g.tensor("raw_outputs/class_predictions", cls.shape, "uint8", quant=cls_q)
        g.op(op.QUANTIZE, [cp_f], [cp])
    else:
        be = g.tensor("raw_outputs/box_encodings", enc.shape, "float32")
        g.binary(op.ADD, g.const("box_encodings_const", enc), zero, be)
        cp = g.tensor("raw_outputs/class_predictions", cls.shape, "float32")
        g.binary(op.ADD, g.const("class_predictions_const", cls), zero, cp)
    if quantized_head:
        # The op dequantises anchors with their own parameters when the head is uint8, so a
        # quantised model's anchors are uint8 too (boxes on a 1/256 grid stay exact).
        a_q = (1 / 256, 0)
        an = g.tensor("anchors", anchors.shape, "uint8", quant=a_q,
                      data=np.clip(np.rint(anchors * 256), 0, 255).astype(np.uint8))
    else:
        an = g.const("anchors", anchors)
    k = max_detections
    names = list(output_names or ["TFLite_Detection_PostProcess",
                                  "TFLite_Detection_PostProcess:1",
                                  "TFLite_Detection_PostProcess:2",
                                  "TFLite_Detection_PostProcess:3"])  # fmt: skip
    outs = [
        g.tensor(names[0], (1, k, 4), "float32"),
        g.tensor(names[1], (1, k), "float32"),
        g.tensor(names[2], (1, k), "float32"),
        g.tensor(names[3], (1,), "float32"),
    ]
    fbb = flexbuffers.Builder()
    with fbb.Map():
        fbb.Int("max_detections", k)
        fbb.Int("max_classes_per_detection", 1)
        fbb.Int("detections_per_class", 100)
        fbb.Bool("use_regular_nms", False)
        fbb.Float("nms_score_threshold", 1e-8)
        fbb.Float("nms_iou_threshold", 0.6)
        fbb.Int("num_classes", num_classes)
        fbb.Float("y_scale", 10.0)
        fbb.Float("x_scale", 10.0)
        fbb.Float("h_scale", 5.0)
        fbb.Float("w_scale", 5.0)
    options = bytes(fbb.Finish())
    g.op(op.CUSTOM, [be, cp, an], outs, custom="TFLite_Detection_PostProcess")
    g.operators[-1].customOptions = np.frombuffer(options, np.uint8)
    g.operators[-1].customOptionsFormat = s.CustomOptionsFormat.FLEXBUFFERS
    return g.finish(Path(path), [x], [outs[i] for i in output_order], None)


__all__ = [
    "COCO80",
    "PASCAL_VOC",
    "AssocFile",
    "OutputSpec",
    "SsdBox",
    "TensorMeta",
    "coral_coco_labels_txt",
    "imagenet_like_names",
    "make_onnx_model",
    "make_ssd_postprocess_tflite",
    "make_symbolic_outputs",
    "make_tflite_model",
    "model_metadata",
    "onnx_props",
    "tf_labelmap_txt",
    "ultralytics_metadata",
    "yolo_4c",
    "zip_append",
]
