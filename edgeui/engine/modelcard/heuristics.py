"""Shape and dtype heuristics: what a model most likely wants when nothing says otherwise.

Every function returns its choice with a one-line reason; the builder records both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgeui.engine.types import TensorSpec
from edgeui.errors import UnsupportedModelError

IMAGE_CHANNELS = (1, 3, 4)
DETECTION_SIZE = 640  # Ultralytics' default imgsz
CLASSIFICATION_SIZE = 224  # ImageNet classifiers
IMAGENET_TORCH_MEAN = (123.675, 116.28, 103.53)  # torchvision's (0.485, 0.456, 0.406) * 255
IMAGENET_TORCH_STD = (58.395, 57.12, 57.375)  # (0.229, 0.224, 0.225) * 255

Choice = tuple[Any, str]


@dataclass(frozen=True)
class ImageInput:
    """The model input that takes the image, and what its shape says."""

    index: int
    spec: TensorSpec
    layout: str
    channels: int
    height: int | None  # None when dynamic
    width: int | None
    layout_reason: str


def _is_image_shape(shape: Sequence[int | None]) -> bool:
    if len(shape) != 4:
        return False
    return shape[1] in IMAGE_CHANNELS or shape[3] in IMAGE_CHANNELS or (
        shape[1] is None and shape[3] is None
    )


def guess_layout(shape: Sequence[int | None]) -> tuple[str, str]:
    """NCHW when dim 1 looks like channels and the last dim does not; NHWC otherwise."""
    c1, c3 = shape[1], shape[3]
    if c1 in IMAGE_CHANNELS and c3 not in IMAGE_CHANNELS:
        return "NCHW", f"dim 1 of {_dims(shape)} is {c1} channels and the last dim is not"
    if c3 in IMAGE_CHANNELS:
        return "NHWC", f"the last dim of {_dims(shape)} is {c3} channels"
    return "NHWC", f"no channel dim is evident in {_dims(shape)}; NHWC is the TFLite norm"


def _dims(shape: Sequence[int | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _xdims(shape: Sequence[int | None]) -> str:
    """[1x3]: a shape as `edgeui inspect` lists tensors."""
    return "[" + "x".join("?" if d is None else str(d) for d in shape) + "]"


def find_image_input(
    inputs: Sequence[TensorSpec], source: str, layout: str | None = None
) -> ImageInput:
    """The image input; UnsupportedModelError when there is none or there are several."""
    expect = ("edgeui runs image models: one input of shape [1, H, W, C] or [1, C, H, W] "
              "with 1, 3 or 4 channels")  # fmt: skip
    if not inputs:
        raise UnsupportedModelError(f"{source}: the model has no inputs; {expect}.")
    candidates = [i for i, s in enumerate(inputs) if _is_image_shape(s.shape)]
    if not candidates:
        shapes = ", ".join(f"{s.name} {_dims(s.shape)}" for s in inputs)
        raise UnsupportedModelError(
            f"{source}: the model's input ({shapes}) is not an image; {expect}."
        )
    if len(candidates) > 1:
        shapes = ", ".join(f"{inputs[i].name} {_dims(inputs[i].shape)}" for i in candidates)
        raise UnsupportedModelError(
            f"{source}: the model has several image-like inputs ({shapes}); {expect}."
        )
    index = candidates[0]
    spec = inputs[index]
    extra = [s for i, s in enumerate(inputs) if i != index]
    if extra:
        # Every frame feeds the image alone: a second required input would fail on each one.
        # (Inputs with a default value, ONNX overridable initializers, are not listed by the
        # runtime; a TFLite model's other signatures are not run.)
        needs = " and ".join(f"'{s.name}' {_xdims(s.shape)} ({s.dtype})" for s in extra)
        raise UnsupportedModelError(
            f"{source}: edgeui runs models with one image input; this one also needs {needs}, "
            f"which a camera frame cannot give."
        )
    if layout is not None:
        reason = "given"
    else:
        layout, reason = guess_layout(spec.shape)
    s = spec.shape
    if layout == "NCHW":
        c, h, w = s[1], s[2], s[3]
    else:
        h, w, c = s[1], s[2], s[3]
    if c is None:
        c = 3
    if c not in IMAGE_CHANNELS:
        raise UnsupportedModelError(
            f"{source}: input {spec.name} {_dims(s)} has {c} channels in {layout} layout; {expect}."
        )
    return ImageInput(index, spec, layout, int(c), h, w, reason)


def default_size(task: str) -> Choice:
    """Input size for a model whose height/width are dynamic and no metadata gives them."""
    if task == "classification":
        return (CLASSIFICATION_SIZE, CLASSIFICATION_SIZE), (
            f"dynamic input size; {CLASSIFICATION_SIZE} is the usual classifier size"
        )
    return (DETECTION_SIZE, DETECTION_SIZE), (
        f"dynamic input size; {DETECTION_SIZE} is the usual detector size (Ultralytics imgsz)"
    )


def family_of(kind: str, task: str) -> str:
    """Preprocessing family from the decoder kind: yolo, yolox, movenet, ssd or the task."""
    k = kind.lower()
    if "yolox" in k:
        return "yolox"
    if "movenet" in k:
        return "movenet"
    if "ssd" in k:
        return "ssd"
    if "blazeface" in k:
        return "mediapipe"
    if task in ("classification", "segmentation"):
        return task
    return "yolo"  # anchor_free / yolov5 / end_to_end / anchor_free_pose and other detectors


def _quant_range(spec: TensorSpec) -> tuple[float, float] | None:
    if not spec.quantized:
        return None
    lo_q, hi_q = (-128, 127) if spec.dtype == "int8" else (0, 255)
    return (lo_q - spec.zero_point) * spec.scale, (hi_q - spec.zero_point) * spec.scale


def preprocess_choices(
    image: ImageInput, kind: str, task: str, num_classes: int | None, model_format: str
) -> dict[str, Choice]:
    """Colour, resize, pad, alignment, mean/std and raw_pixels for a model, with reasons."""
    fam = family_of(kind, task)
    spec = image.spec
    out: dict[str, Choice] = {}
    # Colour and geometry by family.
    if fam == "yolox":
        why = "YOLOX is trained on BGR images letterboxed at the top-left with grey 114"
        out.update(color=("BGR", why), resize=("letterbox", why), pad=(114, why),
                   align=("topleft", why))  # fmt: skip
    elif fam == "yolo":
        why = f"{kind} (YOLO family) expects RGB letterboxed at the centre with grey 114"
        out.update(color=("RGB", why), resize=("letterbox", why), pad=(114, why),
                   align=("center", why))  # fmt: skip
    elif fam == "movenet":
        why = ("MoveNet's reference feeds RGB resized with padding (tf.image.resize_with_pad: "
               "aspect kept, centred, black)")
        out.update(color=("RGB", why), resize=("letterbox", why), pad=(0, why),
                   align=("center", why))  # fmt: skip
    elif fam == "mediapipe":
        why = "MediaPipe detectors take RGB with the aspect ratio kept (centred letterbox)"
        out.update(color=("RGB", why), resize=("letterbox", why), pad=(128, why),
                   align=("center", why))  # fmt: skip
    else:
        why = {
            "classification": "classifiers are trained on RGB images resized to fit",
            "segmentation": "segmentation models take the whole RGB image resized to fit",
            "ssd": "TF Object Detection SSD models take the RGB image resized to fit",
        }.get(fam, "RGB image resized to fit")
        out.update(color=("RGB", why), resize=("stretch", why))
    if image.channels == 1:
        out["color"] = ("GRAY", "the input has one channel")
    # Pixel range by input dtype, then by family for float inputs.
    if spec.dtype == "uint8":
        why = ("uint8 input: its quantisation encodes the normalisation, so pixels go in "
               "as they are" if spec.quantized else "uint8 input takes 0..255 pixels as they are")
        out["raw_pixels"] = (True, why)
        out["mean"], out["std"] = ((0.0,) * 3, why), ((1.0,) * 3, why)
        return out
    # Not "normalised": mean 0 / std 1 (YOLOX) feeds 0..255 unchanged, only as floats.
    then = ", then quantised by the runtime" if spec.dtype in ("int8", "int16") else ""
    out["raw_pixels"] = (False, f"{spec.dtype} input: pixels are converted to float and "
                                f"scaled by the mean/std above{then}")
    if spec.dtype == "int8":
        mean, std, why = _int8_range(spec)
        out["mean"], out["std"] = ((mean,) * 3, why), ((std,) * 3, why)
        return out
    if fam == "yolox":
        mean, std, why = 0.0, 1.0, "YOLOX takes raw 0..255 pixels (no normalisation)"
    elif fam == "yolo":
        mean, std, why = 0.0, 255.0, "YOLO-family float inputs take pixels / 255 (0..1)"
    elif fam == "movenet":
        mean, std, why = 0.0, 1.0, "MoveNet float inputs take 0..255 pixels"
    elif fam == "mediapipe":
        mean, std, why = 127.5, 127.5, "MediaPipe float inputs take pixels scaled to -1..1"
    elif fam == "classification" and image.layout == "NCHW" and model_format == "onnx" and (
        num_classes in (1000, 1001)
    ):
        why = ("an NCHW float ONNX classifier over ImageNet's 1000 classes is torchvision "
               "style: ImageNet mean/std")  # fmt: skip
        out["mean"], out["std"] = (IMAGENET_TORCH_MEAN, why), (IMAGENET_TORCH_STD, why)
        return out
    elif fam == "segmentation" and image.layout == "NCHW" and model_format == "onnx":
        why = ("an NCHW float ONNX segmenter is PyTorch style (torchvision, mmseg): "
               "ImageNet mean/std")  # fmt: skip
        out["mean"], out["std"] = (IMAGENET_TORCH_MEAN, why), (IMAGENET_TORCH_STD, why)
        return out
    else:
        label = {"classification": "MobileNet-style (TF/Keras) classifiers",
                 "segmentation": "DeepLab-style segmentation models",
                 "ssd": "TF Object Detection SSD models"}.get(fam, "float image models")
        mean, std, why = 127.5, 127.5, f"{label} take pixels scaled to -1..1"
    out["mean"], out["std"] = ((mean,) * 3, why), ((std,) * 3, why)
    return out


def _int8_range(spec: TensorSpec) -> tuple[float, float, str]:
    """Mean/std for an int8 input from its quantisation range when it is a known one."""
    rng = _quant_range(spec)
    if rng is not None:
        lo, hi = rng
        for (want_lo, want_hi), mean, std, label in (
            ((0.0, 1.0), 0.0, 255.0, "0..1"),
            ((-1.0, 1.0), 127.5, 127.5, "-1..1"),
            ((0.0, 255.0), 0.0, 1.0, "0..255"),
        ):
            tol = 0.02 * (want_hi - want_lo)
            if abs(lo - want_lo) <= tol and abs(hi - want_hi) <= tol:
                return mean, std, (
                    f"int8 input quantised over {lo:.3g}..{hi:.3g}: pixels as {label}, "
                    "quantised by the runtime"
                )
    return 0.0, 255.0, ("int8 input: pixels scaled to 0..1 as Ultralytics int8 exports expect, "
                        "quantised by the runtime")  # fmt: skip


def output_vector_length(outputs: Sequence[TensorSpec], index: int = 0) -> int | None:
    """The length of a classifier's score vector ([1, C] or [C] or [1, 1, 1, C])."""
    if not 0 <= index < len(outputs):
        return None
    dims = [d for d in outputs[index].shape if d != 1]
    if len(dims) == 1 and dims[0] is not None:
        return int(dims[0])
    return None
