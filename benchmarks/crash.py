"""Kill a dispatcher with SIGKILL mid fan-out, restart it, and count what was lost or doubled.

    python -m benchmarks.crash [--users 20000] [--db URL] [--seed N]

N people are due at once. A worker process runs the real Dispatcher; its Sender appends
"chat, local time" to a file for every message it hands over (an O_APPEND write is in the
kernel at once, so it survives the kill: the file is what the platform received). Each
person has one reminder, so a line names its chat and the slot's local time. The
parent kills the worker with SIGKILL at a random point of the fan-out, then starts a new
worker after the dead one's lease has run out, and compares the file with what was due.

The bound: a dispatcher records what it sent every `flush_every` outcomes and keeps sending
while a batch commits, with at most `concurrency` sends in flight, so a kill can repeat at
most 2 * flush_every + concurrency messages (the sent-but-unrecorded ones) and can lose none
(unrecorded rows are re-claimed when the lease expires). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.common import emit, machine, peak_rss_mb
from benchmarks.fanout import DUE, PLATFORM, expected, seed
from bot.app import open_app
from bot.clock import ManualClock
from bot.events import Address, Reply
from bot.settings import Settings
from scheduler.dispatch import Dispatcher

FLUSH_EVERY = 100
CONCURRENCY = 16
LEASE = timedelta(minutes=5)
ROOT = Path(__file__).resolve().parents[1]


class FileSink:
    """Hands each message to 'the platform': one line appended, unbuffered."""

    platform = PLATFORM

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    async def send(self, address: Address, reply: Reply) -> None:
        """Record one delivery the moment it happens."""
        os.write(self.fd, f"{address.chat_id}\t{reply.local_time}\n".encode())


def _settings(url: str, data: str) -> Settings:
    return Settings(database_url=url, data_dir=Path(data))


async def _work(url: str, data: str, sent: str, now: datetime) -> None:
    app = await open_app(_settings(url, data), ManualClock(now), migrate=False)
    try:
        dispatcher = Dispatcher(
            app.engine,
            {PLATFORM: FileSink(sent)},
            flush_every=FLUSH_EVERY,
            concurrency=CONCURRENCY,
            lease=LEASE,
        )
        while (await dispatcher.run_once()).claimed:
            pass
    finally:
        await app.close()


def _spawn(url: str, data: str, sent: str, now: datetime) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.crash", "--worker", url, data, sent, now.isoformat()],
        cwd=ROOT,
    )


def _lines(path: str) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


async def _main(args: argparse.Namespace) -> dict[str, object]:
    tmp = tempfile.TemporaryDirectory(prefix="si-crash-")
    url = args.db or f"sqlite+aiosqlite:///{Path(tmp.name) / 'crash.sqlite3'}"
    sent = str(Path(tmp.name) / "sent.txt")
    app = await open_app(_settings(url, tmp.name), ManualClock(DUE))
    await seed(app, args.users)
    due = await expected(app)
    await app.close()

    rng = random.Random(args.seed)
    kill_at = rng.randint(args.users // 10, args.users * 9 // 10)
    started = time.time()
    worker = _spawn(url, tmp.name, sent, DUE)
    while worker.poll() is None and _lines(sent) < kill_at:  # noqa: ASYNC110 (a file, not an event)
        await asyncio.sleep(0.002)
    killed_after = _lines(sent)
    if worker.poll() is None:
        worker.send_signal(signal.SIGKILL)
    worker.wait()
    # The replacement starts once the dead worker's lease has run out (inside the grace window).
    restart = _spawn(url, tmp.name, sent, DUE + LEASE + timedelta(seconds=1))
    restart.wait()
    seconds = time.time() - started

    lines = Path(sent).read_text(encoding="utf-8").splitlines()  # noqa: ASYNC240 (after the run)
    counts = collections.Counter(tuple(line.split("\t")) for line in lines if line.strip())
    delivered = set(counts)
    result: dict[str, object] = {
        "users": args.users,
        "engine": url.split(":", 1)[0],
        "killed_after_sends": killed_after,
        "killed_by": "SIGKILL" if worker.returncode == -signal.SIGKILL else "finished first",
        "sent": sum(counts.values()),
        "lost": len(due - delivered),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "duplicate_bound": 2 * FLUSH_EVERY + CONCURRENCY,
        "restart_exit": restart.returncode,
        "seconds": round(seconds, 2),
        "peak_rss_mb": peak_rss_mb(children=True),
        "machine": machine(),
    }
    tmp.cleanup()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --worker, be the worker process)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        url, data, sent, now = argv[1:5]
        asyncio.run(_work(url, data, sent, datetime.fromisoformat(now)))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.crash", description=__doc__)
    p.add_argument("--users", type=int, default=20000)
    p.add_argument("--db", help="database URL of a scratch database (default: temporary SQLite)")
    p.add_argument("--seed", type=int, default=None, help="random seed for the kill point")
    result = asyncio.run(_main(p.parse_args(argv)))
    emit(result)
    ok = result["lost"] == 0 and int(result["duplicates"]) <= int(result["duplicate_bound"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
