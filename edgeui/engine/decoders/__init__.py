"""Output decoders, registered by kind. See ``base.py`` for the protocol."""

from __future__ import annotations

from edgeui.engine.decoders.base import Decoder

# kind -> decoder instance; filled by the decoder modules (see register()).
REGISTRY: dict[str, Decoder] = {}


def get_decoder(kind: str) -> Decoder:
    from edgeui.errors import UnsupportedModelError

    try:
        return REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise UnsupportedModelError(f"unknown decoder kind {kind!r}; known kinds: {known}.") from None
