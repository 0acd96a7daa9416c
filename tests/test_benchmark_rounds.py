"""The tap benchmarks' rounds: each bot takes each place in turn, and the median round counts."""

from __future__ import annotations

import json

import pytest

from benchmarks.common import BOTS, emit_taps, round_orders


def test_over_three_rounds_each_bot_runs_first_second_and_last_once() -> None:
    orders = round_orders(3)
    assert all(sorted(order) == sorted(BOTS) for order in orders)
    for place in range(3):
        assert sorted(order[place] for order in orders) == sorted(BOTS)


def test_the_figures_are_each_bots_median_round(capsys: pytest.CaptureFixture[str]) -> None:
    def figures(rate: float) -> dict[str, float]:
        return {"updates_per_s": rate, "cpu_ms_per_tap": 1000 / rate}

    rounds = [
        {"bare": figures(900), "same": figures(400), "ours": figures(200)},
        {"bare": figures(1000), "same": figures(300), "ours": figures(240)},
        {"bare": figures(800), "same": figures(350), "ours": figures(210)},
    ]
    emit_taps("taps", 10, None, rounds, "bare_lib")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ours"]["updates_per_s"] == 210
    assert result["bare_lib"]["updates_per_s"] == 900
    assert result["bare_same_calls"]["updates_per_s"] == 350
    assert result["ratio_same_calls"] == pytest.approx(210 / 350, abs=0.001)
    assert result["ratio_same_calls_rounds"] == [0.5, 0.8, 0.6]
    assert result["ours"]["updates_per_s_rounds"] == [200, 240, 210]
    assert result["cpu_ms_beyond_calls"] == pytest.approx(1000 / 210 - 1000 / 350, abs=0.01)
