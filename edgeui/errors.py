"""User-facing errors: each message is one sentence a user can act on.

The CLI turns any EdgeUIError into exit code 2 and one line on stderr; the app shows the
same sentence in its notification area.
"""

from __future__ import annotations


class EdgeUIError(Exception):
    """Base class for every error a user can cause (bad file, wrong model, dead camera)."""

    exit_code = 2


class ModelLoadError(EdgeUIError):
    """The model file is missing, unreadable, corrupt, or the runtime refuses it."""


class UnsupportedModelError(EdgeUIError):
    """The model loads but we do not know how to feed it or read its outputs."""


class SidecarError(EdgeUIError):
    """A sidecar (model.yaml / model.toml) or label file is malformed."""


class InferenceError(EdgeUIError):
    """The runtime failed while running the model."""


class ImageReadError(EdgeUIError):
    """An input image is missing or cannot be decoded."""


class SourceError(EdgeUIError):
    """A frame source cannot be opened (missing file, bad URI, no camera)."""


class ConfigError(EdgeUIError):
    """A settings file is malformed."""
