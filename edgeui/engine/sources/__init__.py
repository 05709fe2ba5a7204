"""Frame sources: cameras, video files, images, network streams and a test pattern."""

from edgeui.engine.sources.base import (
    SOURCE_STATES,
    FrameSource,
    SourceEnded,
    SourceEvent,
    SourceUnavailable,
    is_pattern,
    open_source,
    source_kind,
    strip_file_scheme,
)

__all__ = [
    "SOURCE_STATES",
    "FrameSource",
    "SourceEnded",
    "SourceEvent",
    "SourceUnavailable",
    "is_pattern",
    "open_source",
    "source_kind",
    "strip_file_scheme",
]
