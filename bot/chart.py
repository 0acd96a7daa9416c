"""The /history chart: a phone-sized PNG of the last 30 days of pain check-ins."""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from bot.formatting import MONTH_NAMES, number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.typing import LineStyleType, RcKeyType

DEFAULT_TITLE = "Pain check-ins, last 30 days"

# 12 x 7 inches at 100 dpi = 1200 x 700 px: fills a phone screen in landscape and
# stays legible when the messenger scales it down in portrait.
WIDTH_IN, HEIGHT_IN, DPI = 12.0, 7.0, 100

# NPRS measurement error is about 1 point (CLINICAL.md), so the band around the
# baseline shows where a day is "no real change".
BASELINE_BAND = 1.0
SCORE_MIN, SCORE_MAX = 0, 10

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies;
# every series also differs by marker or line style so colour is never the only cue.
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
BLACK = "#000000"
GREY = "#777777"
LIGHT_GREY = "#BBBBBB"


@dataclass(frozen=True, slots=True)
class _TierStyle:
    label: str
    color: str
    linestyle: LineStyleType
    marker: str


# Ordered mildest first so the legend reads as a ladder. The labels are short forms of the
# titles in content/tiers.yaml: the titles themselves overflow the legend's single row.
TIERS: Mapping[str, _TierStyle] = {
    "improving": _TierStyle("Improving", GREEN, ":", "o"),
    "modify": _TierStyle("Ease off", ORANGE, "--", "s"),
    "professional": _TierStyle("See a physio", VERMILLION, "-.", "D"),
    "urgent": _TierStyle("See a doctor today", PURPLE, (0, (6, 2, 1, 2, 1, 2)), "P"),
    "emergency": _TierStyle("Emergency", BLACK, "-", "X"),
}

# Run scores: shape and fill differ (up/filled vs down/hollow), not just colour.
# The x offset nudges them within their day so a run score equal to the daily
# score does not hide behind it.
_RUN_STYLES: Mapping[str, dict[str, Any]] = {
    "during": {
        "label": "Pain during a run",
        "marker": "^",
        "markerfacecolor": BLACK,
        "offset": -0.22,
    },
    "after": {
        "label": "Pain after a run",
        "marker": "v",
        "markerfacecolor": "white",
        "offset": 0.22,
    },
}

# Only the font matplotlib ships, so the chart looks the same on any server and
# no matplotlibrc on the host can change it.
_RC: dict[RcKeyType, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 13,
    "legend.fontsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
}

# matplotlib is not thread-safe and rc_context is global, so renders from an
# executor pool take turns.
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class ChartData:
    """Everything the history chart shows; entries outside the window are ignored."""

    end: date
    daily: Mapping[date, int]
    runs: Sequence[tuple[date, int, str]] = ()
    baseline: Mapping[date, float] = field(default_factory=dict)
    escalations: Sequence[tuple[date, str]] = ()
    core_done: frozenset[date] = frozenset()
    days: int = 30
    # Training load: km and minutes run on each day (a row of its own when there are any).
    run_km: Mapping[date, float] = field(default_factory=dict)
    run_minutes: Mapping[date, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"days must be at least 1, got {self.days}")
        for day, score in self.daily.items():
            _check_score(score, f"daily score on {day}")
        for day, score, kind in self.runs:
            _check_score(score, f"run score on {day}")
            if kind not in _RUN_STYLES:
                raise ValueError(f"run kind must be 'during' or 'after', got {kind!r}")
        for day, tier in self.escalations:
            if tier not in TIERS:
                raise ValueError(f"unknown escalation tier {tier!r} on {day}")
        for what, values in (("km", self.run_km), ("minutes", self.run_minutes)):
            for day, value in values.items():
                if not 0 <= value < math.inf:
                    raise ValueError(f"run {what} on {day} must be 0 or more, got {value}")

    @property
    def has_load(self) -> bool:
        """Whether any run in the window has a distance or a time."""
        return any(self.index(d) is not None for d in (*self.run_km, *self.run_minutes))

    @property
    def start(self) -> date:
        """The first day shown."""
        return self.end - timedelta(days=self.days - 1)

    def index(self, day: date) -> int | None:
        """Position of `day` on the x axis (0 = start), or None outside the window."""
        i = (day - self.start).days
        return i if 0 <= i < self.days else None


