"""The walking skeleton's conversation: consent, scores, time zone, history, export, delete."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

from bot import actions, formatting, parsing, redflags, runs, trends
from bot.actions import Action
from bot.context import Ctx
from bot.events import Attachment, Button, ChatKind, Kind, Reply, Role
from bot.handlers import advice, clubs, onboarding, pain_context, plans, training
from bot.handlers.prompts import OVER_SCALE, ask_score, consent_prompt, disclaimer
from bot.handlers.scores import record_score, score_before_consent, tapped_score, typed_score
from bot.parsing import Command
from bot.store import repo
from bot.store.models import Person

HISTORY_DAYS = 14


async def cmd_start(ctx: Ctx, _: Command) -> list[Reply]:
    """Greet, say plainly what the bot is and is not, and ask for consent once."""
    if ctx.person is not None:
        # Advice still in force comes first: someone may be here because a group told them
        # a private message was waiting.
        return [
            *await advice.standing_advice(ctx),
            Reply(
                "Welcome back. Send your pain score (0-10) any time, or /help for everything "
                "I can do.",
                buttons=formatting.score_keyboard(),
            ),
        ]
    hello = (
        "Hi! I'm si-checkin. Once a day I'll ask for a 0-10 pain score (and, if you like, "
        "remind you of your core work and posture); I keep your history, read the trend and "
        "tell you plainly when to ease off, see a physio or get help."
    )
    # One message on a phone: who I am, what I am not, and the consent question.
    prompt = consent_prompt(ctx, None)[0]
    return [Reply(f"{hello}\n\n{prompt.text}", buttons=prompt.buttons, private=True)]


async def on_consent(ctx: Ctx, action: Action) -> list[Reply]:
    """The consent buttons: create the person (and record a pending score) or store nothing."""
    key = (ctx.inc.platform, ctx.inc.user_id)
    if action.args[0] == "n":
        ctx.engine.pending_flags.pop(key, None)  # they said no: forget what they tapped
        return [
            Reply(
                "No problem: I haven't stored anything. If you change your mind, send /start.",
                private=True,
            )
        ]
    created = False
    if ctx.person is None:
        tz = onboarding.first_zone(ctx)
        chat = ctx.inc.chat_id if ctx.inc.chat_kind is ChatKind.PRIVATE else ctx.inc.user_id
        # Two taps of "I agree" at the same instant: the unique key decides, and the second
        # finds the first's row instead of failing.
        ctx.person, created = await repo.add_person(
            ctx.session, ctx.inc.platform, ctx.inc.user_id, chat, tz, ctx.now
        )
    if not created:
        replies = [Reply("You're already set up.", private=True)]
    else:
        await ctx.engine.on_new_person(ctx)
        await ctx.commit()
        # Its own message: the questions that follow each come with their buttons.
        replies = [Reply("Thanks, you're set up.", private=True)]
    # Red flags tapped before consent (advice given then) are kept now, each on its day,
    # whichever "I agree" button was tapped.
    pending = ctx.engine.pending_flags.pop(key, {})
    flag_only = len(action.args) > 2 and action.args[1] == "f"
    if flag_only:
        pending.setdefault(action.args[2], ctx.today)
    if len(action.args) == 1 or flag_only:
        # A question without the score ("I agree" under a flag's advice, or the plain one):
        # a score held for an earlier question is still recorded, as a typed "yes" would.
        held = actions.decode(ctx.engine.pending_consent.get(key))
        if held is not None and len(held.args) > 1 and held.args[1] != "f":
            action, flag_only = held, False
    # "None of these" first: a flag tapped after it on the same day takes its place.
    for code, day in sorted(
        pending.items(), key=lambda item: (item[1], item[0] != trends.NONE_OF_THESE)
    ):
        if parsing.check_backfill(day, ctx.today):
            continue
        if code == trends.NONE_OF_THESE:
            await repo.add_symptom(ctx.session, ctx.person.id, day, trends.NONE_OF_THESE, ctx.now)
            await ctx.commit()
        elif trends.symptom(code) is not None:
            replies += await advice.record_flag(ctx, code, day=day)
    if flag_only:
        return replies
    club_id = int(action.args[2]) if len(action.args) > 2 else 0
    if club_id:
        await clubs.join_after_consent(ctx, club_id)
    if len(action.args) > 1:
        source = "club" if club_id else "chat"
        day = ctx.today
        if len(action.args) > 3:
            day = min(date.fromordinal(int(action.args[3])), ctx.today)
        refusal = parsing.check_backfill(day, ctx.today)
        if refusal:
            return [*replies, Reply(f"That score was for {formatting.day(day)}. {refusal}")]
        score = int(action.args[1])
        replies += await record_score(ctx, score, day, "daily", source)
        # Advice to get help, or the red-flag screen, is not followed by setup questions:
        # the daily check-in is on already, and /settings is there later.
        if created and not any(r.urgent or r.kind is Kind.SCREEN for r in replies):
            replies += await onboarding.begin(ctx)
        return replies
    return [*replies, *(await onboarding.begin(ctx) if created else [ask_score()])]


async def cmd_checkin(ctx: Ctx, command: Command) -> list[Reply]:
    """/checkin shows the score buttons; /checkin 4 records directly (words are read too)."""
    if not command.args:
        return [ask_score()]
    value = parsing.score_in(command.raw_args)
    over = value is None and parsing.read_score(command.raw_args).over_scale
    if over:
        value = parsing.MAX_SCORE  # "/checkin 11" means as bad as it gets: the screen comes
    if value is None:
        usage = Reply("Scores are a whole number from 0 to 10, for example /checkin 4.")
        return await advice.read_text(ctx, command.raw_args, [usage])
    flags = redflags.read(command.raw_args)
    replies = await typed_score(ctx, value, flags.emergency_codes)
    if over:
        replies = [Reply(OVER_SCALE, private=True), *replies]
    return await advice.read_text(ctx, command.raw_args, replies, flags)


async def on_score_button(ctx: Ctx, action: Action) -> list[Reply]:
    """A tap on the 0-10 keyboard, recorded for whoever tapped, for the day it asked about."""
    asked = date.fromordinal(int(action.args[1])) if len(action.args) > 1 else None
    return await tapped_score(ctx, int(action.args[0]), asked)


async def cmd_log(ctx: Ctx, command: Command) -> list[Reply]:
    """/log SCORE [yesterday|YYYY-MM-DD]: backfill up to 14 days."""
    usage = "Use /log SCORE [yesterday or YYYY-MM-DD], for example /log 5 yesterday."
    if not command.args:
        return [Reply(usage)]
    value = parsing.parse_score(command.args[0])
    over = value is None and parsing.read_score(command.args[0]).over_scale
    if over:
        value = parsing.MAX_SCORE  # "/log 11 yesterday" is that day's 10, as a typed 11 is
    if value is None:
        return [Reply("Scores are a whole number from 0 to 10. " + usage)]
    when = parsing.parse_log_date(" ".join(command.args[1:]) or None, ctx.today)
    if isinstance(when, str):
        return [Reply(when)]
    refusal = parsing.check_backfill(when, ctx.today)
    if refusal:
        return [Reply(refusal)]
    replies = await record_score(ctx, value, when, "daily", "log")
    return [Reply(OVER_SCALE, private=True), *replies] if over else replies


async def cmd_run(ctx: Ctx, command: Command) -> list[Reply]:
    """/run SCORE [during|after] [DISTANCE] [DURATION] [SURFACE] [yesterday]: a run's pain and
    what it was (/run 4 after 8k 45min trail); without a score, buttons ask for it."""
    if ctx.person is None:
        # Before consent a run's words are read for warning signs only: its score is a run's,
        # not the day's, so nothing is held for it; after "I agree" /run is sent again.
        flagged = await advice.read_text(ctx, command.raw_args, [])
        return flagged or consent_prompt(ctx, None)
    reading = runs.read_run(command.raw_args)
    flags = redflags.read(command.raw_args)  # read once: the score's rules and the reply use it
    day = ctx.today - timedelta(days=1) if reading.yesterday else ctx.today
    phase = reading.phase or "after"
    value = reading.score
    if reading.unread or (command.args and not reading.said_anything):
        return await advice.read_text(ctx, command.raw_args, [training.cannot_read(reading)], flags)
    if value is None and not reading.has_details:
        ask = await advice.read_text(
            ctx, command.raw_args, [training.ask_run_score(day, phase, ctx.today)], flags
        )
        return training.settle(ctx, ask, None, "km", asked=True)
    replies = await training.log_run(ctx, reading, day, flags)
    replies += training.episode_note(ctx, replies)
    # Distance ranges are offered under a score whose run has no distance yet.
    offer, unit = await training.offer_for(ctx, day)
    replies = await advice.read_text(ctx, command.raw_args, replies, flags)
    replies = training.settle(ctx, replies, offer if value is not None else None, unit)
    if value is None:
        return replies
    replies.extend(await plans.after_run(ctx, day, repo.RUN_KINDS[phase], value))
    return replies


async def cmd_note(ctx: Ctx, command: Command) -> list[Reply]:
    """/note TEXT: a short note on today's score, capped so stored free text stays small."""
    assert ctx.person is not None
    note = parsing.clean_text(command.raw_args, parsing.NOTE_LIMIT)
    if not note:
        return [Reply("Use /note TEXT, for example /note stiff after a long drive.")]
    limit = parsing.NOTE_LIMIT
    saved = await repo.set_note(ctx.session, ctx.person.id, ctx.today, note, ctx.now, limit)
    if saved is None:
        answer = Reply("Send today's score first, then add a note to it.")
    else:
        await ctx.commit()
        stored, added_to = saved
        shortened = len(command.raw_args) > len(note) or not stored.endswith(note)
        cut = f" (shortened to {limit} characters)" if shortened else ""
        after = ", after the one there" if added_to else ""
        answer = Reply(f"Note added to today's score{after}{cut}.", private=True)
    # A note is read like any message: "can't pee since this morning" must not be just filed.
    return await advice.read_text(ctx, command.raw_args, [answer])


