"""Claim due reminders, send them through each platform's Sender, record them in the ledger.

Protocol (claim with a lease):

1. Claim: one ``UPDATE ... WHERE id IN (SELECT ... LIMIT batch_size) RETURNING`` (and a
   second for the kinds that give way, below, when room is left) marks up to ``batch_size`` due
   rows (``next_send_at <= now``, no live lease) with
   ``claimed_by = <token>`` and ``claimed_until = now + lease``, and commits. On PostgreSQL
   the inner SELECT is ``FOR UPDATE SKIP LOCKED``, so any number of dispatcher processes
   share the queue without waiting on each other or taking the same row; SQLite has one
   writer.
2. Send: outside any transaction, through the platform's rate limiter. A row whose slot is
   already in the ledger is not sent again.
3. Record: every ``flush_every`` outcomes, one transaction inserts the ledger rows
   (``deliveries``, unique on ``(reminder_id, slot)``, ``ON CONFLICT DO NOTHING``) and
   advances each row (next slot, send time, nudge) *only if it still carries our token*,
   releasing the lease. On PostgreSQL each is one statement over ``unnest()`` of array
   parameters, whatever the flush's size.

Crash-safety contract: a worker killed at any point loses no reminder. Rows it had claimed
keep ``next_send_at`` until step 3 commits, so once their lease expires anyone claims them
again and sends them. Duplicates are bounded by the messages in flight at the kill: those
sent but not yet recorded. Sending goes on while a batch of outcomes commits, so that is at
most ``2 * flush_every + concurrency`` per killed worker: the batch being committed, the next
one filling up, and the sends under way (216 with the defaults; ``benchmarks.crash`` measures
it). A worker that merely runs slow stops sending before its lease runs out and
releases the rest; if its lease expired anyway, its late record is refused by the token check
(the schedule) and by the unique key (the ledger), so the slot is still recorded once.

Failures: ``RetryLater`` waits the time the platform asks for and retries (a few times, then
the row is released to be claimed again after that time, never dropped). ``TransientError``
retries with backoff, then releases the row for a later pass. ``Unreachable`` marks the
person unreachable and parks all their reminders (``next_send_at = NULL``) without touching
anyone else's; the engine's ON_REACHABLE hook reschedules them from "now" when they write.

Catch-up: a reminder that was already more than ``Settings.grace`` past its send time when the
pass began (the bot was down) is dropped, not sent, and the next slot after ``now - grace`` is
scheduled, so downtime never floods anyone. Lateness a pass builds up itself is the queue, not
downtime: 100,000 check-ins at 07:30 take Telegram's 30 a second 55 minutes, and every one goes.

Queue order (benchmarks.lateness measures it against the platform's ceiling): rows are claimed
earliest due first and paced exactly at the ceiling, first come first served
(scheduler/ratelimit.py). The sends in ``YIELDING`` (posture tips) give way: a claim takes them
only once everything else due is taken, and only a couple of seconds' worth, so a check-in
falling due meanwhile waits behind no more than that; one whose turn comes more than its limit
late is dropped and counted, its row moved to its next slot, never sent late. With
``TELEGRAM_PAID_BROADCAST_AFTER`` set, a reminder whose turn comes that late goes as a paid
broadcast, held to Telegram's paid ceiling instead of the free one, with ``PAID_CONCURRENCY``
sends in flight (so the crash bound above becomes 248).

Back-off (bot/handlers/reminder_kinds/_backoff.py): the record counts each check-in sent on
the person's row, in one statement per flush; once reminders went quiet for someone who stopped
answering, their other sends are skipped like an episode's, read from the same batch of people.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot import schedule
from bot.delivery import RetryLater, Sender, TransientError, Unreachable
from bot.engine import Engine
from bot.events import Address, Reply
from bot.handlers import reminder_kinds
from bot.handlers.reminder_kinds import Due, Fact, Facts, ReminderKind, Send, _backoff
from bot.store import repo
from bot.store.arrays import among, dialect
from bot.store.models import Delivery, Person, Reminder, UTCDateTime
from scheduler import timing
from scheduler.ratelimit import RateLimiter, limiter_for

log = logging.getLogger(__name__)

R = Reminder.__table__
P = Person.__table__
D = Delivery.__table__

DEFAULT_BACKOFF = (0.5, 2.0, 8.0)
# Kinds that give way under a long queue, and how late one may still go: a posture tip is only
# worth having near its time, a check-in is worth having late.
YIELDING = {"posture": timedelta(minutes=20)}
# Sends in flight at once when paid broadcasts are on.
PAID_CONCURRENCY = 48
# A claim takes this many seconds' worth (at the platform's ceiling) of the sends that give
# way, so whatever falls due meanwhile waits behind no more than that.
YIELDING_CLAIM_S = 2.0


class Outcome(Enum):
    """What happened to one claimed row."""

    SENT = "sent"  # delivered: record it and advance
    SKIP = "skip"  # nothing to send (already recorded, nudge not needed, too late): advance
    RESCHEDULE = "reschedule"  # the person paused/stopped meanwhile: schedule from now
    RELEASE = "release"  # not sent (throttled, failing, out of lease): claim again later
    UNREACHABLE = "unreachable"  # the person cannot be reached: park all their reminders


@dataclass
class PassStats:
    """Counts from one dispatcher pass."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    dropped: int = 0
    released: int = 0
    unreachable: int = 0

    def add(self, other: PassStats) -> None:
        """Accumulate another pass's counts."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Item:
    """One claimed row on its way through the pass."""

    row: Any
    person: Any
    c: schedule.Controls
    slot: datetime  # the ledger key of what is due now
    due_at: datetime  # when it was meant to be sent
    extra: bool  # the one-off send (snooze or nudge), not the regular slot
    reminder: ReminderKind | None  # None: a row of a kind no longer registered
    stale: bool = False  # claimed with nothing owed (a changed row): schedule it afresh
    reply: Reply | None = None
    outcome: Outcome = Outcome.SKIP
    dropped: bool = False
    not_before: datetime | None = None

    @property
    def send(self) -> Send | None:
        """What is due: the kind's regular send or its one-off one."""
        return self.reminder.send_for(self.extra) if self.reminder is not None else None

    @property
    def kind(self) -> str:
        """The ledger's name for what is due: checkin | nudge | core | snooze | posture | ..."""
        send = self.send
        return send.key if send is not None else str(self.row.kind)


