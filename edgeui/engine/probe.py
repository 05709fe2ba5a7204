"""Load a TFLite model once in a child process, so a runtime that aborts cannot take us down.

A malformed model can make LiteRT abort the whole process instead of raising: its kernels
stop on a failed internal check (a quantised ADD whose output scale is ~0 does it), and no
Python code runs after that. The desktop app and its model picker must survive any file a
user drops in, so before a .tflite model is loaded in-process it is loaded here first: a
child Python process loads it, runs one inference on a blank input, and reports back. A
child killed by a signal becomes one clear ModelLoadError; one that worked tells the picker
its task, input size and runtime.

Not probed: ONNX models (onnxruntime validates a graph and raises; it does not abort) and
models loaded with an accelerator delegate (an Edge TPU is opened by one process at a time:
a probe would fail, or knock the running app off the device).

Cached by (path, mtime, size, options): successes and crashes only. A refusal with a reason
(a bad sidecar, an unknown layout) is not cached: fixing the sidecar must be enough.

The child is ``python -m edgeui _probe PATH`` (or the frozen app's own executable with
``_probe``); the options travel pickled on stdin, the answer comes back as one marked JSON
line on the child's real stdout, onto which native code cannot print (fd 1 is pointed at
stderr while the model loads).

A child never outlives its parent: ``stop_children()`` kills the running ones (the app
calls it when it quits, and it runs at interpreter exit, which also ends new probes), an
exception in the waiting thread (Ctrl-C) kills its child, and on Linux the kernel kills
the child when the parent dies even by SIGKILL (``PR_SET_PDEATHSIG``, set by the child).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
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
from edgeui.engine.runtimes.base import check_model_path, model_format
from edgeui.errors import EdgeUIError, ModelLoadError

log = logging.getLogger(__name__)

MARKER = "EDGEUI-PROBE "
DEFAULT_TIMEOUT_S = 60.0
# Windows reports a crash as an exit code: abort() is 3, NTSTATUS failures are 0xC0000000+.
_WINDOWS_CRASH_CODES = (3,)
_NTSTATUS_ERROR = 0xC0000000


@dataclass(frozen=True)
class ProbeResult:
    """What loading the model in a child process showed.

    ok: it loaded and ran one inference (or could not be checked: ``checked`` False). Else
    ``message`` is the sentence to show and ``error`` the EdgeUIError class to raise it as.
    """

    ok: bool
    message: str = ""
    error: str = "ModelLoadError"
    task: str = ""
    input_size: str = ""
    runtime: str = ""
    checked: bool = True
    crashed: bool = False

    def raise_if_failed(self) -> None:
        if not self.ok:
            cls = getattr(errors, self.error, ModelLoadError)
            if not (isinstance(cls, type) and issubclass(cls, EdgeUIError)):
                cls = ModelLoadError
            raise cls(self.message)


_cache: dict[tuple[Any, ...], ProbeResult] = {}
_cache_lock = threading.Lock()
_in_flight: dict[tuple[Any, ...], threading.Lock] = {}  # one child per key at a time

# The children running now, and those stop_children() killed (their end is no crash).
_children: set[subprocess.Popen[bytes]] = set()
_stopped: set[subprocess.Popen[bytes]] = set()
_children_lock = threading.Lock()
_closing = False  # set at interpreter exit: no new children
PARENT_ENV = "EDGEUI_PROBE_PARENT"  # the parent's pid, for the child's death check


def stop_children() -> int:
    """Kill every probe child running now and wait for each to end; returns how many.

    The threads waiting for them get a ProbeResult that is not ok and not cached (the
    model was not checked; nothing is loaded in-process instead)."""
    with _children_lock:
        procs = list(_children)
        _stopped.update(procs)
    for proc in procs:
        with contextlib.suppress(OSError):
            proc.kill()
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            proc.wait(timeout=5)
    return len(procs)


def _at_exit() -> None:
    global _closing
    with _children_lock:
        _closing = True
    stop_children()


atexit.register(_at_exit)


def self_command() -> list[str]:
    """The command line that runs edgeui's CLI again (the frozen app runs itself)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    # -P: the working folder is not put first on the import path, so a folder named
    # "edgeui" there (a clone in the home folder) cannot stand in for the installed package.
    return [sys.executable, "-P", "-m", "edgeui"]