UNDO_LABEL = "Undo it"
KEEP_LABEL = "Keep it"
UNDO_STALE = "That has changed since I asked, so I left it as it is: send /undo again."
QUOTE_LIMIT = 40  # how much of a note the confirmation quotes


async def cmd_undo(ctx: Ctx, _: Command) -> list[Reply]:
    """/undo: the last thing recorded today, taken back after a confirmation that names it."""
    last = await _last_recorded(ctx)
    if last is None:
        return [Reply("Nothing to undo today.", private=True)]
    # The button names what it takes and when that was recorded: once anything else has
    # been recorded, or the day is over, it takes nothing.
    undo = actions.encode(
        "x", "y", last.what, last.row, last.day.toordinal(), _second_of_day(last.at)
    )
    then = ""
    if last.what == "s" and last.previous is not None:
        then = f" It goes back to {formatting.score(last.previous)}."
    elif details := _details(await _run_going_with(ctx, last)):
        then = f" The run's details go with it: {details}."
    return [
        Reply(
            f"Undo {_undo_name(last, ctx.today)}?{then}",
            buttons=(
                (
                    Button(UNDO_LABEL, undo, Role.DANGER),
                    Button(KEEP_LABEL, actions.encode("x", "n"), Role.CANCEL),
                ),
            ),
            private=True,
        )
    ]


