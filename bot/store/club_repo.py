"""Club queries: settings, membership, members' histories for aggregates, and due posts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clubstats import MIN_REPORTERS, Report
from bot.store.models import Activity, CheckIn, Club, ClubMember, ClubPost
from bot.store.repo import DAILY, _insert, _rowcount

# The kind of the daily check-in post in the club-post ledger.
DAILY_POST = "daily"


async def find(s: AsyncSession, platform: str, chat_id: str) -> Club | None:
    """The club of a group chat, if one was set up."""
    club = await s.scalar(select(Club).where(Club.platform == platform, Club.chat_id == chat_id))
    return club


async def get_or_create(
    s: AsyncSession, platform: str, chat_id: str, tz: str, now: datetime
) -> Club:
    """The chat's club, created (off) on first use."""
    club = await find(s, platform, chat_id)
    if club is None:
        club = Club(
            platform=platform, chat_id=chat_id, tz=tz, enabled=False, streaks=False, created_at=now
        )
        s.add(club)
        await s.flush()
    return club


async def join(s: AsyncSession, club_id: int, person_id: int, now: datetime) -> None:
    """Make a person a member (idempotent)."""
    await s.execute(
        _insert(s, ClubMember)
        .values(club_id=club_id, person_id=person_id, share_streak=False, joined_at=now)
        .on_conflict_do_nothing(index_elements=["club_id", "person_id"])
    )


async def set_sharing(
    s: AsyncSession, person_id: int, club_id: int | None, share: bool, name: str | None
) -> int:
    """Opt in or out of appearing in streaks (one club, or all of the person's); rows changed."""
    stmt = update(ClubMember).where(ClubMember.person_id == person_id)
    if club_id is not None:
        stmt = stmt.where(ClubMember.club_id == club_id)
    result = await s.execute(stmt.values(share_streak=share, display_name=name if share else None))
    return _rowcount(result) or 0


async def member_reports(s: AsyncSession, club_id: int, since: date) -> list[Report]:
    """Members' daily scores since a date (their own history), with when each was stored."""
    rows = await s.execute(
        select(
            ClubMember.person_id,
            CheckIn.day,
            CheckIn.score,
            CheckIn.recorded_at,
            ClubMember.joined_at,
        )
        .join(CheckIn, CheckIn.person_id == ClubMember.person_id)
        .where(ClubMember.club_id == club_id, CheckIn.kind == DAILY, CheckIn.day >= since)
    )
    return [Report(*row) for row in rows]


async def post_times(s: AsyncSession, club_id: int, since: date) -> dict[date, datetime]:
    """When the club's daily post of each day went out (the ledger), since a date."""
    rows = await s.execute(
        select(ClubPost.day, ClubPost.posted_at).where(
            ClubPost.club_id == club_id, ClubPost.kind == DAILY_POST, ClubPost.day >= since
        )
    )
    return {day: at for day, at in rows}


async def member_core_days(
    s: AsyncSession, club_id: int, since: date
) -> dict[int, frozenset[date]]:
    """Days each member did their core work."""
    rows = await s.execute(
        select(ClubMember.person_id, Activity.day)
        .join(Activity, Activity.person_id == ClubMember.person_id)
        .where(ClubMember.club_id == club_id, Activity.kind == "core_done", Activity.day >= since)
    )
    out: dict[int, set[date]] = {}
    for pid, d in rows:
        out.setdefault(pid, set()).add(d)
    return {pid: frozenset(days) for pid, days in out.items()}


async def sharers(s: AsyncSession, club_id: int) -> dict[int, str]:
    """Members who opted in to appear in streaks: person id -> display name."""
    rows = await s.execute(
        select(ClubMember.person_id, ClubMember.display_name).where(
            ClubMember.club_id == club_id, ClubMember.share_streak.is_(True)
        )
    )
    return {pid: name or "a member" for pid, name in rows}


async def claim_due(s: AsyncSession, now: datetime, limit: int = 100) -> list[Club]:
    """Clubs whose post is due, locked for this worker on PostgreSQL (SKIP LOCKED)."""
    stmt = (
        select(Club)
        .where(Club.enabled.is_(True), Club.next_post_at.is_not(None), Club.next_post_at <= now)
        .order_by(Club.next_post_at)
        .limit(limit)
    )
    if s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await s.scalars(stmt))


async def add_post(s: AsyncSession, club_id: int, day: date, now: datetime) -> bool:
    """Record the day's post in the ledger, freezing the totals of the day it closes; False if
    that day was already posted."""
    result = await s.execute(
        _insert(s, ClubPost)
        .values(club_id=club_id, kind=DAILY_POST, day=day, posted_at=now)
        .on_conflict_do_nothing(index_elements=["club_id", "kind", "day"])
    )
    if not _rowcount(result):
        return False
    closing = day - timedelta(days=1)
    counted = [
        r
        for r in await member_reports(s, club_id, closing)
        if r.day == closing and r.joined_at < now and r.recorded_at < now
    ]
    total = sum(r.score for r in counted) if len(counted) >= MIN_REPORTERS else None
    await s.execute(
        update(ClubPost)
        .where(ClubPost.club_id == club_id, ClubPost.kind == DAILY_POST, ClubPost.day == day)
        .values(closed_reporters=len(counted), closed_score_sum=total)
    )
    return True


async def frozen_averages(s: AsyncSession, club_id: int, since: date) -> dict[date, float | None]:
    """Each closed day's average as frozen at its close (None: too few reporters to show)."""
    rows = await s.execute(
        select(ClubPost.day, ClubPost.closed_reporters, ClubPost.closed_score_sum).where(
            ClubPost.club_id == club_id,
            ClubPost.kind == DAILY_POST,
            ClubPost.day >= since,
            ClubPost.closed_reporters.is_not(None),
        )
    )
    return {
        day - timedelta(days=1): (total / n if total is not None and n else None)
        for day, n, total in rows
    }


async def move(s: AsyncSession, platform: str, old_chat: str, new_chat: str) -> bool:
    """Follow a group that changed id (Telegram supergroup migration)."""
    result = await s.execute(
        update(Club)
        .where(Club.platform == platform, Club.chat_id == old_chat)
        .values(chat_id=new_chat)
    )
    return bool(_rowcount(result))


async def deactivate(s: AsyncSession, platform: str, chat_id: str) -> bool:
    """Stop a club whose group removed the bot (its settings stay, its posts stop)."""
    result = await s.execute(
        update(Club)
        .where(Club.platform == platform, Club.chat_id == chat_id)
        .values(enabled=False, next_post_at=None)
    )
    return bool(_rowcount(result))
