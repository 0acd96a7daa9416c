"""Core-work reminders read a whole batch's trends in a few queries and say what /today says."""

from __future__ import annotations

import random
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert

from bot.app import App
from bot.engine import Ctx
from bot.events import Address, Incoming, Reply
from bot.handlers import advice
from bot.handlers.reminder_kinds import core as core_kind
from bot.store.models import CheckIn, Escalation, Person, SymptomReport
from bot.trends import SYMPTOMS, Tier
from scheduler.dispatch import Dispatcher
from tests.conftest import START, Chat

TIER_NAMES = [t.key for t in Tier] + [advice.RETURN_TO_RUN]


class Recorder:
    """The platform edge: what each chat was sent."""

    platform = "console"

    def __init__(self) -> None:
        self.sent: dict[str, list[Reply]] = {}

    async def send(self, address: Address, reply: Reply) -> None:
        self.sent.setdefault(address.chat_id, []).append(reply)


async def test_each_core_reminder_carries_the_routine_for_that_persons_tier(app: App) -> None:
    ann, cat, dan = Chat(app, "ann"), Chat(app, "cat"), Chat(app, "dan")
    for chat in (ann, cat, dan):
        await chat.onboard()
        await chat.say("/remind core on")
        await chat.say("/remind checkin off")
    # Cat: a red flag that needs a doctor today; Dan: one that needs a physio; Ann: nothing.
    for chat, symptom in ((cat, "Pain worse at night or at rest"), (dan, "Pain stopping daily")):
        await chat.say("/symptoms")
        label = next(s.label for s in SYMPTOMS if s.label.startswith(symptom))
        await chat.say(label)
        await chat.say("Done")
    today = {
        chat.console.user: (await chat.app.engine.handle(incoming(chat, "/today")))[0].text
        for chat in (ann, cat, dan)
    }
    assert "Your routine for Monday" in today["ann"]
    assert "Gentle routine for Monday" in today["dan"]
    assert today["cat"].startswith("See a doctor today")

    recorder = Recorder()
    statements = count_statements(app)
    app.clock.advance(timedelta(hours=11, minutes=1))  # type: ignore[attr-defined]
    stats = await Dispatcher(app.engine, {"console": recorder}).run_once()

    # Cat's same-day advice opened an episode: no core-work reminder until she is cleared.
    assert (stats.sent, stats.skipped) == (2, 1)
    assert "cat" not in recorder.sent
    for user in ("ann", "dan"):
        [reply] = recorder.sent[user]
        assert reply.text == f"{core_kind.CORE}\n\n{today[user]}"
    # One batch: the claim (which probes the ledger too), the people, the facts (core marked,
    # strength workouts done) and the three trend reads, then the record; never a read per
    # person.
    assert statements[0] <= 12


async def test_batch_views_equal_one_persons_view_across_time_zones(app: App) -> None:
    rng = random.Random(20261121)
    people = await seed_histories(app, rng, 24)
    async with app.sessions() as s:
        today_of = {pid: START.astimezone(tz).date() for pid, tz in people.items()}
        batch = await advice.views_for(s, today_of)
        for pid, today in today_of.items():
            person = await s.get(Person, pid)
            assert person is not None
            inc = Incoming(person.platform, person.user_id, person.chat_id)
            single = await advice.history_view(Ctx(app.engine, s, inc, person, START), today)
            assert batch[pid] == single, f"person {pid} on {today}"
            assert advice.tier_of(batch[pid], today) == advice.tier_of(single, today)
    # The histories were varied enough to reach several tiers.
    tiers = {advice.tier_of(view, today_of[pid]) for pid, view in batch.items()}
    assert len(tiers) >= 3


def incoming(chat: Chat, text: str) -> Incoming:
    user = chat.console.user
    return Incoming("console", user, user, text=text)


def count_statements(app: App) -> list[int]:
    seen = [0]

    @event.listens_for(app.db.sync_engine, "before_cursor_execute")
    def _count(*_: object) -> None:
        seen[0] += 1

    return seen


async def seed_histories(app: App, rng: random.Random, n: int) -> dict[int, ZoneInfo]:
    """n people in several zones, with scores, runs, red flags and announcements over 100 days."""
    zones = ["UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"]
    start: date = START.date()
    people: dict[int, ZoneInfo] = {}
    async with app.sessions() as s, s.begin():
        for i in range(n):
            tz = zones[i % len(zones)]
            person = Person(
                platform="console",
                user_id=f"h{i}",
                chat_id=f"h{i}",
                tz=tz,
                consent_at=START,
                created_at=START,
                reachable=True,
            )
            s.add(person)
            await s.flush()
            people[person.id] = ZoneInfo(tz)
            checkins, symptoms, escalations = [], [], []
            level = rng.randint(0, 6)
            for back in range(100, -2, -1):  # up to tomorrow: a zone may be a day ahead
                day = start - timedelta(days=back)
                if rng.random() < 0.75:
                    level = max(0, min(10, level + rng.choice((-2, -1, 0, 0, 1, 2))))
                    checkins.append(row(person.id, day, "daily", level))
                for kind in ("run_during", "run_after"):
                    if rng.random() < 0.15:
                        checkins.append(row(person.id, day, kind, rng.randint(0, 10)))
                if back <= 3 and rng.random() < 0.3:
                    code = rng.choice(SYMPTOMS).code
                    symptoms.append(
                        {"person_id": person.id, "day": day, "code": code, "recorded_at": START}
                    )
                if rng.random() < 0.05:
                    escalations.append(
                        {
                            "person_id": person.id,
                            "day": day,
                            "tier": rng.choice(TIER_NAMES),
                            "reasons": "seeded",
                            "created_at": START,
                        }
                    )
            for rows, model in (
                (checkins, CheckIn),
                (symptoms, SymptomReport),
                (escalations, Escalation),
            ):
                if rows:
                    await s.execute(insert(model), rows)
    return people


def row(person_id: int, day: date, kind: str, score: int) -> dict[str, object]:
    return {
        "person_id": person_id,
        "day": day,
        "kind": kind,
        "score": score,
        "source": "chat",
        "recorded_at": START,
    }
