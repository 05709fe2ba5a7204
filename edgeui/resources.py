"""Find the files edgeui ships in the repository's top-level ``resources/`` folder."""

from __future__ import annotations

from pathlib import Path

# edgeui/resources.py -> <repo>/resources (an editable install or a source checkout).
_CANDIDATES = (
    Path(__file__).resolve().parent.parent / "resources",
    Path(__file__).resolve().parent / "resources",  # a wheel that bundles them in the package
)


def resource_path(*parts: str) -> Path:
    """The path of a shipped resource, e.g. ``resource_path("labels", "coco80.txt")``.

    Returns the first existing match; when none exists, the path under the repository's
    ``resources/`` folder (callers check ``exists()`` and degrade gracefully).
    """
    for root in _CANDIDATES:
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    return _CANDIDATES[0].joinpath(*parts)
