"""Club mode in group chats: admins set up a daily post, members tap privately, the group
sees only totals, a trend and opt-in streaks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clubstats, formatting, parsing
from bot.actions import Action
from bot.context import Ctx
from bot.events import Address, ChatKind, Kind, Reply
from bot.handlers.scores import record_score, score_before_consent
from bot.parsing import Command
from bot.schedule import Schedule, next_due
from bot.store import club_repo, repo
from bot.store.models import Club

DEFAULT_POST_TIME = time(7, 30)
ONLY_ADMINS = "Only admins can change club settings."
IN_A_GROUP = (
    "Club check-ins run in a group: add me to your club's group or channel and send "
    "/club on 07:30 there."
)
USAGE = (
    "Club commands: /club on 07:30 (admins), /club off, /club timezone Berlin, "
    "/club streaks on|off, /club summary."
)


def club_today(club: Club, now: datetime) -> date:
    """The club's local date."""
    return now.astimezone(parsing.zone(club.tz)).date()


def schedule_next(club: Club, now: datetime) -> None:
    """Set the club's next post instant from its local post time."""
    if not club.enabled or club.post_time is None:
        club.next_post_at = None
        return
    due = next_due(Schedule((club.post_time,)), parsing.zone(club.tz), now)
    club.next_post_at = due[1] if due else None


async def club_summary(s: AsyncSession, club: Club, now: datetime) -> str:
    """The aggregate summary for the group: live counts, closed-period figures only."""
    today = club_today(club, now)
    since = today - timedelta(days=clubstats.HISTORY_DAYS)
    reports = await club_repo.member_reports(s, club.id, since)
    core = await club_repo.member_core_days(s, club.id, since)
    closed = clubstats.closings(await club_repo.post_times(s, club.id, since), now)
    streaks = None
    if club.streaks:
        names = await club_repo.sharers(s, club.id)
        days: dict[int, set[date]] = {}
        for r in reports:
            days.setdefault(r.person, set()).add(r.day)
        streaks = {
            name: clubstats.streak(frozenset(days.get(pid, ())), today)
            for pid, name in names.items()
        }
    frozen = await club_repo.frozen_averages(s, club.id, since)
    figs = clubstats.figures(reports, closed, since, frozen)
    return clubstats.summary_text("Club check-in", reports, core, today, figs, streaks)


async def club_post(s: AsyncSession, club: Club, now: datetime) -> Reply:
    """The daily club post: yesterday's counts, the closed week's trend and the 0-10 buttons."""
    today = club_today(club, now)
    since = today - timedelta(days=clubstats.HISTORY_DAYS)
    reports = await club_repo.member_reports(s, club.id, since)
    core = await club_repo.member_core_days(s, club.id, since)
    # The ledger row of this post is already in the session: it closes yesterday.
    closed = clubstats.closings(await club_repo.post_times(s, club.id, since), now)
    y = clubstats.day_stats(reports, core, today - timedelta(days=1))
    lines = [
        "Club check-in: how's your SI pain today? Tap a score. Only you see your answer; "
        "it goes into your own private history.",
        f"Yesterday {y.checked_in} checked in and {y.core_done} did their core work.",
    ]
    figs = clubstats.figures(
        reports, closed, since, await club_repo.frozen_averages(s, club.id, since)
    )
    if trend := clubstats.trend_line(figs):
        lines.append(trend)
    return Reply(
        "\n".join(lines),
        buttons=formatting.score_keyboard("k", (club.id,)),
        kind=Kind.CLUB_POST,
    )


async def cmd_club(ctx: Ctx, command: Command) -> list[Reply]:
    """/club on HH:MM | off | timezone ZONE | streaks on|off | summary."""
    inc = ctx.inc
    if inc.chat_kind is not ChatKind.GROUP:
        return [Reply(IN_A_GROUP)]
    sub, _, rest = command.raw_args.partition(" ")
    sub, rest = sub.lower(), rest.strip()
    club = await club_repo.find(ctx.session, inc.platform, inc.chat_id)
    if sub == "summary":
        if club is None:
            return [
                Reply("No club check-ins here yet. An admin can start them with /club on 07:30.")
            ]
        return [Reply(await club_summary(ctx.session, club, ctx.now))]
    if sub not in ("on", "off", "timezone", "streaks"):
        return [Reply(USAGE, kind=Kind.ERROR)]
    if not inc.is_admin:
        return [Reply(ONLY_ADMINS, kind=Kind.ERROR)]
    if club is None:
        club = await club_repo.get_or_create(
            ctx.session, inc.platform, inc.chat_id, ctx.settings.default_timezone, ctx.now
        )
    if sub == "on":
        at = parsing.parse_clock_time(rest) if rest else DEFAULT_POST_TIME
        if at is None:
            return [Reply("Use /club on HH:MM, for example /club on 07:30.", kind=Kind.ERROR)]
        club.post_time, club.enabled = at, True
        text = (
            f"Club check-ins are on: I'll post every day at {at:%H:%M} ({club.tz}). Members tap "
            "a score; only they see their answer, and the group only ever sees totals."
        )
    elif sub == "off":
        club.enabled = False
        text = "Club check-ins are off. Members' own histories are kept; /club on restarts."
    elif sub == "timezone":
        key = parsing.parse_timezone(rest)
        if key is None:
            return [
                Reply(
                    "I don't know that time zone. Try /club timezone Berlin or +02:00.",
                    kind=Kind.ERROR,
                )
            ]
        club.tz = key
        text = f"Club time zone set to {key}."
    else:
        if rest.lower() not in ("on", "off"):
            return [Reply("Use /club streaks on or /club streaks off.", kind=Kind.ERROR)]
        club.streaks = rest.lower() == "on"
        text = (
            "Streaks are on: members who send /streak share appear in the summary."
            if club.streaks
            else "Streaks are off."
        )
    schedule_next(club, ctx.now)
    await ctx.commit()
    return [Reply(text)]


