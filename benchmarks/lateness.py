"""Reminder lateness against the platform's send ceiling: a simulated day, in virtual time.

    python -m benchmarks.lateness --users 100000 --platform telegram|discord
                                  --profile same-minute|realistic [--paid-after MINUTES]
                                  [--rtt 0.05] [--seed 1]

What people feel is when their 07:30 reminder arrives. A platform lets a bot send only so
fast (Telegram about 30 messages a second, Discord about 50 requests a second, and each
less in one chat), so 100,000 people at 07:30 on Telegram means the last is about 55
minutes late whatever the code does. This benchmark measures how close the real dispatcher
comes to that physical bound.

The day: Monday 2 March 2026, 00:00 to 24:00 UTC. People and their reminders are seeded in a
temporary SQLite database (bulk inserts, as benchmarks.fanout does); then the real Dispatcher
runs against ``Platform``, a Sender that accepts exactly the platform's ceilings (sliding
one-second windows overall, per-chat windows) and answers anything beyond with a 429 and its
retry_after, as the real servers do. Every call takes ``--rtt`` seconds to answer. A driver
wakes the dispatcher at each next due instant, as scheduler.runtime does.

Time is virtual (benchmarks.virtual_time): the event loop jumps to its next timer whenever it
would wait, and the injected clock reads the same time, so the day runs in the seconds the
code takes, the database costs no virtual time, and lateness comes from pacing and queueing
alone.

Profiles:
- ``same-minute``: everyone in UTC with a check-in at 07:30.
- ``realistic``: seven zones (Los Angeles to Sydney); check-ins on quarter hours between
  06:00 and 09:00 (three in four) or 18:00 and 21:00 local, the round hours and half hours the
  popular ones; a nudge four hours later for the 30% who asked for one; core-work reminders
  for 60% (mostly evenings), posture tips for 35% (three a weekday).

The bound is the lateness of an ideal server for the same arrivals: it sends at exactly the
ceiling (the same windows the platform enforces), earliest due first, never idle while
anything is due and its chat allows. ``ratio`` is our p99 check-in lateness over the bound's.
Because the dispatcher lets check-ins go before posture tips, it can beat that bound; so the
same ideal server is also run by the dispatcher's own rules (tips give way, and are dropped
past their limit), and ``ratio_yielding`` compares with that one.

Paid broadcasts (``--paid-after``, TELEGRAM_PAID_BROADCAST_AFTER): the simulated Telegram
accepts a message sent with ``allow_paid_broadcast`` up to 1000 a second (counting every
message), the others up to the free 30.

Printed: check-in lateness p50/p95/p99/max, ours and the bound's; posture tips sent, dropped
and their worst lateness; sends out of due order; 429s; with ``--paid-after``, the messages
sent as Telegram paid broadcasts and their cost. The last line is one JSON object with
``p99_s``, ``bound_p99_s``, ``ratio``, ``sent``, ``dropped``, ``duplicates``, ``lost`` and
``429s`` (a dropped posture tip is counted by the dispatcher and is not lost; anything else
not delivered is lost).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import heapq
import math
import os
import random
import sys
import tempfile
import time
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from benchmarks.common import emit, machine, peak_rss_mb, percentile
from benchmarks.virtual_time import LoopClock, VirtualTimeLoop
from bot import schedule
from bot.app import App, open_app
from bot.delivery import RetryLater
from bot.events import Address, Reply
from bot.handlers import reminder_kinds
from bot.settings import Settings
from bot.store.models import Person, Reminder
from scheduler.dispatch import YIELDING, Dispatcher, PassStats

DAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, before any daylight-saving change
END = DAY + timedelta(days=1)
SEED_CHUNK = 5000
# People choose whether they get a nudge when no score came (where the schema has the choice).
NUDGE_COLUMN = Person.__table__.c.get("nudge")
# Kinds a long queue may hold back and drop (the dispatcher's); every other must be delivered.
TIPS = frozenset(YIELDING)
# What Telegram charges per paid message (Bot API, "Paid Broadcasts"), in Stars.
STARS_PER_PAID_MESSAGE = 0.1


# ---- the platforms' ceilings, as the simulated servers enforce them ----------------------


@dataclass(frozen=True)
class Ceiling:
    """What one platform accepts: at most `overall` per `period_s`, and `per_chat` per chat."""

    overall: int
    period_s: float
    per_chat: int
    chat_period_s: float
    paid_overall: int = 0  # Telegram's paid broadcasts: this many per period, all sends counted
    whole_seconds: bool = False  # retry_after in whole seconds (Telegram) or not (Discord)


CEILINGS = {
    # Bot API FAQ: about 30 messages per second overall, 1 per second in one chat; paid
    # broadcasts up to 1000 per second.
    "telegram": Ceiling(30, 1.0, 1, 1.0, paid_overall=1000, whole_seconds=True),
    # Discord: 50 requests per second per bot; 5 messages per 5 seconds in one channel.
    "discord": Ceiling(50, 1.0, 5, 5.0),
}


class Window:
    """A sliding window: at most `limit` events in any span of `period` seconds."""

    __slots__ = ("limit", "period", "times")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.times: collections.deque[float] = collections.deque(maxlen=limit)

    def free_at(self) -> float:
        """The earliest instant one more event fits."""
        if len(self.times) < self.limit:
            return -math.inf
        return self.times[0] + self.period

    def add(self, t: float) -> None:
        """Count an event at t."""
        self.times.append(t)


@dataclass
class Delivered:
    """One message the platform accepted."""

    at: float  # virtual seconds since DAY
    chat: str
    kind: str
    local_time: str
    paid: bool


class Platform:
    """A Sender playing the platform's server: accepts its ceilings, answers 429 beyond them."""

    def __init__(self, name: str, ceiling: Ceiling, clock: LoopClock, rtt: float) -> None:
        self.platform = name
        self.ceiling = ceiling
        self.clock = clock
        self.rtt = rtt
        self.free = Window(ceiling.overall, ceiling.period_s)
        self.paid = Window(ceiling.paid_overall, ceiling.period_s) if ceiling.paid_overall else None
        self.chats: dict[str, Window] = {}
        self.delivered: list[Delivered] = []
        self.throttled = 0

    def _refuse(self, free_at: float, now: float) -> RetryLater:
        self.throttled += 1
        wait = max(0.0, free_at - now)
        if self.ceiling.whole_seconds:
            return RetryLater(max(1, math.ceil(wait)))
        return RetryLater(math.ceil(wait * 1000) / 1000)

    async def send(self, address: Address, reply: Reply) -> None:
        """Accept one message if every window allows it now; else a 429 with retry_after."""
        # The windows run on the loop's own clock, as the dispatcher's limiter does; `at` is
        # for the report.
        now = asyncio.get_running_loop().time()
        paid = bool(getattr(reply, "paid_broadcast", False)) and self.paid is not None
        chat = self.chats.get(address.chat_id)
        if chat is None:
            chat = self.chats[address.chat_id] = Window(
                self.ceiling.per_chat, self.ceiling.chat_period_s
            )
        windows = [chat, self.paid if paid and self.paid is not None else self.free]
        if not paid and self.paid is not None:
            windows.append(self.paid)  # a free message takes a place under the paid ceiling too
        for window in windows:
            if window.free_at() > now:
                raise self._refuse(window.free_at(), now)
        for window in windows:
            window.add(now)
        self.delivered.append(
            Delivered(
                self.clock.elapsed(),
                address.chat_id,
                reply.reminder or "",
                reply.local_time or "",
                paid,
            )
        )
        if self.rtt:
            await asyncio.sleep(self.rtt)


