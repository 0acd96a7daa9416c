"""Reminder settings in conversation: defaults at onboarding, /settings, /remind, /quiet,
/pause, /resume, /stop, the core-work Snooze button, and the end of a back-off (any answer).

Every change reschedules the person's reminder rows from "now" (old slots are never owed
after a change) and revokes any dispatcher's claim on them, so the dispatcher's late record
cannot overwrite what the person just chose (the delivery ledger still refuses a resend).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import actions, formatting, parsing, schedule
from bot.actions import Action
from bot.context import Ctx
from bot.events import Button, Reply, Role
from bot.handlers import reminder_kinds
from bot.handlers.prompts import consent_prompt
from bot.handlers.reminder_kinds import ReminderKind, _backoff
from bot.parsing import Command
from bot.store import repo
from bot.store.models import Person, Reminder

SNOOZE = timedelta(hours=1)
# A snooze into quiet hours that end another day offers a reminder this long before they
# start, if that is at least SOONEST away: a snooze of a few minutes is no snooze.
BEFORE_QUIET = timedelta(minutes=15)
SOONEST = timedelta(minutes=10)
WELCOME_BACK = "Welcome back! Your reminders are on again, as you had them."
CHECKIN = "checkin"  # the one kind on from the start
DEFAULT_PAUSE_DAYS = 3
# What /remind takes as its first word: every registered kind (Discord offers them as choices).
KIND_KEYS = reminder_kinds.KEYS
KINDS_LISTED = ", ".join(KIND_KEYS[:-1]) + f" or {KIND_KEYS[-1]}"
NUDGE_LABEL = "Nudge if no score"
QUIET_USAGE = "Use /quiet 22:00-07:00 to set quiet hours, or /quiet off."
PAUSE_USAGE = "Use /pause 3 (days, 1-90) or /pause 2w; /resume starts reminders again."


@cache
def remind_usage() -> str:
    """/remind's help, one example per kind."""
    examples = [k.usage for k in reminder_kinds.kinds()]
    listed = ", ".join(examples[:-1]) + f" or {examples[-1]}" if len(examples) > 1 else examples[0]
    return f"Use {listed}; off or on in place of the time turns one off or back on."


def reschedule(reminder: Reminder, person: Person, now: datetime) -> None:
    """Recompute a row's next slot and send time from now, and revoke any claim on it."""
    kind = reminder_kinds.find(reminder.kind)
    if kind is None:
        # Nothing knows how to send it any more: parked, not lost.
        reminder.next_slot = reminder.next_send_at = reminder.snoozed_until = None
        reminder.claimed_by = reminder.claimed_until = None
        return
    due = schedule.fresh(
        reminder.times,
        kind.days(reminder.weekdays_only),
        reminder.enabled,
        reminder.snoozed_until,
        schedule.controls_of(person),
        now,
    )
    reminder.next_slot = due.next_slot
    reminder.next_send_at = due.next_send_at
    reminder.snoozed_until = due.snoozed_until
    reminder.claimed_by = None
    reminder.claimed_until = None


async def _add(ctx: Ctx, kind: ReminderKind) -> Reminder:
    """A new row of a kind at its default times, on and scheduled from now."""
    assert ctx.person is not None
    default = kind.default
    row = await repo.add_reminder(
        ctx.session,
        ctx.person.id,
        kind.key,
        schedule.format_times(default.times),
        default.days == schedule.WEEKDAYS,
    )
    reschedule(row, ctx.person, ctx.now)
    return row


async def reminders(ctx: Ctx) -> dict[str, Reminder]:
    """The person's reminders by kind, creating (and scheduling) any default that is missing.

    A kind that is off by default gets its row when the person first turns it on.
    """
    assert ctx.person is not None
    rows = {r.kind: r for r in await repo.reminders_of(ctx.session, ctx.person.id)}
    for kind in reminder_kinds.kinds():
        if kind.key not in rows and kind.on_by_default:
            rows[kind.key] = await _add(ctx, kind)
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
    """A new zone moves every reminder; a pending follow-up (the nudge) belonged to the old
    zone's day."""
    for row in (await reminders(ctx)).values():
        kind = reminder_kinds.find(row.kind)
        if kind is not None and kind.follow_up is not None:
            row.snoozed_until = None
    await reschedule_all(ctx)