async def on_undo(ctx: Ctx, action: Action) -> list[Reply]:
    """[Undo it] [Keep it]: take back exactly what the confirmation named, if it is still the
    last thing recorded today; then read the trend again without it."""
    if action.args[0] == "n":
        return [Reply("Kept: nothing was changed.", private=True)]
    if ctx.person is None:
        return [Reply("There's nothing stored about you.", private=True)]
    last = await _last_recorded(ctx)
    named = (action.args[1], int(action.args[2]), int(action.args[3]), int(action.args[4]))
    if last is None or named != (
        last.what,
        last.row,
        last.day.toordinal(),
        _second_of_day(last.at),
    ):
        return [Reply(UNDO_STALE, private=True)]
    pid = ctx.person.id
    name = _undo_name(last, ctx.today)
    if last.what == "s":
        going = await _run_going_with(ctx, last)
        back = await repo.undo_score(ctx.session, pid, last.row)
        when = formatting.day(last.day, ctx.today)
        if back is not None:
            back_to = formatting.score(back)
            done = f"Done: {when}'s score{_run_words(last.kind)} is back to {back_to}."
        elif details := _details(going):
            done = f"Done: removed {name}, and the run ({details})."
        else:
            done = f"Done: removed {name}."
        if back is None and last.kind in repo.RUN_KINDS.values():
            done += await plans.after_undo(ctx, last.day, last.kind, run_goes=going is not None)
    elif last.what == "n":
        await repo.remove_note(ctx.session, pid, last.row)
        done = f"Done: removed {name}."
    else:
        await repo.remove_answer(ctx.session, pid, last.row)
        done = f"Done: removed {name}."
    await ctx.commit()
    if last.what == "n":
        return [Reply(done, private=True)]
    return await _read_again(ctx, last, done)


