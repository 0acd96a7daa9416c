"""The command catalogue, shared by /help, Telegram's menu and Discord's slash commands."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Option:
    """A typed argument of a command (a slash-command option on Discord)."""

    name: str
    description: str
    kind: str = "str"  # "str" | "int"
    required: bool = False
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[str, ...] = ()
    autocomplete: str | None = None  # "timezone"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: its name, one-line help, options, and where it may be used."""

    name: str
    description: str
    options: tuple[Option, ...] = field(default=())
    needs_consent: bool = True
    in_help: bool = True
    console_only: bool = False
    group_ok: bool = False
    # Its words are read like a message before consent too (red flags, a score to carry).
    reads_text: bool = False


SCORE = Option("score", "Pain score, 0 (none) to 10 (worst imaginable)", "int", True, 0, 10)

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "Start here: what I do, and your consent", needs_consent=False),
    CommandSpec(
        "checkin",
        "Today's pain score, 0-10 (buttons, or /checkin 4)",
        (Option("score", SCORE.description, "int", False, 0, 10),),
        reads_text=True,
    ),
    CommandSpec(
        "log",
        "Backfill a score: /log 5 yesterday or /log 5 2026-03-04",
        (SCORE, Option("date", "yesterday, today or YYYY-MM-DD (up to 14 days back)")),
    ),
    CommandSpec(
        "run",
        "Pain during or after today's run: /run 4 during",
        (SCORE, Option("when", "during or after the run", choices=("during", "after"))),
        reads_text=True,
    ),
    CommandSpec(
        "note",
        "Add a note to today's score: /note stiff after a long drive",
        (Option("text", "A short note (up to 280 characters)", required=True),),
        reads_text=True,
    ),
    CommandSpec("history", "Your recent scores, trend and chart"),
    CommandSpec("today", "Today's 10-15 minute core and mobility routine"),
    CommandSpec("symptoms", "Check for warning signs that need a doctor", needs_consent=False),
    CommandSpec("checked", "Tell me you've been checked by a doctor or physio"),
    CommandSpec("exercises", "The exercise library", needs_consent=False),
    CommandSpec(
        "exercise",
        "How to do one exercise: /exercise bird dog",
        (Option("name", "Exercise name, e.g. bird dog", required=True),),
        needs_consent=False,
    ),
    CommandSpec("strength", "Start or show the 6-week strength block"),
    CommandSpec(
        "timezone",
        "Set your time zone: /timezone Berlin",
        (Option("zone", "City, IANA zone or UTC offset", autocomplete="timezone"),),
    ),
    CommandSpec("settings", "Your reminders and settings"),
    CommandSpec(
        "remind",
        "Change a reminder: /remind core 19:00 or /remind posture off",
        (
            Option(
                "kind",
                "checkin, core or posture",
                required=True,
                choices=("checkin", "core", "posture"),
            ),
            Option("time", "HH:MM, a list like 10:00,14:00, or off", required=True),
        ),
    ),
    CommandSpec(
        "quiet",
        "Quiet hours: /quiet 22:00-07:00 or /quiet off",
        (Option("hours", "HH:MM-HH:MM or off", required=True),),
    ),
    CommandSpec(
        "pause",
        "Pause reminders for a few days: /pause 3",
        (Option("days", "Number of days (1-90)", "int", False, 1, 90),),
    ),
    CommandSpec("resume", "Resume reminders"),
    CommandSpec("stop", "Stop all reminders until /resume"),
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
    CommandSpec(
        "streak",
        "Appear in your clubs' streaks, or not: /streak share or /streak hide",
        (Option("choice", "share or hide", required=True, choices=("share", "hide")),),
        group_ok=True,
    ),
    CommandSpec("export", "Download everything I store about you (CSV)"),
    CommandSpec("delete", "Erase everything I store about you", needs_consent=False),
    CommandSpec("help", "What I can do", needs_consent=False, group_ok=True),
    CommandSpec(
        "advance",
        "Move the simulated clock: /advance 90m",
        (Option("duration", "90m, 1d, 2w", required=True),),
        needs_consent=False,
        in_help=False,
        console_only=True,
    ),
)

BY_NAME: dict[str, CommandSpec] = {c.name: c for c in COMMANDS}


def public_commands() -> tuple[CommandSpec, ...]:
    """Commands to show in platform menus and /help."""
    return tuple(c for c in COMMANDS if c.in_help and not c.console_only)