async def on_new_person(ctx: Ctx) -> None:
    """The default at consent: the daily check-in alone. Every other kind waits for a yes
    (onboarding asks; /settings and /remind turn one on later)."""
    assert ctx.person is not None
    for key, row in (await reminders(ctx)).items():
        if key != CHECKIN and row.enabled:
            row.enabled = False
            reschedule(row, ctx.person, ctx.now)


async def choose(
    ctx: Ctx, kind: ReminderKind, times: tuple[time, ...] | None, on: bool = True
) -> Reminder | None:
    """Turn a kind on at `times` (None: the times it has) or off, scheduled from now.

    None when it was off and stays off (no row is made for a kind never turned on).
    """
    assert ctx.person is not None
    row = (await reminders(ctx)).get(kind.key)
    if row is None:
        if not on:
            return None
        row = await _add(ctx, kind)
    if times:
        row.times = schedule.format_times(times)
    row.enabled = on
    if not on:
        row.snoozed_until = None
    reschedule(row, ctx.person, ctx.now)
    return row


def describe(
    ctx: Ctx, kind: ReminderKind, row: Reminder | None, hint: bool = True, scored: bool = False
) -> str:
    """One kind as /settings shows it: "Core work: 18:00 every day, next today 18:00"; `hint`
    says how to turn one that is off back on; `scored`: today's score is in."""
    if row is None or not row.enabled:
        return f"{kind.label}: off" + (f" (/remind {kind.key} on)" if hint else "")
    return f"{kind.label}: {_times(kind, row)}, next {_next(ctx, row, scored)}"


def _next(ctx: Ctx, row: Reminder, scored: bool = False) -> str:
    when = _coming(ctx, row, scored)
    return "none" if when is None else schedule.describe_next(when, ctx.tz, ctx.now)


def _coming(ctx: Ctx, row: Reminder, scored: bool) -> datetime | None:
    """When this reminder next reaches the person. The check-in's row also holds the time
    of the nudge after it, which comes only to someone who turned it on and has not sent
    today's score; and no check-in comes on a day whose score is in (`scored`)."""
    kind = reminder_kinds.find(row.kind)
    if kind is None or kind.follow_up is None or row.next_send_at is None:
        return row.next_send_at
    person = ctx.person
    assert person is not None
    c = schedule.controls_of(person)
    regular = None
    if row.next_slot is not None:
        slot, regular = row.next_slot, schedule.send_time(row.next_slot, c)
        if scored and schedule.local_date(slot, ctx.tz) == ctx.today:
            due = schedule.due_after(row.times, kind.days(row.weekdays_only), c, slot)
            regular = due[1] if due is not None else None
    nudge = row.snoozed_until
    if nudge is None or not person.nudge or scored or nudge <= ctx.now:
        return regular
    return nudge if regular is None else min(nudge, regular)


def _times(kind: ReminderKind, row: Reminder) -> str:
    times = ", ".join(t.strftime("%H:%M") for t in schedule.parse_times(row.times))
    return f"{times} {schedule.describe_days(kind.days(row.weekdays_only))}"


def _label(row: Reminder) -> str:
    kind = reminder_kinds.find(row.kind)
    return kind.label if kind is not None else row.kind


def _state(ctx: Ctx) -> str:
    person = ctx.person
    assert person is not None
    if person.stopped:
        return "Reminders are stopped: none are sent until you send /resume."
    if person.paused_until is not None and person.paused_until > ctx.now:
        until = schedule.describe_next(person.paused_until, ctx.tz, ctx.now)
        return f"Reminders are paused until {until} (/resume to restart now)."
    return "Reminders are on (/pause 3 or /stop to take a break)."


