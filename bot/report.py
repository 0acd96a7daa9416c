"""/report: the last 90 days on one A4 page a physio can read in a minute, as a PDF.

Pure: the data goes in (ReportData), PDF bytes come out; the handler reads the store and
renders off the event loop. The page is a header, the chart (daily scores, the baseline band,
runs, the advice given), a table of key facts in sections, and the notes, newest first; notes
that do not fit go on a second page, never smaller type.

A new kind of fact is one more function returning a Section, listed in `sections()`: the
renderer draws whatever sections it is given.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median
from typing import TYPE_CHECKING, Any

from bot import formatting, trends
from bot import runs as runs_load
from bot.chart import (
    _RENDER_LOCK,
    BASELINE_BAND,
    BLACK,
    BLUE,
    GREEN,
    LIGHT_GREY,
    SKY,
    TIERS,
    format_day,
)
from bot.runs import WeekLoad

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

REPORT_DAYS = 90
BLOCK_DAYS = 28  # the facts table's periods: 4-week blocks counted back from the last day
A4_IN = (8.27, 11.69)
MARGIN_IN = 0.55
LINE_IN = 0.145  # one line of body text (8 pt with leading)
NOTE_LINES = 2  # a note longer than this many lines is cut, with an ellipsis
WRAP_CHARS = 112  # characters of body text per line in the table's value column
NOTE_WRAP_CHARS = 118
LOAD_WEEKS_SHOWN = 4  # the recent load beside the period's: the 4 weeks the load rule reads
MAX_ADVICE_ROWS = 12  # the most recent; older ones are counted
DISCLAIMER = (
    "Patient-reported scores (0 = no pain, 10 = worst imaginable) from daily check-ins; "
    "not a diagnosis."
)
RETURN_TO_RUN = "return_to_run"
# Short names of the tiers as the chart's legend shows them, plus the return-to-run offer.
ADVICE_NAMES: Mapping[str, str] = {
    **{key: style.label for key, style in TIERS.items()},
    RETURN_TO_RUN: "Return-to-run ladder offered",
}
RUN_MARKERS: Mapping[str, tuple[str, str]] = {"during": ("^", BLACK), "after": ("v", "white")}

# Type 42 (TrueType) keeps the text real text: searchable, copyable, and read back by tests.
_RC: dict[RcKeyType, Any] = {
    "pdf.fonttype": 42,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8,
    "axes.titlesize": 9,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
}
# matplotlib is not thread-safe and rc_context is global: the report takes its turn with
# every other chart the bot draws, on the history chart's lock.
_LOCK = _RENDER_LOCK


@dataclass(frozen=True, slots=True)
class Section:
    """One block of the facts table: a heading and (label, value) rows."""

    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ReportData:
    """What the report shows. Rows outside the 90 days ending on `end` are ignored."""

    end: date
    daily: Mapping[date, int]
    runs: Sequence[tuple[date, int, str]] = ()  # (day, score, "during"|"after")
    escalations: Sequence[tuple[date, str, str]] = ()  # (day, tier, reasons), oldest first
    flags: Sequence[tuple[date, str]] = ()  # red-flag screen answers (day, code)
    core_done: frozenset[date] = frozenset()
    notes: Mapping[date, str] = field(default_factory=dict)
    strength_started: date | None = None
    episode_tier: str | None = None  # get-help advice still open
    episode_opened: date | None = None
    episode_rest: bool = False
    cleared_on: date | None = None
    # Running load: rolling 7-day blocks ending on `end`, newest first, in the person's unit.
    weeks: Sequence[WeekLoad] = ()
    unit: str = "km"
    # Where it hurt and what set it off, counted over the bad days of the period.
    context: Sequence[str] = ()
    strength_done: int = 0  # workouts marked done in the current strength block
    ladder_stage: int | None = None  # the return-to-run ladder's stage, while on it
    days: int = REPORT_DAYS

    @property
    def start(self) -> date:
        """The first day of the period."""
        return self.end - timedelta(days=self.days - 1)

    def within(self, day: date) -> bool:
        """Whether a day falls in the period."""
        return self.start <= day <= self.end

    @property
    def scores(self) -> dict[date, int]:
        """The daily scores of the period."""
        return {d: s for d, s in self.daily.items() if self.within(d)}


def _long_day(d: date) -> str:
    return f"{format_day(d)} {d.year}"


def _span(first: date, last: date) -> str:
    if first.year == last.year:
        return f"{format_day(first)} – {format_day(last)} {last.year}"
    return f"{_long_day(first)} – {_long_day(last)}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _blocks(data: ReportData) -> list[tuple[date, date]]:
    """4-week periods counted back from the last day, oldest first (the oldest may be short)."""
    out: list[tuple[date, date]] = []
    last = data.end
    while last >= data.start:
        first = max(data.start, last - timedelta(days=BLOCK_DAYS - 1))
        out.append((first, last))
        last = first - timedelta(days=1)
    return out[::-1]


def scores_section(data: ReportData) -> Section:
    """Days logged, mean and median per 4-week block, the highest score, the latest baseline."""
    scores = data.scores
    if not scores:
        return Section("Pain scores", (("Days logged", f"none of {data.days}"),))
    rows = [("Days logged", f"{len(scores)} of {data.days}")]
    for first, last in _blocks(data):
        got = [s for d, s in scores.items() if first <= d <= last]
        label = f"{format_day(first)} – {format_day(last)}"
        if not got:
            rows.append((label, f"no scores ({_days((last - first).days + 1)})"))
            continue
        rows.append(
            (
                label,
                f"mean {formatting.number(sum(got) / len(got))}, "
                f"median {formatting.number(median(got))}, range {min(got)}–{max(got)} "
                f"({len(got)} of {_days((last - first).days + 1)} logged)",
            )
        )
    high = max(scores.values())
    when = sorted(d for d, s in scores.items() if s == high)
    shown = ", ".join(format_day(d) for d in when[-3:])
    more = f" and {len(when) - 3} earlier" if len(when) > 3 else ""
    rows.append(("Highest", f"{formatting.score(high)} on {shown}{more}"))
    base = trends.baseline(data.daily, data.end + timedelta(days=1))
    if base is not None:
        rows.append(("Usual (baseline)", f"{formatting.score(base)}: median of the last 7 scores"))
    return Section("Pain scores", tuple(rows))


def runs_section(data: ReportData) -> Section:
    """Pain during and after runs: how many, the mean and the highest."""
    runs = [r for r in data.runs if data.within(r[0])]
    loaded = [w for w in data.weeks if w.runs]
    if not runs and not loaded:
        return Section("Runs", (("Run pain", "no run scores logged"),))
    rows = [("Runs logged", f"on {_days(len({d for d, _, _ in runs}))}")] if runs else []
    if loaded:
        rows.append((f"Load, {data.days} days", _load(data.weeks, data)))
        rows.append(("Load, 4 weeks", _load(data.weeks[:LOAD_WEEKS_SHOWN], data)))
    for phase in ("during", "after"):
        got = [s for _, s, p in runs if p == phase]
        if got:
            rows.append(
                (
                    f"Pain {phase} a run",
                    f"mean {formatting.number(sum(got) / len(got))}, highest {max(got)}/10 "
                    f"({len(got)} score{'s' if len(got) != 1 else ''}; above 5/10 on "
                    f"{sum(1 for s in got if s > 5)})",
                )
            )
    return Section("Runs", tuple(rows))


def _load(weeks: Sequence[WeekLoad], data: ReportData) -> str:
    """Distance, time and runs of some weeks together, in the person's unit."""
    if not weeks:
        return "no runs logged"
    total = WeekLoad(
        weeks[-1].first,
        weeks[0].last,
        sum(w.km for w in weeks),
        sum(w.minutes for w in weeks),
        sum(w.runs for w in weeks),
    )
    return runs_load.load_line(total, data.unit)


