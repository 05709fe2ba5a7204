"""The results panel: what the model says about the newest frame, and how fast it says it.

Top-k classes with bars, detection counts per class, segmentation class shares, pose people
and keypoints; live stats (capture/inference fps, per-stage p50/p95, end-to-end latency,
drops, the runtime actually used) and a latency chart. Built for a result per frame: rows are
a fixed pool of painted widgets that are reused (never re-created), text is refreshed at most
a few times a second, and only the newest pending result is ever rendered.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from edgeui.ui.widgets.latency_chart import LatencyChart
from edgeui.ui.widgets.live_text import LiveText
from edgeui.ui.widgets.style import ACCENT, BORDER, MUTED, TEXT, percent

MAX_ROWS = 8
Row = tuple[str, float, str, QColor]  # label, bar fraction 0..1, value text, colour
RESULT_INTERVAL_S = 0.15  # text refresh at most ~7 times a second
STATS_INTERVAL_S = 0.25
KEYPOINT_MIN_SCORE = 0.3
# Fewer rows than shown are blanked at once but removed only after this long: a count that
# flickers (2 objects, 1, 2...) would otherwise re-lay out the panel every refresh.
ROW_HOLD_S = 2.0
WAITING_CHART_TEXT = "waiting for frames…"
PREVIEW_CHART_TEXT = "no model: preview only"
FAILING_CHART_TEXT = "the model fails on these frames"


def _segment_color(class_id: int, name: str) -> QColor:
    """A segmentation class's colour as the overlay paints it: background is left untinted
    there (no swatch in its legend), so its bar here is neutral, not a class colour."""
    try:
        from edgeui.ui.overlay import LegendRow, is_background
    except ImportError:
        return _class_color(class_id)
    if is_background(LegendRow(class_id, name, 0.0)):
        return QColor(MUTED)
    return _class_color(class_id)


def _class_color(class_id: int) -> QColor:
    """The overlay's stable colour for a class, so the panel matches the boxes."""
    try:
        from edgeui.ui.overlay import class_color
    except ImportError:  # the overlay module is optional for this widget
        return QColor(ACCENT)
    return class_color(int(class_id))


class BarRow(QWidget):
    """One painted row: a name, a value text and a proportional bar (reused, not rebuilt)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = ""
        self.value_text = ""
        self.fraction = 0.0
        self.color = QColor(ACCENT)
        self.setMinimumHeight(30)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(240, 30)

    def set_data(self, label: str, fraction: float, value_text: str, color: QColor) -> None:
        fraction = float(min(max(fraction, 0.0), 1.0))
        if (label, value_text, fraction, color) == (
            self.label, self.value_text, self.fraction, self.color,
        ):  # fmt: skip
            return
        self.label, self.value_text, self.fraction, self.color = label, value_text, fraction, color
        self.setToolTip(f"{label}: {value_text}")
        self.update()

    def is_blank(self) -> bool:
        return not self.label and not self.value_text

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.is_blank():
            return  # held for a moment after the rows above it went away
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        bar_h = 6.0
        track = QRectF(r.left(), r.bottom() - bar_h, r.width(), bar_h)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(BORDER)
        p.drawRoundedRect(track, 3, 3)
        p.setBrush(self.color)
        fill = QRectF(track.left(), track.top(), track.width() * self.fraction, bar_h)
        p.drawRoundedRect(fill, 3, 3)
        text_rect = QRectF(r.left(), r.top(), r.width(), r.height() - bar_h - 2)
        fm = p.fontMetrics()
        value_w = fm.horizontalAdvance(self.value_text) + 8
        p.setPen(TEXT)
        name = fm.elidedText(self.label, Qt.TextElideMode.ElideRight, int(r.width() - value_w))
        p.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
        p.setPen(MUTED)
        p.drawText(text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   self.value_text)  # fmt: skip
        p.end()


class PanelTitle(LiveText):
    """The result's heading ("model · task"): one bold line, elided with "…" when too
    long for the panel; its tooltip always holds the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent=parent)
        self.setObjectName("resultTitle")
        # The theme's heading look (QLabel[role="heading"] does not match a LiveText).
        self.setStyleSheet(f"font-size: 13pt; font-weight: bold; color: {TEXT.name()};")
        self.setToolTip(self.text())

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(self.text())


