"""When a reminder arrives under a long queue: at the platform's ceiling and never over it,
earliest due first, check-ins before posture tips, a tip too late dropped, never a check-in;
and on Telegram, past TELEGRAM_PAID_BROADCAST_AFTER, a paid broadcast.

The queue tests play a morning in virtual time (benchmarks.virtual_time) through the real
dispatcher and database, against a platform that refuses anything over its ceiling with a
429, as benchmarks.lateness does for a whole day. The last tests use the real Telegram adapter
against the fake Bot API server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, insert, select

from adapters.telegram import TelegramAdapter
from benchmarks import lateness
from benchmarks.lateness import CEILINGS, Ceiling, Platform, Row
from benchmarks.virtual_time import LoopClock, VirtualTimeLoop
from bot.app import App, open_app
from bot.clock import ManualClock
from bot.settings import Settings
from bot.store.models import Delivery, Person, Reminder
from scheduler.dispatch import Dispatcher, PassStats
from scheduler.ratelimit import RateLimiter
from tests.fakes.telegram_server import TelegramFake

DAY = lateness.DAY  # Monday 2 March 2026, 00:00 UTC
MINUTE = 60.0
RTT = 0.05  # every simulated API call takes this long to answer


@dataclass
class Morning:
    """What a simulated stretch of the day left behind."""

    platform: Platform
    stats: PassStats
    next_slots: dict[str, list[datetime]]  # by kind, every row's next slot afterwards
    ledger: int  # rows in the delivery ledger

    def due(self, local_time: str) -> float:
        """Seconds since midnight of a reminder's due time, from its stamp (all in UTC)."""
        at = datetime.strptime(local_time, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        return (at - DAY).total_seconds()

    def late(self, kind: str) -> list[float]:
        """Lateness of each delivered message of a kind, in the order they went out."""
        return [d.at - self.due(d.local_time) for d in self.platform.delivered if d.kind == kind]


def simulate(
    tmp_path: Path,
    rows: Sequence[Row],
    *,
    ceiling: Ceiling = CEILINGS["telegram"],
    batch_size: int = 500,
    **settings: Any,
) -> Morning:
    """Seed the rows (Telegram people in UTC) and dispatch until nothing more falls due today."""

    async def main() -> Morning:
        clock = LoopClock(DAY, asyncio.get_running_loop())
        url = f"sqlite+aiosqlite:///{tmp_path / 'queue.sqlite3'}"
        app = await open_app(Settings(database_url=url, data_dir=tmp_path, **settings), clock)
        try:
            await lateness.seed(app, "telegram", rows)
            platform = Platform("telegram", ceiling, clock, RTT)
            dispatcher = Dispatcher(app.engine, {"telegram": platform}, batch_size=batch_size)
            if ceiling != CEILINGS["telegram"]:
                # The dispatcher paces to the ceiling this platform enforces.
                dispatcher.limiters["telegram"] = RateLimiter(
                    overall=(ceiling.overall, ceiling.period_s),
                    per_chat=(ceiling.per_chat, ceiling.chat_period_s),
                    per_group=None,
                )
            stats = await lateness.drive(dispatcher, clock)
            async with app.sessions() as s:
                slots: dict[str, list[datetime]] = {}
                for kind, slot in await s.execute(select(Reminder.kind, Reminder.next_slot)):
                    slots.setdefault(kind, []).append(slot)
                ledger = await s.scalar(select(func.count()).select_from(Delivery)) or 0
            return Morning(platform, stats, slots, ledger)
        finally:
            await app.close()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())


def people(kind: str, times: str, count: int, first: int = 0) -> list[Row]:
    """`count` people in UTC, each with one reminder of `kind` at `times`."""
    return [Row(first + i, "UTC", kind, times) for i in range(count)]


def test_a_long_queue_goes_out_at_exactly_the_ceiling_earliest_due_first_with_no_429(
    tmp_path: Path,
) -> None:
    # 2,400 at 07:30 take Telegram 80 seconds: those due at 07:31 join a queue.
    rows = people("checkin", "07:30", 2400) + people("checkin", "07:31", 300, first=2400)

    morning = simulate(tmp_path, rows)

    assert morning.platform.throttled == 0  # Telegram never had to say "too many requests"
    dues = [morning.due(d.local_time) for d in morning.platform.delivered]
    assert len(dues) == 2700
    assert dues == sorted(dues)  # nobody due at 07:31 went before anybody due at 07:30
    # As late as an ideal server sending exactly 30 a second would make them, give or take
    # two calls' round trips: 16 sends in flight wait for their answers, and the next batch
    # is claimed once the last answers of the one before are in.
    ideal = lateness.bound(lateness.arrivals(rows), CEILINGS["telegram"])
    ours = morning.late("checkin")
    assert len(ours) == len(ideal) == 2700
    pairs = zip(sorted(ours), sorted(x or 0.0 for x in ideal), strict=True)
    assert all(o <= i + 2 * RTT + 1e-6 for o, i in pairs)
    assert max(ours) > 79  # 2,400 at 30 a second: the last of 07:30 leaves after 80 seconds


