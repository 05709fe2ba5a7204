"""Inference first: how often the live view repaints while inference runs flat out.

Every millisecond the GUI thread paints is taken from the runtime's threads (they use
every core), and since a parallel operator waits for its slowest thread, a frame painted
mid-inference costs inference about as much again. Painting a 60 Hz view took ~12 % of
YOLOX-nano's rate on a 2-core machine. So when inference is the bottleneck (its thread is
busy nearly all the time: an unpaced file, or a camera faster than the model), the view's
rate is steered so the GUI thread uses at most :data:`GUI_SHARE` of one core, never below
:data:`MIN_FPS`. When the model waits for frames (a 30 fps camera and a fast model), the
view paints at the screen's rate. A display rate the user sets (``--display-fps``) wins.

Pure functions: the main window measures and applies; tests drive these directly.
"""

from __future__ import annotations

import math
from typing import Any

# Of one core. Measured on 2 cores with YOLOX-nano flat out: 0.045 painted ~15 fps and kept
# the app at 0.97-0.98 of the engine alone, 0.065 painted ~22 fps at 0.95-0.99 (0.969).
GUI_SHARE = 0.06
MIN_FPS = 15.0  # below this a live view stops looking live
BUSY = 0.8  # the inference thread works this fraction of the time or more: flat out
# Once paced, inference works a little less per frame (pacing frees CPU): it stays paced
# until busy falls this much below BUSY, or a model near the line flips every second.
BUSY_HYSTERESIS = 0.1
STEP = 0.5  # move this far (in log terms) towards the target per adjustment: no hunting


def inference_busy(stats: Any) -> float:
    """The fraction of wall time the inference thread spends on frames (0 without a model).

    From the pipeline's rate and its per-stage medians: preprocess, inference and
    postprocess run in that thread (capture does not count: a camera read waits for the
    device, it does not work).
    """
    if not getattr(stats, "runtime", ""):
        return 0.0
    stages = getattr(stats, "stages", None) or {}
    work_ms = 0.0
    for key in ("preprocess", "inference", "postprocess"):
        p50 = getattr(stages.get(key), "p50", None)
        if p50 is not None and math.isfinite(p50):
            work_ms += float(p50)
    fps = float(getattr(stats, "inference_fps", 0.0) or 0.0)
    return fps * work_ms / 1000.0


def next_display_rate(painted_fps: float, gui_share: float, busy: float, ceiling: float,
                      *, budget: float | None = None, floor: float | None = None,
                      paced: bool = False) -> float:
    """The live view's next repaint cap (frames a second).

    ``painted_fps`` and ``gui_share`` (GUI-thread CPU seconds per second) were measured
    over the last interval; ``ceiling`` is the screen's refresh rate; ``paced``: the view
    is paced now (see :data:`BUSY_HYSTERESIS`).
    """
    budget = GUI_SHARE if budget is None else budget
    floor = MIN_FPS if floor is None else floor
    ceiling = max(1.0, float(ceiling))
    flat_out = BUSY - BUSY_HYSTERESIS if paced else BUSY
    if busy < flat_out or painted_fps <= 0.0 or gui_share <= 0.0:
        return ceiling
    target = painted_fps * budget / gui_share
    rate = math.exp(math.log(painted_fps) + STEP * (math.log(target) - math.log(painted_fps)))
    return min(ceiling, max(min(floor, ceiling), rate))
