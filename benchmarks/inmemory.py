"""The usual in-memory design, the fan-out benchmark's comparison: one APScheduler job per person.

    python -m benchmarks.inmemory --users 100000

This is how a reminder bot is commonly written, and how python-telegram-bot's
``JobQueue.run_daily`` does it: an APScheduler 3 ``AsyncIOScheduler`` (with the
``AsyncIOExecutor`` PTB configures) holds one job per person, added with the same cron trigger
``run_daily`` adds (every day of the week, hour, minute and second, in the person's zone). Every
job falls due at the same instant. Each callback builds the same check-in text our dispatcher
sends (the check-in kind's builder from the project's content, the person's facts held in
memory) and hands it to the same instant Sink, keyed the same way (chat, local time).

Nothing is written anywhere: a restart loses every job, and a crash in the middle of the
fan-out loses whatever had not gone out, with no record of what had. That is the difference
the comparison is about; the figure is the rate from the due instant until the last send.

One choice in its favour: jobs get ``misfire_grace_time=None``. APScheduler's default (1 s,
which PTB keeps) would count a job whose turn comes more than a second after the due instant
as missed and never run it; with 100,000 jobs due at once most of them would be lost.

Prints readable figures, then, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from benchmarks.common import hwm_mb
from bot import schedule
from bot.events import Address
from bot.handlers.reminder_kinds import Due, Fact, Facts, get
from bot.handlers.reminder_kinds._facts import SCORED
from bot.handlers.reminder_kinds.checkin import ADVISED, Advised
from content.loader import default_content

PLATFORM = "bench"
# run_daily's day_of_week: every day.
EVERY_DAY = "sun,mon,tue,wed,thu,fri,sat"
# How long the last send may keep us waiting before what is missing counts as lost.
STALL_S = 10.0
NO_ADVICE = Advised(None, False)


@dataclass(slots=True)
class MemoryPerson:
    """What the in-memory design keeps about a person: their columns and today's facts."""

    id: int
    chat_id: str
    tz: str
    at: dtime  # the check-in time, local
    scored: set[date] = field(default_factory=set)  # days with a score in
    advised: Advised = NO_ADVICE
    episode_tier: str | None = None
    episode_opened: date | None = None
    episode_rest: bool = False
    strength_started: date | None = None
    cleared_on: date | None = None
    unanswered: int = 0
    answered_at: datetime | None = None
    sent_count: int = 0


class MemoryFacts(Facts):
    """The builder's facts read straight from the people held in memory."""

    def __init__(self, people: dict[int, MemoryPerson]) -> None:
        super().__init__({})
        self.people = people

    def get(self, fact: Fact[Any], person_id: int, day: date) -> Any:
        """One fact about one person on one of their dates."""
        person = self.people[person_id]
        if fact is SCORED:
            return day in person.scored
        if fact is ADVISED:
            return person.advised
        raise LookupError(f"the in-memory design holds no fact {fact.name!r}")


class TimedSink:
    """The fan-out benchmark's instant Sink, also noting when the last send happened."""

    platform = PLATFORM

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.sent = 0
        self.last = 0.0

    async def send(self, address: Address, reply: Any) -> None:
        """Count one delivery."""
        key = (address.chat_id, reply.local_time or "")
        self.counts[key] = self.counts.get(key, 0) + 1
        self.sent += 1
        self.last = time.time()


def people_for(users: int, due: datetime, tz: str = "UTC") -> list[MemoryPerson]:
    """`users` people whose check-in time is `due`, as a local time in their zone."""
    local = due.astimezone(schedule.zone(tz)).time()
    return [MemoryPerson(i + 1, f"c{i}", tz, local) for i in range(users)]


async def run(users: int, margin_s: float | None = None) -> dict[str, object]:
    """Add one job per person due at the same instant, then time the fan-out to the last send."""
    content = default_content()
    checkin = get("checkin").send
    sink = TimedSink()
    jobs_added = time.time()
    # Adding is not what is measured; the due instant only has to be close after it.
    margin = margin_s if margin_s is not None else 2.0 + users * 5e-5
    due = datetime.fromtimestamp(int(jobs_added + margin) + 1, UTC)
    people = people_for(users, due)
    facts = MemoryFacts({p.id: p for p in people})

    async def remind(person: MemoryPerson) -> None:
        # What a run_daily callback does: work out today in the person's zone, build the
        # message from what is held about them, send it.
        tz = schedule.zone(person.tz)
        now = datetime.now(UTC)
        day = schedule.local_date(now, tz)
        slot = datetime.combine(day, person.at, tzinfo=tz)
        reply = checkin.build(Due(person, day, day, False, person.sent_count, content, facts))
        if reply is None:
            return
        await sink.send(
            Address(PLATFORM, person.chat_id),
            replace(reply, local_time=schedule.format_local(slot, tz)),
        )
        person.sent_count += 1

    expected = {
        (p.chat_id, schedule.format_local(datetime.combine(due.date(), p.at, UTC), UTC))
        for p in people
    }
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        executors={"default": AsyncIOExecutor()},
        job_defaults={"misfire_grace_time": None},
    )
    for person in people:
        # run_daily's add_job. The first fire is given (it is what the trigger computes when
        # added ahead of it) so that adding, which is not measured, may run past the instant.
        scheduler.add_job(
            remind,
            name="remind",
            args=(person,),
            trigger="cron",
            day_of_week=EVERY_DAY,
            hour=person.at.hour,
            minute=person.at.minute,
            second=person.at.second,
            timezone=schedule.zone(person.tz),
            next_run_time=due,
        )
    scheduler.start(paused=True)
    added = time.time()
    scheduler.resume()
    # Late adding (a slow machine) only moves the start: measure from when the jobs could run.
    start = max(due.timestamp(), added)
    while True:
        await asyncio.sleep(0.02)
        if sink.sent >= users:
            break
        if time.time() - max(start, sink.last) > STALL_S:
            break
    scheduler.shutdown(wait=False)
    seconds = sink.last - start
    sent = sum(sink.counts.values())
    return {
        "design": "inmemory",
        "users": users,
        "sent": sent,
        "duplicates": sum(n - 1 for n in sink.counts.values() if n > 1),
        "lost": len(expected - set(sink.counts)),
        "seconds": round(seconds, 3),
        "per_second": round(sent / seconds, 1) if seconds > 0 else None,
        "add_seconds": round(added - jobs_added, 2),
        "started_late_s": round(max(0.0, added - due.timestamp()), 3),
        "peak_rss_mb": hwm_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the in-memory design alone and print its figures, the JSON line last."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.inmemory", description=__doc__)
    p.add_argument("--users", type=int, default=10000)
    p.add_argument("--out", help=argparse.SUPPRESS)  # where a parent wants the JSON
    args = p.parse_args(argv)
    result = asyncio.run(run(args.users))
    line = json.dumps(result)
    if args.out:
        # A parent prints the figures; the child only hands them over.
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(line)
        return 0
    print(
        f"in-memory design: {result['sent']} reminders in {result['seconds']} s "
        f"= {result['per_second']}/s; duplicates {result['duplicates']}, lost {result['lost']}; "
        f"peak RSS {result['peak_rss_mb']} MB"
    )
    print(line)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SI_CHECKIN_LOG_LEVEL", "WARNING")
    sys.exit(main())
