"""Model = runtime + card + preprocess + decoder: ``predict(image) -> Result``.

The three stages are also exposed one by one (``prepare``, ``infer``, ``decode``) so the
pipeline and the benchmark can time them separately and run the bare runtime.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edgeui.engine.decoders import get_decoder
from edgeui.engine.decoders.base import DecodeContext
from edgeui.engine.modelcard import build_card
from edgeui.engine.modelcard.card import ModelCard
from edgeui.engine.preprocess import preprocess
from edgeui.engine.runtimes.base import Runtime, RuntimeOptions, load_runtime
from edgeui.engine.types import ImageTransform, Result, Timings
from edgeui.errors import EdgeUIError, InferenceError

log = logging.getLogger(__name__)


def _is_empty(result: Result) -> bool:
    return not (result.classes or result.segmentation is not None
                or (result.detections is not None and len(result.detections.scores))
                or (result.poses is not None and len(result.poses.scores)))


def _has_nonfinite(outputs: list[np.ndarray]) -> bool:
    return any(np.issubdtype(np.asarray(o).dtype, np.floating)
               and not np.isfinite(o).all() for o in outputs)


@dataclass(frozen=True)
class ModelOptions:
    """How to load a model: runtime settings, an explicit sidecar, and card overrides.

    ``overrides`` uses the sidecar's keys (task, decoder, conf, iou, top_k, color, layout,
    resize, mean, std, labels, ...) and wins over everything else.
    """

    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)
    sidecar: Path | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    conf: float = 0.25
    iou: float = 0.45
    top_k: int = 5
    max_detections: int = 300


class Model:
    """A loaded model, ready to turn BGR uint8 images into Results."""

    def __init__(self, runtime: Runtime, card: ModelCard) -> None:
        self.runtime = runtime
        self.card = card
        self.path = Path(runtime.path)
        self.decoder = get_decoder(card.decoder_kind)
        self.thresholds = Thresholds(
            card.conf_threshold, card.iou_threshold, card.top_k, card.max_detections
        )
        self._nonfinite_reported = False
        self._empty_results = 0

    @classmethod
    def load(cls, path: str | Path, options: ModelOptions | None = None) -> Model:
        """Load a model file and understand it (raises an EdgeUIError subclass on failure)."""
        options = options or ModelOptions()
        return cls.from_runtime(load_runtime(path, options.runtime), options)

    @classmethod
    def from_runtime(cls, runtime: Runtime, options: ModelOptions | None = None) -> Model:
        """Understand an already loaded runtime (raises UnsupportedModelError / SidecarError
        when the card cannot be built; the runtime stays usable, e.g. to list its tensors)."""
        options = options or ModelOptions()
        card = build_card(runtime, sidecar=options.sidecar, overrides=options.overrides)
        return cls(runtime, card)

    @property
    def name(self) -> str:
        return self.card.name or self.path.stem

    @property
    def task(self) -> str:
        return self.card.task

    def set_thresholds(self, **changes: Any) -> None:
        """Change conf / iou / top_k / max_detections; takes effect on the next frame."""
        self.thresholds = replace(self.thresholds, **changes)

    # --- the three stages -------------------------------------------------------------
    def prepare(self, image: np.ndarray) -> tuple[dict[str, np.ndarray], ImageTransform]:
        """Preprocess a BGR uint8 image into runtime feeds."""
        tensor, transform = preprocess(image, self.card.preprocess)
        return {self.card.preprocess.input_name: tensor}, transform

    def infer(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        try:
            return self.runtime.run(feeds)
        except EdgeUIError:
            raise
        except Exception as exc:  # runtimes raise many types; the user needs one sentence
            raise InferenceError(f"{self.path.name}: inference failed: {exc}") from exc

    def decode(self, outputs: list[np.ndarray], transform: ImageTransform) -> Result:
        t = self.thresholds
        ctx = DecodeContext(
            transform=transform,
            labels=self.card.labels,
            params=self.card.decoder_params,
            output_specs=self.runtime.outputs,
            input_specs=self.runtime.inputs,
            conf_threshold=t.conf,
            iou_threshold=t.iou,
            top_k=t.top_k,
            max_detections=t.max_detections,
        )
        # NaN/Inf from a broken model: no numpy warnings on stderr; decoders drop them.
        with np.errstate(all="ignore"):
            result = self.decoder.decode(outputs, ctx)
        if not self._nonfinite_reported and _is_empty(result) and self._check_empty() \
                and _has_nonfinite(outputs):  # fmt: skip
            self._nonfinite_reported = True  # once: it would repeat on every frame
            log.warning("%s: the model's outputs contain NaN or infinite values, so its "
                        "results are missing or incomplete; the model (or its input "
                        "scaling) is broken.", self.path.name)
        return result

    def _check_empty(self) -> bool:
        """Whether to look for NaN/Inf behind this empty result: the first one and every
        100th after it, so an empty room watched for hours costs no full scan per frame."""
        self._empty_results += 1
        return (self._empty_results - 1) % 100 == 0

    def predict(self, image: np.ndarray) -> Result:
        """Run all three stages on one BGR uint8 image; timings are filled in."""
        t0 = time.perf_counter()
        feeds, transform = self.prepare(image)
        t1 = time.perf_counter()
        outputs = self.infer(feeds)
        t2 = time.perf_counter()
        result = self.decode(outputs, transform)
        t3 = time.perf_counter()
        timings = Timings((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
        return replace(result, timings=timings)

    def dummy_feeds(self) -> dict[str, np.ndarray]:
        """A pre-made input for benchmarking the bare runtime."""
        spec = self.card.preprocess
        image = np.full((spec.height, spec.width, 3), 127, np.uint8)
        feeds, _ = self.prepare(image)
        return feeds

    def describe(self) -> str:
        return f"{self.name} · {self.task} · {self.runtime.describe()}"
