"""Reminder settings in conversation: defaults at onboarding, /settings, /remind, /quiet,
/pause, /resume, /stop, and the core-work Snooze button.

Every change reschedules the person's reminder rows from "now" (old slots are never owed
after a change) and revokes any dispatcher's claim on them, so the dispatcher's late record
cannot overwrite what the person just chose (the delivery ledger still refuses a resend).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import parsing
from bot.actions import Action
from bot.engine import Ctx
from bot.events import Reply
from bot.parsing import Command
from bot.store import repo
from bot.store.models import Person, Reminder
from scheduler import plan, timing

SNOOZE = timedelta(hours=1)
DEFAULT_PAUSE_DAYS = 3
LABELS = {"checkin": "Check-in", "core": "Core work", "posture": "Posture"}
KIND_WORDS = {
    "checkin": "checkin",
    "check-in": "checkin",
    "check": "checkin",
    "score": "checkin",
    "core": "core",
    "routine": "core",
    "posture": "posture",
}
REMIND_USAGE = (
    "Use /remind checkin 07:30, /remind core 19:00, /remind posture 10:00,14:00, "
    "or /remind posture off (and /remind posture on)."
)
QUIET_USAGE = "Use /quiet 22:00-07:00 to set quiet hours, or /quiet off."
PAUSE_USAGE = "Use /pause 3 (days, 1-90) or /pause 2w; /resume starts reminders again."


def reschedule(reminder: Reminder, person: Person, now: datetime) -> None:
    """Recompute a row's next slot and send time from now, and revoke any claim on it."""
    due = plan.fresh(
        reminder.times,
        reminder.weekdays_only,
        reminder.enabled,
        reminder.snoozed_until,
        plan.controls_of(person),
        now,
    )
    reminder.next_slot = due.next_slot
    reminder.next_send_at = due.next_send_at
    reminder.snoozed_until = due.snoozed_until
    reminder.claimed_by = None
    reminder.claimed_until = None


async def reminders(ctx: Ctx) -> dict[str, Reminder]:
    """The person's reminders by kind, creating (and scheduling) any default that is missing."""
    assert ctx.person is not None
    rows = {r.kind: r for r in await repo.reminders_of(ctx.session, ctx.person.id)}
    for kind in plan.KINDS:
        if kind not in rows:
            default = plan.DEFAULTS[kind]
            row = await repo.add_reminder(
                ctx.session,
                ctx.person.id,
                kind,
                plan.format_times(default.times),
                default.weekdays_only,
            )
            reschedule(row, ctx.person, ctx.now)
            rows[kind] = row
    return rows


async def reschedule_all(ctx: Ctx) -> None:
    """Recompute every reminder of the person (after a zone, quiet, pause or stop change)."""
    assert ctx.person is not None
    for row in (await reminders(ctx)).values():
        reschedule(row, ctx.person, ctx.now)


async def person_blocked(
    sessions: async_sessionmaker[AsyncSession], platform: str, user_id: str
) -> bool:
    """The person blocked the bot: their reminders stop at once, not at the next failed send.

    Nothing is deleted; writing to the bot again marks them reachable and reschedules every
    reminder (ON_REACHABLE). False when there was nobody to stop.
    """
    async with sessions() as s:
        person = await repo.find_person(s, platform, user_id)
        if person is None or not person.reachable:
            return False
        await repo.park_unreachable(s, [person.id])
        await s.commit()
    return True


async def on_timezone(ctx: Ctx) -> None:
    """A new zone moves every reminder; a pending nudge belonged to the old zone's day."""
    rows = await reminders(ctx)
    rows["checkin"].snoozed_until = None
    await reschedule_all(ctx)


async def on_new_person(ctx: Ctx) -> None:
    """Defaults at onboarding: check-in 08:00, core 18:00, posture on weekdays."""
    await reminders(ctx)


def _next(ctx: Ctx, row: Reminder) -> str:
    if row.next_send_at is None:
        return "none"
    return timing.describe_next(row.next_send_at, ctx.tz, ctx.now)


