"""The dispatcher against real databases: ledger, catch-up, failures, concurrency, crashes."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from benchmarks.fanout import Sink, expected, seed
from bot.app import App, open_app
from bot.clock import ManualClock
from bot.delivery import RetryLater, TransientError, Unreachable
from bot.events import Address, Incoming, Reply
from bot.settings import Settings
from bot.store.models import Delivery, Person, Reminder
from scheduler.dispatch import Dispatcher
from scheduler.runtime import advance, start_scheduler
from tests.conftest import Chat

MON_0800 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Recorder:
    """A platform that records what it is given; `fail` decides per chat what it raises."""

    platform = "console"

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []
        self.fail: dict[str, list[Exception]] = {}
        self.always_fail: dict[str, Exception] = {}

    async def send(self, address: Address, reply: Reply) -> None:
        """Record, or raise what the test asked for."""
        if address.chat_id in self.always_fail:
            raise self.always_fail[address.chat_id]
        queued = self.fail.get(address.chat_id)
        if queued:
            raise queued.pop(0)
        self.sent.append((address.chat_id, reply))

    def to(self, chat: str) -> list[str]:
        """'kind@local_time' of what reached one chat."""
        return [f"{r.reminder}@{r.local_time}" for c, r in self.sent if c == chat]


def clock(app: App) -> ManualClock:
    c = app.clock
    assert isinstance(c, ManualClock)
    return c


async def people(app: App, *users: str) -> Recorder:
    """Onboard people in UTC with only the check-in reminder on; returns the platform."""
    for user in users:
        chat = Chat(app, user)
        await chat.onboard()
        await chat.say("/remind posture off")
        await chat.say("/remind core off")
    return Recorder()


async def ledger(app: App) -> list[tuple[int, datetime]]:
    async with app.sessions() as s:
        return [(r, t) for r, t in await s.execute(select(Delivery.reminder_id, Delivery.slot))]


async def test_the_ledger_refuses_a_second_row_for_the_same_slot(app: App) -> None:
    await people(app, "ann")
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "ann"))
        rem = await s.scalar(select(Reminder).where(Reminder.kind == "checkin"))
        assert person is not None and rem is not None
        row = {"reminder_id": rem.id, "person_id": person.id, "slot": MON_0800, "kind": "checkin"}
        s.add(Delivery(**row, sent_at=MON_0800))
        await s.commit()
        s.add(Delivery(**row, sent_at=MON_0800 + timedelta(seconds=1)))
        with pytest.raises(IntegrityError):
            await s.commit()


async def test_a_slot_already_in_the_ledger_is_never_sent_again(app: App) -> None:
    """A worker whose lease ran out sent and recorded the slot, but could not advance the row:
    whoever claims the row next finds the slot in the ledger and moves on (regular and one-off)."""
    platform = await people(app, "ann")
    ann = Chat(app, "ann")
    await ann.say("/settings")
    await ann.say("Nudge if no score: turn on")
    async with app.sessions() as s:
        rem = await s.scalar(select(Reminder).where(Reminder.kind == "checkin"))
        assert rem is not None
        rid, pid = rem.id, rem.person_id

    async def sent_elsewhere(slot: datetime, kind: str) -> None:
        async with app.sessions() as s:
            s.add(Delivery(reminder_id=rid, person_id=pid, slot=slot, kind=kind, sent_at=slot))
            await s.commit()

    d = Dispatcher(app.engine, {"console": platform})
    await sent_elsewhere(MON_0800, "checkin")
    clock(app).set(MON_0800)
    stats = await d.run_once()
    assert (stats.sent, stats.skipped) == (0, 1)
    tuesday = MON_0800 + timedelta(days=1)
    await advance(app, d, timedelta(days=1))
    assert platform.to("ann") == ["checkin@2026-03-03 08:00"]  # its nudge is now owed at 12:00
    await sent_elsewhere(tuesday.replace(hour=12), "nudge")
    await advance(app, d, timedelta(hours=5))
    assert platform.to("ann") == ["checkin@2026-03-03 08:00"]
    assert len(await ledger(app)) == 3
    assert "next tomorrow 08:00" in await ann.say("/settings")


async def test_restart_inside_the_grace_window_sends_the_missed_reminder_once(app: App) -> None:
    platform = await people(app, "ann")
    ann = Chat(app, "ann")
    await ann.say("/settings")
    await ann.say("Nudge if no score: turn on")
    clock(app).set(MON_0800 + timedelta(minutes=20))  # the bot was down over 08:00
    d = Dispatcher(app.engine, {"console": platform})
    stats = await d.run_once()
    assert platform.to("ann") == ["checkin@2026-03-02 08:00"]
    assert stats.sent == 1
    assert (await d.run_once()).claimed == 0  # a second pass owes nothing
    await advance(app, d, timedelta(days=1))
    assert platform.to("ann") == [
        "checkin@2026-03-02 08:00",
        "nudge@2026-03-02 12:00",
        "checkin@2026-03-03 08:00",
    ]


async def test_restart_after_the_grace_window_drops_old_reminders_without_a_flood(
    app: App,
) -> None:
    platform = await people(app, "ann")
    await Chat(app, "ann").say("/remind posture 10:30,13:30,16:00")
    clock(app).set(MON_0800 + timedelta(days=3, minutes=45))  # down three days
    d = Dispatcher(app.engine, {"console": platform})
    stats = await d.run_once()
    assert platform.sent == []
    assert stats.dropped == 2  # one row each: the check-in and the posture nudges
    assert "Check-in: 08:00 every day, next tomorrow 08:00" in await Chat(app, "ann").say(
        "/settings"
    )
    await advance(app, d, timedelta(hours=3))
    assert platform.to("ann") == ["posture@2026-03-05 10:30"]


async def test_an_unreachable_person_stops_others_continue_and_they_resume_on_writing(
    app: App,
) -> None:
    platform = await people(app, "ann", "bob")
    platform.always_fail["ann"] = Unreachable("blocked")
    d = Dispatcher(app.engine, {"console": platform})
    await advance(app, d, timedelta(days=3))
    assert platform.to("ann") == []
    assert len([k for k in platform.to("bob") if k.startswith("checkin")]) == 3
    async with app.sessions() as s:
        ann = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert ann is not None and ann.reachable is False
        parked = await s.scalars(select(Reminder.next_send_at).where(Reminder.person_id == ann.id))
        assert set(parked) == {None}
    del platform.always_fail["ann"]
    await Chat(app, "ann").say("/settings")  # Thu 07:00: she unblocked the bot and wrote
    await advance(app, d, timedelta(hours=2))
    assert platform.to("ann") == ["checkin@2026-03-05 08:00"]  # the next slot, no backlog


async def test_a_throttled_send_is_retried_after_the_asked_time_and_delivered_once(
    app: App,
) -> None:
    platform = await people(app, "ann", "bob")
    platform.fail["ann"] = [RetryLater(0.01), RetryLater(0.01)]
    platform.fail["bob"] = [TransientError("502")]
    d = Dispatcher(app.engine, {"console": platform}, backoff=(0.01,))
    await advance(app, d, timedelta(hours=1, minutes=1))
    assert platform.to("ann") == ["checkin@2026-03-02 08:00"]
    assert platform.to("bob") == ["checkin@2026-03-02 08:00"]
    assert len(await ledger(app)) == 2


async def test_a_platform_that_keeps_failing_leaves_the_reminder_due_for_a_later_pass(
    app: App,
) -> None:
    platform = await people(app, "ann")
    platform.always_fail["ann"] = TransientError("timeout")
    d = Dispatcher(app.engine, {"console": platform}, backoff=(0.0,))
    clock(app).set(MON_0800)
    assert (await d.run_once()).released == 1
    assert await ledger(app) == []
    del platform.always_fail["ann"]
    clock(app).set(MON_0800 + timedelta(minutes=1))
    assert (await d.run_once()).sent == 1
    assert platform.to("ann") == ["checkin@2026-03-02 08:00"]


async def test_the_running_scheduler_sends_due_reminders_and_stops_cleanly(app: App) -> None:
    platform = await people(app, "ann")
    runtime = await start_scheduler(app, {"console": platform}, poll_seconds=0.05)
    try:
        clock(app).set(MON_0800)
        for _ in range(400):  # wait for the poll to notice, without timing anything
            if platform.sent:
                break
            await asyncio.sleep(0.01)
    finally:
        await runtime.stop()
    assert platform.to("ann") == ["checkin@2026-03-02 08:00"]


async def test_two_dispatchers_on_one_database_send_each_reminder_exactly_once(
    settings: Settings,
) -> None:
    first = await open_app(settings, ManualClock(MON_0800))
    second = await open_app(settings, ManualClock(MON_0800), migrate=False)
    try:
        await seed(first, 600)
        want = await expected(first)
        sink = Sink()
        d1 = Dispatcher(first.engine, {"bench": sink}, batch_size=20, flush_every=7)
        d2 = Dispatcher(second.engine, {"bench": sink}, batch_size=20, flush_every=7)
        s1, s2 = await asyncio.gather(d1.run_once(), d2.run_once())
        assert set(sink.counts) == want
        assert set(sink.counts.values()) == {1}
        assert s1.sent + s2.sent == 600
        assert len(await ledger(first)) == 600
    finally:
        await second.close()
        await first.close()


class Stalls(Sink):
    """A sink that hangs forever after `limit` sends: a worker killed mid-fan-out."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.reached = asyncio.Event()

    async def send(self, address: Address, reply: Reply) -> None:
        if sum(self.counts.values()) >= self.limit:
            self.reached.set()
            await asyncio.Event().wait()
        await super().send(address, reply)


