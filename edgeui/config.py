"""User settings in TOML: the models folders, recent sources, per-model choices, the window.

Read from the system file first (``/etc/edgeui/edgeui.toml``, for kiosks), then the user file
in the platformdirs config folder, which overrides it key by key. A malformed file never stops
the app: ``Settings.load`` keeps the defaults for that file and records one ConfigError
sentence in ``Settings.error`` for the notifier. Saving writes the user file atomically
(temporary file + replace) with a small writer for this flat schema (no extra dependency).

No Qt here: window geometry is stored as the base64 text of Qt's ``saveGeometry()``.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from edgeui.errors import ConfigError

APP_NAME = "edgeui"
SYSTEM_CONFIG = Path("/etc/edgeui/edgeui.toml")
MAX_RECENT = 10


def user_config_dir() -> Path:
    """Where the user settings file lives (``EDGEUI_CONFIG_DIR`` overrides it)."""
    env = os.environ.get("EDGEUI_CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir as _ucd

    return Path(_ucd(APP_NAME, appauthor=False))


def user_config_path() -> Path:
    return user_config_dir() / "edgeui.toml"


def system_config_path() -> Path:
    """The kiosk-wide settings file (``EDGEUI_SYSTEM_CONFIG`` overrides it)."""
    env = os.environ.get("EDGEUI_SYSTEM_CONFIG")
    return Path(env) if env else SYSTEM_CONFIG


def default_models_folder() -> Path:
    """The user's models folder (``EDGEUI_DATA_DIR`` overrides the data folder)."""
    env = os.environ.get("EDGEUI_DATA_DIR")
    if env:
        return Path(env) / "models"
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "models"


def default_snapshots_dir() -> Path:
    from platformdirs import user_pictures_dir

    return Path(user_pictures_dir()) / "edgeui"


