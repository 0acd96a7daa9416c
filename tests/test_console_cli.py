"""The real `python -m adapters console` process, scripted through stdin, on both engines."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def console_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This environment with its own data directory and no database chosen elsewhere."""
    env = {**os.environ, "SI_CHECKIN_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return env | extra


def run_console(
    lines: list[str], data_dir: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the console with one message per line on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "adapters", "console", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=console_env(data_dir, **env),
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
    assert "Changed today's score from 3 to 5/10" in again.stdout
    other = run_console(["/history"], tmp_path, "--user", "bob")
    assert "[I agree]" in other.stdout  # bob has not consented: nothing to show


def test_unknown_zone_on_the_command_line_is_a_clear_error(tmp_path: Path) -> None:
    done = run_console([], tmp_path, "--tz", "Mars/Olympus")
    assert done.returncode == 2
    assert "Unknown time zone" in done.stderr
    assert "Traceback" not in done.stderr


# ---- ending: whatever the input, the console ends without a traceback -----------------------


def test_short_scripts_on_the_real_clock_end_without_a_traceback(tmp_path: Path) -> None:
    # The reminder pass starts with the console; a one-line script ends while it may still run,
    # so several starts give that moment several chances.
    for script in (["/help"], ["4"], [], ["/start"], ["/history"], ["/help"]):
        done = run_console(script, tmp_path, "--user", "ann")
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        assert done.stderr == ""


def read_until(fd: int, text: str, timeout: float = 30.0) -> str:
    """Read from fd until text appears (or the other end closes); everything read so far."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} never came: {seen.decode(errors='replace')[-2000:]}"
        if not select.select([fd], [], [], left)[0]:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # a terminal whose other side has gone
            chunk = b""
        if not chunk:
            break
        seen += chunk
    return seen.decode(errors="replace")


def test_end_of_input_right_after_a_reminder_fired(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    due = now - timedelta(minutes=5)
    # An hour ago, on a simulated clock, ann asked for her check-in five minutes ago.
    setup = run_console(
        ["/start", "I agree", f"/remind checkin {due:%H:%M}"],
        tmp_path,
        "--user",
        "ann",
        "--tz",
        "UTC",
        "--clock",
        (now - timedelta(hours=1)).isoformat(timespec="minutes"),
    )
    assert setup.returncode == 0, setup.stderr
    # On the real clock the start's catch-up sends it; input ends as it appears.
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters", "console", "--user", "ann"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=console_env(tmp_path),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    shown = read_until(proc.stdout.fileno(), "Check-in: how")
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    err = proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    assert "Traceback" not in err, err[-3000:]
    assert err == ""
    assert shown.count("Check-in: how") == 1
    # It was recorded as sent: the next start does not send it again.
    again = run_console(["/help"], tmp_path, "--user", "ann")
    assert again.returncode == 0, again.stderr
    assert "Check-in: how" not in again.stdout


def on_a_terminal(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The console with a terminal for its input and output, waiting at its prompt."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters", "console", "--user", "ann"],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=console_env(tmp_path),
    )
    os.close(slave)
    read_until(master, "you> ")
    os.write(master, b"/start\n")
    read_until(master, "you> ")
    return proc, master


def ended_by(proc: subprocess.Popen[bytes], master: int | None, sig: signal.Signals) -> int:
    """Send sig; the exit code, once the console has ended by itself."""
    proc.send_signal(sig)
    try:
        code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"the console was still running 20 s after {sig.name}")
    finally:
        if master is not None:
            os.close(master)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert "Traceback" not in err, err[-3000:]
    assert err == ""
    return code


def test_ctrl_c_on_a_terminal_ends_the_console_at_once(tmp_path: Path) -> None:
    proc, master = on_a_terminal(tmp_path)
    assert ended_by(proc, master, signal.SIGINT) == 128 + signal.SIGINT


def test_sigterm_on_a_terminal_ends_the_console_cleanly(tmp_path: Path) -> None:
    proc, master = on_a_terminal(tmp_path)
    assert ended_by(proc, master, signal.SIGTERM) == 128 + signal.SIGTERM


def test_sigterm_while_a_script_is_still_being_typed(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters", "console", "--user", "ann"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=console_env(tmp_path),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"/start\n")
    proc.stdin.flush()
    read_until(proc.stdout.fileno(), "[I agree]")
    assert ended_by(proc, None, signal.SIGTERM) == 128 + signal.SIGTERM
    proc.stdin.close()
    proc.stdout.close()


def test_bytes_that_are_not_text_are_answered_like_any_other_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "adapters", "console", "--user", "ann", "--tz", "UTC"],
        input=b"/start\nI agree\n\xff\xfe 4\xc3\n5\n",
        capture_output=True,
        cwd=ROOT,
        # A strict decoder, as on a terminal whose locale is not C.
        env=console_env(tmp_path, PYTHONIOENCODING="utf-8:strict"),
        timeout=120,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    # Read as the same characters typed would be: "4" beside broken ones is a 4, as anywhere.
    assert "Recorded 4/10 for today" in out
    assert "Changed today's score from 4 to 5/10" in out


def test_output_closed_early_ends_the_console_quietly(tmp_path: Path) -> None:
    # `si-checkin console < script | head -1`: the reader leaves after the first line.
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters", "console", "--user", "ann"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=console_env(tmp_path),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(b"/start\nI agree\n/help\n/history\n/export\n")
    proc.stdin.close()
    assert proc.stdout.readline().startswith(b"Hi! I'm si-checkin.")
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert "Traceback" not in err, err[-3000:]
    assert err == ""


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
    # A database server has no folder of its own: the chart goes in the data directory.
    (chart,) = [ln for ln in done.stdout.splitlines() if ln.startswith("(image saved: ")]
    assert Path(chart.split(": ", 1)[1].rstrip(")")).parent.parent == tmp_path / "files"