async def _last_recorded(ctx: Ctx) -> repo.Recorded | None:
    """The last score, note or red-flag answer recorded since the person's local midnight."""
    assert ctx.person is not None
    midnight = datetime.combine(ctx.today, time(0), tzinfo=ctx.tz).astimezone(UTC)
    found = await repo.recorded_since(ctx.session, ctx.person.id, midnight)
    return found[0] if found else None


async def _run_going_with(ctx: Ctx, last: repo.Recorded) -> runs.Run | None:
    """The run that undoing this score removes: its last pain score goes, so the run goes,
    details and all (repo.undo_score); None when the run stays or it is no run score."""
    assert ctx.person is not None
    if last.what != "s" or last.previous is not None or last.kind not in repo.RUN_KINDS.values():
        return None
    found = await repo.runs_since(ctx.session, ctx.person.id, last.day)
    run = next((r for r in found if r.day == last.day), None)
    if run is None:
        return None
    other = run.after if last.kind == repo.RUN_KINDS["during"] else run.during
    return run if other is None else None


def _details(run: runs.Run | None) -> str:
    """A run's distance, time and surface ("8 km, 45 min, trail"); "" when none were told."""
    return training.details_text(run) if run is not None else ""


def _second_of_day(at: datetime) -> int:
    """An instant to the second, within its (UTC) day: enough to tell today's records apart."""
    return int(at.timestamp()) % 86_400


def _run_words(kind: str) -> str:
    return {"run_during": " during your run", "run_after": " after your run"}.get(kind, "")


def _undo_name(last: repo.Recorded, today: date) -> str:
    """What /undo takes, as the confirmation and its answer name it."""
    when = formatting.day(last.day, today)
    if last.what == "n":
        note = last.note or ""
        quoted = note if len(note) <= QUOTE_LIMIT else note[: QUOTE_LIMIT - 1].rstrip() + "…"
        return f"the note on {when}'s score (“{quoted}”)"
    if last.what == "f":
        found = trends.symptom(last.kind)
        answer = found.label if found is not None else trends.NONE_OF_THESE_LABEL
        return f"your safety-check answer for {when}: {answer.lower()}"
    assert last.score is not None
    name = f"{when}'s score{_run_words(last.kind)}, {formatting.score(last.score)}"
    if last.previous is None and last.note:
        name += ", and its note"
    return name


