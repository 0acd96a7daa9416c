"""Claim due reminders, send them through each platform's Sender, record them in the ledger.

Protocol (claim with a lease):

1. Claim: one ``UPDATE ... WHERE id IN (SELECT ... LIMIT batch_size) RETURNING`` (and a
   second for the kinds that give way, below, when room is left) marks up to ``batch_size`` due
   rows (``next_send_at <= now``, no live lease) with
   ``claimed_by = <token>`` and ``claimed_until = now + lease``, and commits. On PostgreSQL
   the inner SELECT is ``FOR UPDATE SKIP LOCKED``, so any number of dispatcher processes
   share the queue without waiting on each other or taking the same row; SQLite has one
   writer. The RETURNING list also probes the ledger's unique key for each row's slot. On
   PostgreSQL, while a full batch sends, the next one is claimed and read on another
   connection, so the database works while Python does; a pass that stops releases it.
   Only where a batch goes out within ``AHEAD_WITHIN_S``: at a platform's free ceiling the
   database keeps up anyway, and messages made that early would read older facts.
2. Send: outside any transaction, through the platform's rate limiter. A row whose slot is
   already in the ledger is not sent again.
3. Record: every ``flush_every`` outcomes, one transaction inserts the ledger rows
   (``deliveries``, unique on ``(reminder_id, slot)``, ``ON CONFLICT DO NOTHING``) and
   advances each row (next slot, send time, nudge) *only if it still carries our token*,
   releasing the lease. On PostgreSQL the whole flush is one statement over ``unnest()`` of
   array parameters, whatever its size (atomic on its own, so sent without BEGIN/COMMIT on a
   connection kept for the pass), and a batch's last flush commits while the next batch is
   claimed and read. On SQLite it is two executemany calls straight to the driver, with
   constant statements and each distinct datetime converted once.

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

Messages: builders are pure, so within a batch a reply is built once for every set of values
its builder read (``_Replies``: the person's columns, the Due's fields and its facts, noted on
the first build) and shared by the sends that read the same, as most of a fan-out's check-ins
do.

Back-off (bot/handlers/reminder_kinds/_backoff.py): the record counts each check-in sent on
the person's row, in one statement per flush; once reminders went quiet for someone who stopped
answering, their other sends are skipped like an episode's, read from the same batch of people.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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
# The next batch is claimed while one sends only where a batch sends within this many seconds.
# At a platform's ceiling (Telegram's 30 a second: 17 s a batch) the database keeps up anyway,
# and messages made that far ahead would be made from older facts (a score sent meanwhile).
AHEAD_WITHIN_S = 2.0


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
    recorded: bool = False  # the ledger already holds `slot`: sent, never again
    reply: Reply | None = None
    outcome: Outcome = Outcome.SKIP
    dropped: bool = False
    not_before: datetime | None = None

    # What is due: the kind's regular send or its one-off one, and its ledger name
    # (checkin | nudge | core | snooze | posture | ...). Set once: read many times a pass.
    send: Send | None = field(init=False)
    kind: str = field(init=False)

    def __post_init__(self) -> None:
        reminder = self.reminder
        self.send = reminder.send_for(self.extra) if reminder is not None else None
        self.kind = self.send.key if self.send is not None else str(self.row.kind)


@dataclass
class _Batch:
    token: str
    now: datetime
    lease_until: datetime
    items: list[_Item] = field(default_factory=list)
    since: datetime | None = None  # when the pass began: what was grace-late then was downtime
    # Dispatcher._advance_shared's results.
    advanced: dict[tuple[Any, ...], schedule.Scheduled] = field(default_factory=dict)
    to_send: list[_Item] = field(default_factory=list)  # made by Dispatcher._prepare


# Values a builder may read for its reply to be shared: compared by equality, never mutated.
_PLAIN = (type(None), bool, int, float, str, date, datetime, time, timedelta, Enum)


def _plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    params = getattr(type(value), "__dataclass_params__", None)
    return (
        params is not None
        and params.frozen
        and all(_plain(getattr(value, f.name)) for f in fields(value))
    )


class _Reads:
    """What one build read: (where, name, value) in order. `where` is "due", "person" or
    "fact" (then `name` is the Fact itself); `plain` turns false on a value that cannot be
    compared by equality, and then the build is not shared."""

    __slots__ = ("plain", "seen")

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, Any]] = []
        self.plain = True

    def note(self, where: str, name: Any, value: Any) -> Any:
        if not _plain(value):
            self.plain = False
        self.seen.append((where, name, value))
        return value


class _PersonProbe:
    """The person as a builder sees it, noting every column it reads."""

    __slots__ = ("_person", "_reads")

    def __init__(self, person: Any, reads: _Reads) -> None:
        self._person = person
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        return self._reads.note("person", name, getattr(self._person, name))


class _DueProbe:
    """A Due that notes what its builder reads (the library is one object for a dispatcher,
    so it is handed over, not compared)."""

    __slots__ = ("_due", "_reads", "library", "person")

    def __init__(self, due: Due, reads: _Reads) -> None:
        self._due = due
        self._reads = reads
        self.person = _PersonProbe(due.person, reads)
        self.library = due.library

    @property
    def day(self) -> date:
        return self._reads.note("due", "day", self._due.day)  # type: ignore[no-any-return]

    @property
    def slot_day(self) -> date:
        return self._reads.note("due", "slot_day", self._due.slot_day)  # type: ignore[no-any-return]

    @property
    def extra(self) -> bool:
        return self._reads.note("due", "extra", self._due.extra)  # type: ignore[no-any-return]

    @property
    def sent_count(self) -> int:
        return self._reads.note("due", "sent_count", self._due.sent_count)  # type: ignore[no-any-return]

    @property
    def facts(self) -> Facts:
        self._reads.plain = False  # a builder going around fact(): nothing to compare
        return self._due.facts

    def fact(self, fact: Fact[Any]) -> Any:
        return self._reads.note("fact", fact, self._due.fact(fact))


class _Replies:
    """Each send's reply, built once per batch for every set of inputs its builder read.

    Builders are pure (facts in, a Reply out), and most people of a batch get the same words
    and the same keyboard: a check-in for today with no score yet. The first build of a send
    goes through probes that note every value it read (the person's columns, the Due's fields,
    its facts); a later item whose own values are all equal to those would take the same path
    through the builder, so it gets the same Reply. Only plain values count (numbers, strings,
    dates, frozen dataclasses of them); a build that read anything else is not shared."""

    MAX_SHAPES = 16  # different sets of reads kept per send and batch

    def __init__(self) -> None:
        self._built: dict[Send, list[tuple[Callable[[Due], tuple[Any, ...]], Any, Reply | None]]]
        self._built = {}

    def build(self, send: Send, due: Due) -> Reply | None:
        """The reply `send` builds for `due`, from an earlier build when that read the same."""
        shapes = self._built.setdefault(send, [])
        for values, expected, reply in shapes:
            try:
                if values(due) == expected:
                    return reply
            except LookupError:  # a fact this person's send did not read
                continue
        reads = _Reads()
        reply = send.build(cast(Due, _DueProbe(due, reads)))
        if reads.plain and len(shapes) < self.MAX_SHAPES:
            values = _reader(reads.seen)
            shapes.append((values, tuple(v for _, _, v in _grouped(reads.seen)), reply))
        return reply


def _grouped(seen: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """Reads in the order _reader reads them: the person's, the Due's, then facts."""
    return [r for where in ("person", "due", "fact") for r in seen if r[0] == where]


def _reader(seen: list[tuple[str, Any, Any]]) -> Callable[[Due], tuple[Any, ...]]:
    """A function reading from any Due the values a build read, in _grouped order."""
    person = [name for where, name, _ in _grouped(seen) if where == "person"]
    fields_ = [name for where, name, _ in _grouped(seen) if where == "due"]
    facts = [name for where, name, _ in _grouped(seen) if where == "fact"]

    def values(due: Due) -> tuple[Any, ...]:
        who = due.person
        return (
            *[getattr(who, n) for n in person],
            *[getattr(due, n) for n in fields_],
            *[due.fact(f) for f in facts],
        )

    return values


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
        self._is_postgres: bool | None = None
        self._tail: asyncio.Future[None] | None = None
        # A flush advanced some row to a time already passed: the pass claims once more.
        self._due_again = False
        self._flusher: AsyncConnection | None = None

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
        self._due_again = False
        ahead: asyncio.Future[_Batch | None] | None = None
        try:
            while not self._stopping:
                if ahead is not None:
                    batch, ahead = await ahead, None
                else:
                    batch = await self._claim_ready(since)
                if batch is None:
                    # The last flush, still committing while this claim looked, may have made
                    # rows due now (a missed nudge's regular slot): claim again once it is in.
                    await self._last_flush()
                    if self._due_again:
                        self._due_again = False
                        continue
                    break
                if len(batch.items) >= self.batch_size and self._claims_ahead():
                    # More is due: the next batch is claimed and read on another connection
                    # while this one sends, so the database works while Python does.
                    ahead = asyncio.ensure_future(self._claim_ready(since))
                total.add(await self._send_batch(batch))
        finally:
            try:
                if ahead is not None:
                    await self._give_back(ahead)
                await self._last_flush()
            finally:
                await self._close_flush_connection()
        return total

    async def _claim_ready(self, since: datetime) -> _Batch | None:
        """Claim a batch and make its messages (None: nothing is due)."""
        batch = await self._claim(self.clock.now())
        if batch is not None:
            batch.since = since
            await self._prepare(batch)
        return batch

    async def _give_back(self, ahead: asyncio.Future[_Batch | None]) -> None:
        """A batch claimed ahead but not sent (the pass is stopping or failed): release its
        rows to be claimed again now, not when the lease runs out."""
        try:
            batch = await ahead
        except Exception as exc:
            log.error("claiming ahead failed: %s", type(exc).__name__)
            return
        if batch is None:
            return
        for item in batch.items:
            item.outcome, item.not_before = Outcome.RELEASE, None
        try:
            await self._flush_done(batch, list(batch.items))
        except Exception as exc:
            # Nothing is lost: the rows are claimed again when their lease runs out.
            log.error("releasing a batch claimed ahead failed: %s", type(exc).__name__)

    async def _last_flush(self) -> None:
        """Wait for a batch's last flush left committing while the next batch went on."""
        tail, self._tail = self._tail, None
        if tail is not None:
            await tail

    async def _flush_connection(self) -> AsyncConnection:
        """The pass's connection for flushes (PostgreSQL), in autocommit: one statement each."""
        if self._flusher is None:
            bind = self.engine.sessions.kw["bind"]
            conn = await bind.connect()
            self._flusher = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return self._flusher

    async def _close_flush_connection(self) -> None:
        conn, self._flusher = self._flusher, None
        if conn is not None:
            await conn.close()

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
            # Whether the ledger already holds the regular slot or the one-off send: a worker
            # whose lease ran out may have sent and recorded it without advancing the row.
            _in_ledger("next_slot").label("regular_recorded"),
            _in_ledger("snoozed_until").label("extra_recorded"),
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

    def _postgres(self) -> bool:
        """Whether the database is PostgreSQL (read once: the engine never changes)."""
        if self._is_postgres is None:
            bind = self.engine.sessions.kw.get("bind")
            self._is_postgres = bind is not None and bind.dialect.name == "postgresql"
        return self._is_postgres

    def _paced_rate(self) -> float:
        """Sends a second at the platforms' ceilings (0: nothing paces them)."""
        return sum(limiter.per_second for limiter in self.limiters.values() if limiter is not None)

    def _yielding_room(self) -> int:
        """How many sends that give way one claim may take (the whole batch when unpaced)."""
        rate = self._paced_rate()
        return max(1, math.ceil(rate * YIELDING_CLAIM_S)) if rate else self.batch_size

    def _claims_ahead(self) -> bool:
        """Whether the next batch is claimed while one sends: on PostgreSQL (SQLite has one
        writer), and only where a batch goes out within AHEAD_WITHIN_S."""
        rate = self._paced_rate()
        return self._postgres() and (not rate or self.batch_size / rate <= AHEAD_WITHIN_S)

    # -- process ----------------------------------------------------------------------------

    async def _prepare(self, batch: _Batch) -> None:
        """Decide what each claimed row owes, read the facts its message needs and make it."""
        grace = self.engine.settings.grace
        to_build: list[_Item] = []
        async with self.engine.sessions() as s:
            if dialect(s) == "postgresql":
                # The facts' reads are planned for the tables as they are now: a plan cached for
                # the connection while a table was small would scan all of it once it is large.
                await s.execute(_CUSTOM_PLANS)
            for item in batch.items:
                if (
                    item.stale
                    or not item.c.active
                    or (item.c.paused_until is not None and item.c.paused_until > item.slot)
                ):
                    item.outcome = Outcome.RESCHEDULE
                elif (
                    item.send is None
                    or item.recorded
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
        replies = _Replies()
        stamped: dict[tuple[int, str], tuple[Reply, Reply]] = {}
        local_times: dict[tuple[datetime, datetime, str], tuple[date, date, str]] = {}
        for item in to_build:
            item.reply = self._reply(item, facts, replies, stamped, local_times)
            if item.reply is None:
                item.outcome = Outcome.SKIP
            else:
                to_send.append(item)
        batch.to_send = to_send

    async def _send_batch(self, batch: _Batch) -> PassStats:
        """Send a prepared batch and record every outcome."""
        stats = PassStats(claimed=len(batch.items))
        to_send = batch.to_send
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
        if self._postgres():
            # Every send of the batch is done: its last flush commits while the next batch is
            # claimed and read (another connection, other rows; the next batch's first flush
            # waits for it on the flush lock, so no more is unrecorded at once than before).
            # SQLite has one writer: the claim would only wait for it there.
            await self._last_flush()
            self._tail = asyncio.ensure_future(self._flush_done(batch, done))
        else:
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

    def _reply(
        self,
        item: _Item,
        facts: Facts,
        replies: _Replies | None = None,
        stamped: dict[tuple[int, str], tuple[Reply, Reply]] | None = None,
        local_times: dict[tuple[datetime, datetime, str], tuple[date, date, str]] | None = None,
    ) -> Reply | None:
        """The kind's message for this send, stamped with when it was due in the person's zone.

        Within a batch, `replies` shares a build among the sends that read the same,
        `stamped` the stamped copy among those due at the same local time, and `local_times`
        the local dates and time of each (due, slot, zone) met."""
        send = item.send
        assert send is not None
        at = (item.due_at, item.slot, item.c.tz)
        known = local_times.get(at) if local_times is not None else None
        if known is None:
            tz = schedule.zone(item.c.tz)
            known = (
                schedule.local_date(item.due_at, tz),
                schedule.local_date(item.slot, tz),
                schedule.format_local(item.due_at, tz),
            )
            if local_times is not None:
                local_times[at] = known
        day, slot_day, local = known
        due = Due(
            person=item.person,
            day=day,
            slot_day=slot_day,
            extra=item.extra,
            sent_count=item.row.sent_count,
            library=self.engine.content,
            facts=facts,
        )
        reply = replies.build(send, due) if replies is not None else send.build(due)
        if reply is None:
            return None
        if stamped is None:
            return replace(reply, local_time=local)
        key = (id(reply), local)
        found = stamped.get(key)
        if found is None or found[0] is not reply:  # an id is only unique while it lives
            found = stamped[key] = (reply, replace(reply, local_time=local))
        return found[1]

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
        sent_at = self.clock.now()
        # Rows as tuples in _LEDGER_COLUMNS and _ADVANCE_COLUMNS order.
        ledger: list[tuple[Any, ...]] = []
        advances: list[tuple[Any, ...]] = []
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
                sent = item.outcome is Outcome.SENT
                if sent:
                    ledger.append((item.row.id, item.person.id, item.slot, item.kind, sent_at))
                due = self._advance_shared(item, now, batch)
                if due.next_send_at is not None and due.next_send_at <= self.clock.now():
                    self._due_again = True  # e.g. a missed nudge's regular slot, owed now
                advances.append(
                    (
                        item.row.id,
                        due.next_slot,
                        due.next_send_at,
                        due.snoozed_until,
                        1 if sent and not item.extra else 0,
                    )
                )
        if not releases and not parked and self._postgres():
            # The usual flush is that one statement, atomic on its own: run without BEGIN and
            # COMMIT around it, on a connection kept for the pass, it is one round trip.
            conn = await self._flush_connection()
            try:
                await _record_arrays(conn, batch.token, ledger, advances, asked, now)
            except BaseException:
                await self._close_flush_connection()
                raise
            return
        async with self.engine.sessions() as s, s.begin():
            mine = and_(R.c.id == bindparam("b_id"), R.c.claimed_by == bindparam("b_token"))
            if dialect(s) == "postgresql":
                await _record_arrays(s, batch.token, ledger, advances, asked, now)
            else:
                await _record_sqlite(s, batch.token, ledger, advances)
                if asked:
                    # One statement for the flush. An answer since the claim (a tap on the very
                    # check-in being recorded) is not undone by counting that check-in after.
                    await _count_unanswered(s, asked, now)
            if releases:
                await s.execute(
                    update(R)
                    .where(mine)
                    .values(
                        claimed_by=None, claimed_until=bindparam("b_until", type_=UTCDateTime())
                    ),
                    releases,
                )
            await repo.park_unreachable(s, parked)

    def _advance_shared(self, item: _Item, now: datetime, batch: _Batch) -> schedule.Scheduled:
        """_advance, worked out once per batch for the rows it would treat alike (a fan-out's
        rows mostly share their times, zone and slot): the key is everything it reads."""
        row = item.row
        key = (
            row.kind,
            row.times,
            row.weekdays_only,
            row.enabled,
            row.snoozed_until,
            row.next_slot,
            item.c,
            item.outcome,
            item.extra,
            item.slot,
            item.dropped,
            item.due_at,
            now,
        )
        found = batch.advanced.get(key)
        if found is None:
            found = batch.advanced[key] = self._advance(item, now)
        return found

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


# PostgreSQL records a flush in one statement whatever its size: each column travels as one
# array parameter and unnest() turns them back into rows; the ledger insert, the advance and
# the back-off count are data-modifying parts of one WITH (three tables, no row touched twice),
# so a flush is one round trip between BEGIN and COMMIT. executemany would send a row at a time
# and process every parameter in Python; an IN/VALUES list is compiled per size.
_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
_LEDGER_COLUMNS = ("l_reminder", "l_person", "l_slot", "l_kind", "l_sent_at")
_ADVANCE_COLUMNS = ("a_id", "a_slot", "a_send", "a_extra", "a_inc")
_FLUSH_ARRAYS = text(
    """
    WITH ledger AS (
        INSERT INTO deliveries (reminder_id, person_id, slot, kind, sent_at)
        SELECT * FROM unnest(:l_reminder, :l_person, :l_slot, :l_kind, :l_sent_at)
        ON CONFLICT (reminder_id, slot) DO NOTHING
    ), advanced AS (
        UPDATE reminders AS r
        SET next_slot = v.slot, next_send_at = v.send, snoozed_until = v.extra,
            sent_count = r.sent_count + v.inc, claimed_by = NULL, claimed_until = NULL
        FROM unnest(:a_id, :a_slot, :a_send, :a_extra, :a_inc) AS v(id, slot, send, extra, inc)
        WHERE r.id = v.id AND r.claimed_by = :token
    ), asked AS (
        UPDATE people SET unanswered = unanswered + 1
        WHERE id = ANY(:asked) AND (answered_at IS NULL OR answered_at < :now)
    )
    SELECT 1
    """
).bindparams(
    bindparam("l_reminder", type_=postgresql.ARRAY(Integer)),
    bindparam("l_person", type_=postgresql.ARRAY(Integer)),
    bindparam("l_slot", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("l_kind", type_=postgresql.ARRAY(String)),
    bindparam("l_sent_at", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("a_id", type_=postgresql.ARRAY(Integer)),
    bindparam("a_slot", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("a_send", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("a_extra", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("a_inc", type_=postgresql.ARRAY(Integer)),
    bindparam("token", type_=String),
    bindparam("asked", type_=postgresql.ARRAY(Integer)),
    bindparam("now", type_=DateTime(timezone=True)),
)


async def _record_arrays(
    s: AsyncSession | AsyncConnection,
    token: str,
    ledger: list[tuple[Any, ...]],
    advances: list[tuple[Any, ...]],
    asked: list[int],
    now: datetime,
) -> None:
    """Insert the ledger rows, advance the rows still carrying `token` and count the
    unanswered check-ins of `asked` (PostgreSQL)."""
    await s.execute(
        _FLUSH_ARRAYS,
        {
            **_columns(_LEDGER_COLUMNS, ledger),
            **_columns(_ADVANCE_COLUMNS, advances),
            "token": token,
            "asked": asked,
            "now": now,
        },
    )


def _columns(names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Rows as one list per column, named."""
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


# SQLite records a flush as two executemany calls straight to the driver: the statements are
# constant, so nothing is compiled, and each datetime is turned into SQLite's text form once
# per distinct value (a flush's slots are mostly one instant), not once per row and column.
_SQLITE_LEDGER = (
    "INSERT INTO deliveries (reminder_id, person_id, slot, kind, sent_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (reminder_id, slot) DO NOTHING"
)
_SQLITE_ADVANCE = (
    "UPDATE reminders SET next_slot = ?, next_send_at = ?, snoozed_until = ?,"
    " sent_count = sent_count + ?, claimed_by = NULL, claimed_until = NULL"
    " WHERE id = ? AND claimed_by = ?"
)
# The ids travel as one JSON text, so the statement is the same whatever the flush's size.
_SQLITE_UNANSWERED = (
    "UPDATE people SET unanswered = unanswered + 1"
    " WHERE id IN (SELECT value FROM json_each(?)) AND (answered_at IS NULL OR answered_at < ?)"
)


class _SQLiteTimes:
    """Aware datetimes as the UTC column type stores them on SQLite, each value done once."""

    def __init__(self, s: AsyncSession) -> None:
        dialect = s.get_bind().dialect
        self._process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
        self._done: dict[datetime, Any] = {}

    def __call__(self, value: datetime | None) -> Any:
        if value is None:
            return None
        found = self._done.get(value)
        if found is None:
            found = self._done[value] = self._process(value)
        return found


async def _record_sqlite(
    s: AsyncSession, token: str, ledger: list[tuple[Any, ...]], advances: list[tuple[Any, ...]]
) -> None:
    """Insert the ledger rows and advance the rows still carrying `token` (SQLite)."""
    stored = _SQLiteTimes(s)
    conn = await s.connection()
    if ledger:
        await conn.exec_driver_sql(
            _SQLITE_LEDGER,
            [(rid, pid, stored(slot), kind, stored(at)) for rid, pid, slot, kind, at in ledger],
        )
    if advances:
        await conn.exec_driver_sql(
            _SQLITE_ADVANCE,
            [
                (stored(slot), stored(send), stored(extra), inc, rid, token)
                for rid, slot, send, extra, inc in advances
            ],
        )


async def _count_unanswered(s: AsyncSession, ids: list[int], now: datetime) -> None:
    """One more check-in with no answer for each of `ids`, unless they answered since `now`
    (SQLite; PostgreSQL counts them in the flush's one statement)."""
    conn = await s.connection()
    await conn.exec_driver_sql(_SQLITE_UNANSWERED, (json.dumps(ids), _SQLiteTimes(s)(now)))


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
        return _Item(row, person, c, extra, extra, True, kind, recorded=row.extra_recorded)
    if regular is None:
        # Nothing is owed (the row changed under us): schedule it afresh.
        return _Item(row, person, c, row.next_send_at, row.next_send_at, True, kind, True)
    return _Item(row, person, c, row.next_slot, regular, False, kind, recorded=row.regular_recorded)


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
    rows = await s.execute(select(*cols).where(_among_ids(s, P.c.id, sorted(ids))))
    return {r.id: r for r in rows}


def _among_ids(s: AsyncSession, column: Any, ids: list[int]) -> Any:
    """``column IN ids`` as one parameter on SQLite too (a JSON array read by json_each): the
    statement is the same whatever the batch's size, so it is compiled once, not per call."""
    if dialect(s) == "postgresql":
        return among(s, column, ids)
    values = func.json_each(json.dumps(ids)).table_valued("value")
    return column.in_(select(values.c.value))


def _in_ledger(slot: str) -> Any:
    """Whether the ledger holds the claimed row's `slot` column (a probe of its unique key).

    The row's columns are named with their table: SQLite renders RETURNING's own columns bare,
    and a bare ``id`` inside the subquery would be the ledger's."""
    row_id, row_slot = literal_column("reminders.id"), literal_column(f"reminders.{slot}")
    return select(D.c.id).where(D.c.reminder_id == row_id, D.c.slot == row_slot).exists()
