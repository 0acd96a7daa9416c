"""Time from starting `si-checkin console` to its first reply, each start a fresh process.

    python -m benchmarks.startup [--runs 10] [--line /help] [--db PATH_OR_URL] [--pycache]

The console is the first thing people try, so this is the wait they see: the process is
started with a one-line script on stdin and the clock stops at the first byte of the reply on
stdout. The first start creates the database in an empty data directory (migrations
included) and is reported apart as `first_start_s`; the runs after it open the database that
start made, as every later start does. Each start's CPU time (user + system) is reported too:
on a shared machine it moves much less than the wall time when other work competes for the
cores, and the load average before and after says how much did.

Where PYTHONDONTWRITEBYTECODE is set every start compiles the project's own modules again;
`--pycache` lets the starts keep compiled modules in a temporary folder, as an installed
copy does. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import emit, machine, peak_rss_mb, percentile

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Start:
    """One start: seconds to the first reply and to the exit, CPU seconds, a traceback seen."""

    replied: float
    exited: float
    cpu: float
    traceback: bool


def command() -> list[str]:
    """The installed `si-checkin` next to this Python, else the module form."""
    script = Path(sys.executable).with_name("si-checkin")
    if script.exists():
        return [str(script), "console"]
    found = shutil.which("si-checkin")
    return [found, "console"] if found else [sys.executable, "-m", "adapters", "console"]


def children_cpu() -> float:
    """CPU seconds used so far by this process's finished children."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def one_start(data_dir: Path, line: str, db: str | None, env: dict[str, str]) -> Start:
    """Start the console once with `line` as its whole input."""
    args = [*command(), "--user", "bench", "--tz", "Europe/Berlin"]
    if db:
        args += ["--db", db]
    env = {**env, "SI_CHECKIN_DATA_DIR": str(data_dir)}
    cpu_before = children_cpu()
    # stderr to a file: a pipe nobody reads while we wait on stdout could fill and stall it.
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT, env=env
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{line}\n".encode())
        proc.stdin.close()
        first = proc.stdout.read(1)
        replied = time.perf_counter() - started
        proc.stdout.read()
        proc.stdout.close()
        proc.wait(timeout=TIMEOUT_S)
        exited = time.perf_counter() - started
        stderr.seek(0)
        err = stderr.read().decode(errors="replace")
    if proc.returncode != 0 or not first:
        sys.exit(f"the console failed (exit {proc.returncode}): {err[-400:]}")
    return Start(replied, exited, children_cpu() - cpu_before, "Traceback" in err)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=10, help="timed starts after the first")
    p.add_argument("--line", default="/help", help="the one message sent")
    p.add_argument("--db", help="SQLite file path or database URL (default: the data directory)")
    p.add_argument(
        "--pycache", action="store_true", help="let the starts keep compiled modules (see above)"
    )
    args = p.parse_args()
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        if args.pycache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        data_dir = Path(tmp) / "data"
        first = one_start(data_dir, args.line, args.db, env)
        starts = [one_start(data_dir, args.line, args.db, env) for _ in range(args.runs)]
    replies = [s.replied for s in starts]
    cpu = [s.cpu for s in starts]
    emit(
        {
            "benchmark": "startup",
            "command": " ".join([Path(command()[0]).name, *command()[1:]]),
            "runs": args.runs,
            "bytecode_cache": args.pycache or not os.environ.get("PYTHONDONTWRITEBYTECODE"),
            "first_start_s": round(first.replied, 3),
            "p50_s": round(percentile(replies, 50), 3),
            "p95_s": round(percentile(replies, 95), 3),
            "max_s": round(max(replies), 3),
            "p50_exit_s": round(percentile([s.exited for s in starts], 50), 3),
            "cpu_p50_s": round(percentile(cpu, 50), 3),
            "cpu_max_s": round(max(cpu), 3),
            # Starts whose stderr held a traceback: none is the only right answer.
            "tracebacks": sum(s.traceback for s in [first, *starts]),
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "peak_rss_mb": peak_rss_mb(children=True),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
