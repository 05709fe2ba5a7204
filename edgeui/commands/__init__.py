"""Subcommands of the edgeui CLI, one module each."""