@dataclass(frozen=True)
class ModelSettings:
    """Choices remembered for one model file; None means "the model card's default"."""

    conf: float | None = None
    iou: float | None = None
    top_k: int | None = None
    threads: int | None = None
    provider: str | None = None  # ONNX Runtime execution provider
    delegate: str | None = None  # TFLite external delegate library

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class Settings:
    """Everything edgeui remembers between runs. Mutate fields, then ``save()``."""

    model_folders: list[str] = field(default_factory=list)
    last_model: str = ""
    last_source: str = ""
    recent_sources: list[str] = field(default_factory=list)
    snapshots_dir: str = ""
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    fullscreen: bool = False
    # Frames shown per second at most (0: automatic: the screen's refresh rate, fewer while
    # inference runs flat out). A small device shows 15 or 30 and gives the CPU to inference.
    display_fps: float = 0.0
    models: dict[str, ModelSettings] = field(default_factory=dict)
    # Where save() writes; the first problem met while loading (the app shows it, then runs).
    path: Path | None = field(default=None, compare=False, repr=False)
    error: ConfigError | None = field(default=None, compare=False, repr=False)

    # --- loading ----------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> Settings:
        """Settings from ``path``, or from the system file overlaid with the user file.

        Never raises for a bad file: defaults are kept and ``error`` holds the sentence.
        """
        settings = cls()
        files = [Path(path)] if path is not None else [system_config_path(), user_config_path()]
        for f in files:
            try:
                data = read_toml(f)
            except ConfigError as exc:
                settings.error = settings.error or exc
                continue
            try:
                settings._apply(data, f)
            except ConfigError as exc:
                settings.error = settings.error or exc
        settings.path = Path(path) if path is not None else user_config_path()
        return settings

    @classmethod
    def read(cls, path: str | Path) -> Settings:
        """Strictly read one file: ConfigError when it is missing keys' types or malformed."""
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"{p}: settings file not found.")
        settings = cls(path=p)
        settings._apply(read_toml(p), p)
        return settings

    def _apply(self, data: Mapping[str, Any], source: Path) -> None:
        """Validate ``data`` completely, then overlay it (a bad file changes nothing)."""
        new = replace(self, models=dict(self.models))
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise ConfigError(
                f"{source}: unknown setting {sorted(unknown)[0]!r}; "
                f"remove it or use one of: {', '.join(sorted(_TOP_KEYS))}."
            )
        for key in ("last_model", "last_source", "snapshots_dir"):
            if key in data:
                setattr(new, key, _expect(data[key], str, key, source))
        for key in ("model_folders", "recent_sources"):
            if key in data:
                value = _expect(data[key], list, key, source)
                setattr(new, key, [_expect(v, str, key, source) for v in value])
        new.recent_sources = _dedup(new.recent_sources)[:MAX_RECENT]
        new.model_folders = _dedup(new.model_folders)
        if "window" in data:
            window = _expect(data["window"], dict, "window", source)
            for key, value in window.items():
                if key == "geometry":
                    new.window_geometry = _expect(value, str, "window.geometry", source)
                elif key == "fullscreen":
                    new.fullscreen = _expect(value, bool, "window.fullscreen", source)
                elif key == "display_fps":
                    if isinstance(value, bool) or not isinstance(value, (int, float)) \
                            or not 0 <= value <= 1000:  # fmt: skip
                        raise ConfigError(
                            f"{source}: window.display_fps must be a number from 0 (the "
                            f"screen's refresh rate) to 1000, not {value!r}."
                        )
                    new.display_fps = float(value)
                else:
                    raise ConfigError(
                        f"{source}: unknown setting 'window.{key}'; use geometry, fullscreen "
                        f"or display_fps."
                    )
        if "models" in data:
            for model_path, table in _expect(data["models"], dict, "models", source).items():
                # Full paths under today's key (a file from before keys followed the file
                # system's letter case); a relative one is kept as written (from where?).
                key = _model_key(model_path) if Path(model_path).is_absolute() else model_path
                new.models.setdefault(key, _model_settings(table, model_path, source))
        for f in fields(self):
            if f.name not in ("path", "error"):
                setattr(self, f.name, getattr(new, f.name))

    # --- changing ---------------------------------------------------------------------
    def add_recent_source(self, uri: str) -> None:
        """Remember ``uri`` as the newest source (deduplicated, at most MAX_RECENT kept)."""
        uri = str(uri).strip()
        if not uri:
            return
        self.last_source = uri
        self.recent_sources = _dedup([uri, *self.recent_sources])[:MAX_RECENT]

    def add_model_folder(self, folder: str | Path) -> None:
        self.model_folders = _dedup([*self.model_folders, str(folder)])

    def model_settings(self, model_path: str | Path) -> ModelSettings:
        """The choices kept for a model file, however its path is written (relative to where
        the app was started, or in full, as last_model is)."""
        key = _model_key(model_path)
        return self.models.get(key) or self.models.get(str(model_path)) or ModelSettings()

    def update_model_settings(self, model_path: str | Path, **changes: Any) -> ModelSettings:
        """Change some per-model choices (e.g. ``conf=0.4``) and return the new record."""
        bad = set(changes) - _MODEL_KEYS
        if bad:
            raise ConfigError(f"unknown per-model setting {sorted(bad)[0]!r}.")
        updated = replace(self.model_settings(model_path), **changes)
        if str(model_path) != _model_key(model_path):
            self.models.pop(str(model_path), None)  # an older entry under the path as typed
        self.models[_model_key(model_path)] = updated
        return updated

    def folders(self) -> list[Path]:
        """The models folders to scan: the user's default one first, then the added ones."""
        return [Path(p) for p in _dedup([str(default_models_folder()), *self.model_folders])]

    # --- saving -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model_folders": list(self.model_folders),
            "last_model": self.last_model,
            "last_source": self.last_source,
            "recent_sources": list(self.recent_sources),
            "snapshots_dir": self.snapshots_dir,
            "window": {"geometry": self.window_geometry, "fullscreen": self.fullscreen},
        }
        if self.display_fps:
            out["window"]["display_fps"] = self.display_fps
        models = {k: v.to_dict() for k, v in sorted(self.models.items()) if v.to_dict()}
        if models:
            out["models"] = models
        return out

    def save(self, path: str | Path | None = None) -> Path:
        """Write the user file atomically; ConfigError names the folder when it cannot."""
        target = Path(path) if path is not None else (self.path or user_config_path())
        text = dumps_toml(self.to_dict())
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise ConfigError(
                f"{target}: cannot save settings ({exc.strerror or exc}); "
                "check that the folder is writable."
            ) from exc
        self.path = target
        return target