def advice_section(data: ReportData) -> Section:
    """The advice the bot gave, with dates and the numbers behind it; and an open episode."""
    given = [e for e in data.escalations if data.within(e[0]) and e[1] in ADVICE_NAMES]
    rows: list[tuple[str, str]] = []
    for day, tier, reasons in given[::-1][:MAX_ADVICE_ROWS]:
        why = f": {reasons.rstrip('.')}" if reasons else ""
        rows.append((format_day(day), f"{ADVICE_NAMES[tier]}{why}"))
    if len(given) > MAX_ADVICE_ROWS:
        rows.append(("Earlier", f"{len(given) - MAX_ADVICE_ROWS} more, not shown"))
    if not rows:
        rows.append(("Advice", "none needed: no escalation in this period"))
    if data.episode_tier is not None:
        since = f" since {format_day(data.episode_opened)}" if data.episode_opened else ""
        state = "told to rest" if data.episode_rest else "not yet reported as checked"
        name = ADVICE_NAMES.get(data.episode_tier, data.episode_tier)
        rows.append(("Open now", f"{name}{since}: {state}"))
    elif data.cleared_on is not None and data.within(data.cleared_on):
        rows.append(
            (
                "Checked",
                f"reported as checked and cleared to train on {format_day(data.cleared_on)}",
            )
        )
    return Section("Advice given (newest first)", tuple(rows))