def test_check_ins_go_before_posture_tips_when_the_queue_is_long(tmp_path: Path) -> None:
    # One message a second: 300 tips due at 10:00 take five minutes; ten check-ins fall due
    # at 10:01 in the middle of it.
    rows = people("posture", "10:00", 300) + people("checkin", "10:01", 10, first=1000)

    morning = simulate(tmp_path, rows, ceiling=Ceiling(1, 1.0, 1, 1.0), batch_size=20)

    checkins = morning.late("checkin")
    assert len(checkins) == 10
    # Behind at most the batch of tips already under way (20 at one a second), then one a
    # second themselves.
    assert max(checkins) <= 20 + 10
    tips = [d.at for d in morning.platform.delivered if d.kind == "posture"]
    checkins_done = max(d.at for d in morning.platform.delivered if d.kind == "checkin")
    assert sum(1 for at in tips if at > checkins_done) > 200  # the tips waited, then went
    assert len(tips) == 300 and morning.stats.dropped == 0
    assert morning.platform.throttled == 0


def test_a_fresh_dispatchers_first_claim_takes_only_seconds_of_tips(tmp_path: Path) -> None:
    # A limiter that has sent nothing yet is still a ceiling: the first claim of a pass once
    # read it as none and took a whole batch of tips, 300 seconds' worth at one a second,
    # ahead of check-ins falling due a minute later.
    rows = people("posture", "10:00", 300) + people("checkin", "10:01", 10, first=1000)

    morning = simulate(tmp_path, rows, ceiling=Ceiling(1, 1.0, 1, 1.0), batch_size=300)

    checkins = morning.late("checkin")
    assert len(checkins) == 10
    assert max(checkins) <= 2 + 10 + 2  # two seconds of tips, then one a second
    assert len([d for d in morning.platform.delivered if d.kind == "posture"]) == 300


def test_a_posture_tip_more_than_20_minutes_late_is_dropped_counted_and_not_sent_later(
    tmp_path: Path,
) -> None:
    # One message every ten seconds: 200 tips due at 10:00 would take 33 minutes.
    rows = people("posture", "10:00", 200)

    morning = simulate(tmp_path, rows, ceiling=Ceiling(1, 10.0, 1, 1.0))

    late = morning.late("posture")
    assert 100 <= len(late) < 200
    assert max(late) <= 20 * MINUTE  # none went more than 20 minutes late
    assert morning.stats.dropped == 200 - len(late)  # every other one is counted as dropped
    assert morning.ledger == len(late)  # the ledger holds deliveries only
    # Not sent later either: every row, sent or dropped, waits for Tuesday's 10:00.
    assert morning.next_slots["posture"] == [DAY + timedelta(days=1, hours=10)] * 200
    assert morning.platform.throttled == 0


def test_a_long_queue_is_not_downtime_every_check_in_goes_out_however_late(
    tmp_path: Path,
) -> None:
    # Five minutes of grace after downtime; the queue of 600 at one a second lasts ten.
    rows = people("checkin", "07:30", 600)

    morning = simulate(
        tmp_path, rows, ceiling=Ceiling(1, 1.0, 1, 1.0), batch_size=100, grace_minutes=5
    )

    late = morning.late("checkin")
    assert len(late) == 600 and morning.stats.dropped == 0
    assert max(late) > 5 * MINUTE  # the last were later than the grace, and still went


def test_past_the_paid_broadcast_lateness_reminders_go_paid_at_up_to_1000_a_second(
    tmp_path: Path,
) -> None:
    # 3,000 people at 07:30: 100 s at the free 30 a second. Paid after half a minute.
    rows = people("checkin", "07:30", 3000)

    morning = simulate(tmp_path, rows, telegram_paid_broadcast_after=0.5)

    delivered = morning.platform.delivered
    assert len(delivered) == 3000 and morning.platform.throttled == 0
    free = [d.at - 7.5 * 3600 for d in delivered if not d.paid]
    paid = [d.at - 7.5 * 3600 for d in delivered if d.paid]
    assert max(free) < 32 and len(free) <= 30 * 32  # the first half minute, 30 a second
    assert paid and min(paid) >= 30  # nothing paid for before it was half a minute late
    # The other ~2,000 within a few seconds of that, not 70 more seconds at the free rate.
    assert max(paid) < 35


def test_paid_broadcasts_are_off_unless_set(tmp_path: Path) -> None:
    morning = simulate(tmp_path, people("checkin", "07:30", 300))

    assert Settings().telegram_paid_broadcast_after is None
    assert not any(d.paid for d in morning.platform.delivered)
    assert max(morning.late("checkin")) >= 9  # ten seconds at 30 a second, unpaid