def probing_enabled() -> bool:
    """False when EDGEUI_NO_PROBE=1 (a platform that cannot start child processes)."""
    return os.environ.get("EDGEUI_NO_PROBE", "") not in ("1", "true", "yes")


def should_probe(path: str | Path, options: Any = None) -> bool:
    """Whether loading this model in-process needs a child process to try it first."""
    # By content: a TFLite model named .bin (or wrongly .onnx) can abort LiteRT all the same.
    if not probing_enabled() or model_format(Path(path)) != ".tflite":
        return False
    runtime = getattr(options, "runtime", None)
    return not getattr(runtime, "delegate", None)


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
    """The sentence for a child that died loading the model."""
    runtime = "LiteRT" if model_format(path) == ".tflite" else "The runtime"
    how = f"exit code {returncode:#x}" if returncode > 255 else f"exit code {returncode}"
    if returncode < 0:
        with contextlib.suppress(ValueError):
            how = signal.Signals(-returncode).name
    if how == "SIGKILL":  # what the kernel's out-of-memory killer sends
        return (f"{path.name}: loading this model was killed (SIGKILL), most often because "
                f"the machine ran out of memory; close other programs or use a smaller model.")
    return (
        f"{path.name}: {runtime} crashed while loading this model ({how}); the file is damaged "
        f"or uses something this runtime cannot run (odd quantisation parameters, a kernel "
        f"bug). Re-export the model, or try it with another runtime version."
    )


def _is_crash(returncode: int) -> bool:
    if returncode < 0:  # POSIX: killed by a signal (SIGABRT, SIGSEGV, ...)
        return returncode != -signal.SIGTERM  # we never send it; someone stopped the child
    if sys.platform == "win32":
        return returncode in _WINDOWS_CRASH_CODES or returncode >= _NTSTATUS_ERROR
    return False


def probe_model(path: str | Path, options: Any = None, *,
                timeout: float = DEFAULT_TIMEOUT_S) -> ProbeResult:
    """Load ``path`` with ``options`` (a ModelOptions or None) in a child process.

    Never raises; see ProbeResult. Successes and crashes are cached while the file is
    unchanged; two threads asking about the same file share one child.
    """
    p = Path(path)
    try:
        check_model_path(p)  # missing, a folder, empty: the sentence load_runtime gives
    except ModelLoadError as exc:
        return ProbeResult(False, str(exc))
    key = _cache_key(p, options)
    if key is None:
        return _run_child(p, options, timeout)
    with _cache_lock:
        gate = _in_flight.setdefault(key, threading.Lock())
    with gate:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None:
            return hit
        result = _run_child(p, options, timeout)
        if result.checked and (result.ok or result.crashed):
            with _cache_lock:
                _cache[key] = result
    with _cache_lock:
        _in_flight.pop(key, None)
    return result


def ensure_loadable(path: str | Path, options: Any = None) -> ProbeResult | None:
    """Probe when the model needs it (see should_probe); raise its error when it fails."""
    if not should_probe(path, options):
        return None
    result = probe_model(path, options)
    result.raise_if_failed()
    return result


def load_model(path: str | Path, options: Any = None) -> Any:
    """``Model.load`` after a child process showed that loading cannot crash this one."""
    from edgeui.engine.model import Model

    ensure_loadable(path, options)
    return Model.load(path, options)


def _not_checked(path: Path, why: str) -> ProbeResult:
    log.warning("%s: not checked in a separate process (%s); loading it directly", path.name, why)
    return ProbeResult(True, f"not checked ({why})", checked=False)