@dataclass
class _Batch:
    token: str
    now: datetime
    lease_until: datetime
    items: list[_Item] = field(default_factory=list)
    since: datetime | None = None  # when the pass began: what was grace-late then was downtime


class Dispatcher:
    """Sends due reminders; any number may run against one database (see the module doc)."""

    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        *,
        batch_size: int = 500,
        flush_every: int = 100,
        concurrency: int = 16,
        lease: timedelta = timedelta(minutes=5),
        retry_attempts: int = 5,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        release_delay: timedelta = timedelta(seconds=30),
        user_ids: Iterable[str] | None = None,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.limiters: dict[str, RateLimiter | None] = {p: limiter_for(p) for p in self.senders}
        self.batch_size = batch_size
        self.flush_every = max(1, flush_every)
        self.concurrency = max(1, concurrency)
        if engine.settings.paid_broadcast_after is not None:
            # Paid broadcasts go up to 1000 a second; with each call taking ~50 ms, that many
            # must be in flight (the Telegram adapter's connection pool keeps room for answers).
            self.concurrency = max(self.concurrency, PAID_CONCURRENCY)
        self.lease = lease
        self.retry_attempts = retry_attempts
        self.backoff = tuple(backoff)
        self.release_delay = release_delay
        self.user_ids = frozenset(user_ids) if user_ids is not None else None
        self._stopping = False
        self._flush_lock = asyncio.Lock()

    @property
    def clock(self):  # type: ignore[no-untyped-def]
        """The engine's clock (a ManualClock in tests and the simulated console)."""
        return self.engine.clock

    def request_stop(self) -> None:
        """Finish what is in flight, release the rest of the claimed rows, claim no more."""
        self._stopping = True

    # -- public passes ------------------------------------------------------------------

    async def run_once(self) -> PassStats:
        """Claim and process batches until nothing more is due now."""
        total = PassStats()
        since = self.clock.now()
        while not self._stopping:
            now = self.clock.now()
            batch = await self._claim(now)
            if batch is None:
                break
            batch.since = since
            total.add(await self._process(batch))
        return total

    async def next_due_at(self) -> datetime | None:
        """The earliest instant some reminder becomes claimable (for waking up on time)."""
        free = self._scope(
            select(R.c.next_send_at)
            .where(R.c.next_send_at.is_not(None), R.c.claimed_until.is_(None))
            .order_by(R.c.next_send_at)
            .limit(1)
        )
        # A leased (or released-for-later) row is claimable again when its lease ends.
        held = self._scope(
            select(func.min(R.c.claimed_until)).where(
                R.c.next_send_at.is_not(None), R.c.claimed_until.is_not(None)
            )
        )
        async with self.engine.sessions() as s:
            first = await s.scalar(free)
            lease_end = await s.scalar(held)
        return min((t for t in (first, lease_end) if t is not None), default=None)

    # -- claim ----------------------------------------------------------------------------

    def _scope(self, stmt: Any) -> Any:
        # A correlated EXISTS (a primary-key probe per candidate row) keeps the planner on the
        # next_send_at index; a join lets SQLite scan every person of the platform and sort.
        mine = select(P.c.id).where(P.c.id == R.c.person_id, P.c.platform.in_(sorted(self.senders)))
        if self.user_ids is not None:
            mine = mine.where(P.c.user_id.in_(sorted(self.user_ids)))
        return stmt.where(mine.exists())

    async def _claim(self, now: datetime) -> _Batch | None:
        token = uuid.uuid4().hex
        lease_until = now + self.lease

        def pick(yielding: bool, limit: int, postgres: bool) -> Any:
            # Two lanes, each in due order: everything else first, then the kinds that give
            # way, only to fill the batch up.
            lane = R.c.kind.in_(sorted(YIELDING))
            stmt = (
                select(R.c.id)
                .where(
                    R.c.next_send_at <= now,
                    or_(R.c.claimed_until.is_(None), R.c.claimed_until < now),
                    lane if yielding else ~lane,
                )
                # next_send_at alone: the index gives that order, so the LIMIT stops early
                # instead of sorting every due row (ties are ordered by id below).
                .order_by(R.c.next_send_at)
                .limit(limit)
            )
            stmt = self._scope(stmt)
            if postgres:
                # Lock-and-skip inside the claim: rows another dispatcher holds are passed
                # over, and the pick, the mark and the read are one round trip.
                stmt = stmt.with_for_update(of=R, skip_locked=True)
            return stmt.scalar_subquery()

        returning = (
            R.c.id,
            R.c.person_id,
            R.c.kind,
            R.c.times,
            R.c.weekdays_only,
            R.c.enabled,
            R.c.next_slot,
            R.c.next_send_at,
            R.c.snoozed_until,
            R.c.sent_count,
        )
        claim = update(R).values(claimed_by=token, claimed_until=lease_until).returning(*returning)
        async with self.engine.sessions() as s, s.begin():
            postgres = dialect(s) == "postgresql"
            first = pick(False, self.batch_size, postgres)
            rows = list((await s.execute(claim.where(R.c.id.in_(first)))).all())
            if len(rows) < self.batch_size:
                room = min(self.batch_size - len(rows), self._yielding_room())
                rest = pick(True, room, postgres)
                rows += (await s.execute(claim.where(R.c.id.in_(rest)))).all()
            if not rows:
                return None
            rows.sort(key=lambda r: (r.kind in YIELDING, r.next_send_at, r.id))
            people = await _people(s, {r.person_id for r in rows})
        batch = _Batch(token, now, lease_until)
        for row in rows:
            person = people[row.person_id]
            batch.items.append(_item(row, person, schedule.controls_of(person), now))
        return batch

    def _yielding_room(self) -> int:
        """How many sends that give way one claim may take (the whole batch when unpaced)."""
        rate = sum(limiter.per_second for limiter in self.limiters.values() if limiter)
        return max(1, math.ceil(rate * YIELDING_CLAIM_S)) if rate else self.batch_size

    # -- process ----------------------------------------------------------------------------

    async def _process(self, batch: _Batch) -> PassStats:
        stats = PassStats(claimed=len(batch.items))
        grace = self.engine.settings.grace
        to_build: list[_Item] = []
        async with self.engine.sessions() as s:
            recorded = await _recorded(s, batch.items)
            for item in batch.items:
                if (
                    item.stale
                    or not item.c.active
                    or (item.c.paused_until is not None and item.c.paused_until > item.slot)
                ):
                    item.outcome = Outcome.RESCHEDULE
                elif (
                    item.send is None
                    or (item.row.id, item.slot) in recorded
                    or _held_by_episode(item)
                    or _held_by_backoff(item)
                ):
                    item.outcome = Outcome.SKIP
                elif not timing.catch_up(item.due_at, batch.since or batch.now, grace) or (
                    _too_late(item, batch.now)
                ):
                    item.outcome, item.dropped = Outcome.SKIP, True
                else:
                    to_build.append(item)
            facts = await Facts.load(s, _wanted(to_build))
        to_send: list[_Item] = []
        for item in to_build:
            item.reply = self._reply(item, facts)
            if item.reply is None:
                item.outcome = Outcome.SKIP
            else:
                to_send.append(item)
        pending = [i for i in batch.items if i.reply is None]
        done: list[_Item] = []

        async def worker(queue: Iterable[_Item]) -> None:
            for item in queue:
                await self._deliver(item, batch)
                done.append(item)
                if len(done) >= self.flush_every:
                    await self._flush_done(batch, done)

        queue = iter(to_send)
        workers = min(self.concurrency, len(to_send))
        if workers:
            await asyncio.gather(*(worker(queue) for _ in range(workers)))
        done.extend(pending)
        await self._flush_done(batch, done)
        for item in batch.items:
            if item.outcome is Outcome.SENT:
                stats.sent += 1
            elif item.outcome is Outcome.RELEASE:
                stats.released += 1
            elif item.outcome is Outcome.UNREACHABLE:
                stats.unreachable += 1
            elif item.dropped:
                stats.dropped += 1
            else:
                stats.skipped += 1
        return stats

    def _reply(self, item: _Item, facts: Facts) -> Reply | None:
        """The kind's message for this send, stamped with when it was due in the person's zone."""
        send = item.send
        assert send is not None
        tz = schedule.zone(item.c.tz)
        due = Due(
            person=item.person,
            day=schedule.local_date(item.due_at, tz),
            slot_day=schedule.local_date(item.slot, tz),
            extra=item.extra,
            sent_count=item.row.sent_count,
            library=self.engine.content,
            facts=facts,
        )
        reply = send.build(due)
        if reply is None:
            return None
        return replace(reply, local_time=schedule.format_local(item.due_at, tz))

    async def _deliver(self, item: _Item, batch: _Batch) -> None:
        assert item.reply is not None
        person = item.person
        sender = self.senders[person.platform]
        limiter = self.limiters.get(person.platform)
        address = Address(person.platform, person.chat_id)
        throttled = transient = 0
        # Stop well before the lease ends so nobody else can claim a row we are still sending.
        margin = min(self.lease / 5, timedelta(seconds=30))
        while True:
            if self._stopping or self.clock.now() >= batch.lease_until - margin:
                item.outcome = Outcome.RELEASE
                return
            if _too_late(item, self.clock.now()):
                item.outcome, item.dropped = Outcome.SKIP, True
                return
            paid = self._paid(item, limiter)
            if limiter is not None:
                await limiter.acquire(person.chat_id, paid=paid)
                if _too_late(item, self.clock.now()):
                    item.outcome, item.dropped = Outcome.SKIP, True
                    return
            reply = replace(item.reply, paid_broadcast=True) if paid else item.reply
            try:
                await sender.send(address, reply)
            except Unreachable:
                item.outcome = Outcome.UNREACHABLE
                return
            except RetryLater as exc:
                throttled += 1
                if throttled > self.retry_attempts:
                    item.outcome = Outcome.RELEASE
                    item.not_before = self.clock.now() + timedelta(seconds=exc.retry_after)
                    return
                await asyncio.sleep(max(0.0, exc.retry_after))
            except TransientError:
                transient += 1
                if transient > len(self.backoff):
                    item.outcome = Outcome.RELEASE
                    item.not_before = self.clock.now() + self.release_delay
                    return
                await asyncio.sleep(self.backoff[transient - 1])
            except Exception as exc:
                # An adapter bug must not stop everyone else's reminders; try again later.
                log.error("sending a reminder failed: %s", type(exc).__name__)
                item.outcome = Outcome.RELEASE
                item.not_before = self.clock.now() + self.release_delay
                return
            else:
                item.outcome = Outcome.SENT
                return

    def _paid(self, item: _Item, limiter: RateLimiter | None) -> bool:
        """Whether the queue has made this reminder so late it goes as a paid broadcast.

        Never a send that gives way (a tip is dropped rather than paid for), and only where
        the platform sells a higher ceiling."""
        after = self.engine.settings.paid_broadcast_after
        return (
            after is not None
            and limiter is not None
            and limiter.has_paid_lane
            and item.kind not in YIELDING
            and self.clock.now() - item.due_at >= after
        )

    # -- record ----------------------------------------------------------------------------

    async def _flush_done(self, batch: _Batch, done: list[_Item]) -> None:
        async with self._flush_lock:
            items = done[:]
            done.clear()
            if items:
                await self._record(batch, items)

    async def _record(self, batch: _Batch, items: list[_Item]) -> None:
        now = batch.now
        ledger: list[dict[str, Any]] = []
        advances: list[dict[str, Any]] = []
        releases: list[dict[str, Any]] = []
        parked: set[int] = set()
        asked = sorted({item.person.id for item in items if _unanswered_ask(item)})
        for item in items:
            if item.outcome is Outcome.UNREACHABLE:
                parked.add(item.person.id)
            elif item.outcome is Outcome.RELEASE:
                releases.append(
                    {"b_id": item.row.id, "b_token": batch.token, "b_until": item.not_before}
                )
            else:
                if item.outcome is Outcome.SENT:
                    ledger.append(
                        {
                            "reminder_id": item.row.id,
                            "person_id": item.person.id,
                            "slot": item.slot,
                            "kind": item.kind,
                            "sent_at": self.clock.now(),
                        }
                    )
                due = self._advance(item, now)
                advances.append(
                    {
                        "b_id": item.row.id,
                        "b_token": batch.token,
                        "b_slot": due.next_slot,
                        "b_send": due.next_send_at,
                        "b_extra": due.snoozed_until,
                        "b_inc": 1 if item.outcome is Outcome.SENT and not item.extra else 0,
                    }
                )
        async with self.engine.sessions() as s, s.begin():
            mine = and_(R.c.id == bindparam("b_id"), R.c.claimed_by == bindparam("b_token"))
            if dialect(s) == "postgresql":
                await _record_arrays(s, batch.token, ledger, advances)
            else:
                if ledger:
                    stmt = sqlite.insert(D).on_conflict_do_nothing(
                        index_elements=["reminder_id", "slot"]
                    )
                    await s.execute(stmt, ledger)
                if advances:
                    await s.execute(
                        update(R)
                        .where(mine)
                        .values(
                            next_slot=bindparam("b_slot", type_=UTCDateTime()),
                            next_send_at=bindparam("b_send", type_=UTCDateTime()),
                            snoozed_until=bindparam("b_extra", type_=UTCDateTime()),
                            sent_count=R.c.sent_count + bindparam("b_inc"),
                            claimed_by=None,
                            claimed_until=None,
                        ),
                        advances,
                    )
            if releases:
                await s.execute(
                    update(R)
                    .where(mine)
                    .values(
                        claimed_by=None, claimed_until=bindparam("b_until", type_=UTCDateTime())
                    ),
                    releases,
                )
            if asked:
                # One statement for the flush. An answer since the claim (a tap on the very
                # check-in being recorded) is not undone by counting that check-in afterwards.
                await s.execute(
                    update(P)
                    .where(
                        among(s, P.c.id, asked),
                        or_(P.c.answered_at.is_(None), P.c.answered_at < now),
                    )
                    .values(unanswered=P.c.unanswered + 1)
                )
            await repo.park_unreachable(s, parked)

    def _advance(self, item: _Item, now: datetime) -> schedule.Scheduled:
        row, c, kind = item.row, item.c, item.reminder
        if kind is None:
            return schedule.Scheduled(None, None, None)  # nothing knows how to send it: parked
        days = kind.days(row.weekdays_only)
        if item.outcome is Outcome.RESCHEDULE:
            return schedule.fresh(row.times, days, row.enabled, row.snoozed_until, c, now)
        pending_extra = row.snoozed_until
        if item.extra:
            # The one-off send is done; the regular slot is still owed.
            slot = row.next_slot if row.enabled else None
            send = schedule.send_time(slot, c) if slot is not None else None
            return schedule.Scheduled(slot, send, None)
        if pending_extra is not None and pending_extra <= now:
            pending_extra = None
        # From the slot, not the send time, so quiet hours cannot merge two slots into one;
        # after downtime, from the edge of the grace window so old slots are not owed.
        after = item.slot if not item.dropped else max(item.slot, now - self.engine.settings.grace)
        due = schedule.due_after(row.times, days, c, after) if row.enabled else None
        if kind.follow_up is not None and item.outcome is Outcome.SENT:
            pending_extra = kind.follow_up(item.due_at, schedule.zone(c.tz), c.quiet)
        if due is None:
            return schedule.Scheduled(None, pending_extra, pending_extra)
        slot, send = due
        send_at = min(send, pending_extra) if pending_extra is not None else send
        return schedule.Scheduled(slot, send_at, pending_extra)


