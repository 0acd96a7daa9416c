"""The command catalogue, shared by /help, Telegram's menu and Discord's slash commands.

Each command's spec sits beside its handler, in the order menus and /help show them; the
button kinds, text readers and hooks of the handler modules are gathered here too, so what
the engine runs is registered in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.commandspec import CommandSpec, Option
from bot.context import ActionHandler, CommandHandler, Handlers
from bot.handlers import (
    advice,
    clubs,
    core,
    corework,
    episodes,
    onboarding,
    pain_context,
    plans,
    reminders,
    report,
    training,
)

SCORE = Option("score", "Pain score, 0 (none) to 10 (worst imaginable)", "int", True, 0, 10)

COMMANDS: tuple[tuple[CommandSpec, CommandHandler], ...] = (
    (
        CommandSpec("start", "Start here: what I do, and your consent", needs_consent=False),
        core.cmd_start,
    ),
    (
        CommandSpec(
            "checkin",
            "Today's pain score, 0-10 (buttons, or /checkin 4)",
            (Option("score", SCORE.description, "int", False, 0, 10),),
            reads_text=True,
        ),
        core.cmd_checkin,
    ),
    (
        CommandSpec(
            "log",
            "Backfill a score: /log 5 yesterday or /log 5 2026-03-04",
            (SCORE, Option("date", "yesterday, today or YYYY-MM-DD (up to 14 days back)")),
        ),
        core.cmd_log,
    ),
    (
        CommandSpec(
            "run",
            "Log a run: its pain, and distance, time, surface if you like: /run 4 after 8k 45min",
            (
                Option("score", SCORE.description, "int", False, 0, 10),
                Option("when", "during or after the run", choices=("during", "after")),
                Option("details", "Distance, time, surface or yesterday: 8k 45min trail"),
            ),
            # It asks for consent itself: before it, a run's words are read for warning signs
            # but its score is not held as the day's score.
            needs_consent=False,
            reads_text=True,
        ),
        core.cmd_run,
    ),
    (
        CommandSpec(
            "note",
            "Add a note to today's score: /note stiff after a long drive",
            (Option("text", "A short note (up to 280 characters)", required=True),),
            reads_text=True,
        ),
        core.cmd_note,
    ),
    (
        CommandSpec("undo", "Take back the last score, run, note or answer you sent today"),
        core.cmd_undo,
    ),
    (CommandSpec("history", "Your recent scores, trend and chart"), core.cmd_history),
    (
        CommandSpec("report", "A one-page PDF of your last 90 days for your physio"),
        report.cmd_report,
    ),
    (CommandSpec("today", "Today's 10-15 minute core and mobility routine"), advice.cmd_today),
    (
        CommandSpec("symptoms", "Check for warning signs that need a doctor", needs_consent=False),
        advice.cmd_symptoms,
    ),
    (
        CommandSpec("checked", "Tell me you've been checked by a doctor or physio"),
        episodes.cmd_checked,
    ),
    (CommandSpec("exercises", "The exercise library", needs_consent=False), advice.cmd_exercises),
    (
        CommandSpec(
            "exercise",
            "How to do one exercise: /exercise bird dog",
            (Option("name", "Exercise name, e.g. bird dog", required=True),),
            needs_consent=False,
        ),
        advice.cmd_exercise,
    ),
    (CommandSpec("strength", "Start or show the 6-week strength block"), plans.cmd_strength),
    (
        CommandSpec(
            "ladder",
            "The return-to-run ladder: /ladder, /ladder start or /ladder stop",
            (Option("action", "start or stop", choices=("start", "stop")),),
        ),
        plans.cmd_ladder,
    ),
    (
        CommandSpec(
            "timezone",
            "Set your time zone: /timezone Berlin",
            (Option("zone", "City, IANA zone or UTC offset", autocomplete="timezone"),),
        ),
        core.cmd_timezone,
    ),
    (CommandSpec("settings", "Your reminders and settings"), reminders.cmd_settings),
    (
        CommandSpec(
            "remind",
            "Change a reminder: /remind core 19:00 or /remind posture off",
            (
                Option("kind", reminders.KINDS_LISTED, required=True, choices=reminders.KIND_KEYS),
                Option("time", "HH:MM, a list like 10:00,14:00, on or off", required=True),
            ),
        ),
        reminders.cmd_remind,
    ),
    (
        CommandSpec(
            "quiet",
            "Quiet hours: /quiet 22:00-07:00 or /quiet off",
            (Option("hours", "HH:MM-HH:MM or off", required=True),),
        ),
        reminders.cmd_quiet,
    ),
    (
        CommandSpec(
            "pause",
            "Pause reminders for a few days: /pause 3",
            (Option("days", "Number of days (1-90)", "int", False, 1, 90),),
        ),
        reminders.cmd_pause,
    ),
    (CommandSpec("resume", "Resume reminders"), reminders.cmd_resume),
    (CommandSpec("stop", "Stop all reminders until /resume"), reminders.cmd_stop),
    (
        CommandSpec(
            "club",
            "Club check-ins in a group (admins): /club on 07:30, /club summary",
            (
                Option(
                    "action",
                    "on, off, timezone, streaks or summary",
                    required=True,
                    choices=("on", "off", "timezone", "streaks", "summary"),
                ),
                Option("value", "a time (07:30), a time zone, or on/off"),
            ),
            needs_consent=False,
            group_ok=True,
        ),
        clubs.cmd_club,
    ),
    (
        CommandSpec(
            "streak",
            "Appear in your clubs' streaks, or not: /streak share or /streak hide",
            (Option("choice", "share or hide", required=True, choices=("share", "hide")),),
            group_ok=True,
        ),
        clubs.cmd_streak,
    ),
    (CommandSpec("export", "Download everything I store about you (CSV)"), core.cmd_export),
    (
        CommandSpec("delete", "Erase everything I store about you", needs_consent=False),
        core.cmd_delete,
    ),
    (CommandSpec("help", "What I can do", needs_consent=False, group_ok=True), core.cmd_help),
    (
        CommandSpec(
            "advance",
            "Move the simulated clock: /advance 90m",
            (Option("duration", "90m, 1d, 2w", required=True),),
            needs_consent=False,
            in_help=False,
            console_only=True,
        ),
        core.cmd_console_only,
    ),
)


def _each_once(*tables: Mapping[str, ActionHandler]) -> dict[str, ActionHandler]:
    """The button kinds of every handler module; a kind claimed twice fails at import."""
    merged: dict[str, ActionHandler] = {}
    for table in tables:
        if twice := merged.keys() & table.keys():
            raise ValueError(f"button kinds registered twice: {', '.join(sorted(twice))}")
        merged.update(table)
    return merged


HANDLERS = Handlers(
    commands=COMMANDS,
    actions=_each_once(
        core.ACTIONS,
        advice.ACTIONS,
        corework.ACTIONS,
        clubs.ACTIONS,
        episodes.ACTIONS,
        onboarding.ACTIONS,
        plans.ACTIONS,
        pain_context.ACTIONS,
        training.ACTIONS,
    ),
    # An open onboarding or /settings question reads a typed answer first (a score never).
    text=(*onboarding.TEXT, *core.TEXT),
    on_new_person=reminders.ON_NEW_PERSON,
    on_timezone=reminders.ON_TIMEZONE,
    on_reachable=reminders.ON_REACHABLE,
    on_answer=(*reminders.ON_ANSWER, *plans.ON_ANSWER),
)

BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec, _ in COMMANDS}


def public_commands() -> tuple[CommandSpec, ...]:
    """Commands to show in platform menus and /help."""
    return HANDLERS.public_commands()
