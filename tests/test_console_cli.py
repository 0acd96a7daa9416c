"""The real `python -m adapters console` process, scripted through stdin, on both engines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_console(lines: list[str], data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the console with one message per line on stdin."""
    env = {**os.environ, "SI_CHECKIN_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "adapters", "console", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_a_scripted_conversation_on_the_default_sqlite(tmp_path: Path) -> None:
    done = run_console(
        ["/start", "I agree", "4", "banana", "/log 6 yesterday", "/history", "/export"],
        tmp_path,
        "--user",
        "ann",
        "--tz",
        "Europe/Berlin",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[I agree] [No thanks]" in out
    assert "Your time zone is Europe/Berlin" in out
    assert "Recorded 4/10 for today" in out
    assert "I didn't catch that" in out
    assert "Recorded 6/10 for yesterday" in out
    assert "Traceback" not in out + done.stderr
    assert (tmp_path / "si-checkin.sqlite3").exists()
    saved = [ln for ln in out.splitlines() if ln.startswith(("(image saved: ", "(file saved: "))]
    assert len(saved) == 2
    for line in saved:
        assert Path(line.split(": ", 1)[1].rstrip(")")).stat().st_size > 0


def test_history_survives_a_restart_and_names_are_different_people(tmp_path: Path) -> None:
    first = run_console(["/start", "I agree", "3"], tmp_path, "--user", "ann")
    assert first.returncode == 0, first.stderr
    again = run_console(["/history", "5"], tmp_path, "--user", "ann")
    assert ": 3/10" in again.stdout
    assert "Updated today's score to 5/10 (it was 3/10)" in again.stdout
    other = run_console(["/history"], tmp_path, "--user", "bob")
    assert "[I agree]" in other.stdout  # bob has not consented: nothing to show


def test_unknown_zone_on_the_command_line_is_a_clear_error(tmp_path: Path) -> None:
    done = run_console([], tmp_path, "--tz", "Mars/Olympus")
    assert done.returncode == 2
    assert "Unknown time zone" in done.stderr
    assert "Traceback" not in done.stderr


def test_console_against_postgresql(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    import asyncio

    from tests.conftest import drop_pg_database, fresh_pg_database

    url, name = asyncio.run(fresh_pg_database())
    request.addfinalizer(lambda: asyncio.run(drop_pg_database(name)))
    done = run_console(["/start", "I agree", "pain 7", "/history"], tmp_path, "--db", url)
    assert done.returncode == 0, done.stderr
    assert "Recorded 7/10 for today" in done.stdout
    assert "7-day average: 7.0/10" in done.stdout
