"""ONNX Runtime backend: provider choice, threads, graph optimisation, clear load errors.

onnxruntime is imported inside the class so a missing package disables only this runtime.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from edgeui.engine.runtimes.base import RuntimeOptions, feed_for
from edgeui.engine.types import TensorSpec
from edgeui.errors import ConfigError, InferenceError, ModelLoadError

log = logging.getLogger(__name__)

# Automatic choice: the first available of these, in this order (CPU always last).
PREFERRED_PROVIDERS: tuple[str, ...] = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "OpenVINOExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    "CPUExecutionProvider",
)

SHORT_PROVIDER_NAMES: dict[str, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "gpu": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "dml": "DmlExecutionProvider",
    "directml": "DmlExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "migraphx": "MIGraphXExecutionProvider",
    "qnn": "QNNExecutionProvider",
    "xnnpack": "XnnpackExecutionProvider",
    "dnnl": "DnnlExecutionProvider",
}

GRAPH_OPT_LEVELS = ("disable", "basic", "extended", "all")

# ONNX Runtime type strings -> numpy dtype names.
_ORT_TYPES: dict[str, str] = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(bfloat16)": "bfloat16",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(int16)": "int16",
    "tensor(uint16)": "uint16",
    "tensor(int32)": "int32",
    "tensor(uint32)": "uint32",
    "tensor(int64)": "int64",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(string)": "str",
}

_INT64_MAX = 2**63 - 1
CPU = "CPUExecutionProvider"


def canonical_provider(name: str, known: list[str]) -> str:
    """Full provider name for a short or full, case-insensitive ``name``."""
    key = name.strip()
    if key.lower() in SHORT_PROVIDER_NAMES:
        return SHORT_PROVIDER_NAMES[key.lower()]
    for full in known:
        if full.lower() == key.lower() or full.lower() == f"{key.lower()}executionprovider":
            return full
    return key


def check_provider_name(name: str, known: list[str]) -> str:
    """The full provider name for ``name``; ConfigError when onnxruntime knows no such provider
    at all (a typo), as opposed to a known one this build lacks (the caller warns and falls
    back for that)."""
    full = canonical_provider(name, known)
    if name.strip().lower() in SHORT_PROVIDER_NAMES or full in known:
        return full
    raise ConfigError(
        f"unknown execution provider {name.strip()!r}; use one of "
        f"{', '.join(SHORT_PROVIDER_NAMES)} or a full name such as CUDAExecutionProvider."
    )


def known_provider_names(ort: Any) -> list[str]:
    """Every provider name this onnxruntime knows, whether or not this build has it."""
    return list(ort.get_all_providers()) + list(ort.get_available_providers())


def clean_ort_message(exc: BaseException) -> str:
    """An onnxruntime exception as one short line: no status prefix, C++ frames or newlines."""
    msg = str(exc)
    msg = re.sub(r"\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*", "", msg)
    msg = re.sub(r"^Load model from .*? failed:", "", msg)
    # "/path/file.cc:46 void ns::Func(args...) Real message" -> "Real message"
    msg = re.sub(r"^\S+\.(?:cc|h|cpp):\d+\s+.*?\)\s+(?=[A-Z])", "", msg.strip())
    msg = " ".join(msg.split())
    return msg.rstrip(". ")


def describe_load_error(path: Path, exc: BaseException, ort_version: str) -> str:
    """One sentence for an onnxruntime load failure, naming the file and what to do."""
    raw = str(exc)
    kind = type(exc).__name__
    if kind == "InvalidProtobuf" or "Protobuf parsing failed" in raw:
        return (
            f"{path}: not a valid ONNX model (corrupt or truncated); download or export it again."
        )
    if kind == "NoSuchFile":
        return f"{path}: file not found; check the path."
    m = re.search(r"([\w.]*):(\w+)\(-?\d+\) is not a registered function/op", raw)
    if m:
        op = f"{m.group(1)}:{m.group(2)}" if m.group(1) else m.group(2)
        return (
            f"{path}: uses the operator '{op}', which onnxruntime {ort_version} does not have; "
            "export the model with standard ONNX operators or use a runtime build with that op."
        )
    m = re.search(r"No Op registered for (\w+) with domain_version of (\d+)", raw)
    if m:
        return (
            f"{path}: uses the operator '{m.group(1)}' at opset {m.group(2)}, which "
            f"onnxruntime {ort_version} does not support; export the model with another opset "
            "or upgrade onnxruntime."
        )
    m = re.search(r"Unsupported model IR version: (\d+), max supported IR version: (\d+)", raw)
    if m:
        return (
            f"{path}: uses ONNX IR version {m.group(1)} but onnxruntime {ort_version} reads up "
            f"to {m.group(2)}; upgrade onnxruntime or export with an older opset."
        )
    m = re.search(r"Opset (\d+) is under development.*?till opset (\d+)", raw, re.S)
    if m:
        return (
            f"{path}: uses ONNX opset {m.group(1)} but onnxruntime {ort_version} supports up to "
            f"opset {m.group(2)}; export the model with opset {m.group(2)} or lower."
        )
    return f"{path}: onnxruntime could not load the model ({clean_ort_message(exc)})."


def read_onnx_header(path: Path) -> dict[str, Any]:
    """ir_version, producer_version and opset imports, read from the protobuf's top level.

    Only the top-level fields are parsed; the (large) graph field is skipped with a seek,
    so this stays cheap for big models and needs no `onnx` package.
    """
    out: dict[str, Any] = {}
    opsets: dict[str, int] = {}
    try:
        with path.open("rb") as f:
            while True:
                tag = _varint(f)
                if tag is None:
                    break
                field, wire = tag >> 3, tag & 7
                if wire == 0:
                    value = _varint(f)
                    if field == 1:
                        out["ir_version"] = value
                elif wire == 2:
                    size = _varint(f) or 0
                    if field in (3, 8):
                        data = f.read(size)
                        if field == 3:
                            out["producer_version"] = data.decode("utf-8", "replace")
                        else:
                            domain, version = _opset_entry(data)
                            opsets[domain or "ai.onnx"] = version
                    else:
                        f.seek(size, 1)
                else:
                    break  # not expected at the top level of a ModelProto
    except (OSError, ValueError):
        pass
    if opsets:
        out["opset"] = opsets
    return out


def _varint(f: Any) -> int | None:
    shift = result = 0
    while True:
        b = f.read(1)
        if not b:
            return None
        result |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("bad varint")


def _opset_entry(data: bytes) -> tuple[str, int]:
    import io

    f = io.BytesIO(data)
    domain, version = "", 0
    while (tag := _varint(f)) is not None:
        if tag == (1 << 3 | 2):
            domain = f.read(_varint(f) or 0).decode("utf-8", "replace")
        elif tag == (2 << 3 | 0):
            version = _varint(f) or 0
        else:
            break
    return domain, version


def _shape(dims: Any) -> tuple[int | None, ...]:
    if dims is None:
        return ()
    return tuple(d if isinstance(d, int) and d >= 0 else None for d in dims)


def _fmt_shape(shape: tuple[int | None, ...]) -> str:
    return "x".join("?" if d is None else str(d) for d in shape)


def convert_feed(x: np.ndarray, dtype: str) -> np.ndarray:
    """``x`` as ``dtype``; float to integer conversion rounds and clips to the type's range."""
    target = np.dtype(dtype)
    if x.dtype == target:
        return x
    if target.kind in "iu" and x.dtype.kind == "f":
        info = np.iinfo(target)
        return np.clip(np.rint(x), info.min, info.max).astype(target)
    return x.astype(target)