def _run_child(path: Path, options: Any, timeout: float) -> ProbeResult:
    try:
        payload = pickle.dumps(options)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        return _not_checked(path, f"options cannot be sent: {exc}")
    env = dict(os.environ)
    env.setdefault("PYTHONIOENCODING", "utf-8")
    env[PARENT_ENV] = str(os.getpid())
    creation = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flash on Windows
    stopped = ProbeResult(False, f"{path.name}: not checked: edgeui is stopping.",
                          checked=False)  # fmt: skip
    try:
        with _children_lock:  # started under the lock: stop_children() cannot miss it
            if _closing:
                return stopped
            proc = subprocess.Popen(
                [*self_command(), "_probe", str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                creationflags=creation,
            )
            _children.add(proc)
    except OSError as exc:
        return _not_checked(path, f"could not start a child process: {exc}")
    try:
        stdout, stderr = proc.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:  # not cached: the machine may just have been busy
        _kill(proc)
        return ProbeResult(False, f"{path.name}: loading took longer than {timeout:g} s; "
                                  f"the model may be too big for this machine.", checked=False)
    except BaseException:  # Ctrl-C while waiting, or a broken pipe: the child goes too
        _kill(proc)
        raise
    finally:
        with _children_lock:
            _children.discard(proc)
            was_stopped = proc in _stopped
            _stopped.discard(proc)
    if was_stopped:
        return stopped
    answer = _find_answer(stdout)
    if _is_crash(proc.returncode):
        return ProbeResult(False, crash_message(path, proc.returncode), crashed=True)
    if answer is None or proc.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return _not_checked(path, f"the check exited with code {proc.returncode}: {tail[0]}")
    try:
        return ProbeResult(**{k: answer[k] for k in ("ok", "message", "error", "task",
                                                     "input_size", "runtime") if k in answer})
    except TypeError:
        return _not_checked(path, "the check gave an unreadable answer")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill a child and reap it (its pipes are closed too)."""
    with contextlib.suppress(OSError):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.communicate(timeout=5)


def die_with_parent() -> None:
    """In the child: end when the parent ends, even when it is killed outright.

    Linux only (``prctl(PR_SET_PDEATHSIG, SIGKILL)``, via ctypes: nothing Linux-only is
    imported elsewhere); a parent that died before that call is caught by its pid. On
    Windows and macOS nothing: the parent kills its children when it exits normally, and
    a child left behind by a crashed parent still ends when its model has loaded."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):  # no libc prctl (musl without it, odd builds)
        return
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        try:
            os.kill(int(parent), 0)
        except ProcessLookupError:  # gone before prctl: nobody waits for the answer
            os._exit(1)
        except OSError:  # alive (another user's process would say EPERM)
            pass


def _find_answer(stdout: bytes) -> dict[str, Any] | None:
    for line in reversed(stdout.decode("utf-8", "replace").splitlines()):
        at = line.find(MARKER)
        if at >= 0:
            try:
                data = json.loads(line[at + len(MARKER):])
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


def _read_fd(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def child_main(argv: list[str]) -> int:
    """The child: load argv[0] with the pickled options on stdin, answer with one JSON line."""
    if len(argv) != 1:
        os.write(2, b"usage: edgeui _probe MODEL < pickled-options\n")
        return 2
    die_with_parent()
    # Raw fds, not sys.stdin/stdout: a windowed frozen app may have no Python streams.
    options = pickle.loads(_read_fd(0) or pickle.dumps(None))
    answer_fd = os.dup(1)
    os.dup2(2, 1)  # whatever the runtime prints natively must not reach the answer
    answer: dict[str, Any]
    try:
        from edgeui.engine.catalog import input_size_text
        from edgeui.engine.model import Model

        model = Model.load(argv[0], options)
        model.infer(model.dummy_feeds())  # some runtimes only fail at the first run
        answer = {"ok": True, "message": "loads", "task": str(getattr(model, "task", "") or ""),
                  "input_size": input_size_text(model), "runtime": model.runtime.describe()}
    except EdgeUIError as exc:
        answer = {"ok": False, "message": str(exc), "error": type(exc).__name__}
    except Exception as exc:  # a runtime's own exception type: still one sentence
        answer = {"ok": False, "message": f"{Path(argv[0]).name}: cannot be loaded ({exc}).",
                  "error": "ModelLoadError"}
    os.write(answer_fd, ("\n" + MARKER + json.dumps(answer) + "\n").encode("utf-8"))
    return 0
