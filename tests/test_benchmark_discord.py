"""benchmarks.discord runs end to end on a few taps and reports both baselines."""

from __future__ import annotations

import json

import pytest

from benchmarks import discord as bench


async def test_three_bots_each_handle_every_tap(capsys: pytest.CaptureFixture[str]) -> None:
    await bench.main(12, None, 2)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ours"]["replies_sent"] == 12
    assert result["bare_same_calls"]["replies_sent"] == 12
    assert result["bare_discord_py"]["updates_per_s"] > 0
    # Two rounds: each bot's figures are one of its rounds', and every round is listed.
    assert result["rounds"] == 2
    for bot in ("ours", "bare_discord_py", "bare_same_calls"):
        assert len(result[bot]["updates_per_s_rounds"]) == 2
        assert result[bot]["updates_per_s"] in result[bot]["updates_per_s_rounds"]
    assert len(result["ratio_same_calls_rounds"]) == 2
    for key, baseline in (("ratio", "bare_discord_py"), ("ratio_same_calls", "bare_same_calls")):
        expected = result["ours"]["updates_per_s"] / result[baseline]["updates_per_s"]
        assert result[key] == pytest.approx(expected, abs=0.001)
    beyond = result["ours"]["cpu_ms_per_tap"] - result["bare_same_calls"]["cpu_ms_per_tap"]
    assert result["cpu_ms_beyond_calls"] == pytest.approx(beyond, abs=0.01)
