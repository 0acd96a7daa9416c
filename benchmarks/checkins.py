"""Time to answer a score (record + trend + reply) with a large history already stored.

    python -m benchmarks.checkins --people 10000 --days 90 [--db URL] [--samples 2000]

Seeds people x days daily check-ins (900,000 by default) straight into a fresh database,
then sends a score for `samples` random people through the real engine and reports
p50/p99 of the time from the message to the reply list. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, select

from benchmarks.common import emit, machine, peak_rss_mb, percentile
from bot.app import open_app
from bot.clock import ManualClock
from bot.events import Incoming
from bot.settings import Settings
from bot.store.models import CheckIn, Person

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
CHUNK = 20_000
PLATFORM = "bench"


async def seed(app, people: int, days: int) -> None:  # type: ignore[no-untyped-def]
    """Bulk-insert people and their daily scores (a noisy, slowly drifting series each).

    People are "bench" users 1..N; an earlier run's are removed first (their check-ins go
    with them), so a scratch PostgreSQL database can be reused.
    """
    rng = random.Random(7)
    async with app.sessions() as s:
        await s.execute(delete(Person).where(Person.platform == PLATFORM))
        await s.execute(
            insert(Person),
            [
                {
                    "platform": PLATFORM,
                    "user_id": str(i),
                    "chat_id": str(i),
                    "tz": "UTC",
                    "consent_at": NOW,
                    "created_at": NOW,
                    "reachable": True,
                }
                for i in range(1, people + 1)
            ],
        )
        await s.commit()
        ids = dict(
            (await s.execute(select(Person.user_id, Person.id).where(Person.platform == PLATFORM)))
            .tuples()
            .all()
        )
        rows: list[dict[str, object]] = []
        first = NOW.date() - timedelta(days=days)
        for user in range(1, people + 1):
            level = rng.uniform(1, 6)
            for d in range(days):
                level = min(9.0, max(0.0, level + rng.uniform(-0.6, 0.6)))
                rows.append(
                    {
                        "person_id": ids[str(user)],
                        "day": first + timedelta(days=d),
                        "kind": "daily",
                        "score": round(level),
                        "source": "chat",
                        "recorded_at": NOW,
                    }
                )
                if len(rows) >= CHUNK:
                    await s.execute(insert(CheckIn), rows)
                    rows.clear()
        if rows:
            await s.execute(insert(CheckIn), rows)
        await s.commit()


async def main(args: argparse.Namespace) -> None:
    """Seed, warm up, then time `samples` score messages."""
    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    settings = Settings(database_url=url, data_dir=Path(tmp.name))
    app = await open_app(settings, ManualClock(NOW))
    engine_name = app.db.dialect.name
    t0 = time.perf_counter()
    await seed(app, args.people, args.days)
    seeded_s = time.perf_counter() - t0
    rng = random.Random(11)
    people = rng.sample(range(1, args.people + 1), min(args.samples, args.people))
    for pid in people[: min(100, len(people))]:  # warm caches and connection pool
        await app.engine.handle(Incoming(PLATFORM, str(pid), str(pid), text="3"))
    timings: list[float] = []
    answered = 0
    for pid in people:
        score = rng.randint(0, 10)
        start = time.perf_counter()
        replies = await app.engine.handle(Incoming(PLATFORM, str(pid), str(pid), text=str(score)))
        timings.append((time.perf_counter() - start) * 1000)
        answered += any(f"{score}/10" in r.text for r in replies)
    await app.close()
    if not args.db:
        tmp.cleanup()
    emit(
        {
            "engine": engine_name,
            "people": args.people,
            "days": args.days,
            "checkins": args.people * args.days,
            "seed_seconds": round(seeded_s, 1),
            "samples": len(timings),
            "answered": answered,
            "p50_ms": round(percentile(timings, 50), 2),
            "p99_ms": round(percentile(timings, 99), 2),
            "max_ms": round(max(timings), 2),
            "peak_rss_mb": peak_rss_mb(),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    asyncio.run(main(parser.parse_args()))