def _times(row: Reminder) -> str:
    times = ", ".join(t.strftime("%H:%M") for t in plan.parse_times(row.times))
    return f"{times} {'on weekdays' if row.weekdays_only else 'every day'}"


def _line(ctx: Ctx, row: Reminder) -> str:
    label = LABELS[row.kind]
    if not row.enabled:
        return f"{label}: off (/remind {row.kind} on)"
    return f"{label}: {_times(row)}, next {_next(ctx, row)}"


def _state(ctx: Ctx) -> str:
    person = ctx.person
    assert person is not None
    if person.stopped:
        return "Reminders are stopped: none are sent until you send /resume."
    if person.paused_until is not None and person.paused_until > ctx.now:
        until = timing.describe_next(person.paused_until, ctx.tz, ctx.now)
        return f"Reminders are paused until {until} (/resume to restart now)."
    return "Reminders are on (/pause 3 or /stop to take a break)."


async def cmd_settings(ctx: Ctx, _: Command) -> list[Reply]:
    """Each reminder with its next local fire time, quiet hours, and pause state."""
    assert ctx.person is not None
    rows = await reminders(ctx)
    person = ctx.person
    quiet = (
        f"Quiet hours: {person.quiet_start:%H:%M}-{person.quiet_end:%H:%M} (/quiet off)"
        if person.quiet_start is not None and person.quiet_end is not None
        else "Quiet hours: none (/quiet 22:00-07:00 to set them)"
    )
    lines = [f"Your reminders ({person.tz} time):"]
    lines += [_line(ctx, rows[kind]) for kind in plan.KINDS]
    lines += [quiet, _state(ctx), "Change a time with /remind core 19:00; /timezone for your zone."]
    return [Reply("\n".join(lines), private=True)]


async def cmd_remind(ctx: Ctx, command: Command) -> list[Reply]:
    """/remind KIND TIME[,TIME] | off | on."""
    assert ctx.person is not None
    if not command.args:
        return [Reply(REMIND_USAGE)]
    kind = KIND_WORDS.get(command.args[0].lower().strip(":"))
    value = " ".join(command.args[1:]).strip().lower()
    if kind is None or not value:
        return [Reply(REMIND_USAGE)]
    rows = await reminders(ctx)
    row = rows[kind]
    label = LABELS[kind]
    if value == "off":
        row.enabled = False
        row.snoozed_until = None
        reschedule(row, ctx.person, ctx.now)
        await ctx.commit()
        return [Reply(f"{label} reminders off. /remind {kind} on brings them back.")]
    if value != "on":
        times = parsing.parse_time_list(value)
        if times is None:
            return [Reply(f"I couldn't read that time. {REMIND_USAGE}")]
        if kind != "posture" and len(times) > 1:
            return [Reply(f"One time for the {label.lower()} reminder, e.g. /remind {kind} 07:30.")]
        if len(times) > plan.MAX_TIMES:
            return [Reply(f"At most {plan.MAX_TIMES} posture times a day.")]
        row.times = plan.format_times(times)
    row.enabled = True
    reschedule(row, ctx.person, ctx.now)
    await ctx.commit()
    return [Reply(f"{label} reminder: {_times(row)}, next {_next(ctx, row)}.")]


async def cmd_quiet(ctx: Ctx, command: Command) -> list[Reply]:
    """/quiet HH:MM-HH:MM or /quiet off: nothing is sent inside the window."""
    assert ctx.person is not None
    arg = command.raw_args.strip().lower()
    person = ctx.person
    if not arg:
        if person.quiet_start is None or person.quiet_end is None:
            return [Reply(f"No quiet hours set. {QUIET_USAGE}")]
        return [Reply(f"Quiet hours: {person.quiet_start:%H:%M}-{person.quiet_end:%H:%M}.")]
    if arg in ("off", "none"):
        person.quiet_start = person.quiet_end = None
        text = "Quiet hours off."
    else:
        window = parsing.parse_time_range(arg)
        if window is None:
            return [Reply(f"I couldn't read those hours. {QUIET_USAGE}")]
        person.quiet_start, person.quiet_end = window
        text = (
            f"Quiet hours {window[0]:%H:%M}-{window[1]:%H:%M}: a reminder due then waits "
            f"until {window[1]:%H:%M}."
        )
    await reschedule_all(ctx)
    await ctx.commit()
    return [Reply(text)]


