"""How a model is understood: sidecar > embedded metadata > shape heuristics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgeui.engine.modelcard.card import ModelCard


def build_card(runtime: Any, sidecar: Any = None, overrides: Any = None) -> ModelCard:
    """Build the ModelCard for a loaded runtime (see builder.build_card)."""
    from edgeui.engine.modelcard.builder import build_card as _build

    return _build(runtime, sidecar=sidecar, overrides=overrides)


__all__ = ["build_card"]
