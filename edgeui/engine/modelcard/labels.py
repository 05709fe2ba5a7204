"""Label files: find them beside a model, parse the shipped formats, work out the offset.

Formats (detected from the text, not the suffix):

- one name per line (``imagenet_labels.txt``; a blank line keeps its position);
- ``id name`` / ``id: name`` / ``id,name`` lines (Coral's ``0  person``), placed by id;
- TF Object Detection ``label_map.pbtxt`` (``item { id: 1 name: "person" }``, with
  ``display_name`` preferred), placed by id.

``???`` marks an unused id and is stored as an empty name, so ``Labels.name`` says
"class N" for it while every other position is kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgeui.errors import SidecarError

BACKGROUND_NAMES = frozenset({"", "???", "background", "__background__", "bg"})

_ID_LINE = re.compile(r"^\s*(\d+)\s*(?:[:,]\s*|\s+)(.*?)\s*$")
_PBTXT_ITEM = re.compile(r"item\s*\{(.*?)\}", re.DOTALL)
_PBTXT_ID = re.compile(r"\bid\s*:\s*(\d+)")
_PBTXT_NAME = re.compile(r"\b(display_name|name)\s*:\s*[\"']([^\"']*)[\"']")
_TOKEN = re.compile(r"[a-z0-9]+")
_MAX_LABEL_BYTES = 4 * 1024 * 1024
_MAX_ID = 100_000

# Beside the model, in this order (a stem-named file wins over a folder-wide one).
_EXPLICIT = ("{stem}.txt", "{stem}.labels", "{stem}_labels.txt", "{stem}.names",
             "{stem}.pbtxt", "labels.txt", "labelmap.txt", "label_map.txt",
             "labelmap.pbtxt", "label_map.pbtxt", "classes.txt")  # fmt: skip
_WILDCARD = ("*label*.txt", "*label*.pbtxt", "*classes*.txt", "*.names")


@dataclass(frozen=True)
class LabelFile:
    """A parsed label file: names by position (empty = unused id) and how it was read."""

    path: Path
    names: tuple[str, ...]
    fmt: str  # "lines" | "id name" | "pbtxt"
    notes: str = ""


def parse_label_text(text: str, source: str = "labels") -> tuple[tuple[str, ...], str, str]:
    """Parse label text into (names by position, format, notes). Raises SidecarError if empty."""
    text = text.lstrip("\ufeff")
    if re.search(r"\bitem\s*\{", text):
        names, fmt, notes = _parse_pbtxt(text, source), "pbtxt", ""
    else:
        lines = [ln.rstrip() for ln in text.splitlines()]
        while lines and not lines[-1].strip():
            lines.pop()
        lines, notes = _drop_trailing_prose(lines)
        content = [ln for ln in lines if ln.strip()]
        id_matches = [_ID_LINE.match(ln) for ln in content]
        if content and all(m is not None and m.group(2) for m in id_matches):
            names = _place_by_id(
                ((int(m.group(1)), m.group(2)) for m in id_matches if m), source
            )
            fmt = "id name"
        else:
            names, fmt = tuple(ln.strip() for ln in lines), "lines"
    names = tuple("" if n.strip() == "???" else n.strip() for n in names)
    if not any(names):
        raise SidecarError(f"{source}: the label file holds no names; put one class name per line.")
    return names, fmt, notes


def read_label_file(path: Path) -> LabelFile:
    """Read and parse one label file (SidecarError when unreadable or empty)."""
    try:
        if path.stat().st_size > _MAX_LABEL_BYTES:
            raise SidecarError(f"{path}: too large for a label file (over 4 MB).")
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SidecarError(f"{path}: cannot read the label file ({exc.strerror}).") from exc
    names, fmt, notes = parse_label_text(text, str(path))
    return LabelFile(path, names, fmt, notes)


def _parse_pbtxt(text: str, source: str) -> tuple[str, ...]:
    pairs = []
    for body in _PBTXT_ITEM.findall(text):
        id_m = _PBTXT_ID.search(body)
        found = dict((k, v) for k, v in _PBTXT_NAME.findall(body))
        name = found.get("display_name") or found.get("name")
        if id_m and name is not None:
            pairs.append((int(id_m.group(1)), name))
    if not pairs:
        raise SidecarError(f"{source}: a label map without `item {{ id: N name: ... }}` entries.")
    return _place_by_id(pairs, source)


def _place_by_id(pairs, source: str) -> tuple[str, ...]:
    table: dict[int, str] = {}
    for idx, name in pairs:
        if idx > _MAX_ID:
            raise SidecarError(f"{source}: label id {idx} is implausibly large.")
        table[idx] = name
    out = [""] * (max(table) + 1)
    for idx, name in table.items():
        out[idx] = name
    return tuple(out)


def _drop_trailing_prose(lines: list[str]) -> tuple[list[str], str]:
    """Coral's label files end with a note after a blank line; that note is not a class."""
    for i, ln in enumerate(lines):
        if ln.strip() or i == 0:
            continue
        tail = [t for t in lines[i + 1 :] if t.strip()]
        if tail and any(len(t.split()) >= 6 for t in tail):
            return lines[:i], f"ignored {len(tail)} line(s) of notes after a blank line"
    return lines, ""


# --- finding a label file beside the model -----------------------------------------------
def _tokens(text: str) -> set[str]:
    return {t for t in _TOKEN.findall(text.lower()) if len(t) > 2 and not t.isdigit()} - {
        "labels", "label", "txt", "classes", "names", "map", "quant", "float", "int8",
    }  # fmt: skip