def _fmt_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


# The Performance rows that are rates, and those that are p50 / p95 latencies.
RATE_KEYS = ("capture_fps", "inference_fps", "display_fps")
LATENCY_KEYS = ("end_to_end", "inference", "preprocess", "postprocess", "capture")


class ResultsPanel(QWidget):
    """``show_result(frame_result)`` per frame, ``show_stats(pipeline_stats)`` a few times a
    second. Both are cheap: they store the newest value and render on a throttle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Results")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(8)

        result_box = QGroupBox("Result")
        rl = QVBoxLayout(result_box)
        rl.setSpacing(4)
        # One line, cut with "…" when too long ("yolox_nano_coco80_person_forklift_pal…"),
        # never mid-word without a sign; the whole of it in the tooltip.
        self.title = PanelTitle("No model running")
        # Changes with every result: a LiveText repaints itself without re-laying out.
        self.summary = LiveText("Pick a model and a source to see results here.", lines=2,
                                role="muted")
        rl.addWidget(self.title)
        rl.addWidget(self.summary)
        self.rows = [BarRow() for _ in range(MAX_ROWS)]
        for row in self.rows:
            row.hide()
            rl.addWidget(row)
        self.more = LiveText(role="muted")
        self.more.hide()
        self._shown_rows = 0  # rows laid out (some may be blank, see ROW_HOLD_S)
        self._fewer_since: float | None = None
        # Ends a hold even when no new result comes (paused, the source ended).
        self._hold_timer = QTimer(self, singleShot=True, timeout=self._end_row_hold)
        rl.addWidget(self.more)
        outer.addWidget(result_box)
        # The two sections, for a side panel that places them apart (result always shown,
        # performance in a tab); this widget keeps rendering into them wherever they are.
        self.result_box = result_box

        stats_box = QGroupBox("Performance")
        grid = QGridLayout(stats_box)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        self._values: dict[str, LiveText] = {}
        items = [
            ("capture_fps", "Capture fps"), ("inference_fps", "Inference fps"),
            ("display_fps", "Display fps"),
            ("end_to_end", "End-to-end p50 / p95 ms"), ("inference", "Inference p50 / p95 ms"),
            ("preprocess", "Preprocess p50 / p95 ms"), ("postprocess", "Postprocess p50 / p95 ms"),
            ("capture", "Capture p50 / p95 ms"), ("frames", "Processed / dropped"),
            ("source_state", "Source"), ("frame_size", "Frame size"), ("runtime", "Runtime"),
        ]  # fmt: skip
        for i, (key, text) in enumerate(items):
            name = QLabel(text)
            name.setProperty("role", "muted")
            # Width from the grid, height from the font: changing numbers must not re-lay
            # out the window several times a second.
            # The runtime: name · provider · threads, a line each.
            lines = {"runtime": 3, "source_state": 2}.get(key, 1)
            value = LiveText("–", lines=lines, role="value")
            name.setObjectName(f"stat-name-{key}")
            grid.addWidget(name, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, i, 1)
            self._values[key] = value
        grid.setColumnStretch(1, 1)
        self.chart = LatencyChart(("end-to-end", "inference"))
        grid.addWidget(self.chart, len(items), 0, 1, 2)
        outer.addWidget(stats_box)
        self.stats_box = stats_box
        outer.addStretch(1)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(line)

        self._pending_result: Any = None
        self._pending_stats: Any = None
        self._last_result_t = 0.0
        self._last_stats_t = 0.0
        self._result_timer = QTimer(self, singleShot=True, timeout=self._render_result)
        self._stats_timer = QTimer(self, singleShot=True, timeout=self._render_stats)
        self.renders = 0  # result renders so far (tests and the benchmark read it)
        self.idle_text = "Waiting for the model…"  # the summary while frames come without one
        self._source_state = ""  # the newest SourceEvent state; fresher than the stats'
        self._paused = False
        self._stalled = False  # the source stopped delivering: no live numbers to show
        self._names = {k: self._grid_name(k) for k in self._values}
        self._still = False  # the source is one still image: it has no frame rate
        # The newest frames' inference raised and none has worked since: no inference rate
        # or latency to show (the engine counts and times failed frames too).
        self._failing = False

    def set_model(self, model: Any) -> None:
        """The model now running: its runtime is shown at once, as the header shows it
        (a source that never delivers a frame brings no stats to show it with)."""
        self._failing = False
        runtime = getattr(model, "runtime", None)
        try:
            text = str(runtime.describe()) if runtime is not None else ""
        except Exception:  # a stand-in model without a real runtime: the stats fill it in
            text = ""
        if text:
            self._show_runtime(text)

    def set_still(self, still: bool) -> None:
        """The source is a single still image, re-sent at a fixed rate: its "capture fps"
        is that rate, not the picture's, so the row says "still image" instead (inference
        rate and latencies stay: the model really runs that often)."""
        self._still = bool(still)
        if self._still:
            self._values["capture_fps"].setText("still image")
        else:  # unknown until the next stats
            for key in ("capture_fps", "inference_fps"):
                if self._values[key].text() == "still image":
                    self._values[key].setText("–")

    # --- input ------------------------------------------------------------------------
    def show_result(self, frame_result: Any) -> None:
        """Take the newest FrameResult; the chart gets every frame, the text is throttled."""
        timings = getattr(frame_result, "timings", None)
        # A preview frame (no model) has no inference to chart: the table says "– / –" too,
        # and the chart says why it stays empty while frames flow.
        preview = not getattr(frame_result, "model_name", "x")
        failed = getattr(frame_result, "error", None) is not None
        self.chart.set_idle_text(PREVIEW_CHART_TEXT if preview else
                                 FAILING_CHART_TEXT if failed else WAITING_CHART_TEXT)
        if failed:
            self._failing = True
        elif getattr(frame_result, "result", None) is not None:
            self._failing = False
        # A failed frame was not inferred: its times (negative ones too) are not charted.
        if timings is not None and not preview and not failed:
            self.chart.add_sample(
                max(0.0, float(getattr(timings, "end_to_end_ms", 0.0))),
                max(0.0, float(getattr(timings, "inference_ms", 0.0))),
            )
        self._pending_result = frame_result
        self._schedule(self._result_timer, self._last_result_t, RESULT_INTERVAL_S,
                       self._render_result)  # fmt: skip

    def show_stats(self, stats: Any) -> None:
        """Take the newest PipelineStats (rendered at most four times a second)."""
        if self._stalled:  # delivered late, from before the source stopped
            return
        self._pending_stats = stats
        self._schedule(self._stats_timer, self._last_stats_t, STATS_INTERVAL_S,
                       self._render_stats)  # fmt: skip

    def set_paused(self, paused: bool) -> None:
        """Paused: the rates would be stale, so they say so (the latencies stay, they
        still describe the model); the next stats after resuming fill them in again."""
        rates = [self._values[key] for key in RATE_KEYS]
        self._paused = bool(paused)
        if paused:  # stats rendered later (of the frame in flight) keep them paused too
            for value in rates:
                value.setText("paused")
        else:  # unknown until the next stats (none come from a source that has ended)
            for value in rates:
                if value.text() == "paused":
                    value.setText("–")

    def set_stalled(self, stalled: bool) -> None:
        """The source stopped delivering (disconnected, reconnecting, failed): nothing is
        measured any more, so the rates and percentiles show "–" instead of the last
        values (the chart keeps its history); the stats after frames return fill them in."""
        self._stalled = bool(stalled)
        if not stalled:
            return
        self._pending_stats = None  # stats of the last frames before the stall
        self._stats_timer.stop()
        for key in RATE_KEYS:
            if self._values[key].text() != "paused":
                self._values[key].setText("–")
        for key in LATENCY_KEYS:
            self._values[key].setText("– / –")

    def show_display_rate(self, fps: float, paced: bool = False) -> None:
        """How many frames a second the live view painted; ``paced``: fewer on purpose."""
        if self._paused or self._stalled:
            return  # a measurement from before the pause
        value = self._values["display_fps"]
        value.setText(f"{fps:.1f} · paced" if paced else f"{fps:.1f}")
        value.setToolTip(
            "Inference runs flat out, so the view repaints less often and leaves the CPU to "
            "it (inference first). Set a rate with --display-fps or [window] display_fps."
            if paced else "Frames the live view painted in the last second.")

    def _grid_name(self, key: str) -> QLabel:
        return self.findChild(QLabel, f"stat-name-{key}")

    def set_source_state(self, state: str, source: str = "") -> None:
        """The source's state as its events tell it ("ended", "reconnecting"...), shown at
        once: a source that never delivers a frame brings no stats to show it with."""
        self._source_state = str(state or "")
        if self._source_state:
            self._show_source(self._source_state, source)

    def set_status(self, title: str, summary: str) -> None:
        """Say what is going on when no result explains it (loading, no frames...)."""
        self.title.setText(title)
        self.summary.setText(summary)
        self._set_rows([])

    def clear(self, title: str = "No model running") -> None:
        self._pending_result = None
        self.title.setText(title)
        self.summary.setText("")
        self._set_rows([])
        self.chart.clear()

    def flush(self) -> None:
        """Render whatever is pending now (tests, and before a snapshot)."""
        if self._pending_result is not None:
            self._render_result()
        if self._pending_stats is not None:
            self._render_stats()

    @staticmethod
    def _schedule(timer: QTimer, last: float, interval: float, render: Any) -> None:
        if timer.isActive():
            return
        wait = interval - (time.monotonic() - last)
        if wait <= 0:
            render()
        else:
            timer.start(int(wait * 1000) + 1)

    # --- rendering --------------------------------------------------------------------
    def _render_result(self) -> None:
        fr, self._pending_result = self._pending_result, None
        self._last_result_t = time.monotonic()
        if fr is None:
            return
        self.renders += 1
        self._show_frame_size(getattr(getattr(fr, "frame", None), "image", None))
        result = getattr(fr, "result", None)
        name = getattr(fr, "model_name", "") or ""
        error = getattr(fr, "error", None)
        if result is None:
            self.title.setText(name or "No model running")
            self.summary.setText(error or self.idle_text)
            self._set_rows([])
            return
        task = result.task
        self.title.setText(f"{name} · {task}" if name else task.capitalize())
        render = {
            "classification": self._classification,
            "detection": self._detection,
            "segmentation": self._segmentation,
            "pose": self._pose,
        }.get(task)
        if render is None:
            self.summary.setText(f"Task {task!r}: nothing to list.")
            self._set_rows([])
        else:
            render(result)

    def _set_rows(self, rows: list[Row], total: int | None = None) -> None:
        n = min(len(rows), MAX_ROWS)
        for widget, data in zip(self.rows[:n], rows[:n], strict=True):
            widget.set_data(*data)
        extra = (total if total is not None else len(rows)) - n
        self.more.setText(f"+ {extra} more" if extra > 0 else "")
        now = time.monotonic()
        shown = self._shown_rows
        if n < shown and (self._fewer_since is None or now - self._fewer_since < ROW_HOLD_S):
            if self._fewer_since is None:
                self._fewer_since = now
                self._hold_timer.start(int(ROW_HOLD_S * 1000) + 1)
            for widget in self.rows[n:shown]:
                widget.set_data("", 0.0, "", widget.color)  # blank, still laid out
            return
        self._fewer_since = None
        self._hold_timer.stop()
        for i, widget in enumerate(self.rows):
            widget.setVisible(i < n)
        self.more.setVisible(extra > 0)
        self._shown_rows = n

    def _end_row_hold(self) -> None:
        """The hold is over and no result came since: remove the rows left blank."""
        if self._fewer_since is None:
            return
        self._fewer_since = None
        n = sum(1 for row in self.rows[:self._shown_rows] if not row.is_blank())
        for i, widget in enumerate(self.rows):
            widget.setVisible(i < n)
        self.more.setVisible(bool(self.more.text()))
        self._shown_rows = n

    def _classification(self, result: Any) -> None:
        classes = list(result.classes)
        if not classes:
            self.summary.setText("No class above the threshold.")
        else:
            top = classes[0]
            self.summary.setText(f"{top.label} — {percent(top.score, 1)}")
        self._set_rows(
            [(c.label, c.score, percent(c.score, 1), _class_color(c.index))
             for c in classes[:MAX_ROWS]],
            total=len(classes),
        )  # fmt: skip

    def _detection(self, result: Any) -> None:
        dets = result.detections
        n = 0 if dets is None else len(dets)
        if n == 0:
            self.summary.setText("Nothing detected.")
            self._set_rows([])
            return
        ids = np.asarray(dets.class_ids).astype(np.int64)
        uniq, first, counts = np.unique(ids, return_index=True, return_counts=True)
        order = np.lexsort((uniq, -counts))  # most frequent first, then by class id
        labels = dets.labels
        best = float(np.max(dets.scores))
        self.summary.setText(
            f"{n} object{'s' if n != 1 else ''} · {len(uniq)} "
            f"class{'es' if len(uniq) != 1 else ''} · best score {percent(best)}"
        )
        top = int(counts.max())
        rows = []
        for k in order[:MAX_ROWS]:
            cid = int(uniq[k])
            label = labels[first[k]] if first[k] < len(labels) else f"class {cid}"
            rows.append((label, counts[k] / top, f"{int(counts[k])}", _class_color(cid)))
        self._set_rows(rows, total=len(uniq))

    def _segmentation(self, result: Any) -> None:
        seg = result.segmentation
        if seg is None:
            self.summary.setText("No segmentation map.")
            self._set_rows([])
            return
        counts = np.bincount(np.asarray(seg.class_map).ravel().astype(np.int64))
        total = float(counts.sum()) or 1.0
        present = np.flatnonzero(counts)
        order = present[np.argsort(-counts[present], kind="stable")]
        self.summary.setText(f"{len(present)} class{'es' if len(present) != 1 else ''} in view")
        self._set_rows(
            [(seg.labels.name(int(i)), counts[i] / total, percent(counts[i] / total, 1),
              _segment_color(int(i), seg.labels.name(int(i)))) for i in order[:MAX_ROWS]],
            total=len(present),
        )  # fmt: skip

    def _pose(self, result: Any) -> None:
        poses = result.poses
        n = 0 if poses is None else len(poses)
        if n == 0:
            self.summary.setText("No person detected.")
            self._set_rows([])
            return
        kps = np.asarray(poses.keypoints)
        visible = (kps[..., 2] >= KEYPOINT_MIN_SCORE).sum(axis=1)
        k = kps.shape[1]
        self.summary.setText(
            f"{n} {'people' if n != 1 else 'person'} · {int(visible.sum())} keypoints visible"
        )
        rows = []
        if n == 1:
            # One person: list the keypoints themselves, most confident first.
            order = np.argsort(-kps[0, :, 2], kind="stable")
            for j in order[:MAX_ROWS]:
                name = poses.names[j] if j < len(poses.names) else f"keypoint {j}"
                score = float(kps[0, j, 2])
                rows.append((name.replace("_", " "), score, percent(score),
                             QColor(ACCENT)))  # fmt: skip
            self._set_rows(rows, total=k)
            return
        for i in range(min(n, MAX_ROWS)):
            score = float(poses.scores[i])
            rows.append((f"person {i + 1} · {int(visible[i])}/{k} keypoints", score,
                         percent(score), _class_color(i)))  # fmt: skip
        self._set_rows(rows, total=n)

    def _render_stats(self) -> None:
        stats, self._pending_stats = self._pending_stats, None
        self._last_stats_t = time.monotonic()
        if stats is None:
            return
        v = self._values
        runtime = str(getattr(stats, "runtime", "") or "")
        preview = not runtime  # no model: frames are shown, nothing is inferred
        v["capture_fps"].setText(f"{getattr(stats, 'capture_fps', 0.0):.1f}")
        # Without a model nothing is inferred; the preview runs at the capture rate.
        shown_fps = getattr(stats, "capture_fps" if preview else "inference_fps", 0.0)
        v["inference_fps"].setText(f"{shown_fps:.1f}")
        failing = self._failing and not preview
        if failing:  # failed frames are no inferences: no rate
            v["inference_fps"].setText("–")
        if self._paused:  # stats of the frame in flight when pausing: the rates stay paused
            v["capture_fps"].setText("paused")
            v["inference_fps"].setText("paused")
        self._names["inference_fps"].setText("Preview fps" if preview else "Inference fps")
        self._names["frames"].setText("Previewed / dropped" if preview else "Processed / dropped")
        stages = getattr(stats, "stages", {}) or {}
        for key in LATENCY_KEYS:
            pct = stages.get(key)
            if (preview or failing) and key in ("inference", "preprocess", "postprocess",
                                                 "end_to_end"):  # fmt: skip
                v[key].setText("– / –")
                continue
            v[key].setText(
                f"{_fmt_ms(pct.p50)} / {_fmt_ms(pct.p95)}" if pct is not None else "– / –"
            )
        processed = int(getattr(stats, "processed", 0))
        dropped = int(getattr(stats, "dropped", 0))
        # The engine's errors (frames whose inference raised, mostly) while a model runs.
        errors = 0 if preview else int(getattr(stats, "errors", 0) or 0)
        v["frames"].setText(f"{processed} / {dropped}" + (
            f" · {errors} error{'s' if errors != 1 else ''}" if errors else ""))
        state = self._source_state or str(getattr(stats, "source_state", "") or "–")
        self._show_source(state, str(getattr(stats, "source", "") or ""))
        if self._still:  # one picture re-sent at a fixed rate: no frame rate of its own
            v["capture_fps"].setText("still image")
            if preview:
                v["inference_fps"].setText("still image")
        self._show_runtime(runtime)

    def _show_runtime(self, runtime: str) -> None:
        # A long provider name must not be cut mid-word: elided, whole text in the tooltip.
        text = runtime or "–"
        label = self._values["runtime"]
        # The value column's width (values take the grid's width, not their text's).
        room = label.width() - 4
        width = room if room >= 60 else 160
        fm = label.fontMetrics()
        # Short forms first (the header and the tooltip keep the whole): "CPU", "1.32".
        short = re.sub(r"ExecutionProvider\b", "", text)
        short = re.sub(r"\b(\d+\.\d+)\.\d+\b", r"\1", short)
        label.setText("\n".join(fm.elidedText(part, Qt.TextElideMode.ElideRight, width)
                                for part in short.split(" · ")))  # fmt: skip
        label.setToolTip(text)

    def _show_source(self, state: str, source: str) -> None:
        # A path's last part is enough in a narrow panel; the tooltip has the whole of it.
        short = Path(source).name if ("/" in source or "\\" in source) and "://" not in source \
            else source
        value = self._values["source_state"]
        value.setText(f"{state} · {short or source}" if source else state)
        value.setToolTip(source)

    def _show_frame_size(self, image: Any) -> None:
        """What the source gives, as it comes (a camera may give another size than asked)."""
        shape = getattr(image, "shape", None)
        if shape is not None and len(shape) >= 2:
            self._values["frame_size"].setText(f"{shape[1]} x {shape[0]}")

    def stat_text(self, key: str) -> str:
        """The text shown for one stat (tests)."""
        return self._values[key].text()

    def row_texts(self) -> list[tuple[str, str]]:
        """(label, value) of the visible rows (tests)."""
        return [(r.label, r.value_text) for r in self.rows
                if not r.isHidden() and not r.is_blank()]
