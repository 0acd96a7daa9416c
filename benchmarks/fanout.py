"""Reminder fan-out benchmark: N people due in the same minute, the real dispatcher, a sink.

    python -m benchmarks.fanout --users 100000 [--workers 2] [--db URL] [--batch 500]
                                [--kind checkin|core|posture] [--history-days 60]
    python -m benchmarks.fanout --compare --users 100000 [--db URL]

Seeds N people with a reminder of one kind (a check-in by default) due at the same instant
(bulk inserts), then runs
the real Dispatcher against an in-process Sender that accepts everything instantly and
counts sends per (chat, local time): each person has one reminder, so that names its slot.
On PostgreSQL ``--workers K`` runs K separate processes sharing the database (SKIP LOCKED);
on SQLite, K dispatcher tasks in one process (one writer). Prints readable figures, then,
as the last line, one JSON object.

``--compare`` runs the same fan-out of check-ins twice, each in a child process of this one
so that each peak RSS is its own: ours (one dispatcher process on the seeded database, ledger
and all), then the usual in-memory design (benchmarks/inmemory.py: one APScheduler job per
person, nothing stored). Each rate runs from the due instant to the last send; ``ratio`` is
ours over the in-memory design's.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import make_url

from benchmarks.common import hwm_mb, machine
from bot import schedule
from bot.app import App, open_app
from bot.clock import ManualClock
from bot.events import Address, Reply
from bot.settings import Settings
from bot.store.models import CheckIn, Delivery, Person, Reminder
from scheduler.dispatch import Dispatcher

PLATFORM = "bench"  # limiter_for("bench") is None: we measure our own overhead, not pacing
DUE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SEED_CHUNK = 5000
HISTORY_CHUNK = 250
ROOT = Path(__file__).resolve().parents[1]


class Sink:
    """A Sender that accepts everything at once and counts sends per (chat, local time)."""

    platform = PLATFORM

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()

    async def send(self, address: Address, reply: Reply) -> None:
        """Count one delivery."""
        self.counts[(address.chat_id, reply.local_time or "")] += 1


async def seed(
    app: App,
    users: int,
    due: datetime = DUE,
    platform: str = PLATFORM,
    kind: str = "checkin",
    history_days: int = 0,
) -> None:
    """Insert `users` people, each with a reminder of `kind` whose slot is `due` (bulk).

    With `history_days`, each also has a daily score on each of the days before `due`, so
    a core-work reminder's trend read has real rows to read.
    """
    people = Person.__table__
    reminders = Reminder.__table__
    async with app.sessions() as s, s.begin():
        await s.execute(delete(people).where(people.c.platform == platform))
    for start in range(0, users, SEED_CHUNK):
        n = min(SEED_CHUNK, users - start)
        async with app.sessions() as s, s.begin():
            rows = [
                {
                    "platform": platform,
                    "user_id": f"u{start + i}",
                    "chat_id": f"c{start + i}",
                    "tz": "UTC",
                    "consent_at": due,
                    "created_at": due,
                    "reachable": True,
                    "stopped": False,
                }
                for i in range(n)
            ]
            await s.execute(insert(people), rows)
            ids = list(
                await s.scalars(
                    select(people.c.id).where(
                        people.c.platform == platform,
                        people.c.user_id.in_([r["user_id"] for r in rows]),
                    )
                )
            )
            await s.execute(
                insert(reminders),
                [
                    {
                        "person_id": pid,
                        "kind": kind,
                        "times": f"{due:%H:%M}",
                        "weekdays_only": False,
                        "enabled": True,
                        "next_slot": due,
                        "next_send_at": due,
                        "sent_count": 0,
                    }
                    for pid in ids
                ],
            )
            # A few hundred people's history at a time: the rows are built in memory.
            for first in range(0, len(ids) if history_days else 0, HISTORY_CHUNK):
                await s.execute(
                    insert(CheckIn.__table__),
                    [
                        {
                            "person_id": pid,
                            "day": due.date() - timedelta(days=back),
                            "kind": "daily",
                            "score": (pid + back) % 7,
                            "source": "chat",
                            "recorded_at": due - timedelta(days=back),
                        }
                        for pid in ids[first : first + HISTORY_CHUNK]
                        for back in range(1, history_days + 1)
                    ],
                )
    if make_url(str(app.db.url)).get_backend_name() == "postgresql":
        # A live database has planner statistics (autovacuum); a bulk load needs them now.
        async with app.db.connect() as conn:
            await conn.execute(text("ANALYZE people"))
            await conn.execute(text("ANALYZE reminders"))
            await conn.execute(text("ANALYZE checkins"))
            await conn.commit()


async def expected(app: App, platform: str = PLATFORM) -> set[tuple[str, str]]:
    """Every (chat, local time of its slot) that should be sent once."""
    async with app.sessions() as s:
        rows = await s.execute(
            select(Person.chat_id, Person.tz, Reminder.next_slot)
            .join(Person, Person.id == Reminder.person_id)
            .where(Person.platform == platform)
        )
        return {(chat, schedule.format_local(slot, schedule.zone(tz))) for chat, tz, slot in rows}


async def ledger_rows(app: App) -> int:
    """Rows in the delivery ledger."""
    async with app.sessions() as s:
        return await s.scalar(select(func.count()).select_from(Delivery)) or 0


def _settings(url: str) -> Settings:
    return Settings(database_url=url, data_dir=Path(tempfile.gettempdir()) / "si-bench")


async def _dispatch(url: str, workers: int, batch: int) -> tuple[Sink, float, float]:
    app = await open_app(_settings(url), ManualClock(DUE), migrate=False)
    sink = Sink()
    try:
        dispatchers = [
            Dispatcher(app.engine, {PLATFORM: sink}, batch_size=batch) for _ in range(workers)
        ]
        started = time.time()
        await asyncio.gather(*(d.run_once() for d in dispatchers))
        return sink, started, time.time()
    finally:
        await app.close()


def _child(url: str, out: str, batch: int) -> int:
    sink, started, ended = asyncio.run(_dispatch(url, 1, batch))
    with open(out, "w", encoding="utf-8") as f:
        f.write(f"{started} {ended} {hwm_mb()}\n")
        for (rid, slot), n in sink.counts.items():
            f.write(f"{rid} {slot} {n}\n")
    return 0


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


async def _main(args: argparse.Namespace) -> dict[str, object]:
    tmp = tempfile.TemporaryDirectory(prefix="si-bench-")
    url = args.db or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    url = Settings(database_url=url).database_url or url
    engine_name = make_url(url).get_backend_name()
    app = await open_app(_settings(url), ManualClock(DUE))
    t0 = time.perf_counter()
    await seed(app, args.users, kind=args.kind, history_days=args.history_days)
    seeded = time.perf_counter() - t0
    want = await expected(app)
    await app.close()
    print(f"seeded {args.users} people on {engine_name} in {seeded:.1f} s", flush=True)

    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    if engine_name == "postgresql" and args.workers > 1:
        mode = "processes"
        outs = [Path(tmp.name) / f"worker{i}.txt" for i in range(args.workers)]
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.fanout",
                "--child",
                str(out),
                "--db",
                url,
                "--batch",
                str(args.batch),
                cwd=ROOT,
            )
            for out in outs
        ]
        codes = [await proc.wait() for proc in procs]
        if any(codes):
            raise SystemExit(f"a worker failed: exit codes {codes}")
        starts, ends = [], []
        for out in outs:
            started, ended, _, worker_counts = _read_child(out)
            starts.append(started)
            ends.append(ended)
            counts.update(worker_counts)
        seconds = max(ends) - min(starts)
    else:
        mode = "tasks"
        sink, started, ended = await _dispatch(url, args.workers, args.batch)
        counts = sink.counts
        seconds = ended - started

    check = await open_app(_settings(url), ManualClock(DUE), migrate=False)
    ledger = await ledger_rows(check)
    await check.close()
    tmp.cleanup()
    sent = sum(counts.values())
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    lost = len(want - set(counts))
    parent = _rss_mb(resource.RUSAGE_SELF)
    children = _rss_mb(resource.RUSAGE_CHILDREN)
    result: dict[str, object] = {
        "users": args.users,
        "workers": args.workers,
        "mode": mode,
        "engine": engine_name,
        "kind": args.kind,
        "history_days": args.history_days,
        "batch": args.batch,
        "sent": sent,
        "duplicates": duplicates,
        "lost": lost,
        "ledger_rows": ledger,
        "seconds": round(seconds, 3),
        "per_second": round(sent / seconds, 1) if seconds > 0 else None,
        "seed_seconds": round(seeded, 2),
        # Largest single process (children: the largest worker process).
        "peak_rss_mb": round(max(parent, children), 1),
        "peak_rss_parent_mb": round(parent, 1),
        "peak_rss_child_mb": round(children, 1),
    }
    print(
        f"dispatched {sent} reminders with {args.workers} worker {mode} in {seconds:.2f} s "
        f"= {result['per_second']}/s; duplicates {duplicates}, lost {lost}, "
        f"ledger rows {ledger}; peak RSS {result['peak_rss_mb']} MB"
    )
    return result


def _read_child(out: Path) -> tuple[float, float, float, collections.Counter[tuple[str, str]]]:
    """A dispatcher child's start, end, peak RSS and sends per (chat, local time)."""
    lines = out.read_text(encoding="utf-8").splitlines()
    started, ended, rss = (float(v) for v in lines[0].split())
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in lines[1:]:
        chat, rest = line.split(" ", 1)  # the local time has a space in it
        slot, n = rest.rsplit(" ", 1)
        counts[(chat, slot)] += int(n)
    return started, ended, rss, counts