async def cmd_streak(ctx: Ctx, command: Command) -> list[Reply]:
    """/streak share | hide: appear (by display name) in club streaks, or not."""
    assert ctx.person is not None
    choice = command.raw_args.strip().lower()
    if choice not in ("share", "hide"):
        return [
            Reply(
                "Use /streak share to appear in your clubs' streaks, or /streak hide.", private=True
            )
        ]
    club_id = None
    if ctx.inc.chat_kind is ChatKind.GROUP:
        club = await club_repo.find(ctx.session, ctx.inc.platform, ctx.inc.chat_id)
        if club is None:
            return [Reply("There is no club check-in in this chat yet.", private=True)]
        await club_repo.join(ctx.session, club.id, ctx.person.id, ctx.now)
        club_id = club.id
    share = choice == "share"
    name = parsing.clean_text(ctx.inc.display_name or "", 64) or None
    changed = await club_repo.set_sharing(ctx.session, ctx.person.id, club_id, share, name)
    await ctx.commit()
    if not changed:
        return [Reply("You're not in a club yet: tap a club check-in first.", private=True)]
    if share:
        return [
            Reply(
                "You'll appear in club streaks (how many days in a row you checked in; "
                "never your scores). /streak hide takes you out.",
                private=True,
            )
        ]
    return [Reply("You no longer appear in club streaks.", private=True)]


def _to_dm(ctx: Ctx, replies: list[Reply]) -> list[Reply]:
    """After a club tap: a short private acknowledgement in place, everything else by DM."""
    assert ctx.person is not None
    dm = Address(ctx.inc.platform, ctx.person.chat_id)
    acks: list[Reply] = []
    direct: list[Reply] = []
    for reply in replies:
        if reply.kind in (Kind.ADVICE, Kind.SCREEN):
            direct.append(reply.sent_to(dm))
        # A screen that rides in a score's confirmation leaves the confirmation here too.
        said = reply.headline if reply.kind is Kind.SCREEN else reply.text
        if said and reply.kind is not Kind.ADVICE:
            acks.append(Reply(said + " Only you can see this.", private=True))
    return acks + direct


async def on_club_tap(ctx: Ctx, action: Action) -> list[Reply]:
    """A member taps a score on the club post: consent first, then their own history."""
    club_id, score = int(action.args[0]), int(action.args[1])
    club = await ctx.session.get(Club, club_id)
    if club is None or club.platform != ctx.inc.platform:
        return [Reply("This button has expired.", private=True)]
    if ctx.person is None:
        # Safety before consent: a high tap brings the red-flag screen at once, privately.
        return score_before_consent(ctx, score, club_id)
    await club_repo.join(ctx.session, club.id, ctx.person.id, ctx.now)
    replies = await record_score(ctx, score, ctx.today, repo.DAILY, "club")
    return _to_dm(ctx, replies)


async def join_after_consent(ctx: Ctx, club_id: int) -> None:
    """Consent given from a club post: join that club."""
    assert ctx.person is not None
    club = await ctx.session.get(Club, club_id)
    if club is not None and club.platform == ctx.inc.platform:
        await club_repo.join(ctx.session, club.id, ctx.person.id, ctx.now)


ACTIONS = {"k": on_club_tap}


async def chat_migrated(
    sessions: async_sessionmaker[AsyncSession], platform: str, old_chat: str, new_chat: str
) -> bool:
    """A group changed its id (Telegram migrate_to_chat_id): the club follows it."""
    async with sessions() as s:
        moved = await club_repo.move(s, platform, old_chat, new_chat)
        await s.commit()
    return moved


async def bot_removed(
    sessions: async_sessionmaker[AsyncSession], platform: str, chat_id: str
) -> bool:
    """The bot was removed from a group: its club stops posting (settings are kept)."""
    async with sessions() as s:
        stopped = await club_repo.deactivate(s, platform, chat_id)
        await s.commit()
    return stopped
