"""The engine: sources, runtimes, model cards, pre/post-processing, pipeline. No Qt here."""
