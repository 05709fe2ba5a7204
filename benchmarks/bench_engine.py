"""All engine speed benchmarks of issue 2 in one run (preprocess, then decode)."""

from __future__ import annotations

import runpy
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for script in ("bench_preprocess.py", "bench_decode.py"):
        if (HERE / script).exists():
            runpy.run_path(str(HERE / script), run_name="__main__")
            print()
