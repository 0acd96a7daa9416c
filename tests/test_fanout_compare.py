"""`benchmarks.fanout --compare` runs ours and the in-memory design and prints both figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = (
    "ours_per_s",
    "inmemory_per_s",
    "ratio",
    "ours_peak_rss_mb",
    "inmemory_peak_rss_mb",
    "duplicates",
    "lost",
)


def test_compare_sends_every_check_in_once_through_both_designs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.fanout", "--compare", "--users", "300"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert all(result[name] is not None for name in FIELDS), result
    assert result["sent"] == result["ledger_rows"] == result["inmemory_sent"] == 300
    assert result["duplicates"] == result["lost"] == 0
    assert result["inmemory_duplicates"] == result["inmemory_lost"] == 0
    assert result["ours_peak_rss_mb"] > 0 and result["inmemory_peak_rss_mb"] > 0
    # Readable figures for both come before the JSON line.
    text = "\n".join(lines[:-1])
    assert "ours (sqlite, 1 worker)" in text and "ratio:" in text
