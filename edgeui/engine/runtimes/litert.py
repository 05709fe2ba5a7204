"""TFLite / LiteRT backend: interpreter import fallbacks, delegates, quantisation at the boundary.

The interpreter package is imported on first use, in this order: ai_edge_litert,
tflite_runtime, tensorflow.lite. A missing package disables only this runtime.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.metadata
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from edgeui.engine.runtimes.base import RuntimeOptions, feed_for
from edgeui.engine.types import TensorSpec
from edgeui.errors import ConfigError, InferenceError, ModelLoadError

log = logging.getLogger(__name__)

# (module with Interpreter/load_delegate, display name, distribution for the version)
BACKENDS: tuple[tuple[str, str, str], ...] = (
    ("ai_edge_litert.interpreter", "LiteRT", "ai-edge-litert"),
    ("tflite_runtime.interpreter", "tflite-runtime", "tflite-runtime"),
    # tf.lite is an attribute of the tensorflow package, not an importable submodule.
    ("tensorflow:lite", "TensorFlow Lite", "tensorflow"),
)


@dataclass(frozen=True)
class Backend:
    """The interpreter package that imported: its module, display name and version."""

    module: ModuleType
    name: str
    version: str

    def load_delegate(self) -> Any:
        fn = getattr(self.module, "load_delegate", None)
        if fn is None:  # tensorflow.lite keeps it under experimental
            fn = self.module.experimental.load_delegate
        return fn


def import_backend(path: Path | None = None) -> Backend:
    """The first interpreter package that imports, or ModelLoadError saying what to install."""
    for module_name, display, dist in BACKENDS:
        base, _, attr = module_name.partition(":")
        try:
            module = importlib.import_module(base)
            if attr:
                module = getattr(module, attr)
        except (ImportError, AttributeError):
            continue
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = str(getattr(module, "__version__", "")) or "(unknown version)"
        return Backend(module, display, version)
    where = f"{path}: " if path else ""
    raise ModelLoadError(
        f"{where}no TFLite/LiteRT interpreter is installed; run `pip install ai-edge-litert`."
    )


def check_flatbuffer(path: Path) -> None:
    """Cheap sanity check of a .tflite file before the interpreter touches it.

    Some TFLite builds crash the process on garbage; a flatbuffer with the TFL3 identifier
    at bytes 4..8 and a root table offset inside the file is what the interpreter expects.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
    if len(head) < 8 or head[4:8] != b"TFL3":
        raise ModelLoadError(
            f"{path}: not a TFLite/LiteRT model (no TFL3 identifier); check that the file "
            "is a .tflite model and download or export it again."
        )
    root = int.from_bytes(head[:4], "little")
    if root < 8 or root + 4 > size:
        raise ModelLoadError(
            f"{path}: not a valid TFLite model (corrupt or truncated); download or export it again."
        )


@contextlib.contextmanager
def native_stderr_to_log(what: str) -> Iterator[None]:
    """Send what native code prints on fd 2 (e.g. "INFO: Created TensorFlow Lite XNNPACK
    delegate for CPU.") to the debug log, so a CLI error stays one line on stderr."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (some embedded/GUI launches): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace").strip()
            if text:
                log.debug("%s: %s", what, text)


def describe_load_error(path: Path, exc: BaseException, backend: Backend) -> str:
    """One sentence for an interpreter load failure, naming the file and what to do."""
    raw = str(exc)
    build = f"this {backend.name} {backend.version} build"
    m = re.search(r"unresolved custom op: ([^\s.]+(?:\.[^\s.]+)*)\.?", raw)
    if m:
        return (
            f"{path}: needs the custom operator '{m.group(1)}', which {build} does not have; "
            "use a model exported with builtin operators or a runtime that registers that op."
        )
    m = re.search(r"Didn't find op for builtin opcode '(\w+)' version '(\d+)'", raw)
    if m:
        return (
            f"{path}: uses the operator {m.group(1)} (version {m.group(2)}), which {build} "
            "does not have; upgrade ai-edge-litert or export with an older converter."
        )
    if "not a valid Flatbuffer" in raw or "Could not open" in raw:
        return (
            f"{path}: not a valid TFLite model (corrupt or truncated); download or export it again."
        )
    return f"{path}: {backend.name} could not load the model ({clean_message(raw)})."


def clean_message(raw: str) -> str:
    """A TFLite error as one line without the documentation link."""
    raw = re.sub(r"See instructions: \S+", "", raw)
    # The interpreter glues its messages together ("...delegateunsupported datatype...").
    raw = re.sub(r"(?<=[a-z0-9)])(?=(?:unsupported|failed|Failed|Node number|Encountered)\b)",
                 "; ", raw)
    return " ".join(raw.split()).rstrip(". ")


def _fmt_shape(shape: tuple[int | None, ...]) -> str:
    return "x".join("?" if d is None else str(d) for d in shape)


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """round(x / scale + zero_point) clipped to ``dtype``'s range."""
    info = np.iinfo(np.dtype(dtype))
    q = np.rint(np.asarray(x, np.float32) / np.float32(scale)) + np.float32(zero_point)
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """(q - zero_point) * scale as float32."""
    return (q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)


