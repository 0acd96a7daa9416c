"""Reminder fan-out stays under platform ceilings without holding up other chats.

Periods are tens of milliseconds, and timing checks are only lower bounds: a
limiter can be slow on a busy machine, but it can never be faster than its rate.
"""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest

from scheduler.ratelimit import (
    DISCORD_GLOBAL_PER_S,
    DISCORD_PER_CHANNEL,
    DISCORD_PER_CHANNEL_PERIOD_S,
    TELEGRAM_OVERALL_PER_S,
    TELEGRAM_PER_CHAT_PER_S,
    TELEGRAM_PER_GROUP_PER_MIN,
    RateLimiter,
    limiter_for,
)

PERIOD = 0.05
# Room for the event loop's clock resolution when checking lower bounds.
SLACK = 0.8


Sent = list[tuple[str, float]]


async def send_all(limiter: RateLimiter, messages: list[tuple[str, bool]]) -> Sent:
    """Acquire for every (chat, group?) at once; return (chat, loop time) in completion order."""
    loop = asyncio.get_running_loop()
    done: list[tuple[str, float]] = []

    async def one(chat: str, group: bool) -> None:
        await limiter.acquire(chat, group=group)
        done.append((chat, loop.time()))

    await asyncio.gather(*(one(chat, group) for chat, group in messages))
    return done


async def test_one_chat_is_paced_while_other_chats_go_straight_through() -> None:
    limiter = RateLimiter(overall=None, per_chat=(1, PERIOD), per_group=None)
    others = [f"runner-{i}" for i in range(10)]
    messages = [("alice", False)] * 4 + [(chat, False) for chat in others]

    done = await send_all(limiter, messages)

    order = [chat for chat, _ in done]
    # Everybody else is through before Alice's second message.
    second_alice = [i for i, chat in enumerate(order) if chat == "alice"][1]
    assert set(order[:second_alice]) == {"alice", *others}
    alice_times = [t for chat, t in done if chat == "alice"]
    gaps = [b - a for a, b in pairwise(alice_times)]
    assert all(gap >= PERIOD * SLACK for gap in gaps)


async def test_overall_limit_caps_total_throughput_across_chats() -> None:
    burst, count = 5, 20
    limiter = RateLimiter(overall=(burst, PERIOD), per_chat=None, per_group=None)
    loop = asyncio.get_running_loop()
    started = loop.time()

    done = await send_all(limiter, [(f"chat-{i}", False) for i in range(count)])

    assert len(done) == count
    rate_per_s = burst / PERIOD
    for sent, (_, at) in enumerate(done, start=1):
        # Never more than the burst plus what the rate allows for the time gone by.
        assert sent <= burst + rate_per_s * (at - started) / SLACK + 1
    assert done[-1][1] - started >= (count - burst) / rate_per_s * SLACK


async def test_group_limit_paces_a_club_channel_but_not_its_members() -> None:
    limiter = RateLimiter(overall=None, per_chat=(1, PERIOD), per_group=(3, PERIOD))
    messages = [("club", True)] * 5 + [("club-member", False)]

    done = await send_all(limiter, messages)

    order = [chat for chat, _ in done]
    # Three group messages in a burst, then the private message, then the rest.
    assert order[:4] == ["club", "club", "club", "club-member"]
    group_times = [t for chat, t in done if chat == "club"]
    assert group_times[3] - group_times[0] >= PERIOD / 3 * SLACK


async def test_group_and_private_chat_with_the_same_id_have_separate_limits() -> None:
    limiter = RateLimiter(overall=None, per_chat=(1, 10.0), per_group=(1, 10.0))
    await limiter.acquire("42")
    # A ten-second wait would time out here if the two shared one limiter.
    await asyncio.wait_for(limiter.acquire("42", group=True), timeout=5)
    assert len(limiter) == 2


async def test_per_chat_limiters_stay_bounded_with_many_chats() -> None:
    cap = 100
    limiter = RateLimiter(overall=None, per_chat=(1, PERIOD), per_group=None, max_chats=cap)
    for i in range(10_000):
        await limiter.acquire(f"chat-{i}")
        assert len(limiter) <= cap
    assert len(limiter) > 0


async def test_idle_chat_limiters_are_dropped_before_the_cap() -> None:
    limiter = RateLimiter(overall=None, per_chat=(1, PERIOD), per_group=None, max_chats=1000)
    for i in range(50):
        await limiter.acquire(f"chat-{i}")
    assert len(limiter) == 50
    # Long enough for every bucket to drain completely.
    await asyncio.sleep(PERIOD * 3)
    await limiter.acquire("newcomer")
    assert len(limiter) == 1


async def test_unlimited_limiter_holds_no_state() -> None:
    limiter = RateLimiter(overall=None, per_chat=None, per_group=None)
    for i in range(1000):
        await limiter.acquire("same-chat", group=i % 2 == 0)
    assert len(limiter) == 0


def test_platform_limits() -> None:
    assert (TELEGRAM_OVERALL_PER_S, TELEGRAM_PER_CHAT_PER_S, TELEGRAM_PER_GROUP_PER_MIN) == (
        30,
        1,
        20,
    )
    assert (DISCORD_GLOBAL_PER_S, DISCORD_PER_CHANNEL, DISCORD_PER_CHANNEL_PERIOD_S) == (50, 5, 5)
    assert isinstance(limiter_for("telegram"), RateLimiter)
    assert isinstance(limiter_for("discord"), RateLimiter)
    assert limiter_for("telegram") is not limiter_for("telegram")
    assert limiter_for("console") is None


async def test_telegram_limiter_lets_one_message_per_chat_through_at_once() -> None:
    limiter = limiter_for("telegram")
    assert limiter is not None
    # The first message to each of 30 chats fits the overall burst: no waiting.
    await asyncio.wait_for(
        asyncio.gather(*(limiter.acquire(f"chat-{i}") for i in range(TELEGRAM_OVERALL_PER_S))),
        timeout=5,
    )
    assert len(limiter) == TELEGRAM_OVERALL_PER_S


def test_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chats"):
        RateLimiter(overall=None, per_chat=(1, 1), per_group=None, max_chats=0)