async def _read_again(ctx: Ctx, undone: repo.Recorded, done: str) -> list[Reply]:
    """After a score or an answer is taken back: training advice it alone led to is withdrawn;
    get-help advice stands until the person says they have been checked (CLINICAL.md
    "Episodes"), and the answer says so."""
    person = ctx.person
    assert person is not None
    view = await advice.history_view(ctx, ctx.today)
    days = {undone.day, ctx.today}
    view, withdrawn = await advice.withdraw_stale(ctx, view, days)
    await ctx.commit()
    text = done + advice.withdrawn_words(ctx, withdrawn)
    standing = [a for a in view.announcements if a.day in days and advice.get_help(a.tier)]
    if not standing:
        return [Reply(text, private=True)]
    given = max(standing, key=lambda a: (a.tier, a.day))
    parts = [
        advice.headline(ctx, given.tier),
        f"I said this {formatting.day(given.day, ctx.today)}, and it still stands.",
    ]
    if person.episode_tier is not None:
        parts.append("Send /checked once a doctor or physio has checked you.")
    buttons: tuple[tuple[Button, ...], ...] = ()
    if undone.what == "f" and person.episode_opened == ctx.today:
        # The one way back from today's get-help advice is to say the answers were a mistake.
        text += " If that answer was a mistake, clear it."
        buttons = ((Button(advice.CLEAR_LABEL, actions.encode("u", "today")),),)
    first = advice.advice_reply("\n\n".join(parts), given.tier)
    return [first, Reply(text, buttons=buttons, private=True)]


async def cmd_timezone(ctx: Ctx, command: Command) -> list[Reply]:
    """/timezone ZONE: IANA name, city or UTC offset."""
    assert ctx.person is not None
    if not command.raw_args:
        local = ctx.now.astimezone(ctx.tz)
        return [
            Reply(
                f"Your time zone is {ctx.person.tz} (it's {local:%H:%M} there). "
                "Change it with /timezone Berlin, /timezone Europe/Berlin or /timezone +02:00."
            )
        ]
    key = parsing.parse_timezone(command.raw_args)
    if key is None:
        hint = parsing.suggest_timezones(command.raw_args, limit=3)
        more = f" Did you mean {', '.join(hint)}?" if hint else ""
        return [
            Reply(
                "I don't know that time zone. Try a city (Berlin), an IANA name "
                f"(Europe/Berlin) or an offset (+02:00).{more}"
            )
        ]
    ctx.person.tz = key
    await ctx.engine.on_timezone_changed(ctx)
    await ctx.commit()
    local = ctx.now.astimezone(parsing.zone(key))
    weekday = formatting.WEEKDAY_NAMES[local.weekday()]
    # "CET" is said back in words, so the person sees which zone it was taken for.
    label = parsing.zone_label(command.raw_args)
    shown = f"{label} ({key})" if label else key
    return [Reply(f"Time zone set to {shown}: it's {weekday} {local:%H:%M} there now.")]


async def cmd_history(ctx: Ctx, _: Command) -> list[Reply]:
    """Recent scores as text with a sparkline and the 7-day average, plus the chart."""
    assert ctx.person is not None
    today = ctx.today
    since = today - timedelta(days=HISTORY_DAYS - 1)
    daily = await repo.daily_scores(ctx.session, ctx.person.id, since - timedelta(days=14))
    runs = [r for r in await repo.run_scores(ctx.session, ctx.person.id, since) if r[0] <= today]
    days = [since + timedelta(days=i) for i in range(HISTORY_DAYS)]
    if not any(d in daily for d in days) and not runs:
        return [
            Reply("No scores yet. Send a number from 0 to 10, or /checkin, to start.", private=True)
        ]
    lines = [f"Your last {HISTORY_DAYS} days: {formatting.sparkline(daily.get(d) for d in days)}"]
    notes = await repo.notes_since(ctx.session, ctx.person.id, since)
    run_by_day: dict[date, list[str]] = {}
    for d, value, phase in runs:
        run_by_day.setdefault(d, []).append(f"run {phase} {formatting.score(value)}")
    for d in reversed(days):
        if d in daily or d in run_by_day:
            parts = [formatting.score(daily[d])] if d in daily else []
            parts += run_by_day.get(d, [])
            note = f" ({notes[d]})" if d in notes else ""
            lines.append(f"{formatting.day(d)}: {', '.join(parts)}{note}")
    avg = trends.average(daily, today)
    arrow = trends.trend_arrow(daily, today)
    arrow_text = {
        "↑": " (worse than the week before)",
        "↓": " (better than the week before)",
        "→": " (steady)",
    }.get(arrow, "")
    if avg is not None:
        lines.append(f"7-day average: {avg:.1f}/10{arrow_text}")
    # The usual today's score is compared with, so the advice and this line give one number.
    base = trends.baseline(daily, today)
    if base is not None:
        lines.append(
            f"Your usual (the middle of your last 7 scores before today): {formatting.score(base)}"
        )
    lines += await pain_context.history_lines(ctx)  # "sitting set it off on 5 of 8 bad days"
    lines += await training.history_lines(ctx, daily)  # weekly km and time beside weekly pain
    text = "\n".join(lines)
    chart = await advice.history_chart(ctx)
    return [Reply(text, image=chart, private=True)]


