"""Failure modes people can cause by tapping: double taps, late taps, forged and stale buttons."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import actions
from bot.app import App
from bot.engine import BROKEN, EXPIRED, SAVE_FAILED
from bot.events import ChatKind, Incoming
from bot.store.models import CheckIn, Person
from tests.conftest import Chat


def tap(user: str, payload: str, group: bool = False) -> Incoming:
    chat = "-100777" if group else user
    kind = ChatKind.GROUP if group else ChatKind.PRIVATE
    return Incoming("console", user, chat, action=payload, chat_kind=kind)


async def test_two_agree_taps_at_the_same_instant_both_get_a_true_answer(app: App) -> None:
    eve = Chat(app, "eve")
    await eve.say("4")
    yes = actions.encode("c", "y", 4, 0, app.clock.now().date().toordinal())
    both = await asyncio.gather(
        app.engine.handle(tap("eve", yes)), app.engine.handle(tap("eve", yes))
    )
    said = [r.text for replies in both for r in replies]
    assert not any(SAVE_FAILED in t for t in said)
    assert sum("you're set up" in t for t in said) == 1
    assert sum("already set up" in t for t in said) == 1
    async with app.sessions() as s:
        assert len(list(await s.scalars(select(Person)))) == 1
        assert [c.score for c in await s.scalars(select(CheckIn))] == [4]


async def test_a_consent_tap_days_later_records_the_score_on_the_day_it_was_typed(app: App) -> None:
    eve = Chat(app, "eve")
    await eve.say("6")  # Monday
    eve.later(days=3)
    reply = await eve.say("I agree")
    assert "Recorded 6/10 for Mon 2 Mar" in reply
    async with app.sessions() as s:
        [checkin] = list(await s.scalars(select(CheckIn)))
    assert checkin.day.isoformat() == "2026-03-02"


async def test_a_consent_tap_weeks_later_records_nothing_and_says_so(app: App) -> None:
    eve = Chat(app, "eve")
    await eve.say("6")
    eve.later(days=20)
    reply = await eve.say("I agree")
    assert "you're set up" in reply
    assert "That score was for Mon 2 Mar" in reply
    async with app.sessions() as s:
        assert list(await s.scalars(select(CheckIn))) == []


async def test_forged_oversized_ids_are_expired_on_every_engine(app: App) -> None:
    for payload in ("1:k:999999999999:5", "1:k:9999999999:5", "1:c:y:5:9999999999"):
        replies = await app.engine.handle(tap("mallory", payload, group=True))
        assert [r.text for r in replies] == [EXPIRED], payload
        assert all(r.private for r in replies)


async def test_an_expired_button_in_a_group_is_answered_to_the_tapper_only(app: App) -> None:
    replies = await app.engine.handle(tap("mallory", "1:zz:1", group=True))
    assert [r.text for r in replies] == [EXPIRED]
    assert replies[0].private


KINDS = ["s", "c", "d", "f", "r", "k", "u", "e", "b", "x", "zz", ""]
PAYLOAD_CHARS = st.sampled_from("0123456789:abcdefghijklmnopqrstuvwxyz_-/ .%\u00e9\u0000")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example(version="1", kind="k", rest="9999999999:5", group=True, consented=True)
@example(version="1", kind="c", rest="y:5:9999999999", group=False, consented=False)
@given(
    version=st.sampled_from(["1", "2", "", "01"]),
    kind=st.sampled_from(KINDS),
    rest=st.text(PAYLOAD_CHARS, max_size=70),
    group=st.booleans(),
    consented=st.booleans(),
)
async def test_any_payload_expires_or_acts_and_never_speaks_in_public(
    app: App, version: str, kind: str, rest: str, group: bool, consented: bool
) -> None:
    payload = f"{version}:{kind}:{rest}" if kind else f"{version}:{rest}"
    user = "member" if consented else "stranger"
    if consented:
        async with app.sessions() as s:
            from bot.store import repo

            await repo.add_person(s, "console", "member", "member", "UTC", app.clock.now())
            await s.commit()
    replies = await app.engine.handle(tap(user, payload, group=group))
    texts = [r.text for r in replies]
    assert SAVE_FAILED not in texts and BROKEN not in texts, payload
    if actions.decode(payload) is None:
        assert texts == [EXPIRED], payload
    if group:
        # a tap is one person's business: nothing it answers goes to the whole group
        assert all(r.private or r.to is not None for r in replies), payload


async def test_an_old_delete_confirmation_found_days_later_erases_nothing(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("3")
    await ann.say("/delete")
    ann.later(days=1)
    assert "expired" in await ann.say("Delete everything")
    async with app.sessions() as s:
        assert len(list(await s.scalars(select(Person)))) == 1
    await ann.say("/delete")
    assert "erased" in await ann.say("Delete everything")