async def _settle(app: App) -> None:
    """Leave PostgreSQL as a live one runs after the bulk load: dead rows of earlier runs
    vacuumed (autovacuum would), and the load's writes checkpointed, not flushed mid-run."""
    async with app.db.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE people, reminders, deliveries"))
        try:
            await conn.execute(text("CHECKPOINT"))
        except Exception as exc:  # not a superuser: the figures are only noisier
            print(f"(no CHECKPOINT before the run: {type(exc).__name__})")


async def _run_child(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", *args, cwd=ROOT)
    if await proc.wait():
        raise SystemExit(f"{args[0]} failed with exit code {proc.returncode}")


async def _compare(args: argparse.Namespace) -> dict[str, object]:
    """Ours and the in-memory design on the same people, each in a child process."""
    tmp = tempfile.TemporaryDirectory(prefix="si-bench-")
    url = args.db or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    url = Settings(database_url=url).database_url or url
    engine_name = make_url(url).get_backend_name()
    app = await open_app(_settings(url), ManualClock(DUE))
    await seed(app, args.users)
    want = await expected(app)
    if engine_name == "postgresql":
        await _settle(app)
    await app.close()
    print(f"seeded {args.users} people on {engine_name}", flush=True)

    out = Path(tmp.name) / "ours.txt"
    await _run_child(
        "benchmarks.fanout", "--child", str(out), "--db", url, "--batch", str(args.batch)
    )
    started, ended, ours_rss, counts = _read_child(out)
    check = await open_app(_settings(url), ManualClock(DUE), migrate=False)
    ledger = await ledger_rows(check)
    await check.close()
    ours_s = ended - started
    sent = sum(counts.values())
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    lost = len(want - set(counts))
    ours_rate = sent / ours_s if ours_s > 0 else 0.0
    print(
        f"ours ({engine_name}, 1 worker): {sent} check-ins in {ours_s:.2f} s = {ours_rate:.0f}/s;"
        f" duplicates {duplicates}, lost {lost}, ledger rows {ledger};"
        f" peak RSS {ours_rss} MB",
        flush=True,
    )

    mem_out = Path(tmp.name) / "inmemory.json"
    await _run_child("benchmarks.inmemory", "--users", str(args.users), "--out", str(mem_out))
    mem = json.loads(mem_out.read_text(encoding="utf-8"))
    tmp.cleanup()
    mem_rate = float(mem["per_second"] or 0.0)
    ratio = ours_rate / mem_rate if mem_rate else None
    print(
        f"ratio: ours {ratio:.2f}x the in-memory design's rate; peak RSS {ours_rss} MB against"
        f" {mem['peak_rss_mb']} MB"
        if ratio is not None
        else "ratio: the in-memory design sent nothing"
    )
    return {
        "users": args.users,
        "engine": engine_name,
        "batch": args.batch,
        "ours_per_s": round(ours_rate, 1),
        "inmemory_per_s": round(mem_rate, 1),
        "ratio": round(ratio, 3) if ratio is not None else None,
        "ours_seconds": round(ours_s, 3),
        "inmemory_seconds": mem["seconds"],
        "ours_peak_rss_mb": ours_rss,
        "inmemory_peak_rss_mb": mem["peak_rss_mb"],
        "sent": sent,
        "duplicates": duplicates,
        "lost": lost,
        "ledger_rows": ledger,
        "inmemory_sent": mem["sent"],
        "inmemory_duplicates": mem["duplicates"],
        "inmemory_lost": mem["lost"],
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures, the JSON line last."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=__doc__)
    p.add_argument("--users", type=int, default=10000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    p.add_argument("--batch", type=int, default=500, help="rows claimed per transaction")
    p.add_argument(
        "--kind",
        choices=("checkin", "core", "posture"),
        default="checkin",
        help="which reminder everyone gets (core reads each person's trend for the routine)",
    )
    p.add_argument(
        "--history-days", type=int, default=0, help="daily scores per person before the send"
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="check-ins through ours and through the in-memory design, and the ratio",
    )
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return _child(args.db, args.child, args.batch)
    if args.compare:
        print(json.dumps(asyncio.run(_compare(args))))
        return 0
    print(json.dumps(asyncio.run(_main(args))))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SI_CHECKIN_LOG_LEVEL", "WARNING")
    sys.exit(main())