def in_virtual_time(coro: Any) -> Any:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)


def test_the_limiter_never_lets_more_than_the_ceiling_into_any_second() -> None:
    async def main() -> list[float]:
        limiter = RateLimiter(overall=(30, 1.0), per_chat=(1, 1.0), per_group=None)
        loop = asyncio.get_running_loop()
        times: list[float] = []

        async def one(chat: str) -> None:
            await limiter.acquire(chat)
            times.append(loop.time())

        await asyncio.gather(*(one(f"chat-{i}") for i in range(300)))
        return times

    times = sorted(in_virtual_time(main()))
    # A burst and then a drip would let nearly twice the ceiling into one second.
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) == 30
    assert times[-1] - times[0] == pytest.approx(9.0)  # 300 at 30 a second: exactly 9 s


def test_a_message_waiting_for_its_chat_does_not_hold_up_everyone_elses() -> None:
    async def main() -> dict[str, float]:
        limiter = RateLimiter(overall=(30, 1.0), per_chat=(1, 1.0), per_group=None)
        loop = asyncio.get_running_loop()
        await limiter.acquire("ada")
        done: dict[str, float] = {}

        async def one(chat: str) -> None:
            await limiter.acquire(chat)
            done[chat] = loop.time()

        # Ada's second message waits a second for her chat; the others need not.
        await asyncio.gather(one("ada"), *(one(f"chat-{i}") for i in range(20)))
        return done

    done = in_virtual_time(main())
    assert done["ada"] == pytest.approx(1.0)
    assert max(t for chat, t in done.items() if chat != "ada") == 0.0


# ---- the real Telegram adapter against the fake Bot API server ------------------------------

ADA, BOB = 1001, 1002


@pytest.fixture
async def fake() -> AsyncIterator[TelegramFake]:
    async with TelegramFake() as server:
        yield server


@pytest.fixture
async def tg(app: App, fake: TelegramFake) -> AsyncIterator[TelegramAdapter]:
    app.settings.telegram_token = SecretStr(fake.token)
    app.settings.telegram_api_url = fake.base_url
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


async def due_checkin(app: App, user: int, at: datetime) -> None:
    """A Telegram person in UTC whose check-in reminder falls due at `at`."""
    async with app.sessions() as s, s.begin():
        person = await s.scalar(
            insert(Person)
            .values(
                platform="telegram",
                user_id=str(user),
                chat_id=str(user),
                tz="UTC",
                consent_at=at - timedelta(days=7),
                created_at=at - timedelta(days=7),
            )
            .returning(Person.id)
        )
        await s.execute(
            insert(Reminder).values(
                person_id=person,
                kind="checkin",
                times=f"{at:%H:%M}",
                enabled=True,
                next_slot=at,
                next_send_at=at,
            )
        )


def clock_at(app: App, instant: datetime) -> None:
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.set(instant)


async def test_a_reminder_the_queue_made_late_goes_as_a_paid_broadcast_on_telegram(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    fake.user(ADA, "Ada")
    fake.user(BOB, "Bob")
    app.settings.telegram_paid_broadcast_after = 10  # minutes
    await due_checkin(app, ADA, datetime(2026, 3, 2, 7, 30, tzinfo=UTC))
    await due_checkin(app, BOB, datetime(2026, 3, 2, 7, 45, tzinfo=UTC))
    clock_at(app, datetime(2026, 3, 2, 7, 50, tzinfo=UTC))  # Ada's is 20 minutes late, Bob's 5

    stats = await Dispatcher(app.engine, {"telegram": tg}).run_once()

    assert stats.sent == 2
    ada, bob = fake.messages(ADA)[-1], fake.messages(BOB)[-1]
    assert "10" in ada.button_labels and "10" in bob.button_labels  # their check-ins
    assert ada.paid_broadcast and not bob.paid_broadcast
    sends = {c.params["chat_id"]: c.params for c in fake.calls("sendMessage")}
    assert sends[ADA]["allow_paid_broadcast"] is True
    assert "allow_paid_broadcast" not in sends[BOB]  # left out, not sent as false


async def test_without_the_setting_a_late_reminder_is_not_paid_for(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    fake.user(ADA, "Ada")
    await due_checkin(app, ADA, datetime(2026, 3, 2, 7, 30, tzinfo=UTC))
    clock_at(app, datetime(2026, 3, 2, 7, 55, tzinfo=UTC))

    assert (await Dispatcher(app.engine, {"telegram": tg}).run_once()).sent == 1

    assert not fake.messages(ADA)[-1].paid_broadcast
    assert all("allow_paid_broadcast" not in c.params for c in fake.calls("sendMessage"))