# ---- who is due when ----------------------------------------------------------------------


@dataclass
class Row:
    """One reminder row to seed: whose, which kind, at which local times."""

    user: int
    tz: str
    kind: str
    times: str
    nudge: bool = False  # the person asked for a nudge when no score came


@dataclass(frozen=True, order=True)
class Arrival:
    """One send falling due in the day: when (seconds since DAY), whose, which."""

    due: float
    chat: str = field(compare=False)
    kind: str = field(compare=False)
    local_time: str = field(compare=False)


# Zones and their share of people: at least six, most of them European and American.
ZONES = (
    ("America/Los_Angeles", 10),
    ("America/New_York", 20),
    ("America/Sao_Paulo", 10),
    ("Europe/London", 20),
    ("Europe/Berlin", 25),
    ("Asia/Kolkata", 8),
    ("Australia/Sydney", 7),
)


def _quarters(first: dtime, weights: Sequence[int]) -> list[tuple[str, int]]:
    start = first.hour * 60 + first.minute
    return [
        (f"{(start + 15 * i) // 60:02d}:{(start + 15 * i) % 60:02d}", w)
        for i, w in enumerate(weights)
    ]


# Check-in times on quarter hours: round hours and half hours are the popular ones.
MORNING = _quarters(dtime(6, 0), (3, 1, 4, 2, 8, 3, 10, 2, 6, 1, 3, 1, 2))  # 06:00..09:00
EVENING = _quarters(dtime(18, 0), (3, 1, 3, 1, 4, 1, 3, 1, 4, 1, 3, 1, 2))  # 18:00..21:00
MORNING_SHARE = 0.75
CORE_SHARE = 0.60
CORE_TIMES = (
    ("07:00", 2),
    ("12:30", 1),
    ("17:30", 2),
    ("18:00", 6),
    ("18:30", 2),
    ("19:00", 3),
    ("20:00", 2),
)
NUDGE_SHARE = 0.30
POSTURE_SHARE = 0.35
POSTURE_TIMES = (("10:30,13:30,16:00", 7), ("09:30,12:30,15:30", 2), ("11:00,14:00,17:00", 1))