async def cmd_export(ctx: Ctx, _: Command) -> list[Reply]:
    """A CSV of everything stored about the person."""
    assert ctx.person is not None
    rows = await repo.export_rows(ctx.session, ctx.person.id)
    buf = io.StringIO()
    csv.writer(buf).writerows([[_as_text(cell) for cell in row] for row in rows])
    name = f"si-checkin-export-{ctx.today.isoformat()}.csv"
    return [
        Reply(
            f"Here is everything I store about you ({len(rows) - 1} rows). You can show it to "
            "your physio.",
            document=Attachment(name, buf.getvalue().encode("utf-8"), "text/csv"),
            private=True,
        )
    ]


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(cell: object) -> object:
    """A cell as a spreadsheet shows the words typed: text that would start a formula gets a
    leading quote (OWASP's advice for CSV files); numbers and dates are left as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


# What /delete's confirmation calls each table's rows: (one, more than one).
TABLE_NOUNS = {
    "checkins": ("score", "scores"),
    "runs": ("run", "runs"),
    "symptom_reports": ("safety-check answer", "safety-check answers"),
    "pain_context": ("answer about where it hurt", "answers about where it hurt"),
    "escalations": ("piece of advice", "pieces of advice"),
    "activities": ("thing marked done", "things marked done"),
    "ladder_runs": ("ladder run", "ladder runs"),
    "club_members": ("club membership", "club memberships"),
    "deliveries": ("reminder sent", "reminders sent"),
    "reminders": ("reminder", "reminders"),
}


def _rows_named(table: str, n: int) -> str:
    """ "1 score", "3 pieces of advice": n rows of a table, as a person would count them."""
    one, more = TABLE_NOUNS.get(table, (table.replace("_", " "), table.replace("_", " ")))
    return f"{n} {one if n == 1 else more}"


async def cmd_delete(ctx: Ctx, _: Command) -> list[Reply]:
    """Ask for confirmation before erasing everything."""
    if ctx.person is None:
        key = (ctx.inc.platform, ctx.inc.user_id)
        # Held in memory for a yes, never stored: gone now, so a later yes starts afresh.
        held = ctx.engine.pending_consent.pop(key, None), ctx.engine.pending_flags.pop(key, None)
        text = "I don't store anything about you."
        if any(held):
            text += " What you sent before agreeing is forgotten too."
        return [Reply(text, private=True)]
    counts = await repo.counts(ctx.session, ctx.person.id)
    what = ", ".join(_rows_named(table, n) for table, n in counts.items() if n)
    return [
        Reply(
            "This erases everything I store about you"
            + (f" ({what})" if what else "")
            + ", and stops your reminders. It can't be undone.",
            buttons=(
                (
                    Button(
                        "Delete everything",
                        actions.encode("d", "y", ctx.today.toordinal(), _consented(ctx.person)),
                        Role.DANGER,
                    ),
                    Button("Cancel", actions.encode("d", "n"), Role.CANCEL),
                ),
            ),
            private=True,
        )
    ]


async def on_delete(ctx: Ctx, action: Action) -> list[Reply]:
    """The delete confirmation buttons."""
    if action.args[0] == "n":
        return [Reply("Cancelled: nothing was deleted.", private=True)]
    if ctx.person is None:
        return [Reply("There's nothing stored about you.", private=True)]
    if len(action.args) > 1 and int(action.args[1]) != ctx.today.toordinal():
        # An old confirmation found days later must not erase everything unasked.
        return [Reply("That confirmation has expired: send /delete again.", private=True)]
    if len(action.args) > 2 and int(action.args[2]) != _consented(ctx.person):
        # Asked before an erasure and a new consent: it was about what is gone already.
        return [
            Reply(
                "That confirmation was for what you erased before: send /delete again.",
                private=True,
            )
        ]
    await repo.delete_person(ctx.session, ctx.person.id)
    await ctx.commit()
    await repo.flush_erased(ctx.session)
    ctx.person = None
    return [
        Reply(
            "Done: everything I stored about you is erased. If you write to me again, "
            "I'll ask for your consent first.",
            private=True,
            # Adapters that keep files for the person (the console's charts and exports)
            # remove them on this mark.
            kind=Kind.ERASED,
        )
    ]


def _consented(person: Person) -> int:
    """When the person consented, to the second: which set-up a delete button was asked in."""
    return int(person.consent_at.timestamp())


async def cmd_help(ctx: Ctx, _: Command) -> list[Reply]:
    """One line per command, and what the bot is not."""
    lines = [disclaimer(ctx), "", "Send a number from 0 to 10 any time to check in. Commands:"]
    lines += [f"/{c.name} - {c.description}" for c in ctx.engine.handlers.public_commands()]
    return [Reply("\n".join(lines))]


async def cmd_console_only(_: Ctx, command: Command) -> list[Reply]:
    """A console command that reached the engine: the console did not take it."""
    # The console answers these itself when started with a simulated clock.
    return [
        Reply(
            f"/{command.name} works in the console started with --clock, e.g. "
            "si-checkin console --clock 2026-03-28T06:00+01:00."
        )
    ]


async def on_text(ctx: Ctx, text: str) -> list[Reply] | None:
    """Free text: a score, red flags, a belt question, or nothing we handle.

    Safety comes before consent: red flags are answered for anyone; a score waits in the
    consent button, and a high one brings the red-flag screen at once.
    """
    said = parsing.read_score(text)
    # "pain 6 after my run": the run's score, kept beside the day's (never replacing it), and
    # read for the run's rules ("pain after a run above 5") as /run 6 after would be. Before
    # consent it is held as any score is, and a high one brings the screen at once.
    ran = runs.tied_to_run(text, said.score) if ctx.person is not None else None
    if ran is not None:
        return await cmd_run(ctx, Command("run", tuple(ran.split()), ran))
    # "11 and feverish" is a 10 like a bare "11": the scale's top, and the screen it brings.
    over = said.score is None and said.over_scale
    value = parsing.MAX_SCORE if over else said.score
    # "yesterday was 5" is a score for yesterday
    day = ctx.today - timedelta(days=1) if said.yesterday else ctx.today
    flags = redflags.read(text)  # read once: the score's rules and the reply both use it
    replies: list[Reply] = []
    if ctx.person is None:
        if value is not None:
            replies += score_before_consent(ctx, value, day=day)
    elif value is not None and said.yesterday:
        replies += await record_score(ctx, value, day, "daily", "chat", flags.emergency_codes)
    elif value is not None:
        replies += await typed_score(ctx, value, flags.emergency_codes)
    if over and replies:
        replies.insert(0, Reply(OVER_SCALE, private=True))
    replies = await advice.read_text(ctx, text, replies, flags)
    return replies or None


ACTIONS = {"c": on_consent, "s": on_score_button, "d": on_delete, "x": on_undo}
TEXT = (on_text,)