def _spec(detail: Mapping[str, Any]) -> TensorSpec:
    shape = tuple(int(d) for d in detail["shape"])
    sig = detail.get("shape_signature")
    if sig is not None and len(sig) == len(shape):
        shape = tuple(None if int(s) < 0 else d for s, d in zip(sig, shape, strict=True))
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return TensorSpec(
        name=str(detail["name"]),
        shape=shape,
        dtype=np.dtype(detail["dtype"]).name,
        scale=float(scale),
        zero_point=int(zero_point),
    )


class LiteRTRuntime:
    """One .tflite model in a LiteRT (or tflite_runtime / tf.lite) Interpreter."""

    def __init__(self, path: Path, options: RuntimeOptions | None = None) -> None:
        self.path = Path(path)
        self.options = options or RuntimeOptions()
        self.backend = import_backend(self.path)
        check_flatbuffer(self.path)
        threads = self.options.threads
        if threads is not None and threads < 1:
            raise ConfigError(f"threads must be 1 or more, not {threads}.")

        kwargs: dict[str, Any] = {"model_path": str(self.path)}
        if threads is not None:
            kwargs["num_threads"] = int(threads)
        self.delegate_name: str | None = None
        if self.options.delegate:
            kwargs["experimental_delegates"] = [self._load_delegate(self.options.delegate)]
            self.delegate_name = Path(self.options.delegate).name
        try:
            with native_stderr_to_log(str(self.path)):
                self.interpreter = self.backend.module.Interpreter(**kwargs)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(describe_load_error(self.path, exc, self.backend)) from exc

        self._in_details = self.interpreter.get_input_details()
        self._out_details = self.interpreter.get_output_details()
        self.inputs: tuple[TensorSpec, ...] = tuple(_spec(d) for d in self._in_details)
        self.outputs: tuple[TensorSpec, ...] = tuple(_spec(d) for d in self._out_details)
        self._shapes = [tuple(int(s) for s in d["shape"]) for d in self._in_details]
        self.warnings: tuple[str, ...] = self._provider_warnings()

    def _provider_warnings(self) -> tuple[str, ...]:
        """Execution providers are an ONNX Runtime notion: say so instead of ignoring them."""
        if not self.options.providers and not self.options.strict_providers:
            return ()
        problem = (f"{self.path.name}: execution providers (--provider, --strict-providers) "
                   "apply to ONNX models; a TFLite model uses --delegate")  # fmt: skip
        if self.options.providers and self.options.strict_providers:
            raise ModelLoadError(f"{problem}; stopping because --strict-providers is set.")
        message = f"{problem}; ignoring them."
        log.warning("%s", message)
        return (message,)

    def _load_delegate(self, library: str) -> Any:
        hint = "check the library path and that the device is plugged in"
        try:
            # Probe with ctypes first: a failed load_delegate() leaves a half-built object
            # whose finaliser prints a traceback.
            lib = ctypes.CDLL(library)
        except OSError as exc:
            # The loader's message starts with the name again ("libedgetpu.so.1: cannot
            # open shared object file..."): said once is enough.
            why = clean_message(str(exc))
            for name in (library, Path(library).name):
                why = why.removeprefix(f"{name}: ")
            raise ModelLoadError(
                f"{self.path}: could not load delegate {library}: {why}; {hint}."
            ) from exc
        for symbol in ("tflite_plugin_create_delegate", "tflite_plugin_destroy_delegate"):
            if not hasattr(lib, symbol):
                raise ModelLoadError(
                    f"{self.path}: could not load delegate {library}: it is not a TFLite "
                    f"external delegate (no {symbol}); {hint}."
                )
        try:
            return self.backend.load_delegate()(library, dict(self.options.delegate_options))
        except (ValueError, RuntimeError, OSError, AttributeError) as exc:
            raise ModelLoadError(
                f"{self.path}: could not load delegate {library}: {clean_message(str(exc))}; "
                f"{hint}."
            ) from exc

    # ------------------------------------------------------------------ running
    def _feed(self, spec: TensorSpec, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        target = np.dtype(spec.dtype)
        if x.dtype == target:
            return x
        if spec.quantized:
            return quantize(x, spec.scale, spec.zero_point, spec.dtype)
        if target.kind in "iu" and x.dtype.kind == "f":
            info = np.iinfo(target)
            return np.clip(np.rint(x), info.min, info.max).astype(target)
        return x.astype(target)

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Run once: quantise float feeds, resize dynamic inputs, dequantise outputs."""
        it = self.interpreter
        arrays = []
        resized = False
        for i, (spec, detail) in enumerate(zip(self.inputs, self._in_details, strict=True)):
            x = feed_for(spec, feeds, len(self.inputs), self.path)
            x = self._feed(spec, x)
            shape = tuple(x.shape)
            if shape != self._shapes[i]:
                ok = len(shape) == len(spec.shape) and all(
                    d is None or d == s for d, s in zip(spec.shape, shape, strict=True)
                )
                if not ok:
                    raise InferenceError(
                        f"{self.path.name}: input '{spec.name}' expects shape "
                        f"{_fmt_shape(spec.shape)}, got {_fmt_shape(shape)}."
                    )
                it.resize_tensor_input(detail["index"], list(shape), strict=True)
                self._shapes[i] = shape
                resized = True
            arrays.append((detail["index"], x))
        try:
            if resized:
                it.allocate_tensors()
            for index, x in arrays:
                it.set_tensor(index, np.ascontiguousarray(x))
            it.invoke()
            # get_tensor returns a copy: the interpreter reuses its buffers on the next run.
            raw = [it.get_tensor(d["index"]) for d in self._out_details]
        except (ValueError, RuntimeError) as exc:
            raise InferenceError(
                f"{self.path.name}: inference failed ({clean_message(str(exc))})."
            ) from exc
        return [
            dequantize(r, spec.scale, spec.zero_point) if spec.quantized else r
            for r, spec in zip(raw, self.outputs, strict=True)
        ]

    # ------------------------------------------------------------------ reporting
    def describe(self) -> str:
        accel = f"delegate {self.delegate_name}" if self.delegate_name else "XNNPACK"
        threads = self.options.threads or "auto"
        unit = "thread" if threads == 1 else "threads"
        return f"{self.backend.name} {self.backend.version} · {accel} · {threads} {unit}"

    def metadata(self) -> dict[str, object]:
        out: dict[str, object] = {"runtime": self.backend.name, "version": self.backend.version}
        if self.delegate_name:
            out["delegate"] = self.delegate_name
        out.update(read_tflite_header(self.path))
        return out

    def metadata_buffer(self, name: str) -> bytes | None:
        """The bytes of the model.metadata entry ``name`` (e.g. "TFLITE_METADATA"), if any."""
        return read_tflite_metadata_buffers(self.path).get(name)


def _schema() -> ModuleType | None:
    try:
        return importlib.import_module("ai_edge_litert.schema_py_generated")
    except ImportError:
        return None


def read_tflite_metadata_buffers(path: Path) -> dict[str, bytes]:
    """model.metadata entries -> their buffer bytes (empty when the schema is unavailable)."""
    s = _schema()
    if s is None:
        return {}
    try:
        buf = path.read_bytes()
        model = s.Model.GetRootAs(buf, 0)
        out: dict[str, bytes] = {}
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            name = (entry.Name() or b"").decode("utf-8", "replace")
            data = model.Buffers(entry.Buffer())
            out[name] = data.DataAsNumpy().tobytes() if data.DataLength() else b""
        return out
    except Exception:  # a malformed table must not break `inspect`
        return {}


def read_tflite_header(path: Path) -> dict[str, object]:
    """Schema version, description, metadata names and min runtime version of a .tflite."""
    s = _schema()
    if s is None:
        return {}
    try:
        model = s.Model.GetRootAs(path.read_bytes(), 0)
        out: dict[str, object] = {
            "schema_version": int(model.Version()),
            "description": (model.Description() or b"").decode("utf-8", "replace"),
        }
    except Exception:
        return {}
    buffers = read_tflite_metadata_buffers(path)
    out["metadata_names"] = list(buffers)
    if "min_runtime_version" in buffers:
        out["min_runtime_version"] = buffers["min_runtime_version"].split(b"\0")[0].decode()
    return out
