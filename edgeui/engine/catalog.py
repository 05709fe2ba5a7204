"""Find model files in folders and read the cheap facts the model picker lists.

``list_model_files`` only walks folders (instant); ``inspect_model_file`` loads the model once,
in a child process (``edgeui.engine.probe``: a file that crashes its runtime must not crash
the app), to learn its task, input size and runtime, or the sentence saying why it fails.
Results are cached by (path, mtime, size), so a rescan after adding one model loads only that
one. Loading can take seconds for big models: callers run it off the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from edgeui.errors import EdgeUIError

log = logging.getLogger(__name__)

MODEL_SUFFIXES: tuple[str, ...] = (".onnx", ".tflite")
FORMATS = {".onnx": "ONNX", ".tflite": "TFLite"}


@dataclass(frozen=True)
class ModelEntry:
    """One model file as the picker lists it.

    task/input_size/runtime are "" until the model was loaded; status_ok tells whether it
    loads, message is the error sentence (or the runtime's description when it loads).
    """

    path: str
    name: str
    format: str
    size_bytes: int
    task: str = ""
    input_size: str = ""
    runtime: str = ""
    status_ok: bool = False
    message: str = ""
    checked: bool = False

    @property
    def size_text(self) -> str:
        return format_size(self.size_bytes)


def format_size(n: int) -> str:
    """Bytes as a short human text: 812 B, 3.4 MB."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def list_model_files(folders: Iterable[str | Path], depth: int = 2) -> list[Path]:
    """Model files in ``folders`` (and subfolders up to ``depth``), sorted, without repeats.

    Missing or unreadable folders are skipped: a models folder that does not exist yet is
    the normal first-run state.
    """
    found: dict[str, Path] = {}

    def walk(folder: Path, level: int) -> None:
        try:
            children = sorted(folder.iterdir())
        except OSError:
            return
        for child in children:
            if child.name.startswith("."):
                continue
            try:
                if child.is_file() and child.suffix.lower() in MODEL_SUFFIXES:
                    found.setdefault(str(child.resolve()), child)
                elif child.is_dir() and level < depth:
                    walk(child, level + 1)
            except OSError:
                continue

    for folder in folders:
        walk(Path(folder).expanduser(), 1)
    return sorted(found.values(), key=lambda p: (p.name.lower(), str(p)))


def _format_of(path: Path) -> str:
    """"ONNX"/"TFLite" by content (16 bytes read) when it says, else by the suffix."""
    from edgeui.engine.runtimes.base import format_name

    try:
        name = format_name(path)
    except OSError:
        name = ""
    return name or FORMATS.get(path.suffix.lower(), path.suffix.lstrip(".").upper() or "?")


def quick_entry(path: str | Path) -> ModelEntry:
    """The entry for a file from its name and size only (status: not checked yet)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        size = 0
    return ModelEntry(
        path=str(p),
        name=p.stem,
        format=_format_of(p),
        size_bytes=size,
        message="checking…",
    )


Loader = Callable[[Path], object]


def _default_loader(path: Path) -> object:
    from edgeui.engine.model import Model

    return Model.load(path)


def input_size_text(model: object) -> str:
    """"416x416" from a loaded model's card ("" when it has none)."""
    pre = getattr(getattr(model, "card", None), "preprocess", None)
    if pre is not None:
        return f"{pre.width}x{pre.height}"
    return ""


_cache: dict[tuple[str, int, int], ModelEntry] = {}
_cache_lock = threading.Lock()


def inspect_model_file(path: str | Path, loader: Loader | None = None) -> ModelEntry:
    """Load the model once (in a child process) and report task, input size, runtime and
    whether it loads.

    Never raises for a bad model: the error sentence becomes ``message``. Cached by
    (path, mtime, size); pass ``loader`` to load in-process with something else instead.
    """
    p = Path(path)
    entry = quick_entry(p)
    try:
        st = p.stat()
    except OSError:
        return _replace(entry, status_ok=False, message=f"{p}: file not found; check the path.")
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    if loader is None:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None:
            return hit
    result = _probed_entry(entry, p) if loader is None else _loaded_entry(entry, p, loader)
    if loader is None:
        with _cache_lock:
            _cache[key] = result
    return result


def _probed_entry(entry: ModelEntry, path: Path) -> ModelEntry:
    """Check the model in a child process: a file that crashes its runtime can't crash us."""
    from edgeui.engine.probe import probe_model, should_probe

    if not should_probe(path):  # see probe.py: only models that can abort their runtime
        return _loaded_entry(entry, path, _default_loader)
    probed = probe_model(path)
    if not probed.ok:
        return _replace(entry, status_ok=False, message=probed.message)
    return _replace(entry, task=probed.task, input_size=probed.input_size,
                    runtime=probed.runtime, status_ok=True, message="loads")


def _loaded_entry(entry: ModelEntry, path: Path, loader: Loader) -> ModelEntry:
    try:
        model = loader(path)
    except EdgeUIError as exc:
        return _replace(entry, status_ok=False, message=str(exc))
    except Exception as exc:  # a runtime bug must show as a status, never kill the scan
        log.exception("unexpected error while checking %s", path)
        return _replace(entry, status_ok=False,
                        message=f"{path.name}: cannot be loaded ({exc}).")
    describe = getattr(getattr(model, "runtime", None), "describe", None)
    result = _replace(
        entry,
        task=str(getattr(model, "task", "") or ""),
        input_size=input_size_text(model),
        runtime=describe() if callable(describe) else "",
        status_ok=True,
        message="loads",
    )
    close = getattr(getattr(model, "runtime", None), "close", None)
    if callable(close):
        close()
    return result


def _replace(entry: ModelEntry, **changes: object) -> ModelEntry:
    return replace(entry, checked=True, **changes)


def scan_models(folders: Iterable[str | Path], loader: Loader | None = None) -> list[ModelEntry]:
    """Every model file in ``folders`` with its checked facts (slow: loads each model)."""
    return [inspect_model_file(p, loader) for p in list_model_files(folders)]


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