# What strict providers do instead of falling back, in the words of the option that asks it.
STRICT_STOP = "stopping because --strict-providers is set"


class OnnxRuntime:
    """One ONNX model in an onnxruntime InferenceSession."""

    def __init__(self, path: Path, options: RuntimeOptions | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelLoadError(
                f"{path}: onnxruntime is not installed; run `pip install onnxruntime`."
            ) from exc
        self._ort = ort
        self.path = Path(path)
        self.options = options or RuntimeOptions()
        self.version = str(ort.__version__)
        warnings: list[str] = []

        if self.options.delegate:  # an ONNX model has providers instead; never ignore silently
            message = (f"{self.path.name}: --delegate applies to TFLite models; ignored for an "
                       "ONNX model.")
            log.warning("%s", message)
            warnings.append(message)
        requested = self._choose_providers(warnings)
        so = ort.SessionOptions()
        threads = self.options.threads
        if threads is not None:
            if threads < 1:
                raise ConfigError(f"threads must be 1 or more, not {threads}.")
            so.intra_op_num_threads = int(threads)
        so.graph_optimization_level = self._graph_level()
        so.log_severity_level = 3  # errors only; we report provider problems ourselves
        # onnxruntime's pool threads spin after each run, waiting for the next one. Frames
        # from a camera come every 33 ms: YOLOX-nano at 30 fps on 2 cores used 1.33 cores
        # spinning and 0.58-0.70 without (same rate, same latency) - power and heat a
        # fanless kiosk pays for months, and CPU the GUI and our preprocessing need (flat
        # out, the pipeline ran 1.6 % faster; a bare run() loop 2 % slower).
        so.add_session_config_entry("session.force_spinning_stop", "1")
        # onnxruntime print()s its provider fallback notes to stdout, which would corrupt
        # `--json` output: capture them and log them instead.
        chatter = io.StringIO()
        try:
            with contextlib.redirect_stdout(chatter):
                self.session = ort.InferenceSession(str(self.path), so, providers=requested)
        except Exception as exc:  # onnxruntime raises its own pybind types
            raise ModelLoadError(describe_load_error(self.path, exc, self.version)) from exc
        finally:
            if chatter.getvalue().strip():
                log.info("%s: %s", self.path.name, " ".join(chatter.getvalue().split()))
        # We do the run-time fallback ourselves (see run), without printing to stdout.
        with contextlib.suppress(AttributeError):
            self.session.disable_fallback()

        self.providers: tuple[str, ...] = tuple(self.session.get_providers())
        for p in requested:
            if p not in self.providers:
                self._missing(
                    f"{self.path.name}: {p} was chosen but could not start",
                    f"running on {', '.join(self.providers)}",
                    warnings,
                )
        self.warnings: tuple[str, ...] = tuple(warnings)

        self.inputs: tuple[TensorSpec, ...] = tuple(
            TensorSpec(i.name, _shape(i.shape), _ORT_TYPES.get(i.type, i.type))
            for i in self.session.get_inputs()
        )
        self.outputs: tuple[TensorSpec, ...] = tuple(
            TensorSpec(o.name, _shape(o.shape), _ORT_TYPES.get(o.type, o.type))
            for o in self.session.get_outputs()
        )
        self._output_names = [o.name for o in self.outputs]

    # ------------------------------------------------------------------ set-up
    def _missing(self, problem: str, fallback: str, warnings: list[str]) -> None:
        """Warn "<problem>; <fallback>." or, with strict providers, stop with the problem."""
        if self.options.strict_providers:
            raise ModelLoadError(f"{problem}; {STRICT_STOP}.")
        message = f"{problem}; {fallback}."
        log.warning("%s", message)
        warnings.append(message)

    def _choose_providers(self, warnings: list[str]) -> list[str]:
        available = list(self._ort.get_available_providers())
        if self.options.providers is None:
            chosen = [p for p in PREFERRED_PROVIDERS if p in available]
            return chosen or available
        known = known_provider_names(self._ort)
        # A typo is an error before anything else; a known provider missing here only warns.
        fulls = [check_provider_name(name, known) for name in self.options.providers]
        chosen = list(dict.fromkeys(full for full in fulls if full in available))
        for i, full in enumerate(fulls):
            if full in available:
                continue
            # Say which provider takes over: the next one asked for, else the first one
            # asked for before this, else CPU (the fallback when none asked for is here).
            later = [f for f in fulls[i + 1:] if f in available]
            if later:
                fallback = f"using the next one, {later[0]}"
            elif chosen:
                fallback = f"using {chosen[0]}"
            else:
                fallback = "falling back to CPUExecutionProvider"
            self._missing(
                f"{self.path.name}: execution provider {full} is not available in this "
                f"onnxruntime build (available: {', '.join(available)})",
                fallback,
                warnings,
            )
        if not chosen:
            chosen = ["CPUExecutionProvider"]
        return chosen

    def _graph_level(self) -> Any:
        level = self.options.graph_optimization.lower()
        table = {
            "disable": self._ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": self._ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": self._ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }
        if level not in table:
            raise ConfigError(
                f"graph optimisation level '{self.options.graph_optimization}' is unknown; "
                f"use one of {', '.join(GRAPH_OPT_LEVELS)}."
            )
        return table[level]

    # ------------------------------------------------------------------ running
    def _prepare(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for spec in self.inputs:
            x = feed_for(spec, feeds, len(self.inputs), self.path)
            x = np.asarray(x)
            fixed_ok = len(x.shape) == len(spec.shape) and all(
                d is None or d == s for d, s in zip(spec.shape, x.shape, strict=True)
            )
            if not fixed_ok:
                raise InferenceError(
                    f"{self.path.name}: input '{spec.name}' expects shape "
                    f"{_fmt_shape(spec.shape)}, got {_fmt_shape(tuple(x.shape))}."
                )
            out[spec.name] = convert_feed(x, spec.dtype)
        return out

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Run once; float feeds for float16/integer inputs are converted here."""
        prepared = self._prepare(feeds)
        try:
            try:
                return list(self.session.run(self._output_names, prepared))
            except Exception as exc:
                if type(exc).__name__ != "EPFail" or self.providers == (CPU,):
                    raise
                self._fall_back_to_cpu(exc)
                return list(self.session.run(self._output_names, prepared))
        except InferenceError:
            raise
        except Exception as exc:
            raise InferenceError(
                f"{self.path.name}: inference failed ({clean_ort_message(exc)})."
            ) from exc

    def _fall_back_to_cpu(self, exc: BaseException) -> None:
        """An accelerator failed mid-run: continue on CPU, or stop when providers are strict."""
        message = (
            f"{self.path.name}: {self.providers[0]} failed while running "
            f"({clean_ort_message(exc)}); continuing on CPUExecutionProvider."
        )
        if self.options.strict_providers:
            raise InferenceError(message.split("; continuing")[0] + f"; {STRICT_STOP}.")
        log.warning("%s", message)
        self.warnings = (*self.warnings, message)
        self.session.set_providers([CPU])
        self.providers = tuple(self.session.get_providers())

    # ------------------------------------------------------------------ reporting
    def describe(self) -> str:
        threads = self.options.threads or "auto"
        unit = "thread" if threads == 1 else "threads"
        return f"onnxruntime {self.version} · {self.providers[0]} · {threads} {unit}"

    def metadata(self) -> dict[str, object]:
        meta = self.session.get_modelmeta()
        version = int(meta.version)
        out: dict[str, object] = {
            "runtime": "onnxruntime",
            "runtime_version": self.version,
            "providers": list(self.providers),
            "producer_name": meta.producer_name,
            "graph_name": meta.graph_name,
            "domain": meta.domain,
            "description": meta.description,
            "version": None if version in (-1, _INT64_MAX) else version,
            "custom": dict(meta.custom_metadata_map),
        }
        out.update(read_onnx_header(self.path))
        return out