async def cmd_pause(ctx: Ctx, command: Command) -> list[Reply]:
    """/pause [N days]: no reminders until local midnight N days from today."""
    assert ctx.person is not None
    days = DEFAULT_PAUSE_DAYS
    if command.raw_args.strip():
        parsed = parsing.parse_days(command.raw_args)
        if parsed is None:
            return [Reply(PAUSE_USAGE)]
        days = parsed
    ctx.person.paused_until = plan.pause_end(ctx.now.astimezone(ctx.tz), days, ctx.tz)
    await reschedule_all(ctx)
    await ctx.commit()
    until = timing.describe_next(ctx.person.paused_until, ctx.tz, ctx.now)
    extra = " (they are also stopped: /resume turns them on)" if ctx.person.stopped else ""
    return [Reply(f"Reminders paused until {until}{extra}. /resume starts them sooner.")]


async def cmd_resume(ctx: Ctx, _: Command) -> list[Reply]:
    """/resume: end a pause or a stop; the next reminders are scheduled from now."""
    assert ctx.person is not None
    person = ctx.person
    was_off = person.stopped or (person.paused_until is not None and person.paused_until > ctx.now)
    person.stopped = False
    person.paused_until = None
    rows = await reminders(ctx)
    for row in rows.values():
        reschedule(row, person, ctx.now)
    await ctx.commit()
    upcoming = [r for r in rows.values() if r.next_send_at is not None]
    head = "Reminders back on." if was_off else "Your reminders are already on."
    if not upcoming:
        return [Reply(f"{head} All of them are off; /remind checkin on turns one on.")]
    first = min(upcoming, key=lambda r: r.next_send_at or ctx.now)
    return [Reply(f"{head} Next: {LABELS[first.kind].lower()} {_next(ctx, first)}.")]


async def cmd_stop(ctx: Ctx, _: Command) -> list[Reply]:
    """/stop: no reminders at all until /resume."""
    assert ctx.person is not None
    ctx.person.stopped = True
    await reschedule_all(ctx)
    await ctx.commit()
    return [
        Reply(
            "Stopped: no reminders at all until you send /resume. Your history stays, and you "
            "can still send a score any time."
        )
    ]


async def on_snooze(ctx: Ctx, _: Action) -> list[Reply]:
    """Snooze 1h on the core-work reminder: one extra reminder an hour from now."""
    if ctx.person is None:
        return ctx.engine.consent_prompt(ctx, None)
    if ctx.person.stopped:
        return [Reply("Reminders are stopped; send /resume to turn them on.", private=True)]
    row = (await reminders(ctx))["core"]
    c = plan.controls_of(ctx.person)
    when = plan.send_time(ctx.now + SNOOZE, c)
    if c.paused_until is not None and when < c.paused_until:
        return [Reply("Reminders are paused; send /resume to turn them on.", private=True)]
    row.snoozed_until = when
    reschedule(row, ctx.person, ctx.now)
    await ctx.commit()
    local = when.astimezone(ctx.tz)
    return [Reply(f"Snoozed: I'll remind you again at {local:%H:%M}.", private=True)]


COMMANDS = {
    "settings": cmd_settings,
    "remind": cmd_remind,
    "quiet": cmd_quiet,
    "pause": cmd_pause,
    "resume": cmd_resume,
    "stop": cmd_stop,
}
# The engine's snooze hook (the core-work [Snooze 1h] button) looks up "snooze".
ACTIONS = {"snooze": on_snooze}
ON_NEW_PERSON = (on_new_person,)
ON_TIMEZONE = (on_timezone,)
ON_REACHABLE = (reschedule_all,)