async def cmd_settings(ctx: Ctx, _: Command) -> list[Reply]:
    """Everything reminders follow, each reminder with its next local time, and buttons that
    change each of them (the typed commands work as before)."""
    assert ctx.person is not None
    rows = await reminders(ctx)
    person = ctx.person
    local = ctx.now.astimezone(ctx.tz)
    weekday = formatting.WEEKDAY_NAMES[local.weekday()]
    quiet = (
        f"Quiet hours: {person.quiet_start:%H:%M}-{person.quiet_end:%H:%M}"
        if person.quiet_start is not None and person.quiet_end is not None
        else "Quiet hours: none"
    )
    lines = [f"Your settings. Time zone: {person.tz} (it's {weekday} {local:%H:%M} there)."]
    scored = await _scored_today(ctx)
    for kind in reminder_kinds.kinds():
        lines.append(describe(ctx, kind, rows.get(kind.key), scored=scored))
        if kind.follow_up is not None:
            lines.append(f"{NUDGE_LABEL}: {'on' if person.nudge else 'off'}")
    lines += [
        quiet,
        _state(ctx),
        "Tap to change. Typed commands work too: /remind core 19:00, /quiet 22:00-07:00, "
        "/pause 3, /timezone Berlin.",
    ]
    off = person.stopped or (person.paused_until is not None and person.paused_until > ctx.now)
    pause = (
        Button("Resume reminders", actions.encode("g", "p", 0), Role.CONFIRM)
        if off
        else Button("Pause", actions.encode("g", "pause"))
    )
    nudge = Button(
        f"{NUDGE_LABEL}: turn {'off' if person.nudge else 'on'}",
        actions.encode("g", "n", 0 if person.nudge else 1),
    )
    kinds = [Button(k.label, actions.encode("g", "k", k.key)) for k in reminder_kinds.kinds()]
    buttons = (
        (
            Button("Time zone", actions.encode("g", "zone")),
            Button("Quiet hours", actions.encode("g", "quiet")),
            pause,
        ),
        tuple(kinds[:3]),
        (*kinds[3:], nudge),
    )
    return [Reply("\n".join(lines), buttons=buttons, private=True)]


async def cmd_remind(ctx: Ctx, command: Command) -> list[Reply]:
    """/remind KIND TIME[,TIME] | off | on."""
    assert ctx.person is not None
    if not command.args:
        return [Reply(remind_usage())]
    kind = reminder_kinds.by_word(command.args[0])
    value = " ".join(command.args[1:]).strip().lower()
    if kind is None or not value:
        return [Reply(remind_usage())]
    label = kind.label
    times = None
    if value not in ("on", "off"):
        times = parsing.parse_time_list(value)
        if times is None:
            return [Reply(f"I couldn't read that time. {remind_usage()}")]
        if kind.max_times == 1 and len(times) > 1:
            return [Reply(f"One time for the {label.lower()} reminder, e.g. {kind.usage}.")]
        if len(times) > kind.max_times:
            return [Reply(f"At most {kind.max_times} {label.lower()} times a day.")]
    if value == "off":
        await choose(ctx, kind, None, on=False)
        await ctx.commit()
        return [Reply(f"{label} reminders off. /remind {kind.key} on brings them back.")]
    row = await choose(ctx, kind, tuple(times) if times is not None else None)
    assert row is not None
    await ctx.commit()
    scored = await _scored_today(ctx)
    return [Reply(f"{label} reminder: {_times(kind, row)}, next {_next(ctx, row, scored)}.")]


async def _scored_today(ctx: Ctx) -> bool:
    assert ctx.person is not None
    return ctx.today in await repo.daily_scores(ctx.session, ctx.person.id, ctx.today)


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
    ctx.person.paused_until = schedule.pause_end(ctx.now.astimezone(ctx.tz), days, ctx.tz)
    await reschedule_all(ctx)
    await ctx.commit()
    until = schedule.describe_next(ctx.person.paused_until, ctx.tz, ctx.now)
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
    return [Reply(f"{head} Next: {_label(first).lower()} {_next(ctx, first)}.")]


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


