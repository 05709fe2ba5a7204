"""How a model is understood: sidecar > embedded metadata > shape heuristics."""

from __future__ import annotations

from edgeui.engine.modelcard.builder import build_card

__all__ = ["build_card"]