def _check_score(score: int, what: str) -> None:
    if not SCORE_MIN <= score <= SCORE_MAX:
        raise ValueError(f"{what} must be {SCORE_MIN}-{SCORE_MAX}, got {score}")


def format_day(day: date) -> str:
    """A short, locale-independent date label such as '3 Mar'."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]}"


def summary_line(data: ChartData) -> str:
    """The subtitle: date range, 7-day average, check-ins and core days in the window."""
    scores = [s for d, s in data.daily.items() if data.index(d) is not None]
    week = [s for d, s in data.daily.items() if 0 <= (data.end - d).days < 7]
    core = sum(1 for d in data.core_done if data.index(d) is not None)
    avg = f"7-day average {sum(week) / len(week):.1f}/10" if week else "no scores in last 7 days"
    span = f"{format_day(data.start)} – {format_day(data.end)} {data.end.year}"
    return (
        f"{span}  ·  {avg}  ·  {_plural(len(scores), 'check-in')}"
        f"  ·  core work on {_plural(core, 'day')}"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_history(data: ChartData, title: str = DEFAULT_TITLE) -> bytes:
    """Render the history chart as PNG bytes (1200x700 px)."""
    # matplotlib is imported on the first chart, not with the bot: it is most of a start's
    # import time, and most conversations never draw one.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        fig = _build(data, title)
        buf = io.BytesIO()
        # No Software/date metadata: the same data gives the same bytes.
        # matplotlib leaves print_png unannotated.
        FigureCanvasAgg(fig).print_png(buf, metadata={"Software": None})  # type: ignore[no-untyped-call]
        # Break the figure's reference cycles now rather than at the next gc pass.
        fig.clear()
    return buf.getvalue()


def build_figure(data: ChartData, title: str = DEFAULT_TITLE) -> Figure:
    """The chart as a matplotlib Figure (not rendered), for inspection in tests."""
    import matplotlib

    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        return _build(data, title)


def _build(data: ChartData, title: str) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    _draw(fig, data, title)
    return fig


def _draw(fig: Figure, data: ChartData, title: str) -> None:
    n = data.days
    # Fixed fractions instead of constrained_layout: predictable and much faster.
    # Top to bottom: title, subtitle, pain axes, core-work row, dates, two legend rows.
    left, width = 0.095, 0.875
    if data.has_load:
        # The pain axes give up a strip for the runs' km, above the core-work row.
        ax = fig.add_axes((left, 0.41, width, 0.45))
        load_ax = fig.add_axes((left, 0.305, width, 0.085), sharex=ax)
    else:
        ax = fig.add_axes((left, 0.33, width, 0.53))
    core_ax = fig.add_axes((left, 0.245, width, 0.045), sharex=ax)

    fig.text(
        0.5, 0.955, title, ha="center", va="center", fontsize=18, weight="bold", parse_math=False
    )
    fig.text(
        0.5, 0.91, summary_line(data), ha="center", va="center", color="#333333", parse_math=False
    )

    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(-0.4, 10.9)
    ax.set_yticks(range(SCORE_MIN, SCORE_MAX + 1))
    ax.set_ylabel("Pain (0 = none, 10 = worst)")
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    ax.grid(axis="x", color="#EEEEEE", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", which="both", labelbottom=False, length=0)

    daily = [math.nan] * n
    for day, score in data.daily.items():
        if (i := data.index(day)) is not None:
            daily[i] = float(score)
    runs = [(i, s, k) for d, s, k in data.runs if (i := data.index(d)) is not None]

    series: list[Line2D | Patch] = []
    if all(math.isnan(v) for v in daily) and not runs:
        ax.text(
            0.5,
            0.5,
            "No check-ins yet",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=22,
            color=GREY,
        )
    else:
        series.append(_draw_daily(ax, daily))
        series += _draw_baseline(ax, data)
        series += _draw_runs(ax, runs)
    advice = _draw_escalations(ax, data)
    if data.has_load:
        _draw_load(load_ax, data)
    _draw_core(core_ax, data)
    _draw_dates(core_ax, data)

    # Legends sit below the dates, outside the axes, so they never cover data:
    # one row for what was measured, one for the advice the bot gave.
    rows = [r for r in (series, advice) if r]
    for k, handles in enumerate(rows):
        y = 0.115 if k == 0 and len(rows) == 2 else 0.045
        fig.legend(
            handles=handles,
            loc="center",
            bbox_to_anchor=(0.5, y),
            ncol=len(handles),
            frameon=False,
            handlelength=2.6,
            columnspacing=2.0,
        )


def _draw_daily(ax: Axes, daily: list[float]) -> Line2D:
    from matplotlib.lines import Line2D

    style: dict[str, Any] = {"color": BLUE, "linewidth": 2.4, "marker": "o", "markersize": 7}
    # NaN breaks the line, so a missing day is a gap, not a guess bridged across.
    ax.plot(range(len(daily)), daily, zorder=4, gid="daily", **style)
    return Line2D([], [], label="Daily pain score", **style)


def _draw_baseline(ax: Axes, data: ChartData) -> list[Line2D | Patch]:
    from matplotlib.patches import Patch

    mid = [math.nan] * data.days
    for day, value in data.baseline.items():
        if (i := data.index(day)) is not None:
            mid[i] = float(value)
    present = [not math.isnan(v) for v in mid]
    if not any(present):
        return []
    xs = range(data.days)
    lo = [max(SCORE_MIN, v - BASELINE_BAND) for v in mid]
    hi = [min(SCORE_MAX, v + BASELINE_BAND) for v in mid]
    # step="mid" gives each day its own block, so a lone baseline day still shows.
    ax.fill_between(
        xs, lo, hi, where=present, step="mid", color=SKY, alpha=0.3, linewidth=0, zorder=1
    )
    ax.step(xs, mid, where="mid", color=SKY, linewidth=1.4, linestyle="--", zorder=2)
    return [Patch(facecolor=SKY, alpha=0.5, label="Baseline ± 1 (median of previous 7 days)")]


def _draw_runs(ax: Axes, runs: list[tuple[int, int, str]]) -> list[Line2D | Patch]:
    from matplotlib.lines import Line2D

    handles: list[Line2D | Patch] = []
    for kind, st in _RUN_STYLES.items():
        pts = [(i, s) for i, s, k in runs if k == kind]
        if not pts:
            continue
        kw = {
            "linestyle": "none",
            "marker": st["marker"],
            "markersize": 10,
            "markerfacecolor": st["markerfacecolor"],
            "markeredgecolor": BLACK,
            "markeredgewidth": 1.4,
        }
        ax.plot(
            [i + st["offset"] for i, _ in pts],
            [s for _, s in pts],
            zorder=5,
            gid=f"run-{kind}",
            **kw,
        )
        handles.append(Line2D([], [], label=st["label"], **kw))
    return handles


def _draw_escalations(ax: Axes, data: ChartData) -> list[Line2D | Patch]:
    from matplotlib.lines import Line2D

    seen: set[str] = set()
    for day, tier in data.escalations:
        if (i := data.index(day)) is None:
            continue
        st = TIERS[tier]
        seen.add(tier)
        ax.axvline(
            i, color=st.color, linestyle=st.linestyle, linewidth=2, zorder=3, gid=f"tier-{tier}"
        )
        # The marker above the plot names the tier by shape as well as colour.
        ax.plot(
            [i],
            [10.5],
            linestyle="none",
            marker=st.marker,
            markersize=11,
            color=st.color,
            markeredgecolor=BLACK,
            markeredgewidth=0.8,
            zorder=6,
            clip_on=False,
        )
    if not seen:
        return []
    # A handle-less first entry titles the row without taking a line of its own.
    title: Line2D | Patch = Line2D([], [], linestyle="none", label="Advice given:")
    return [title] + [
        Line2D(
            [],
            [],
            color=st.color,
            linestyle=st.linestyle,
            linewidth=2,
            marker=st.marker,
            markersize=9,
            markeredgecolor=BLACK,
            markeredgewidth=0.8,
            label=st.label,
        )
        for key, st in TIERS.items()
        if key in seen
    ]


def week_blocks(data: ChartData) -> list[tuple[int, int, str]]:
    """The whole 7-day blocks of the window, counted back from its end as the pain rules
    count weeks: (first index, last index, "24 km · 2 h 30 min · pain 3.4")."""
    blocks = []
    last = data.days - 1
    while last - 6 >= 0:
        first = last - 6
        days = [data.start + timedelta(days=i) for i in range(first, last + 1)]
        km = sum(data.run_km.get(d, 0.0) for d in days)
        minutes = sum(data.run_minutes.get(d, 0.0) for d in days)
        scores = [data.daily[d] for d in days if d in data.daily]
        parts = [f"{number(km)} km"]
        if minutes:
            hours, mins = divmod(round(minutes), 60)
            parts.append(f"{hours} h {mins:02d}" if hours else f"{mins} min")
        # A weekly mean needs 3 scores, as in the pain rules.
        if len(scores) >= 3:
            parts.append(f"pain {number(sum(scores) / len(scores))}/10")
        blocks.append((first, last, " · ".join(parts)))
        last = first - 1
    return blocks[::-1]


def _draw_load(load_ax: Axes, data: ChartData) -> None:
    xs = sorted(i for d in data.run_km if (i := data.index(d)) is not None)
    km = [data.run_km[data.start + timedelta(days=i)] for i in xs]
    top = max(km, default=0.0) or 1.0
    load_ax.bar(xs, km, width=0.6, color=BLUE, alpha=0.55, edgecolor=BLACK, linewidth=0.6)
    load_ax.plot(xs, km, linestyle="none", gid="run-km")  # for tests: the km drawn, by day
    for i, value in zip(xs, km, strict=True):
        load_ax.text(
            i, value, number(value), ha="center", va="bottom", fontsize=8, parse_math=False
        )
    # A run with a time but no distance still shows, as a hollow mark on the floor.
    timed = [
        i for d in data.run_minutes if d not in data.run_km and (i := data.index(d)) is not None
    ]
    load_ax.plot(
        timed,
        [0] * len(timed),
        linestyle="none",
        marker="o",
        markerfacecolor="white",
        markeredgecolor=BLACK,
        gid="run-timed",
    )
    # Room above the bars for each week's totals beside its mean pain.
    load_ax.set_ylim(0, top * 2.1)
    for first, last, text in week_blocks(data):
        if first > 0:
            load_ax.axvline(first - 0.5, color=LIGHT_GREY, linewidth=1)
        load_ax.text(
            (first + last) / 2,
            top * 2.05,
            text,
            ha="center",
            va="top",
            fontsize=10,
            color="#333333",
            parse_math=False,
            gid="week-load",
        )
    load_ax.set_yticks([top / 2], ["Runs (km)"])
    load_ax.tick_params(axis="y", length=0)
    load_ax.tick_params(axis="x", which="both", labelbottom=False, length=0)
    for spine in ("top", "right", "left"):
        load_ax.spines[spine].set_visible(False)


def _draw_core(core_ax: Axes, data: ChartData) -> None:
    done = sorted(i for d in data.core_done if (i := data.index(d)) is not None)
    not_done = sorted(set(range(data.days)) - set(done))
    # Hollow squares on the other days make gaps in the routine visible, and
    # filled vs hollow does not depend on colour.
    core_ax.plot(
        not_done,
        [0] * len(not_done),
        linestyle="none",
        marker="s",
        markersize=9,
        markerfacecolor="white",
        markeredgecolor=LIGHT_GREY,
    )
    core_ax.plot(
        done,
        [0] * len(done),
        linestyle="none",
        marker="s",
        markersize=9,
        markerfacecolor=GREEN,
        markeredgecolor=BLACK,
        markeredgewidth=0.8,
        gid="core-done",
    )
    core_ax.set_ylim(-1, 1)
    core_ax.set_yticks([0], ["Core work"])
    core_ax.tick_params(axis="y", length=0)
    for spine in core_ax.spines.values():
        spine.set_visible(False)


def _draw_dates(core_ax: Axes, data: ChartData) -> None:
    n = data.days
    # About ten labels fit the width; count back from the end so today is labelled.
    step = max(1, math.ceil(n / 10))
    ticks = list(range(n - 1, -1, -step))[::-1]
    core_ax.set_xticks(ticks, [format_day(data.start + timedelta(days=i)) for i in ticks])
    # No per-day minor ticks: the core-work squares already mark every day, and
    # 60 extra Tick objects would double the render time.
    core_ax.tick_params(axis="x", length=4)