def _pick(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def rows_for(profile: str, users: int, seed: int) -> list[Row]:
    """The reminder rows of a profile, the same for the same seed."""
    if profile == "same-minute":
        return [Row(i, "UTC", "checkin", "07:30") for i in range(users)]
    rng = random.Random(seed)
    rows: list[Row] = []
    for i in range(users):
        tz = _pick(rng, ZONES)
        checkin = _pick(rng, MORNING if rng.random() < MORNING_SHARE else EVENING)
        rows.append(Row(i, tz, "checkin", checkin, nudge=rng.random() < NUDGE_SHARE))
        if rng.random() < CORE_SHARE:
            rows.append(Row(i, tz, "core", _pick(rng, CORE_TIMES)))
        if rng.random() < POSTURE_SHARE:
            rows.append(Row(i, tz, "posture", _pick(rng, POSTURE_TIMES)))
    return rows


def _controls(tz: str) -> schedule.Controls:
    return schedule.controls(tz, None, None, None, False, True)


def first_due(row: Row) -> tuple[datetime, datetime] | None:
    """The row's first (slot, send time) of the day, by the real schedule arithmetic."""
    days = reminder_kinds.get(row.kind).days(False)
    return schedule.due_after(row.times, days, _controls(row.tz), DAY - timedelta(microseconds=1))


def arrivals(rows: Sequence[Row]) -> list[Arrival]:
    """Every send falling due within the day, earliest first."""
    out: list[Arrival] = []
    for row in rows:
        kind = reminder_kinds.get(row.kind)
        days = kind.days(False)
        c, tz = _controls(row.tz), schedule.zone(row.tz)
        after = DAY - timedelta(microseconds=1)
        while (due := schedule.due_after(row.times, days, c, after)) is not None:
            slot, send = due
            if send >= END:
                break
            out.append(
                Arrival(
                    (send - DAY).total_seconds(),
                    f"c{row.user}",
                    kind.send.key,
                    schedule.format_local(send, tz),
                )
            )
            # A regular send's one-off follow-up: the check-in's nudge, for those who want one.
            wanted = row.nudge or NUDGE_COLUMN is None
            follows = kind.follow_up is not None and kind.extra is not None and wanted
            extra = kind.follow_up(send, tz, None) if follows and kind.follow_up else None
            if extra is not None and extra < END and kind.extra is not None:
                out.append(
                    Arrival(
                        (extra - DAY).total_seconds(),
                        f"c{row.user}",
                        kind.extra.key,
                        schedule.format_local(extra, tz),
                    )
                )
            after = slot
    out.sort()
    return out


async def seed(app: App, platform: str, rows: Sequence[Row]) -> None:
    """Bulk-insert the people and their reminder rows, each due at its first slot of the day."""
    people, reminders = Person.__table__, Reminder.__table__
    by_user: dict[int, list[Row]] = collections.defaultdict(list)
    for row in rows:
        by_user[row.user].append(row)
    users = sorted(by_user)
    for start in range(0, len(users), SEED_CHUNK):
        chunk = users[start : start + SEED_CHUNK]
        async with app.sessions() as s, s.begin():
            await s.execute(
                insert(people),
                [
                    {
                        "platform": platform,
                        "user_id": f"u{u}",
                        "chat_id": f"c{u}",
                        "tz": by_user[u][0].tz,
                        "consent_at": DAY - timedelta(days=30),
                        "created_at": DAY - timedelta(days=30),
                        "reachable": True,
                        "stopped": False,
                        **(
                            {"nudge": any(r.nudge for r in by_user[u])}
                            if NUDGE_COLUMN is not None
                            else {}
                        ),
                    }
                    for u in chunk
                ],
            )
            ids = dict(
                (
                    await s.execute(
                        select(people.c.user_id, people.c.id).where(
                            people.c.user_id.in_([f"u{u}" for u in chunk])
                        )
                    )
                )
                .tuples()
                .all()
            )
            values = []
            for u in chunk:
                for row in by_user[u]:
                    due = first_due(row)
                    values.append(
                        {
                            "person_id": ids[f"u{u}"],
                            "kind": row.kind,
                            "times": row.times,
                            "weekdays_only": False,
                            "enabled": True,
                            "next_slot": due[0] if due else None,
                            "next_send_at": due[1] if due else None,
                            "sent_count": 0,
                        }
                    )
            await s.execute(insert(reminders), values)


# ---- the ideal server ----------------------------------------------------------------------


def bound(
    arrs: Sequence[Arrival], ceiling: Ceiling, yielding: Mapping[str, float] | None = None
) -> list[float | None]:
    """Each arrival's lateness under an ideal server: exactly at the ceiling, earliest due
    first, never idle while something is due and its chat allows it.

    With `yielding` ({kind: seconds}), the ideal server follows the dispatcher's own rules
    too: those kinds go only when nothing else waits, and one more than its seconds late is
    dropped (None) instead of sent.
    """
    yielding = yielding or {}
    late: list[float | None] = [0.0] * len(arrs)
    overall = Window(ceiling.overall, ceiling.period_s)
    chats: dict[str, Window] = {}
    ready: list[tuple[bool, float, int]] = []  # (gives way, due, index)
    parked: list[tuple[float, bool, float, int]] = []  # (chat free at, gives way, due, index)
    i, n = 0, len(arrs)
    t = arrs[0].due if arrs else 0.0
    while i < n or ready or parked:
        while i < n and arrs[i].due <= t:
            heapq.heappush(ready, (arrs[i].kind in yielding, arrs[i].due, i))
            i += 1
        while parked and parked[0][0] <= t:
            _, gives, due, j = heapq.heappop(parked)
            heapq.heappush(ready, (gives, due, j))
        if overall.free_at() > t:
            t = overall.free_at()
            continue
        sent = False
        while ready:
            gives, due, j = heapq.heappop(ready)
            if gives and t - due > yielding[arrs[j].kind]:
                late[j] = None
                continue
            chat = chats.get(arrs[j].chat)
            if chat is not None and chat.free_at() > t:
                heapq.heappush(parked, (chat.free_at(), gives, due, j))
                continue
            if chat is None:
                chat = chats[arrs[j].chat] = Window(ceiling.per_chat, ceiling.chat_period_s)
            chat.add(t)
            overall.add(t)
            late[j] = t - due
            sent = True
            break
        if not sent:
            nxt = [arrs[i].due] if i < n else []
            if parked:
                nxt.append(parked[0][0])
            if not nxt:
                break
            t = min(nxt)
    return late


# ---- order ---------------------------------------------------------------------------------


def overtaken(sends: Sequence[tuple[float, float]]) -> tuple[int, float]:
    """Of (sent at, due) pairs: how many went out after a message due later that was sent
    while they were already due, and by how much the worst was overtaken (seconds)."""
    sends = sorted(sends)
    n = len(sends)
    if n == 0:
        return 0, 0.0
    at = [s for s, _ in sends]
    # A sparse table of maximum due over send-ordered ranges.
    table = [[d for _, d in sends]]
    width = 1
    while 2 * width <= n:
        prev = table[-1]
        table.append([max(prev[k], prev[k + width]) for k in range(n - 2 * width + 1)])
        width *= 2
    count, worst = 0, 0.0
    for k, (_, due) in enumerate(sends):
        lo = bisect_left(at, due)
        if lo >= k:
            continue
        level = (k - lo).bit_length() - 1
        top = max(table[level][lo], table[level][k - (1 << level)])
        if top > due:
            count += 1
            worst = max(worst, top - due)
    return count, worst


# ---- the run -------------------------------------------------------------------------------


def _settings(url: str, data: Path, paid_after: float | None) -> Settings:
    extra: dict[str, Any] = {}
    if paid_after is not None:
        extra["telegram_paid_broadcast_after"] = paid_after
    return Settings(database_url=url, data_dir=data, **extra)


async def drive(dispatcher: Dispatcher, clock: LoopClock) -> PassStats:
    """Wake the dispatcher at each next due instant until nothing more falls due today."""
    total = PassStats()
    loop = asyncio.get_running_loop()
    while True:
        due = await dispatcher.next_due_at()
        if due is None or due >= END:
            return total
        wait = clock.at(due) - loop.time()
        if wait > 0:
            await asyncio.sleep(wait + 1e-6)
        total.add(await dispatcher.run_once())


def _stats(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)
    return {
        "p50": round(percentile(ordered, 50), 1),
        "p95": round(percentile(ordered, 95), 1),
        "p99": round(percentile(ordered, 99), 1),
        "max": round(ordered[-1], 1),
    }


def _minutes(seconds: float) -> str:
    return f"{seconds:.1f} s ({seconds / 60:.1f} min)"


async def run(args: argparse.Namespace) -> dict[str, object]:
    """Seed, simulate the day through the real dispatcher, and compare with the bound."""
    ceiling = CEILINGS[args.platform]
    rows = rows_for(args.profile, args.users, args.seed)
    arrs = arrivals(rows)
    tmp = tempfile.TemporaryDirectory(prefix="si-lateness-")
    data = Path(tmp.name)
    url = f"sqlite+aiosqlite:///{data / 'lateness.sqlite3'}"
    loop = asyncio.get_running_loop()
    clock = LoopClock(DAY, loop)
    app = await open_app(_settings(url, data, args.paid_after), clock)
    try:
        t0 = time.perf_counter()
        await seed(app, args.platform, rows)
        seeded = time.perf_counter() - t0
        print(
            f"seeded {args.users} people, {len(rows)} reminders, {len(arrs)} sends due "
            f"on {DAY:%a %d %b %Y} (UTC) in {seeded:.1f} s",
            flush=True,
        )
        platform = Platform(args.platform, ceiling, clock, args.rtt)
        dispatcher = Dispatcher(app.engine, {args.platform: platform})
        t1 = time.perf_counter()
        stats = await drive(dispatcher, clock)
        real = time.perf_counter() - t1
    finally:
        await app.close()
        tmp.cleanup()

    due_of = {(a.chat, a.kind, a.local_time): a.due for a in arrs}
    kind_of = {(a.chat, a.kind, a.local_time): a.kind for a in arrs}
    seen: collections.Counter[tuple[str, str, str]] = collections.Counter()
    late: dict[str, list[float]] = collections.defaultdict(list)
    in_order: list[tuple[float, float]] = []
    paid = 0
    for d in platform.delivered:
        key = (d.chat, d.kind, d.local_time)
        seen[key] += 1
        paid += d.paid
        if key not in due_of or seen[key] > 1:
            continue
        late[d.kind].append(d.at - due_of[key])
        if d.kind not in TIPS:
            in_order.append((d.at, due_of[key]))
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    delivered = sum(1 for k in seen if k in due_of)
    unexpected = sum(n for k, n in seen.items() if k not in due_of)
    unsent = [k for k in due_of if k not in seen]
    unsent_tips = sum(1 for k in unsent if kind_of[k] in TIPS)
    dropped = min(unsent_tips, stats.dropped)
    lost = len(unsent) - dropped
    ideal = bound(arrs, ceiling)
    ideal_checkins = [x for a, x in zip(arrs, ideal, strict=True) if a.kind == "checkin"]
    # The same ideal server, following our rules: tips give way and are dropped when late.
    limits = {kind: limit.total_seconds() for kind, limit in YIELDING.items()}
    ruled = bound(arrs, ceiling, limits)
    ruled_checkins = [x for a, x in zip(arrs, ruled, strict=True) if a.kind == "checkin"]
    ours = _stats(late["checkin"])
    best = _stats([x for x in ideal_checkins if x is not None])
    best_ruled = _stats([x for x in ruled_checkins if x is not None])
    out_of_order, worst_inversion = overtaken(in_order)
    tips = late["posture"]
    if best["p99"] > 0:
        ratio: float | None = round(ours["p99"] / best["p99"], 3)
    else:
        ratio = 1.0 if ours["p99"] == 0 else None
    result: dict[str, object] = {
        "users": args.users,
        "platform": args.platform,
        "profile": args.profile,
        "paid_after_min": args.paid_after,
        "rtt_s": args.rtt,
        "due": len(arrs),
        "checkins_due": len(ideal_checkins),
        "p50_s": ours["p50"],
        "p95_s": ours["p95"],
        "p99_s": ours["p99"],
        "max_s": ours["max"],
        "bound_p50_s": best["p50"],
        "bound_p95_s": best["p95"],
        "bound_p99_s": best["p99"],
        "bound_max_s": best["max"],
        "ratio": ratio,
        "bound_yielding_p99_s": best_ruled["p99"],
        "ratio_yielding": round(ours["p99"] / best_ruled["p99"], 3) if best_ruled["p99"] else None,
        "bound_yielding_dropped": sum(1 for x in ruled if x is None),
        "sent": delivered,
        "dropped": dropped,
        "duplicates": duplicates,
        "lost": lost,
        "429s": platform.throttled,
        "unexpected": unexpected,
        "posture_sent": len(tips),
        "posture_max_s": round(max(tips), 1) if tips else 0.0,
        "out_of_order": out_of_order,
        "worst_overtaken_s": round(worst_inversion, 1),
        "paid_messages": paid,
        "stars_at_most": round(paid * STARS_PER_PAID_MESSAGE, 1),
        "dispatcher_dropped": stats.dropped,
        "released": stats.released,
        "real_seconds": round(real, 1),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }
    print(
        f"check-in lateness, ours:  p50 {_minutes(ours['p50'])}, p95 {_minutes(ours['p95'])}, "
        f"p99 {_minutes(ours['p99'])}, max {_minutes(ours['max'])}\n"
        f"check-in lateness, bound: p50 {_minutes(best['p50'])}, p95 {_minutes(best['p95'])}, "
        f"p99 {_minutes(best['p99'])}, max {_minutes(best['max'])}\n"
        f"the bound with tips giving way as ours do: p99 {_minutes(best_ruled['p99'])}, "
        f"{result['bound_yielding_dropped']} tips dropped\n"
        f"ratio of p99s {ratio}; sent {delivered}, dropped {dropped}, lost {lost}, "
        f"duplicates {duplicates}, 429s {platform.throttled}; posture tips sent {len(tips)}, "
        f"worst {_minutes(float(result['posture_max_s']))}; out of due order {out_of_order}; "
        f"paid messages {paid}; a simulated day in {real:.1f} s",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the simulation and print its figures, the JSON line last."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.lateness", description=__doc__)
    p.add_argument("--users", type=int, default=10000)
    p.add_argument("--platform", choices=sorted(CEILINGS), default="telegram")
    p.add_argument("--profile", choices=("same-minute", "realistic"), default="same-minute")
    p.add_argument(
        "--paid-after",
        type=float,
        default=None,
        help="TELEGRAM_PAID_BROADCAST_AFTER: send paid broadcasts past this lateness (minutes)",
    )
    p.add_argument("--rtt", type=float, default=0.05, help="seconds each API call takes")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        emit(runner.run(run(args)))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SI_CHECKIN_LOG_LEVEL", "WARNING")
    sys.exit(main())
