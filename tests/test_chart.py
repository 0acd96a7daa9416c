"""The /history chart: a PNG a runner can show their physio."""

from __future__ import annotations

import gc
import io
import math
import struct
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.chart import (
    TIERS,
    ChartData,
    build_figure,
    format_day,
    render_history,
    summary_line,
)
from bot.handlers.advice import RETURN_TO_RUN
from bot.store import repo
from bot.store.models import Person
from content import default_content
from tests.conftest import START, Chat

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
END = date(2025, 3, 30)
WINDOW = [END - timedelta(days=29 - i) for i in range(30)]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    return struct.unpack(">II", png[16:24])


def assert_valid_png(png: bytes) -> None:
    assert png_size(png) == (1200, 700)
    with Image.open(io.BytesIO(png)) as img:
        img.load()  # decodes every pixel; a truncated or corrupt stream raises
        assert img.size == (1200, 700)


def lines(fig: Figure, gid: str) -> list[Line2D]:
    return [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == gid]


def texts(fig: Figure) -> list[str]:
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
    for leg in fig.legends:
        found += [t.get_text() for t in leg.get_texts()]
    return found


def full_month() -> ChartData:
    return ChartData(
        end=END,
        daily={d: (i * 7) % 11 for i, d in enumerate(WINDOW)},
        runs=[(d, 10 - i % 11, "during" if i % 2 else "after") for i, d in enumerate(WINDOW)],
        baseline={d: 5.0 for d in WINDOW},
        escalations=[(WINDOW[3 + 5 * k], tier) for k, tier in enumerate(TIERS)],
        core_done=frozenset(WINDOW[::2]),
    )


def test_png_has_signature_and_phone_size() -> None:
    assert_valid_png(render_history(full_month()))


def test_runner_with_no_check_ins_sees_a_clean_chart_saying_so() -> None:
    data = ChartData(end=END, daily={})
    assert_valid_png(render_history(data))
    fig = build_figure(data)
    assert "No check-ins yet" in texts(fig)
    assert lines(fig, "daily") == []


def test_one_score_renders_one_point() -> None:
    data = ChartData(end=END, daily={END: 4})
    assert_valid_png(render_history(data))
    (daily,) = lines(build_figure(data), "daily")
    ys = [y for y in daily.get_ydata() if not math.isnan(y)]
    assert ys == [4.0]
    assert "No check-ins yet" not in texts(build_figure(data))


def test_full_month_shows_every_marker_type_with_a_legend() -> None:
    data = full_month()
    assert_valid_png(render_history(data))
    fig = build_figure(data)
    labels = texts(fig)
    for label in ("Daily pain score", "Pain during a run", "Pain after a run"):
        assert label in labels
    assert any(label.startswith("Baseline ± 1") for label in labels)
    for style in TIERS.values():
        assert style.label in labels
    for tier in TIERS:
        assert len(lines(fig, f"tier-{tier}")) == 1
    assert len(lines(fig, "run-during")[0].get_xdata()) == 15
    assert len(lines(fig, "run-after")[0].get_xdata()) == 15
    assert len(lines(fig, "core-done")[0].get_xdata()) == 15


def test_same_day_advice_reads_as_the_bot_said_it_and_every_legend_fits() -> None:
    assert TIERS["urgent"].label == default_content().tiers["urgent"].title
    fig = build_figure(full_month())
    renderer = FigureCanvasAgg(fig).get_renderer()
    for legend in fig.legends:
        box = legend.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width


def test_run_kinds_differ_by_shape_not_only_colour() -> None:
    fig = build_figure(full_month())
    (during,) = lines(fig, "run-during")
    (after,) = lines(fig, "run-after")
    assert during.get_marker() != after.get_marker()


def test_missing_day_is_a_gap_not_interpolated() -> None:
    daily = {d: 3 for d in WINDOW}
    del daily[WINDOW[10]]
    (line,) = lines(build_figure(ChartData(end=END, daily=daily)), "daily")
    ys = list(line.get_ydata())
    assert math.isnan(ys[10])
    assert ys[9] == ys[11] == 3.0


def test_everything_outside_the_window_is_ignored() -> None:
    inside = ChartData(end=END, daily={END: 5, WINDOW[0]: 2})
    before, after = WINDOW[0] - timedelta(days=1), END + timedelta(days=1)
    with_outside = ChartData(
        end=END,
        daily={**inside.daily, before: 9, after: 9},
        runs=[(before, 8, "during"), (after, 8, "after")],
        baseline={before: 7.0, after: 7.0},
        escalations=[(before, "urgent"), (after, "emergency")],
        core_done=frozenset({before, after}),
    )
    # Rendering is deterministic, so identical bytes mean nothing outside was drawn.
    assert render_history(with_outside) == render_history(inside)
    assert summary_line(with_outside) == summary_line(inside)


def test_subtitle_gives_seven_day_average_and_count() -> None:
    # Last 7 days average (2+4)/2 = 3.0; the score 8 days ago counts as a check-in only.
    data = ChartData(
        end=END,
        daily={END: 2, END - timedelta(days=6): 4, END - timedelta(days=7): 9},
        core_done=frozenset({END}),
    )
    line = summary_line(data)
    assert "7-day average 3.0/10" in line
    assert "3 check-ins" in line
    assert "core work on 1 day" in line
    assert "1 Mar – 30 Mar 2025" in line
    assert line in texts(build_figure(data))


def test_dates_read_like_3_mar_whatever_the_locale() -> None:
    assert format_day(date(2025, 3, 3)) == "3 Mar"
    assert format_day(date(2024, 12, 31)) == "31 Dec"


def test_title_with_dollar_signs_is_not_parsed_as_maths() -> None:
    assert_valid_png(render_history(ChartData(end=END, daily={END: 1}), title="$5 and $6"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"daily": {END: 11}},
        {"daily": {END: -1}},
        {"daily": {}, "runs": [(END, 3, "before")]},
        {"daily": {}, "escalations": [(END, "panic")]},
        {"daily": {}, "days": 0},
    ],
)
def test_bad_data_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ChartData(end=END, **kwargs)  # type: ignore[arg-type]


def test_rendering_never_imports_pyplot() -> None:
    code = (
        "import sys; from datetime import date;"
        "from bot.chart import ChartData, render_history;"
        "png = render_history(ChartData(end=date(2025, 3, 30), daily={date(2025, 3, 30): 3}));"
        "assert png.startswith(b'\\x89PNG');"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"


def test_repeated_renders_do_not_leak_figures() -> None:
    from matplotlib._pylab_helpers import Gcf

    data = full_month()
    render_history(data)

    def live_figures() -> int:
        gc.collect()
        return sum(isinstance(o, Figure) for o in gc.get_objects())

    before = live_figures()
    for _ in range(10):
        render_history(data)
    assert live_figures() == before
    assert Gcf.get_num_fig_managers() == 0


async def test_history_draws_a_chart_whatever_tier_was_given(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("4")
    # Every tier of content/tiers.yaml, and the return-to-run offer stored beside them.
    given = [*default_content().tiers, RETURN_TO_RUN]
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert person is not None
        for back, tier in enumerate(given):
            day = START.date() - timedelta(days=back)
            await repo.add_escalation(s, person.id, day, tier, "a reason", START)
        await s.commit()
    reply = await ann.say("/history")
    assert "Your last 14 days" in reply
    saved = [ln for ln in reply.splitlines() if ln.startswith("(image saved: ")]
    assert len(saved) == 1
    assert_valid_png(Path(saved[0].removeprefix("(image saved: ").rstrip(")")).read_bytes())