def flags_section(data: ReportData) -> Section:
    """Warning signs reported on the red-flag screen, with dates; and how often none were."""
    by_day: dict[date, list[str]] = {}
    clear_days: set[date] = set()
    for day, code in data.flags:
        if not data.within(day):
            continue
        if code == trends.NONE_OF_THESE:
            clear_days.add(day)
        elif (found := trends.symptom(code)) is not None:
            by_day.setdefault(day, []).append(found.label.lower())
    rows = [(format_day(d), ", ".join(labels)) for d, labels in sorted(by_day.items())[::-1]]
    if not rows:
        rows.append(("Reported", "none"))
    if clear_days:
        rows.append(("Screen clear", f"'none of these' answered on {_days(len(clear_days))}"))
    return Section("Warning signs reported (red-flag screen)", tuple(rows))


def adherence_section(data: ReportData) -> Section:
    """Core work done, overall and in the last 4 weeks, and the strength block."""
    done = {d for d in data.core_done if data.within(d)}
    recent_from = data.end - timedelta(days=BLOCK_DAYS - 1)
    recent = sum(1 for d in done if d >= recent_from)
    rows = [
        (
            "Core work",
            f"done on {len(done)} of {data.days} days "
            f"(last 4 weeks: {recent} of {min(BLOCK_DAYS, data.days)})",
        )
    ]
    started = data.strength_started
    if started is None:
        rows.append(("Strength block", "not started"))
    else:
        n = data.strength_done
        rows.append(
            (
                "Strength block",
                f"started {_long_day(started)}: {n} workout{'s' if n != 1 else ''} done",
            )
        )
    if data.ladder_stage is not None:
        rows.append(("Back to running", f"return-to-run ladder, stage {data.ladder_stage} of 7"))
    return Section("Exercise", tuple(rows))


def context_section(data: ReportData) -> Section | None:
    """Where it hurt and what set it off on the bad days, as /history counts them."""
    if not data.context:
        return None
    return Section("Where it hurt and what set it off", tuple(("", line) for line in data.context))


def sections(data: ReportData) -> list[Section]:
    """The facts table, in the order a clinician reads it."""
    context = context_section(data)
    return [
        scores_section(data),
        advice_section(data),
        flags_section(data),
        *([context] if context is not None else []),
        runs_section(data),
        adherence_section(data),
    ]


def note_lines(data: ReportData) -> list[str]:
    """The notes of the period, newest first, each cut to NOTE_LINES lines."""
    out: list[str] = []
    for day in sorted((d for d in data.notes if data.within(d)), reverse=True):
        text = " ".join(data.notes[day].split())
        lines = textwrap.wrap(
            f"{format_day(day)}: {text}",
            NOTE_WRAP_CHARS,
            subsequent_indent="    ",
            max_lines=NOTE_LINES,
            placeholder=" …",
        )
        out += lines
    return out


# ---- rendering ------------------------------------------------------------------------------


