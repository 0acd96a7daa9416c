"""Reminder kinds as data: the registry, and one module per kind in this package.

An entry holds everything the conversation and the dispatcher need about its kind: its label
and the words /remind takes for it, its default schedule, and for each of its sends (the
regular slot, and a one-off such as a snooze or a nudge) the facts its message reads and the
function that builds it. The dispatcher reads each fact once for a whole batch, so a message
never costs a query per person, and builders stay pure: facts in, a Reply (or nothing) out.

A kind module is named by its key and defines KIND; modules whose names start with "_" hold
what several kinds share. Kinds are found by module name, so their keys are known without
importing them (the command catalogue lists them); the modules are imported on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from bot.events import Button, Kind, Reply
from bot.schedule import WEEKDAYS, Schedule

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from content.loader import Content

T = TypeVar("T")

# (person id, their local date): what a fact is read for.
Wanted = Collection[tuple[int, date]]


@dataclass(frozen=True, eq=False)
class Fact(Generic[T]):
    """Something reminders' messages depend on, read at once for a batch of people and dates.

    `load` returns a value for every wanted (person, date) pair.
    """

    name: str
    load: Callable[[AsyncSession, Wanted], Awaitable[Mapping[tuple[int, date], T]]]


class Facts:
    """The facts read for one batch, looked up by (person, date)."""

    def __init__(self, tables: Mapping[Fact[Any], Mapping[tuple[int, date], Any]]) -> None:
        self._tables = dict(tables)

    def get(self, fact: Fact[T], person_id: int, day: date) -> T:
        """One fact's value for one person on one of their dates."""
        try:
            return cast(T, self._tables[fact][(person_id, day)])
        except KeyError:
            raise LookupError(
                f"the fact {fact.name!r} was not read for this reminder: list it in its Send"
            ) from None

    @classmethod
    async def load(cls, s: AsyncSession, wanted: Mapping[Fact[Any], Wanted]) -> Facts:
        """Read each fact once, for every (person, date) that needs it."""
        return cls({fact: await fact.load(s, pairs) for fact, pairs in wanted.items() if pairs})


class Recipient(Protocol):
    """The person a reminder is for: the columns messages read (an ORM Person or a Core row)."""

    @property
    def id(self) -> int: ...

    @property
    def episode_tier(self) -> str | None: ...

    @property
    def episode_opened(self) -> date | None: ...

    @property
    def episode_rest(self) -> bool: ...

    @property
    def strength_started(self) -> date | None: ...

    @property
    def cleared_on(self) -> date | None: ...

    @property
    def tz(self) -> str: ...

    @property
    def unanswered(self) -> int: ...

    @property
    def answered_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Due:
    """One send that is due now: what its message is built from."""

    person: Recipient
    day: date  # the person's local date when it goes out
    slot_day: date  # the local date of the slot it was scheduled for (quiet hours may move it)
    extra: bool  # the one-off send (a snooze, a nudge), not the regular slot
    sent_count: int  # regular sends of this reminder so far
    library: Content
    facts: Facts

    def fact(self, fact: Fact[T]) -> T:
        """A fact about this person on the day the reminder goes out."""
        return self.facts.get(fact, self.person.id, self.day)


Builder = Callable[[Due], Reply | None]
# After a regular slot was sent: when its one-off send follows (slot, zone, quiet hours), if ever.
FollowUp = Callable[[datetime, tzinfo, tuple[time, time] | None], datetime | None]


@dataclass(frozen=True, slots=True)
class Send:
    """One message a kind sends: its ledger name, the facts it reads, and its builder.

    A builder returning None sends nothing for that slot (already answered, or not fitting).
    `held_by_episode`: it waits while an episode is open (CLINICAL.md "Episodes"): no "time
    for your core work" after "go to the emergency department".
    `asks`: the daily question. Each one sent with no answer counts towards backing off
    (_backoff.py), and its builder decides how it backs off.
    `backs_off`: it waits once reminders went quiet for someone who stopped answering.
    """

    key: str
    build: Builder
    facts: tuple[Fact[Any], ...] = ()
    held_by_episode: bool = False
    asks: bool = False
    backs_off: bool = True


@dataclass(frozen=True, slots=True)
class ReminderKind:
    """A kind of reminder, as data: what it is called, when it fires, and what it says."""

    key: str  # stored on the reminder row; also its module's name
    label: str  # "Check-in", as /settings lists it
    default: Schedule  # new rows start with its times; its days are the kind's own
    usage: str  # an example command, as /remind's help shows it
    words: tuple[str, ...]  # what /remind accepts for it
    send: Send  # the regular slot
    extra: Send | None = None  # the one-off send: a snooze, a nudge
    follow_up: FollowUp | None = None  # schedules `extra` after each regular send
    # A new person starts with the daily check-in alone; any other kind has no row until the
    # person turns it on (onboarding asks; reminders.choose, /remind).
    on_by_default: bool = False
    max_times: int = 1  # times a day one person may set

    def days(self, weekdays_only: bool) -> frozenset[int]:
        """The days a row fires on: the kind's own, narrowed to weekdays if the row says so."""
        if not weekdays_only:
            return self.default.days
        return (self.default.days & WEEKDAYS) or self.default.days

    def send_for(self, extra: bool) -> Send:
        """The regular send, or the one-off one."""
        return self.extra if extra and self.extra is not None else self.send


def reminder(send: str, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Reply:
    """A reminder's Reply: private, typed as a reminder of the given send."""
    return Reply(text, buttons=buttons, private=True, kind=Kind.REMINDER, reminder=send)


def _keys() -> tuple[str, ...]:
    names = pkgutil.iter_modules(__path__)
    return tuple(sorted(m.name for m in names if not m.name.startswith("_")))


# Every kind's key, in the order /settings lists them.
KEYS: tuple[str, ...] = _keys()


@cache
def kinds() -> tuple[ReminderKind, ...]:
    """Every registered kind, in KEYS order."""
    found: list[ReminderKind] = []
    for key in KEYS:
        module = importlib.import_module(f"{__name__}.{key}")
        kind = getattr(module, "KIND", None)
        if not isinstance(kind, ReminderKind) or kind.key != key:
            raise TypeError(f"{module.__name__} must define KIND, a ReminderKind keyed {key!r}")
        found.append(kind)
    return tuple(found)


@cache
def _by_key() -> dict[str, ReminderKind]:
    return {k.key: k for k in kinds()}


@cache
def _by_word() -> dict[str, ReminderKind]:
    return {word: k for k in kinds() for word in (k.key, *k.words)}


def find(key: str) -> ReminderKind | None:
    """The kind stored under `key`, or None (a row of a kind no longer registered)."""
    return _by_key().get(key)


def get(key: str) -> ReminderKind:
    """The kind stored under `key`."""
    kind = find(key)
    if kind is None:
        raise KeyError(f"no reminder kind {key!r}")
    return kind


def by_word(word: str) -> ReminderKind | None:
    """The kind a person means by a word after /remind ("check-in", "routine", "weekly")."""
    return _by_word().get(word.lower().strip(":"))