async def on_snooze(ctx: Ctx, action: Action) -> list[Reply]:
    """Snooze 1h on the core-work reminder: one extra reminder an hour from now.

    An hour that falls in quiet hours ending on another day is not moved to their end unasked
    (an evening routine is no use at 07:00): the person picks a reminder before they start
    ([Before quiet hours]) or tomorrow's ([Tomorrow]).
    """
    person = ctx.person
    if person is None:
        return consent_prompt(ctx, None)
    if person.stopped:
        return [Reply("Reminders are stopped; send /resume to turn them on.", private=True)]
    row = (await reminders(ctx)).get("core")
    if row is None or not row.enabled:
        return [Reply("Core-work reminders are off; /remind core on turns them on.", private=True)]
    choice = action.args[1] if len(action.args) > 1 else ""
    if choice == "tomorrow":
        row.snoozed_until = None
        reschedule(row, person, ctx.now)
        await ctx.commit()
        text = f"Fine, no more today: your next core-work reminder is {_next(ctx, row)}."
        return [Reply(text, private=True)]
    c = schedule.controls_of(person)
    when = ctx.now + SNOOZE
    began = schedule.quiet_began(when, ctx.tz, c.quiet)
    said = ""
    if began is not None:
        before = began - BEFORE_QUIET
        fits = before - ctx.now >= SOONEST
        ends = schedule.send_time(when, c)
        if choice == "before" and fits:
            when = before
        elif schedule.local_date(ends, ctx.tz) == ctx.today:
            when, said = ends, ", when your quiet hours end"
        else:
            return [_quiet_choice(ctx, row, before if fits else None)]
    if c.paused_until is not None and when < c.paused_until:
        return [Reply("Reminders are paused; send /resume to turn them on.", private=True)]
    row.snoozed_until = when
    reschedule(row, person, ctx.now)
    await ctx.commit()
    local = when.astimezone(ctx.tz)
    return [Reply(f"Snoozed: I'll remind you again at {local:%H:%M}{said}.", private=True)]


def _quiet_choice(ctx: Ctx, row: Reminder, before: datetime | None) -> Reply:
    """A snooze would land in quiet hours: [Before quiet hours] when there is time, [Tomorrow]."""
    person = ctx.person
    assert person is not None and person.quiet_start is not None and person.quiet_end is not None
    window = f"{person.quiet_start:%H:%M}-{person.quiet_end:%H:%M}"
    c = schedule.controls_of(person)
    regular = schedule.send_time(row.next_slot, c) if row.next_slot is not None else None
    upcoming = schedule.describe_next(regular, ctx.tz, ctx.now) if regular else "tomorrow"
    tomorrow = Button("Tomorrow", actions.encode("r", "snooze", "tomorrow"))
    if before is None:
        text = (
            f"An hour from now is in your quiet hours ({window}), so not tonight: your next "
            f"core-work reminder is {upcoming}."
        )
        return Reply(text, buttons=((tomorrow,),), private=True)
    text = (
        f"An hour from now is in your quiet hours ({window}). I can remind you at "
        f"{before.astimezone(ctx.tz):%H:%M}, before they start, or leave it until {upcoming}."
    )
    early = Button("Before quiet hours", actions.encode("r", "snooze", "before"))
    return Reply(text, buttons=((early, tomorrow),), private=True)


async def on_answer(ctx: Ctx) -> list[Reply]:
    """Any answer (a score, a tap, any message) ends a back-off (reminder_kinds/_backoff.py):
    the count starts again, and someone told their reminders went quiet is welcomed back once.

    Nothing is rescheduled: the rows kept their times, and what waited goes out again.
    """
    person = ctx.person
    if person is None:
        return []
    told = _backoff.told(person.unanswered or 0)
    await repo.mark_answered(ctx.session, person, ctx.now)
    off = person.stopped or (person.paused_until is not None and person.paused_until > ctx.now)
    return [Reply(WELCOME_BACK, private=True)] if told and not off else []


ON_NEW_PERSON = (on_new_person,)
ON_TIMEZONE = (on_timezone,)
ON_REACHABLE = (reschedule_all,)
ON_ANSWER = (on_answer,)