class _Page:
    """A page being filled from the top, in inches."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.y = A4_IN[1] - MARGIN_IN

    @property
    def room(self) -> float:
        return self.y - MARGIN_IN - LINE_IN  # the footer's line stays free

    def text(self, x: float, s: str, **kw: Any) -> None:
        self.fig.text(
            x / A4_IN[0], self.y / A4_IN[1], s, va="top", ha="left", parse_math=False, **kw
        )

    def down(self, lines: float = 1.0) -> None:
        self.y -= lines * LINE_IN


def _new_page(data: ReportData, page: int) -> _Page:
    from matplotlib.figure import Figure

    fig = Figure(figsize=A4_IN)
    p = _Page(fig)
    if page == 1:
        p.text(MARGIN_IN, "SI joint pain: 90-day summary", fontsize=14, weight="bold")
        p.down(1.5)
        p.text(
            MARGIN_IN,
            f"Period {_span(data.start, data.end)}  ·  generated {_long_day(data.end)}"
            "  ·  si-checkin",
        )
        p.down()
        p.text(MARGIN_IN, DISCLAIMER, color="#333333")
        p.down(1.4)
    else:
        p.text(
            MARGIN_IN,
            f"SI joint pain: 90-day summary, {_span(data.start, data.end)} (continued)",
            weight="bold",
        )
        p.down(1.6)
    fig.text(
        0.5,
        (MARGIN_IN * 0.6) / A4_IN[1],
        f"Page {page}",
        ha="center",
        va="center",
        fontsize=7.5,
        color="#555555",
    )
    return p


def _chart(p: _Page, data: ReportData, height_in: float = 2.5) -> None:
    """Daily scores with the baseline band, run scores and advice markers; core work below."""
    w, h = A4_IN
    left, right = MARGIN_IN + 0.35, w - MARGIN_IN
    bottom = p.y - height_in
    ax = p.fig.add_axes(((left) / w, bottom / h, (right - left) / w, (height_in - 0.25) / h))
    core = p.fig.add_axes(((left) / w, (bottom - 0.22) / h, (right - left) / w, 0.14 / h))
    n = data.days
    ax.set_xlim(-0.8, n - 0.2)
    ax.set_ylim(-0.4, 11.2)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel("Pain 0–10")
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelbottom=False, length=0)

    def at(d: date) -> int:
        return (d - data.start).days

    daily = [math.nan] * n
    for d, s in data.scores.items():
        daily[at(d)] = float(s)
    handles: list[Any] = []
    if all(math.isnan(v) for v in daily):
        ax.text(
            0.5,
            0.5,
            "No check-ins in this period",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#777777",
            fontsize=11,
        )
    else:
        (line,) = ax.plot(
            range(n),
            daily,
            color=BLUE,
            linewidth=1.2,
            marker="o",
            markersize=2.2,
            zorder=4,
            label="Daily score",
        )
        handles.append(line)
        handles += _baseline(ax, data, at)
    handles += _runs(ax, data, at)
    handles += _advice(ax, data, at)
    _core(core, data, at)
    ticks = list(range(n - 1, -1, -14))[::-1]
    core.set_xlim(ax.get_xlim())
    core.set_xticks(ticks, [format_day(data.start + timedelta(days=i)) for i in ticks])
    core.tick_params(axis="x", length=2)
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0, -0.2),
            ncol=len(handles),
            frameon=False,
            # One row across the page, with every tier's marker in it.
            fontsize=7,
            handlelength=1.4,
            columnspacing=0.8,
        )
    p.y = bottom - 0.85  # below the dates and the legend


def _baseline(ax: Axes, data: ReportData, at: Any) -> list[Any]:
    from matplotlib.patches import Patch

    n = data.days
    mid = [math.nan] * n
    for i in range(n):
        b = trends.baseline(data.daily, data.start + timedelta(days=i))
        if b is not None:
            mid[i] = b
    present = [not math.isnan(v) for v in mid]
    if not any(present):
        return []
    lo = [max(0.0, v - BASELINE_BAND) for v in mid]
    hi = [min(10.0, v + BASELINE_BAND) for v in mid]
    ax.fill_between(
        range(n), lo, hi, where=present, step="mid", color=SKY, alpha=0.3, linewidth=0, zorder=1
    )
    return [Patch(facecolor=SKY, alpha=0.5, label="Baseline ± 1")]


def _runs(ax: Axes, data: ReportData, at: Any) -> list[Any]:
    from matplotlib.lines import Line2D

    out: list[Any] = []
    for phase, (marker, face) in RUN_MARKERS.items():
        pts = [(at(d), s) for d, s, k in data.runs if k == phase and data.within(d)]
        if not pts:
            continue
        kw: dict[str, Any] = {
            "linestyle": "none",
            "marker": marker,
            "markersize": 4,
            "markerfacecolor": face,
            "markeredgecolor": BLACK,
            "markeredgewidth": 0.6,
        }
        ax.plot([i for i, _ in pts], [s for _, s in pts], zorder=5, **kw)
        out.append(Line2D([], [], label=f"Run ({phase})", **kw))
    return out


def _advice(ax: Axes, data: ReportData, at: Any) -> list[Any]:
    from matplotlib.lines import Line2D

    seen: set[str] = set()
    for d, tier, _ in data.escalations:
        if tier not in TIERS or not data.within(d):
            continue
        st = TIERS[tier]
        seen.add(tier)
        ax.axvline(at(d), color=st.color, linestyle=st.linestyle, linewidth=0.9, zorder=3)
        ax.plot(
            [at(d)],
            [10.7],
            linestyle="none",
            marker=st.marker,
            markersize=5,
            color=st.color,
            markeredgecolor=BLACK,
            markeredgewidth=0.4,
            clip_on=False,
        )
    return [
        Line2D(
            [],
            [],
            color=st.color,
            linestyle=st.linestyle,
            marker=st.marker,
            markersize=4,
            markeredgecolor=BLACK,
            markeredgewidth=0.4,
            linewidth=0.9,
            label=st.label,
        )
        for key, st in TIERS.items()
        if key in seen
    ]


def _core(core: Axes, data: ReportData, at: Any) -> None:
    done = sorted(at(d) for d in data.core_done if data.within(d))
    core.plot(
        range(data.days),
        [0] * data.days,
        linestyle="none",
        marker="|",
        markersize=4,
        color=LIGHT_GREY,
    )
    core.plot(done, [0] * len(done), linestyle="none", marker="s", markersize=3, color=GREEN)
    core.set_ylim(-1, 1)
    core.set_yticks([0], ["Core work"])
    core.tick_params(axis="y", length=0)
    for spine in core.spines.values():
        spine.set_visible(False)


def _section(p: _Page, s: Section) -> None:
    p.text(MARGIN_IN, s.title, weight="bold")
    p.down(1.1)
    for label, value in s.rows:
        lines = textwrap.wrap(value, WRAP_CHARS) or [""]
        p.text(MARGIN_IN + 0.1, label, color="#333333")
        for line in lines:
            p.text(MARGIN_IN + 1.45, line)
            p.down()
    p.down(0.4)


def _section_height(s: Section) -> float:
    lines = sum(max(1, len(textwrap.wrap(v, WRAP_CHARS))) for _, v in s.rows)
    return (1.1 + lines + 0.4) * LINE_IN


def pages(data: ReportData) -> list[Figure]:
    """The report as matplotlib figures, one per page (the notes spill onto page 2 if needed)."""
    page = _new_page(data, 1)
    out = [page.fig]
    _chart(page, data)
    for s in sections(data):
        if _section_height(s) > page.room:
            page = _new_page(data, len(out) + 1)
            out.append(page.fig)
        _section(page, s)
    notes = note_lines(data)
    title = "Notes (newest first)"
    if not notes:
        page.text(MARGIN_IN, title, weight="bold")
        page.down(1.1)
        page.text(MARGIN_IN + 0.1, "No notes in this period.", color="#333333")
        return out
    while notes:
        if page.room < (1.1 + NOTE_LINES + 0.1) * LINE_IN:  # the title and one whole note
            page = _new_page(data, len(out) + 1)
            out.append(page.fig)
        page.text(MARGIN_IN, title, weight="bold")
        page.down(1.1)
        fits = max(1, int(page.room / LINE_IN))
        # A note is never split across pages: its continuation line stays with it.
        cut = fits
        if cut < len(notes) and notes[cut].startswith(" "):
            cut -= 1
        for line in notes[:cut]:
            page.text(MARGIN_IN + 0.1, line)
            page.down()
        notes = notes[cut:]
        title = "Notes (continued)"
        if notes:
            page = _new_page(data, len(out) + 1)
            out.append(page.fig)
    return out


def render_report(data: ReportData) -> bytes:
    """The report as PDF bytes (A4)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with _LOCK, matplotlib.rc_context(_RC):
        figures = pages(data)
        # No creation date: the same history gives the same file.
        meta = {
            "Title": "SI joint pain: 90-day summary",
            "Creator": "si-checkin",
            "CreationDate": None,
        }
        with PdfPages(buf, metadata=meta) as pdf:
            for fig in figures:
                pdf.savefig(fig)
        for fig in figures:
            fig.clear()
    return buf.getvalue()