def _count_fits(names: Sequence[str], num_classes: int | None) -> bool:
    if num_classes is None:
        return False
    n = len(names)
    return n in (num_classes, num_classes + 1, num_classes - 1)


def find_label_file(
    model_path: Path, num_classes: int | None = None, task: str | None = None
) -> tuple[LabelFile, str] | None:
    """The label file beside a model, and why it was chosen (None when there is none).

    Names tied to the model (``<stem>.txt``) or to the folder (``labels.txt``, ``labelmap.txt``)
    win in that order. Pattern matches (``*label*.txt``, ``*classes*.txt``, ``*.names``) are
    ambiguous in a folder shared by several models, so one is taken only when its class count
    fits the model's outputs or, when the count is unknown, when it shares a word with the
    model's file name (``deeplab…pascal…`` ↔ ``pascal_voc…labels.txt``) or is the only one.
    """
    folder = model_path.parent
    stem = model_path.stem
    seen: set[Path] = {model_path.resolve()}
    for pattern in _EXPLICIT:
        candidate = folder / pattern.format(stem=stem)
        if candidate.is_file() and candidate.resolve() not in seen:
            return read_label_file(candidate), f"{candidate.name} beside the model"
    wild: list[Path] = []
    for pattern in _WILDCARD:
        for candidate in sorted(folder.glob(pattern)):
            if candidate.is_file() and candidate.resolve() not in seen:
                seen.add(candidate.resolve())
                wild.append(candidate)
    parsed: list[LabelFile] = []
    for candidate in wild:
        try:
            parsed.append(read_label_file(candidate))
        except SidecarError:
            continue  # a stray unreadable file is not this model's label file
    if not parsed:
        return None
    fitting = [lf for lf in parsed if _count_fits(lf.names, num_classes)]
    if num_classes is not None:
        if not fitting:
            return None
        exact = [lf for lf in fitting if len(lf.names) == num_classes] or fitting
        best = _best_by_name(exact, stem, task)
        return best, f"{best.path.name} beside the model ({len(best.names)} names fit " \
            f"{num_classes} classes)"
    model_words = _tokens(stem) | ({task} if task else set())
    scored = [(len(model_words & _tokens(lf.path.stem)), lf) for lf in parsed]
    if len(parsed) == 1:
        return parsed[0], f"{parsed[0].path.name} beside the model (the only label file there)"
    top = max(s for s, _ in scored)
    best_list = [lf for s, lf in scored if s == top]
    if top == 0 or len(best_list) != 1:
        return None
    best = best_list[0]
    return best, f"{best.path.name} beside the model (its name matches the model's)"


def _best_by_name(files: list[LabelFile], stem: str, task: str | None) -> LabelFile:
    words = _tokens(stem) | ({task} if task else set())
    return max(files, key=lambda lf: len(words & _tokens(lf.path.stem)))


def check_label_count(
    names: Sequence[str], num_classes: int | None, where: str, offset: int | None = None
) -> None:
    """Raise SidecarError when names the user gave cannot label the model's classes.

    The counts :func:`resolve_offset` can map are accepted: one name per class, one more with
    a background entry first, one fewer when output 0 is an unnamed background, or (with an
    explicit ``offset``) classes + offset names.
    """
    if not num_classes:
        return  # unknown (SSD post-process, some segmenters): nothing to compare with
    n = len(names)
    if n in (num_classes - 1, num_classes, num_classes + 1):
        return
    if offset is not None and n == num_classes + offset:
        return
    def count(k: int, word: str) -> str:
        return f"{k} {word}" if k == 1 else f"{k} {word}{'es' if word == 'class' else 's'}"

    options = [count(num_classes, "name"), f"{num_classes + 1} with 'background' first"]
    if num_classes > 1:
        options.append(f"{num_classes - 1} when class 0 is an unnamed background")
    raise SidecarError(
        f"{where}: {count(n, 'name')} cannot label the model's {count(num_classes, 'class')}; "
        f"give {', '.join(options[:-1])} or {options[-1]}."
    )


# --- the offset between model class indices and label positions --------------------------
def resolve_offset(
    names: Sequence[str], num_classes: int | None, *, zero_based_real: bool = False,
    task: str | None = None,
) -> tuple[int, str]:
    """Offset so that ``names[index + offset]`` names model class ``index``, with the reason.

    ``zero_based_real``: the model's class ids count real classes from 0 (SSD post-process).
    """
    n = len(names)
    first = names[0].strip().lower() if names else ""
    has_bg = first in BACKGROUND_NAMES
    shown = names[0] or "???" if names else ""
    if has_bg:
        if zero_based_real:
            return 1, f"first label {shown!r} is a placeholder and the model's class ids " \
                "start at the first real class"
        if num_classes is not None and num_classes == n:
            return 0, f"{n} labels for {n} outputs: {shown!r} is the model's class 0"
        if num_classes is not None and num_classes == n - 1:
            return 1, f"{n} labels for {num_classes} classes: skipping {shown!r}"
        if num_classes is None and task == "segmentation":
            return 0, f"segmentation class 0 is {shown!r}"
        if num_classes is None:
            return 1, f"first label {shown!r} is a placeholder; class 0 is the next one"
        return 0, f"{n} labels for {num_classes} classes (counts differ; no offset)"
    if num_classes is not None and num_classes == n + 1:
        return -1, f"{num_classes} outputs for {n} labels: output 0 is an unnamed background"
    if num_classes is not None and num_classes != n:
        return 0, f"{n} labels for {num_classes} classes (counts differ; no offset)"
    return 0, "labels map to class indices one to one"
