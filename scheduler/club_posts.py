"""The daily club post: due clubs are claimed, posted once per local day, and rescheduled.

Order per club: the ledger row (club, day) is inserted inside a savepoint, the post is sent,
and only then committed; a failed send rolls the ledger row back so the post stays due.
A crash between send and commit can repeat one post (bounded by the clubs in flight);
a second worker cannot post the same club meanwhile (row lock with SKIP LOCKED on
PostgreSQL, and the ledger's unique key everywhere).

A ledger row's posted_at is also the instant the day before closes for the club's figures
(bot/clubstats.py): scores stored later never move them. So a row is written only by a post
that went out, and is never rewritten.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.app import App
from bot.delivery import DeliveryError, RetryLater, Sender, Unreachable
from bot.events import Address
from bot.handlers.clubs import club_post, club_today, schedule_next
from bot.store import club_repo
from scheduler.ratelimit import RateLimiter, limiter_for
from scheduler.timing import catch_up

log = logging.getLogger(__name__)


async def post_due_clubs(
    app: App,
    senders: Mapping[str, Sender],
    now: datetime | None = None,
    limiters: dict[str, RateLimiter | None] | None = None,
) -> int:
    """Post every club check-in that is due; returns how many were sent."""
    now = now or app.clock.now()
    limiters = limiters if limiters is not None else {}
    sent = 0
    async with app.sessions() as s:
        for club in await club_repo.claim_due(s, now):
            sender = senders.get(club.platform)
            due_at = club.next_post_at
            assert due_at is not None
            if sender is None:
                continue  # that platform is not served by this process: leave it due
            if not catch_up(due_at, now, app.settings.grace):
                schedule_next(club, now)  # missed beyond the grace window: skip, don't flood
                continue
            day = club_today(club, due_at)
            try:
                async with s.begin_nested():
                    if await club_repo.add_post(s, club.id, day, now):
                        reply = await club_post(s, club, now)
                        limiter = limiters.setdefault(club.platform, limiter_for(club.platform))
                        if limiter is not None:
                            await limiter.acquire(club.chat_id, group=True)
                        await sender.send(Address(club.platform, club.chat_id), reply)
                        sent += 1
            except Unreachable:
                log.info("club %s unreachable: deactivated", club.id)
                club.enabled = False
            except RetryLater as exc:
                club.next_post_at = now + timedelta(seconds=exc.retry_after)
                continue
            except DeliveryError as exc:
                log.warning("club post %s failed (%s); will retry", club.id, type(exc).__name__)
                continue
            schedule_next(club, max(now, due_at))
        await s.commit()
    return sent
