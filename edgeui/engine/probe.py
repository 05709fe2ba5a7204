"""Load a model once in a child process, so a runtime that crashes cannot take us down.

A malformed model can make a runtime abort the whole process instead of raising: LiteRT's
kernels stop on a failed internal check (a quantised ADD whose output scale is ~0 does it),
and no Python code runs after that. The desktop app and the model picker must survive any
file a user drops in, so before loading a model in-process they load it here first: a
child Python process loads it, runs one inference on a blank input, and reports back. A
child that dies becomes one clear ModelLoadError; one that worked tells the picker its task,
input size and runtime. Results are cached by (path, mtime, size, options).

The child is ``python -m edgeui _probe`` (or the frozen app's own executable with ``_probe``);
the options travel pickled on stdin, the answer comes back as one marked JSON line.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeui import errors
from edgeui.errors import EdgeUIError, ModelLoadError

MARKER = "EDGEUI-PROBE "
DEFAULT_TIMEOUT_S = 300.0  # big models and accelerator compilers can take minutes
_RUNTIME_NAMES = {".tflite": "LiteRT", ".onnx": "ONNX Runtime"}


@dataclass(frozen=True)
class ProbeResult:
    """What loading the model in a child process showed.

    ok: it loaded and ran one inference. Otherwise ``message`` is the sentence to show and
    ``error`` the EdgeUIError class name to raise it as.
    """

    ok: bool
    message: str = ""
    error: str = "ModelLoadError"
    task: str = ""
    input_size: str = ""
    runtime: str = ""

    def raise_if_failed(self) -> None:
        if not self.ok:
            cls = getattr(errors, self.error, ModelLoadError)
            if not (isinstance(cls, type) and issubclass(cls, EdgeUIError)):
                cls = ModelLoadError
            raise cls(self.message)


_cache: dict[tuple[Any, ...], ProbeResult] = {}
_cache_lock = threading.Lock()


def self_command() -> list[str]:
    """The command line that runs edgeui's CLI again (the frozen app runs itself)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "edgeui"]


def _cache_key(path: Path, options: Any) -> tuple[Any, ...] | None:
    try:
        st = path.stat()
        return (str(path.resolve()), st.st_mtime_ns, st.st_size, repr(options))
    except OSError:
        return None


def cached(path: str | Path, options: Any = None) -> ProbeResult | None:
    """The cached result for this file and options, if it was probed (and not changed since)."""
    key = _cache_key(Path(path), options)
    with _cache_lock:
        return _cache.get(key) if key is not None else None


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def crash_message(path: Path, returncode: int) -> str:
    """The sentence for a child that died without answering."""
    runtime = _RUNTIME_NAMES.get(path.suffix.lower(), "The runtime")
    how = f"exit code {returncode}"
    if returncode < 0:
        with contextlib.suppress(ValueError):
            how = signal.Signals(-returncode).name
    return (
        f"{path.name}: {runtime} crashed while loading this model ({how}); the file is damaged "
        f"or uses something this runtime cannot run (odd quantisation parameters, a kernel "
        f"bug). Re-export the model, or try it with another runtime version."
    )


def probe_model(path: str | Path, options: Any = None, *,
                timeout: float = DEFAULT_TIMEOUT_S) -> ProbeResult:
    """Load ``path`` with ``options`` (a ModelOptions or None) in a child process.

    Never raises for a bad model; see ProbeResult. Cached while the file is unchanged.
    """
    p = Path(path)
    if not p.is_file():
        return ProbeResult(False, f"{p}: model file not found; check the path.")
    key = _cache_key(p, options)
    with _cache_lock:
        hit = _cache.get(key) if key is not None else None
    if hit is not None:
        return hit
    result = _run_child(p, options, timeout)
    if key is not None:
        with _cache_lock:
            _cache[key] = result
    return result


def ensure_loadable(path: str | Path, options: Any = None) -> ProbeResult:
    """Probe (or take the cached probe) and raise its error when the model does not load."""
    result = probe_model(path, options)
    result.raise_if_failed()
    return result


def probing_enabled() -> bool:
    """False when EDGEUI_NO_PROBE=1 (a platform that cannot start child processes)."""
    return os.environ.get("EDGEUI_NO_PROBE", "") not in ("1", "true", "yes")


def load_model(path: str | Path, options: Any = None) -> Any:
    """``Model.load`` after a child process proved that loading cannot crash this one."""
    from edgeui.engine.model import Model

    if probing_enabled():
        ensure_loadable(path, options)
    return Model.load(path, options)


def _run_child(path: Path, options: Any, timeout: float) -> ProbeResult:
    env = dict(os.environ)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    creation = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flash on Windows
    try:
        proc = subprocess.run(
            [*self_command(), "_probe", str(path)],
            input=pickle.dumps(options),
            capture_output=True,
            timeout=timeout,
            env=env,
            creationflags=creation,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ProbeResult(False, f"{path.name}: loading took longer than {timeout:g} s; "
                                  f"the model may be too big for this machine.")
    except OSError as exc:
        # Could not start a child at all: say so, and let the caller load in-process.
        return ProbeResult(True, f"not checked in a separate process ({exc})")
    for line in reversed(proc.stdout.decode("utf-8", "replace").splitlines()):
        if line.startswith(MARKER):
            try:
                data = json.loads(line[len(MARKER):])
                return ProbeResult(**{k: data[k] for k in ProbeResult.__dataclass_fields__
                                      if k in data})
            except (ValueError, TypeError):
                break
    return ProbeResult(False, crash_message(path, proc.returncode))


def _input_size(model: Any) -> str:
    pre = getattr(getattr(model, "card", None), "preprocess", None)
    return f"{pre.width}x{pre.height}" if pre is not None else ""


def child_main(argv: list[str]) -> int:
    """The child: load argv[0] with the pickled options on stdin, answer with one JSON line."""
    out = sys.stdout
    if len(argv) != 1:
        print("usage: edgeui _probe MODEL < pickled-options", file=sys.stderr)
        return 2
    options = pickle.loads(sys.stdin.buffer.read() or pickle.dumps(None))
    answer: dict[str, Any]
    try:
        # Runtimes may print; only our marked line may reach the parent's parser.
        with contextlib.redirect_stdout(io.StringIO()):
            from edgeui.engine.model import Model

            model = Model.load(argv[0], options)
            model.infer(model.dummy_feeds())  # some runtimes only fail at the first run
        answer = {"ok": True, "message": "loads", "task": str(getattr(model, "task", "") or ""),
                  "input_size": _input_size(model), "runtime": model.runtime.describe()}
    except EdgeUIError as exc:
        answer = {"ok": False, "message": str(exc), "error": type(exc).__name__}
    except Exception as exc:  # a runtime's own exception type: still one sentence
        answer = {"ok": False, "message": f"{Path(argv[0]).name}: cannot be loaded ({exc}).",
                  "error": "ModelLoadError"}
    out.write(MARKER + json.dumps(answer) + "\n")
    out.flush()
    return 0

