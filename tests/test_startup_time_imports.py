"""The console starts without the heavy libraries: only `run` needs the platforms, only a chart
needs matplotlib. How long a start takes is measured by `python -m benchmarks.startup`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "telegram", "discord")
REPORT = f"import sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"


def loaded_after(code: str, tmp_path: Path, stdin: str = "") -> list[str]:
    """The heavy libraries in sys.modules once `code` has run in a fresh interpreter."""
    env = {**os.environ, "SI_CHECKIN_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()[-1].split()


def test_the_command_line_imports_no_platform_library_and_no_matplotlib(tmp_path: Path) -> None:
    assert loaded_after("import adapters.main", tmp_path) == []


def test_a_conversation_without_a_chart_never_imports_them(tmp_path: Path) -> None:
    script = "/start\nI agree\n4\n/export\n/help\n"
    code = "from adapters.main import main\nassert main(['console', '--user', 'ann']) == 0"
    assert loaded_after(code, tmp_path, stdin=script) == []


def test_the_first_chart_brings_matplotlib_and_still_no_platform(tmp_path: Path) -> None:
    script = "/start\nI agree\n4\n/history\n"
    code = "from adapters.main import main\nassert main(['console', '--user', 'ann']) == 0"
    assert loaded_after(code, tmp_path, stdin=script) == ["matplotlib"]
