"""The weekly recap's picture: the last 4 weeks of daily scores as bars, each week's mean.

Cheap on purpose: on Sunday at 19:00 the dispatcher sends many at once. One figure is built
per batch and drawn again for each person (building it costs more than drawing it); every
series is one artist whose data changes, and the PNG is compressed lightly.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from bot import formatting
from bot.chart import _RENDER_LOCK, BLUE, GREEN, LIGHT_GREY, SKY, format_day

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

WEEKS = 4
DAYS = 7 * WEEKS
# 640 x 300 px: legible on a phone in portrait, about 12 KB to upload.
WIDTH_IN, HEIGHT_IN, DPI = 6.4, 3.0, 100
BAR_PT = 11.0  # a bar's width in points: three quarters of a day's slot
MIN_SCORES = 3  # a week's mean is drawn only with at least this many scores (trends' rule)
# zlib level 1: a third faster than the default for a few more kilobytes.
PNG_COMPRESSION = 1
LEGEND = "Bars: daily pain 0-10 · line: week's average · green squares: core work done"

_RC: dict[RcKeyType, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "ytick.labelsize": 9,
}
# matplotlib is not thread-safe and rc_context is global: every chart the bot draws, in
# whichever worker thread, takes its turn on the history chart's lock. Taken per drawing, so
# a batch of recaps never holds up someone's /history for long.
_LOCK = _RENDER_LOCK


class WeekChart:
    """One figure, drawn again for each person: the artists stay, their data changes."""

    def __init__(self) -> None:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.transforms import blended_transform_factory

        with _LOCK, matplotlib.rc_context(_RC):
            fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
            ax = fig.add_axes((0.07, 0.2, 0.9, 0.62))
            self._title = fig.text(0.5, 0.93, "", ha="center", va="center", weight="bold")
            fig.text(0.5, 0.04, LEGEND, ha="center", va="center", fontsize=8, color="#444444")
            self._bars = ax.vlines([], [], [], linewidth=BAR_PT)
            self._means = [ax.plot([], [], color="black", linewidth=1.6)[0] for _ in range(WEEKS)]
            self._avgs = [
                ax.text(w * 7 + 3, 10.4, "", ha="center", va="center", fontsize=9)
                for w in range(WEEKS)
            ]
            below = blended_transform_factory(ax.transData, ax.transAxes)
            self._weeks = [
                ax.text(w * 7 + 3, -0.05, "", ha="center", va="top", fontsize=9, transform=below)
                for w in range(WEEKS)
            ]
            (self._core,) = ax.plot([], [], linestyle="none", marker="s", markersize=4, color=GREEN)
            for x in range(7, DAYS, 7):
                ax.axvline(x - 0.5, color=LIGHT_GREY, linewidth=0.8)
            ax.set_xlim(-0.6, DAYS - 0.4)
            ax.set_ylim(-1.5, 11)
            ax.set_yticks([0, 5, 10])
            ax.set_xticks([])
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            for text in (self._title, *self._avgs, *self._weeks):
                text.set_parse_math(False)
        self._canvas = FigureCanvasAgg(fig)

    def draw(
        self, daily: Mapping[date, int], core_done: Collection[date], end: date, title: str
    ) -> bytes:
        """The 4 weeks ending on `end` as PNG bytes: this week's bars dark, earlier ones light."""
        import matplotlib

        with _LOCK, matplotlib.rc_context(_RC):
            start = end - timedelta(days=DAYS - 1)
            days = [start + timedelta(days=i) for i in range(DAYS)]
            scored = [(i, daily[d]) for i, d in enumerate(days) if d in daily]
            self._title.set_text(title)
            # A 0 still shows as a sliver: it was logged.
            self._bars.set_segments([[(i, 0.0), (i, max(s, 0.15))] for i, s in scored])
            self._bars.set_color([BLUE if i >= DAYS - 7 else SKY for i, _ in scored])
            for week in range(WEEKS):
                got = [s for i, s in scored if week * 7 <= i < week * 7 + 7]
                shown = len(got) >= MIN_SCORES
                mean = sum(got) / len(got) if shown else 0.0
                self._means[week].set_data([week * 7 - 0.4, week * 7 + 6.4], [mean, mean])
                self._means[week].set_visible(shown)
                self._avgs[week].set_text(f"avg {formatting.number(mean)}" if shown else "")
                self._weeks[week].set_text(f"week of {format_day(days[week * 7])}")
            done = [i for i, d in enumerate(days) if d in core_done]
            self._core.set_data(done, [-0.9] * len(done))
            buf = io.BytesIO()
            self._canvas.print_png(  # type: ignore[no-untyped-call]
                buf, metadata={"Software": None}, pil_kwargs={"compress_level": PNG_COMPRESSION}
            )
        return buf.getvalue()


def render_weeks(
    daily: Mapping[date, int], core_done: Collection[date], end: date, title: str
) -> bytes:
    """One person's 4 weeks ending on `end` as PNG bytes."""
    return WeekChart().draw(daily, core_done, end, title)