# -- helpers ----------------------------------------------------------------------------------


# PostgreSQL records a flush in two statements whatever its size: each column travels as one
# array parameter and unnest() turns them back into rows. executemany would send a row at a
# time and process every parameter in Python; an IN/VALUES list is compiled per size.
_LEDGER_COLUMNS = ("reminder_id", "person_id", "slot", "kind", "sent_at")
_LEDGER_ARRAYS = text(
    """
    INSERT INTO deliveries (reminder_id, person_id, slot, kind, sent_at)
    SELECT * FROM unnest(:reminder_id, :person_id, :slot, :kind, :sent_at)
    ON CONFLICT (reminder_id, slot) DO NOTHING
    """
).bindparams(
    bindparam("reminder_id", type_=postgresql.ARRAY(Integer)),
    bindparam("person_id", type_=postgresql.ARRAY(Integer)),
    bindparam("slot", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("kind", type_=postgresql.ARRAY(String)),
    bindparam("sent_at", type_=postgresql.ARRAY(DateTime(timezone=True))),
)
_ADVANCE_ARRAYS = text(
    """
    UPDATE reminders AS r
    SET next_slot = v.slot, next_send_at = v.send, snoozed_until = v.extra,
        sent_count = r.sent_count + v.inc, claimed_by = NULL, claimed_until = NULL
    FROM unnest(:id, :slot, :send, :extra, :inc) AS v(id, slot, send, extra, inc)
    WHERE r.id = v.id AND r.claimed_by = :token
    """
).bindparams(
    bindparam("id", type_=postgresql.ARRAY(Integer)),
    bindparam("slot", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("send", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("extra", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("inc", type_=postgresql.ARRAY(Integer)),
    bindparam("token", type_=String),
)


async def _record_arrays(
    s: AsyncSession, token: str, ledger: list[dict[str, Any]], advances: list[dict[str, Any]]
) -> None:
    """Insert the ledger rows and advance the rows still carrying `token` (PostgreSQL)."""
    if ledger:
        await s.execute(
            _LEDGER_ARRAYS,
            {name: [row[name] for row in ledger] for name in _LEDGER_COLUMNS},
        )
    if advances:
        await s.execute(
            _ADVANCE_ARRAYS,
            {
                "id": [a["b_id"] for a in advances],
                "slot": [a["b_slot"] for a in advances],
                "send": [a["b_send"] for a in advances],
                "extra": [a["b_extra"] for a in advances],
                "inc": [a["b_inc"] for a in advances],
                "token": token,
            },
        )


def _held_by_backoff(item: _Item) -> bool:
    """Once reminders went quiet for someone who stopped answering, the sends that back off
    (the nudge, core work, posture) wait."""
    send = item.send
    return send is not None and send.backs_off and _backoff.told(item.person.unanswered)


def _unanswered_ask(item: _Item) -> bool:
    """A check-in sent that counts towards backing off (an open episode's question never does)."""
    send = item.send
    return (
        item.outcome is Outcome.SENT
        and not item.extra
        and send is not None
        and send.asks
        and item.person.episode_tier is None
    )


def _too_late(item: _Item, now: datetime) -> bool:
    """A send that gives way under a long queue (a posture tip) whose turn came too late."""
    limit = YIELDING.get(item.kind)
    return limit is not None and now - item.due_at > limit


def _held_by_episode(item: _Item) -> bool:
    """Sends its kind holds while an episode is open (core work, posture, the nudge) wait."""
    send = item.send
    return send is not None and send.held_by_episode and item.person.episode_tier is not None


def _item(row: Any, person: Any, c: schedule.Controls, now: datetime) -> _Item:
    """Decide whether the regular slot or the one-off extra send is the one due now."""
    kind = reminder_kinds.find(row.kind)
    regular = schedule.send_time(row.next_slot, c) if row.next_slot is not None else None
    extra = row.snoozed_until
    if extra is not None and extra <= now and (regular is None or extra <= regular):
        return _Item(row, person, c, extra, extra, True, kind)
    if regular is None:
        # Nothing is owed (the row changed under us): schedule it afresh.
        return _Item(row, person, c, row.next_send_at, row.next_send_at, True, kind, True)
    return _Item(row, person, c, row.next_slot, regular, False, kind)


def _wanted(items: Iterable[_Item]) -> dict[Fact[Any], set[tuple[int, date]]]:
    """For each fact the sends read, the (person, local date) pairs it is needed for."""
    wanted: dict[Fact[Any], set[tuple[int, date]]] = {}
    for item in items:
        send = item.send
        assert send is not None
        pair = (item.person.id, schedule.local_date(item.due_at, schedule.zone(item.c.tz)))
        for fact in send.facts:
            wanted.setdefault(fact, set()).add(pair)
    return wanted


async def _people(s: AsyncSession, ids: set[int]) -> dict[int, Any]:
    cols = (
        P.c.id,
        P.c.platform,
        P.c.user_id,
        P.c.chat_id,
        P.c.tz,
        P.c.reachable,
        P.c.stopped,
        P.c.paused_until,
        P.c.quiet_start,
        P.c.quiet_end,
        P.c.strength_started,
        P.c.episode_tier,
        P.c.episode_opened,
        P.c.episode_rest,
        P.c.cleared_on,
        P.c.unanswered,
        P.c.answered_at,
    )
    rows = await s.execute(select(*cols).where(among(s, P.c.id, sorted(ids))))
    return {r.id: r for r in rows}


async def _recorded(s: AsyncSession, items: list[_Item]) -> set[tuple[int, datetime]]:
    """Which (reminder, slot) pairs of this batch the ledger already holds."""
    ids = sorted({i.row.id for i in items})
    slots = sorted({i.slot for i in items})
    rows = await s.execute(
        select(D.c.reminder_id, D.c.slot).where(
            among(s, D.c.reminder_id, ids), among(s, D.c.slot, slots)
        )
    )
    return {(rid, slot) for rid, slot in rows}