_TOP_KEYS = frozenset(
    {"model_folders", "last_model", "last_source", "recent_sources", "snapshots_dir",
     "window", "models"}
)  # fmt: skip
_MODEL_KEYS = frozenset(f.name for f in fields(ModelSettings))
_MODEL_TYPES: dict[str, tuple[type, ...]] = {
    "conf": (float, int), "iou": (float, int), "top_k": (int,), "threads": (int,),
    "provider": (str,), "delegate": (str,),
}  # fmt: skip


# A URI's scheme: two letters or more, so that "C:" stays a Windows drive.
_URI_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+:")


def _same_key(item: str) -> str:
    """What two entries are compared by: a local path as the file system compares it
    (``os.path.normcase``: letter case and slashes on Windows; letter case on macOS, whose
    usual file systems ignore it though normcase does not), anything with a scheme (a
    stream, ``camera:Name``) exactly as written."""
    if _URI_SCHEME.match(item):
        return item
    key = os.path.normcase(item)
    return key.lower() if sys.platform == "darwin" else key


def _model_key(model_path: str | Path) -> str:
    """One key per model file: its full path (a relative --model from another folder names
    the same file)."""
    return _same_key(str(Path(model_path).expanduser().absolute()))


def entry_key(item: str) -> str:
    """How two recent sources (or folders) are told apart: one key, one entry (the app's
    in-memory lists use it too, so they match what is saved)."""
    return _same_key(str(item))


def dedup_entries(items: list[str]) -> list[str]:
    """``items`` as the saved lists keep them: no repeats by :func:`entry_key`, the first
    spelling kept."""
    return _dedup([str(x) for x in items])


def _dedup(items: list[str]) -> list[str]:
    """``items`` without empty or repeated entries, the first spelling kept (the newest,
    for the recent list): one path in two letter cases is one entry on Windows and macOS."""
    seen: set[str] = set()
    out = []
    for x in items:
        key = _same_key(x) if x else ""
        if x and key not in seen:
            seen.add(key)
            out.append(x)
    return out


def _expect(value: Any, kind: type, key: str, source: Path) -> Any:
    # bool is an int subclass in Python; TOML keeps them apart, and so do we.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = {str: "text", list: "a list", dict: "a table", bool: "true or false"}
        raise ConfigError(f"{source}: setting '{key}' must be {names.get(kind, kind.__name__)}.")
    return value


def _model_settings(table: Any, model_path: str, source: Path) -> ModelSettings:
    where = f"models.{model_path!r}"
    _expect(table, dict, where, source)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _MODEL_KEYS:
            raise ConfigError(
                f"{source}: unknown setting '{key}' in {where}; "
                f"use one of: {', '.join(sorted(_MODEL_KEYS))}."
            )
        types = _MODEL_TYPES[key]
        if isinstance(value, bool) or not isinstance(value, types):
            kind = "a number" if float in types else "a whole number" if int in types else "text"
            raise ConfigError(f"{source}: '{key}' in {where} must be {kind}.")
        if key in ("conf", "iou") and not 0.0 <= float(value) <= 1.0:
            raise ConfigError(f"{source}: '{key}' in {where} must be between 0 and 1.")
        if key in ("top_k", "threads") and value < 1:
            raise ConfigError(f"{source}: '{key}' in {where} must be 1 or more.")
        values[key] = float(value) if key in ("conf", "iou") else value
    return ModelSettings(**values)


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; {} when it does not exist; ConfigError when malformed."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read settings ({exc.strerror or exc}).") from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid TOML ({exc}); fix or delete the file "
            "(edgeui uses its defaults meanwhile)."
        ) from exc


# --- a tiny TOML writer for this schema: scalars, lists of scalars, nested tables ----------
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}  # fmt: skip


def _str(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _str(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps_toml(data: Mapping[str, Any]) -> str:
    """Serialise nested dicts of scalars and lists to TOML (tables after plain keys)."""
    lines: list[str] = []

    def emit(table: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        plain = {k: v for k, v in table.items() if not isinstance(v, Mapping) and v is not None}
        tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
        if prefix and (plain or not tables):
            lines.append(("\n" if lines else "") + "[" + ".".join(_key(k) for k in prefix) + "]")
        for k, v in plain.items():
            lines.append(f"{_key(k)} = {_value(v)}")
        for k, v in tables.items():
            emit(v, (*prefix, k))

    emit(data, ())
    return "\n".join(lines) + "\n"