class Stops(Sink):
    """A sink that asks its dispatcher to stop after `limit` sends (a shutdown mid-fan-out)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.dispatcher: Dispatcher | None = None

    async def send(self, address: Address, reply: Reply) -> None:
        await super().send(address, reply)
        if sum(self.counts.values()) >= self.limit and self.dispatcher is not None:
            self.dispatcher.request_stop()


async def test_a_stopped_pass_gives_back_what_it_claimed_ahead_at_once(app: App) -> None:
    """On PostgreSQL the next batch is claimed while one sends; a pass told to stop releases
    it with the rest, so another worker sends them now, not when the lease runs out."""
    clock(app).set(MON_0800)
    await seed(app, 60)
    want = await expected(app)
    stopping = Stops(limit=5)
    d1 = Dispatcher(app.engine, {"bench": stopping}, batch_size=20, flush_every=7, concurrency=1)
    stopping.dispatcher = d1
    first = await d1.run_once()
    assert first.sent == 5 and first.released == 15
    survivor = Sink()
    second = await Dispatcher(app.engine, {"bench": survivor}).run_once()  # same instant
    assert second.sent == 55
    total = Counter(stopping.counts) + Counter(survivor.counts)
    assert set(total) == want and set(total.values()) == {1}
    assert len(await ledger(app)) == 60


class AnswersWhileSending(Sink):
    """Telegram-paced: as the first batch's last message goes, someone of a later batch
    answers with a score (`answered` names them)."""

    platform = "telegram"

    def __init__(self, app: App, batch: int) -> None:
        super().__init__()
        self.app, self.batch = app, batch
        self.answered: str | None = None

    async def send(self, address: Address, reply: Reply) -> None:
        if self.answered is None and sum(self.counts.values()) == self.batch - 1:
            async with self.app.sessions() as s:
                mine = await s.scalar(
                    select(Reminder.claimed_by)
                    .join(Person, Person.id == Reminder.person_id)
                    .where(Person.chat_id == address.chat_id)
                )
                self.answered = await s.scalar(
                    select(Person.chat_id)
                    .join(Reminder, Reminder.person_id == Person.id)
                    .where(or_(Reminder.claimed_by.is_(None), Reminder.claimed_by != mine))
                    .limit(1)
                )
            assert self.answered is not None
            user = self.answered.replace("c", "u")
            answer = Incoming("telegram", user, self.answered, text="3")
            assert "Recorded 3/10" in (await self.app.engine.handle(answer))[0].text
        await super().send(address, reply)


async def test_at_a_platforms_ceiling_a_score_sent_meanwhile_spares_a_later_check_in(
    app: App,
) -> None:
    """At Telegram's 30 a second a batch takes a while to go out; the next one is made from
    what is stored when its turn comes, so someone who answered meanwhile is not asked."""
    clock(app).set(MON_0800)
    batch = 64  # 2.1 s of sends at 30 a second: longer than AHEAD_WITHIN_S
    await seed(app, 2 * batch, platform="telegram")
    platform = AnswersWhileSending(app, batch=batch)
    stats = await Dispatcher(app.engine, {"telegram": platform}, batch_size=batch).run_once()
    assert platform.answered is not None
    assert (stats.sent, stats.skipped) == (2 * batch - 1, 1)
    assert platform.answered not in {chat for chat, _ in platform.counts}


async def test_a_worker_killed_mid_fan_out_loses_nothing_and_duplicates_are_bounded(
    app: App,
) -> None:
    clock(app).set(MON_0800)
    await seed(app, 60)
    want = await expected(app)
    dying = Stalls(limit=25)
    d1 = Dispatcher(app.engine, {"bench": dying}, batch_size=60, flush_every=10, concurrency=1)
    task = asyncio.create_task(d1.run_once())
    await dying.reached.wait()
    task.cancel()  # the process dies: 20 recorded, 5 sent but not recorded
    with contextlib.suppress(asyncio.CancelledError):
        await task
    survivor = Sink()
    d2 = Dispatcher(app.engine, {"bench": survivor})
    assert (await d2.run_once()).claimed == 0  # the dead worker's lease still holds
    clock(app).advance(d1.lease + timedelta(seconds=1))
    await d2.run_once()
    total = Counter(dying.counts) + Counter(survivor.counts)
    assert set(total) == want  # nothing lost
    duplicates = sum(n - 1 for n in total.values())
    assert 0 < duplicates <= d1.flush_every  # only what was in flight at the kill
    assert len(await ledger(app)) == 60
    async with app.sessions() as s:
        assert (
            await s.scalar(
                select(func.count())
                .select_from(Reminder)
                .where(Reminder.next_send_at <= clock(app).now())
            )
            == 0
        )


async def test_a_batch_shares_a_reply_only_among_sends_whose_builder_read_the_same(
    app: App,
) -> None:
    """Each reply equals the one its builder makes for that person alone, whatever the mix."""
    from types import SimpleNamespace

    from bot.handlers import reminder_kinds
    from bot.handlers.reminder_kinds import Due, Facts
    from bot.handlers.reminder_kinds._facts import SCORED
    from bot.handlers.reminder_kinds.checkin import ADVISED, Advised
    from scheduler.dispatch import _Replies

    day = MON_0800.date()
    base = {
        "episode_tier": None,
        "episode_opened": None,
        "episode_rest": False,
        "strength_started": None,
        "cleared_on": None,
        "tz": "UTC",
        "unanswered": 0,
        "answered_at": None,
    }
    mix = [
        {},
        {"unanswered": 1},
        {"unanswered": 3},  # the one that says reminders go quiet
        {"unanswered": 8},  # once a week only
        {"episode_tier": "urgent", "episode_opened": day},
        {"episode_tier": "urgent", "episode_opened": day, "episode_rest": True},
        {},
    ]
    people = [SimpleNamespace(id=i + 1, **{**base, **over}) for i, over in enumerate(mix)]
    advised = {p.id: Advised(None, False) for p in people}
    advised[2] = Advised("modify", False)
    advised[7] = Advised(None, True)
    facts = Facts(
        {
            SCORED: {(p.id, day): p.id == 4 for p in people},
            ADVISED: {(p.id, day): advised[p.id] for p in people},
        }
    )
    send = reminder_kinds.get("checkin").send
    replies = _Replies()
    for person in [*people, *people]:
        due = Due(person, day, day, False, 0, app.engine.content, facts)  # type: ignore[arg-type]
        assert replies.build(send, due) == send.build(due)


def test_a_builder_reading_the_persons_id_or_an_unplain_value_is_not_shared() -> None:
    from types import SimpleNamespace

    from bot.handlers.reminder_kinds import Due, Fact, Facts, Send
    from scheduler.dispatch import _Replies

    day = MON_0800.date()
    by_id = Send("test", lambda due: Reply(f"hello {due.person.id}"))
    listed: Fact[list[int]] = Fact("listed", lambda s, w: {})  # type: ignore[arg-type,return-value]
    builds = 0

    def from_list(due: Due) -> Reply:
        nonlocal builds
        builds += 1
        return Reply(f"{len(due.fact(listed))} things")

    by_list = Send("test", from_list, (listed,))
    people = [SimpleNamespace(id=i, tz="UTC") for i in (1, 2)]
    facts = Facts({listed: {(1, day): [1], (2, day): [1]}})
    replies = _Replies()
    texts = []
    for person in people:
        due = Due(person, day, day, False, 0, None, facts)  # type: ignore[arg-type]
        reply = replies.build(by_id, due)
        texts.append(reply.text if reply else None)
        replies.build(by_list, due)
    assert texts == ["hello 1", "hello 2"]
    assert builds == 2  # a list is not compared: each build runs
