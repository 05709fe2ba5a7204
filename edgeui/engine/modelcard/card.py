"""The ModelCard: everything edgeui decided about a model, and why.

Built by ``edgeui.engine.modelcard.build_card`` from, in order of precedence: CLI overrides,
a sidecar file (model.yaml / model.toml) and label file beside the model, metadata inside the
model (ONNX metadata_props, TFLite associated files / TFLITE_METADATA), and shape heuristics.
Every field's origin is kept in ``provenance`` so `edgeui inspect` can show why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edgeui.engine.types import Labels

# Where a choice came from, strongest first.
SOURCES = ("override", "sidecar", "label file", "ONNX metadata", "TFLite metadata",
           "shape heuristic", "default")  # fmt: skip


@dataclass(frozen=True)
class Provenance:
    source: str
    reason: str = ""


@dataclass(frozen=True)
class PreprocessSpec:
    """How a BGR uint8 source image becomes the model's input tensor.

    mean/std are in the 0..255 pixel domain: x = (pixel - mean) / std. ``raw_pixels`` feeds the
    uint8 pixels as they are (quantised uint8 image models whose quantisation already encodes
    the normalisation). ``letterbox_align`` is "center" or "topleft".
    """

    input_name: str
    height: int
    width: int
    layout: str = "NHWC"  # or "NCHW"
    channels: int = 3
    color: str = "RGB"  # or "BGR" (or "GRAY" when channels == 1)
    resize: str = "stretch"  # or "letterbox"
    pad_value: int = 114
    letterbox_align: str = "center"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (255.0, 255.0, 255.0)
    raw_pixels: bool = False
    dtype: str = "float32"
    interpolation: str = "linear"  # "linear" | "nearest" | "area"


@dataclass(frozen=True, eq=False)
class ModelCard:
    """What a model is and how to run it; see the module docstring for precedence."""

    task: str
    preprocess: PreprocessSpec
    decoder_kind: str
    decoder_params: Mapping[str, Any] = field(default_factory=dict)
    labels: Labels = field(default_factory=Labels)
    conf_threshold: float = 0.25
    iou_threshold: float = 0.45
    top_k: int = 5
    max_detections: int = 300
    name: str = ""
    provenance: Mapping[str, Provenance] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    sidecar_path: str | None = None
    label_path: str | None = None

    def why(self, key: str) -> Provenance:
        return self.provenance.get(key, Provenance("default"))
