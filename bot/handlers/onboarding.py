"""Onboarding after consent, one question a message: the time zone, when to ask for the daily
score, and whether to add core work, posture tips and the weekly recap. /settings asks the
same questions again, one at a time, from its buttons.

The open question is kept on the person's row (`asking`: its topic and the day it was asked),
so a typed answer ("Toronto", "7:45", "no thanks") finds it whichever process reads it.
Buttons carry their own answer and work whenever they are tapped. A score sent instead of an
answer is a score: the question stays open and the defaults stand (a daily check-in, nothing
else), so someone who skips every question still gets one check-in a day at a local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from bot import actions, formatting, parsing, redflags, schedule, zones
from bot.actions import Action
from bot.context import Ctx
from bot.events import Button, Reply, Role
from bot.handlers import advice, reminder_kinds, reminders
from bot.handlers.prompts import ASK_SCORE
from bot.handlers.reminder_kinds import ReminderKind
from bot.handlers.reminder_kinds.checkin import NUDGE_DELAY, NUDGE_LATEST
from bot.handlers.scores import typed_score
from bot.parsing import Command
from bot.store import repo

ZONE = "zone"
QUIET = "quiet"
# Onboarding's questions in order; a kind that is not registered is passed over.
STEPS = (ZONE, "checkin", "core", "posture", "weekly")
SETTINGS = "set-"  # marks a question asked from /settings: answered, nothing follows it
OPEN_DAYS = 2  # a typed answer still goes to its question this many days later
ZONE_ROW = 2  # zone buttons a row: city names are long on a phone
LOCATION_LABEL = "📍 Share my location"
ANOTHER_CITY = "Another city"
OTHER_TIME = "Other time"

INTRO = "A few quick taps, so reminders come when they suit you."
ZONE_QUESTION = (
    "Which time zone are you in? Tap the nearest city, or type yours (for example Toronto)."
)
TYPE_CITY = "Type your city, for example Toronto or Sao Paulo (or /timezone Toronto)."
UNKNOWN_PLACE = "I don't know that place. Try the nearest big city, or a zone like Europe/Berlin."
NO_ZONE_THERE = "I couldn't find a time zone for that spot. Type your city instead."
SCORE_NOT_TIME = (
    "I took {n} as your pain score ({n}/10). If you meant a time, type it like {n}:00 or {n}pm; "
    "/undo takes the score back."
)
UNREAD_TIME = "I couldn't read that time. Type it like 6:45, 18:30 or 9pm, or tap one above."
QUIET_QUESTION = (
    "Quiet hours: {now}. Nothing is sent inside them; a reminder due then waits until they "
    "end. Tap a window, or type one like 22:30-06:30."
)
PAUSE_QUESTION = "Pause every reminder for how long? /resume ends a pause early."
PAUSE_CHOICES = ((1, "1 day"), (3, "3 days"), (7, "1 week"), (14, "2 weeks"))
QUIET_CHOICES = ((time(22), time(7)), (time(23), time(8)), (time(21), time(6)))


@dataclass(frozen=True, slots=True)
class Offer:
    """How a kind is offered: its question, its time buttons, and whether it is optional."""

    question: str
    times: tuple[tuple[str, tuple[time, ...] | None], ...]  # (label, times); None: the default
    other: str  # what "Other time" asks for
    optional: bool = True  # offered yes/no; the check-in is always on


OFFERS: dict[str, Offer] = {
    "checkin": Offer(
        "When should I ask for your pain score each day? Tap a time or type one (for "
        "example 6:45 or 9pm).",
        (
            ("07:30", (time(7, 30),)),
            ("12:00", (time(12),)),
            ("20:00", (time(20),)),
        ),
        "Type the time for your daily check-in, for example 6:45 or 9pm.",
        optional=False,
    ),
    "core": Offer(
        "Would you like a daily reminder for your 10-15 minute core routine? It comes with "
        "today's exercises.",
        (("Yes, at 18:00", (time(18),)), ("Yes, at 20:00", (time(20),))),
        "Type the time for your core work reminder, for example 7:15 or 6pm.",
    ),
    "posture": Offer(
        "Posture tips on weekdays? Short ones, like standing up to move every 30-45 minutes.",
        (("Yes, at 11:00", (time(11),)), ("Yes, 10:30, 13:30 and 16:00", None)),
        "Type one or more times for posture tips, for example 10:00 or 10:00, 15:00.",
    ),
    "weekly": Offer(
        "Last one: a recap of your week on Sunday evenings at 19:00, a chart and three lines?",
        (("Yes please", None),),
        "Type the time for your Sunday recap, for example 18:00.",
    ),
}


# ---- reading typed answers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """What a typed message answers: a zone, times, a plain yes or no, or "something else"."""

    zone: str | None = None
    times: tuple[time, ...] | None = None
    yes: bool | None = None  # True: yes, at the usual time; False: no thanks
    other: bool = False  # asked for another city or time (a keyboard's label, typed)


_SYMBOLS = {"👍": " yes ", "✅": " yes ", "👌": " yes ", "👎": " no ", "❌": " no ", "🚫": " no "}
# Yes-words that may stand around a typed time without changing it ("yes, at 7pm").
_YES = frozenset(
    [
        "yes",
        "y",
        "ye",
        "yea",
        "yeah",
        "yeh",
        "yep",
        "yup",
        "ya",
        "yas",
        "yess",
        "yesss",
        "sure",
        "ok",
        "okay",
        "k",
        "kk",
        "alright",
        "fine",
        "definitely",
        "absolutely",
        "certainly",
        "please",
        "pls",
        "plz",
        "gladly",
        "great",
        "perfect",
    ]
)
# Words that carry no answer: "at 7 please", "around 8ish", "every day at 7".
_FILLER = frozenset(
    [
        "thanks",
        "thank",
        "you",
        "ty",
        "thx",
        "cheers",
        "at",
        "around",
        "about",
        "approx",
        "approximately",
        "maybe",
        "i'd",
        "i",
        "would",
        "like",
        "prefer",
        "it",
        "say",
        "lets",
        "let's",
        "make",
        "every",
        "each",
        "day",
        "daily",
        "please",
        "pls",
        "plz",
        "the",
        "a",
        "an",
        "for",
        "me",
        "usually",
        "ish",
        "o'clock",
        "oclock",
        "time",
        "times",
        "works",
        "good",
        "is",
        "would",
        "be",
    ]
)
_MORNING = re.compile(r"\b(?:in the )?(?:morning|mornings|am)\b")
_EVENING = re.compile(r"\b(?:in the )?(?:evening|evenings|afternoon|night|tonight|pm)\b")
_PLACE_FILLER = re.compile(
    r"^(?:i'?m in|i am in|i live in|im in|in|near|close to|it'?s|its|my city is|city:?)\s+"
)
_TIMEISH = re.compile(r"\d\s*[:h]\s*\d|\d\s*[ap]\.?m\b")
_OFFSET = re.compile(r"[+-]\d{1,2}:\d{2}")
_CLEAN = re.compile(r"[^\w\s:./,+\-'’]")


def _words(text: str) -> str:
    cleaned = parsing.clean_text(text, limit=100).lower().replace("’", "'")
    for symbol, word in _SYMBOLS.items():
        cleaned = cleaned.replace(symbol, word)
    cleaned = _CLEAN.sub(" ", cleaned)
    return " ".join(cleaned.replace("!", " ").split()).strip(" .,")


def read_zone(text: str) -> str | None:
    """A zone from a typed place ("toronto", "I'm in Berlin!", "New York 🗽"), or None."""
    words = _words(text)
    if not re.search(r"[a-z]", words) and not _OFFSET.fullmatch(words):
        return None  # "-1" or "5" is a score gone wrong more often than a UTC offset
    for candidate in (words, _PLACE_FILLER.sub("", words)):
        if candidate and (key := parsing.parse_timezone(candidate)):
            return key
    return None


def read_times(text: str, most: int = 1) -> tuple[time, ...] | None:
    """Times of day from how people type them ("7:30", "at 8pm", "half 7", "10 and 3pm"), at
    most `most` of them, or None. The reading is bot.parsing's, the one every time question
    uses; here a "yes" or a "please" around the time goes without saying."""
    words = _words(text)
    kept = [w for w in words.replace(",", " , ").split() if w not in _FILLER | _YES]
    cleaned = " ".join(kept).strip(" ,")
    found = parsing.parse_time_list(cleaned) if cleaned else None
    if not found or len(found) > most:
        return None
    return tuple(found)


# To an offer ("core-work reminders?"), "I'm good" declines; to other questions it may be
# about how they feel, so only the offers read it.
_OFFER_DECLINES = re.compile(r"^(?:no,? )?i'?m good(?: thanks| thank you| ty)?$")


def _yes_no(text: str) -> bool | None:
    """A plain yes or no ("yeah!", "no thanks", "👍"), None when the text is something else."""
    answer = parsing.read_yes_no(text)
    if answer is None and _OFFER_DECLINES.match(_words(text)):
        return False
    return answer


def read_answer(topic: str, text: str) -> Answer | None:
    """What a typed message answers to the question on `topic`, None when it isn't one."""
    folded = _words(text)
    if topic == ZONE:
        if folded in (ANOTHER_CITY.lower(), "other", "another", "other city"):
            return Answer(other=True)
        if folded == _words(LOCATION_LABEL):
            # A client that cannot share a location sends the button's label instead.
            return Answer(other=True)
        key = read_zone(text)
        return Answer(zone=key) if key else None
    if topic == QUIET:
        if _yes_no(text) is False:
            return Answer(yes=False)
        window = parsing.parse_time_range(folded)
        return Answer(times=window) if window else None
    if folded in (OTHER_TIME.lower(), "other", "another time", "different time"):
        return Answer(other=True)
    kind = reminder_kinds.find(topic)
    most = kind.max_times if kind is not None else 1
    offer = OFFERS.get(topic)
    yes_no = _yes_no(text)
    if yes_no is False and (offer is None or offer.optional):
        return Answer(yes=False)
    times = read_times(text, most)
    if times is not None:
        return Answer(times=times)
    if yes_no is True:
        return Answer(yes=True)
    return None


# ---- the open question ----------------------------------------------------------------------


def _open(ctx: Ctx) -> tuple[str, bool] | None:
    """The open question's topic, and whether /settings asked it; None when none is open."""
    person = ctx.person
    if person is None or not person.asking:
        return None
    topic, _, day = person.asking.partition(":")
    if not day.isdigit() or ctx.today.toordinal() - int(day) > OPEN_DAYS:
        return None
    settings = topic.startswith(SETTINGS)
    return topic.removeprefix(SETTINGS), settings


def _ask(ctx: Ctx, topic: str | None, settings: bool = False) -> None:
    assert ctx.person is not None
    if topic is None:
        ctx.person.asking = None
        return
    ctx.person.asking = f"{SETTINGS if settings else ''}{topic}:{ctx.today.toordinal()}"


def _steps() -> tuple[str, ...]:
    return tuple(s for s in STEPS if s == ZONE or reminder_kinds.find(s) is not None)


def _after(topic: str) -> str | None:
    steps = _steps()
    if topic not in steps:
        return None
    index = steps.index(topic) + 1
    return steps[index] if index < len(steps) else None


def first_zone(ctx: Ctx) -> str:
    """The zone a new person starts in: the one they gave, else their language's likeliest."""
    hinted = parsing.parse_timezone(ctx.inc.tz_hint) if ctx.inc.tz_hint else None
    if hinted:
        return hinted
    if ctx.inc.locale:
        return zones.likely_zones(ctx.inc.locale)[0]
    return ctx.settings.default_timezone


def _local_now(ctx: Ctx) -> str:
    local = ctx.now.astimezone(ctx.tz)
    return f"{formatting.WEEKDAY_NAMES[local.weekday()]} {local:%H:%M}"


# ---- the questions --------------------------------------------------------------------------


def zone_question(ctx: Ctx, settings: bool = False, lead: str = "") -> Reply:
    """Which zone: buttons for the zones the person's language suggests, another city, and
    (where the platform can ask) their location."""
    likely = zones.likely_zones(ctx.inc.locale)
    if ctx.person is not None and ctx.person.tz not in likely and settings:
        likely = (ctx.person.tz, *likely)
    cities = [
        Button(zones.label(key), actions.encode("o", "z", key))
        for key in likely
        if "/" in key  # offsets are typed, not offered
    ]
    rows = [tuple(cities[i : i + ZONE_ROW]) for i in range(0, len(cities), ZONE_ROW)]
    rows.append((Button(ANOTHER_CITY, actions.encode("o", "x", ZONE)),))
    rows.append((Button(LOCATION_LABEL, actions.encode("o", "l"), Role.LOCATION),))
    text = ZONE_QUESTION
    if settings and ctx.person is not None:
        text = (
            f"Your time zone is {ctx.person.tz} (it's {_local_now(ctx)} there). Tap the "
            "nearest city to change it, or type yours (for example Toronto)."
        )
    return Reply("\n\n".join(p for p in (lead, text) if p), buttons=tuple(rows), private=True)


async def kind_question(ctx: Ctx, kind: ReminderKind, settings: bool, lead: str = "") -> Reply:
    """When (and whether) a kind of reminder comes: its time buttons, another time, and no."""
    offer = OFFERS.get(kind.key)
    off = "No thanks"
    if settings:
        row = (await reminders.reminders(ctx)).get(kind.key)
        text = f"{reminders.describe(ctx, kind, row, hint=False)}. Tap a time, or type one."
        off = "Turn off" if row is not None and row.enabled else "Keep it off"
    elif offer is not None:
        text = offer.question
    else:
        default = ", ".join(f"{t:%H:%M}" for t in kind.default.times)
        text = f"{kind.label} reminders, {default} {schedule.describe_days(kind.default.days)}?"
    choices = offer.times if offer is not None else (("Yes", None),)
    buttons = [
        Button(label, actions.encode("o", "t", kind.key, _encode_times(times)))
        for label, times in choices
    ]
    buttons.append(Button(OTHER_TIME, actions.encode("o", "x", kind.key)))
    if settings or offer is None or offer.optional:
        buttons.append(Button(off, actions.encode("o", "n", kind.key), Role.CANCEL))
    # Two rows at most: a phone shows them without scrolling.
    rows = (tuple(buttons[:3]), tuple(buttons[3:])) if len(buttons) > 3 else (tuple(buttons),)
    return Reply("\n\n".join(p for p in (lead, text) if p), buttons=rows, private=True)


def _encode_times(times: tuple[time, ...] | None) -> str:
    return "d" if times is None else f"{times[0]:%H%M}"


def _decode_times(arg: str) -> tuple[time, ...] | None:
    return None if arg == "d" else (time(int(arg[:2]), int(arg[2:])),)


async def _question(ctx: Ctx, topic: str, settings: bool, lead: str = "") -> Reply:
    """Ask about a topic and keep it open for a typed answer."""
    _ask(ctx, topic, settings)
    if topic == ZONE:
        return zone_question(ctx, settings, lead)
    return await kind_question(ctx, reminder_kinds.get(topic), settings, lead)


async def begin(ctx: Ctx) -> list[Reply]:
    """The first question after consent: the zone, or the check-in time when the zone was
    given already (the console's --tz)."""
    if ctx.inc.tz_hint and parsing.parse_timezone(ctx.inc.tz_hint):
        assert ctx.person is not None
        lead = (
            f"{INTRO} Your time zone is {ctx.person.tz} (it's {_local_now(ctx)} there); "
            "/timezone changes it."
        )
        return [await _question(ctx, reminders.CHECKIN, False, lead)]
    return [await _question(ctx, ZONE, False, INTRO)]


# ---- answers --------------------------------------------------------------------------------


async def _next(ctx: Ctx, topic: str, settings: bool, lead: str) -> list[Reply]:
    """What follows an answer: onboarding's next question (or its end), or, for a question
    from /settings or an old button, the answer's confirmation alone."""
    asked = _open(ctx)
    if settings or asked is None or asked != (topic, False):
        if asked is not None and asked[0] == topic:
            _ask(ctx, None)
        await ctx.commit()
        return [Reply(lead, private=True)]
    following = _after(topic)
    if following is None:
        _ask(ctx, None)
        await ctx.commit()
        return [await _done(ctx)]
    reply = await _question(ctx, following, False, lead)
    await ctx.commit()
    return [reply]


async def _done(ctx: Ctx) -> Reply:
    """The end of onboarding: what comes when, and today's score if it isn't in yet."""
    assert ctx.person is not None
    rows = await reminders.reminders(ctx)
    on, off = [], []
    for kind in reminder_kinds.kinds():
        row = rows.get(kind.key)
        if row is not None and row.enabled:
            on.append(reminders.describe(ctx, kind, row))
        else:
            off.append(kind.label.lower())
    lines = [f"All set. Your reminders ({ctx.person.tz} time):", *on]
    if off:
        lines.append(f"Off: {', '.join(off)}.")
    lines.append("/settings shows and changes any of this.")
    scored = await repo.daily_scores(ctx.session, ctx.person.id, ctx.today)
    if ctx.today in scored:
        return Reply("\n".join(lines), private=True)
    return Reply(
        "\n".join(lines) + f"\n\n{ASK_SCORE}", buttons=formatting.score_keyboard(), private=True
    )


async def _set_zone(ctx: Ctx, key: str, how: str = "") -> list[Reply]:
    assert ctx.person is not None
    ctx.person.tz = key
    await ctx.engine.on_timezone_changed(ctx)
    said = f"Time zone set to {key}{how}: it's {_local_now(ctx)} there now."
    asked = _open(ctx)
    if asked == (ZONE, False):
        # Its own message: on Telegram it takes the location keyboard away.
        return [Reply(said, private=True), *await _next(ctx, ZONE, False, "")]
    return await _next(ctx, ZONE, asked is not None and asked[1], said)


async def _set_kind(
    ctx: Ctx, kind: ReminderKind, times: tuple[time, ...] | None, on: bool
) -> list[Reply]:
    assert ctx.person is not None
    row = await reminders.choose(ctx, kind, times, on)
    asked = _open(ctx)
    settings = asked is not None and asked[1]
    said = reminders.describe(ctx, kind, row, hint=False)
    if asked == (kind.key, False):
        said = said.split(", next ")[0]  # onboarding says when; the first one comes soon enough
    return await _next(ctx, kind.key, settings, f"{said}.")


async def on_answer(ctx: Ctx, action: Action) -> list[Reply]:
    """Onboarding's (and /settings') answer buttons: a zone, a time, another time, or no."""
    if ctx.person is None:
        return [Reply("Send /start first.", private=True)]
    what, *args = action.args
    if what == "l":
        return [Reply(TYPE_CITY, private=True)]
    if what == "z":
        key = "/".join(args) if args else ""
        try:
            parsing.zone(key)
        except ValueError:
            return [Reply("That zone is unknown. " + TYPE_CITY, private=True)]
        return await _set_zone(ctx, key)
    topic = args[0]
    if what == "x":
        # Onboarding's own question stays onboarding's; any other typed time only confirms.
        _ask(ctx, topic, settings=_open(ctx) != (topic, False))
        await ctx.commit()
        if topic == ZONE:
            return [Reply(TYPE_CITY, private=True)]
        offer = OFFERS.get(topic)
        return [Reply(offer.other if offer else UNREAD_TIME, private=True)]
    kind = reminder_kinds.find(topic)
    if kind is None:
        return [Reply("That reminder no longer exists; see /settings.", private=True)]
    if what == "n":
        return await _set_kind(ctx, kind, None, on=False)
    return await _set_kind(ctx, kind, _decode_times(args[1]), on=True)


async def on_location(ctx: Ctx) -> list[Reply] | None:
    """A shared location: its zone becomes the person's. The coordinates go no further."""
    location = ctx.inc.location
    if ctx.person is None or location is None:
        return None
    key = zones.zone_at(*location)
    if key is None:
        return [Reply(NO_ZONE_THERE, private=True)]
    return await _set_zone(ctx, key, " from your location (I don't keep the location itself)")


async def on_text(ctx: Ctx, text: str) -> list[Reply] | None:
    """A typed answer to the open question; None for anything else (a score is a score)."""
    if ctx.inc.location is not None:
        return await on_location(ctx)
    asked = _open(ctx)
    if asked is None:
        return None
    topic = asked[0]
    score = parsing.bare_number(text)
    if score is not None:
        if topic == ZONE:
            return None  # a bare 0-10 is a pain score, whatever was asked
        # To a time question it may have meant a time: it is still recorded as the score (a
        # high one brings its safety check), and the reply says how to give the time instead.
        # "four" and "😣 6" are bare numbers too: the same score a "4" is everywhere else.
        replies = await advice.read_text(ctx, text, await typed_score(ctx, score, frozenset()))
        if score == 0:
            return replies  # nobody means midnight by "0"
        return [*replies, Reply(SCORE_NOT_TIME.format(n=score), private=True)]
    if redflags.read(text).mentions:
        return None  # never taken for an answer: the safety reading comes first
    answer = read_answer(topic, text)
    if answer is None:
        if parsing.read_score(text).score is not None:
            return None
        return _unread(ctx, topic, text)
    if answer.other:
        return await on_answer(ctx, Action("o", ("x", topic)))
    if topic == ZONE:
        assert answer.zone is not None
        return await _set_zone(ctx, answer.zone)
    if topic == QUIET:
        return await _quiet(ctx, answer)
    kind = reminder_kinds.get(topic)
    if answer.yes is False:
        return await _set_kind(ctx, kind, None, on=False)
    times = answer.times
    if answer.yes and times is None:
        offer = OFFERS.get(topic)
        times = offer.times[0][1] if offer is not None else None
    return await _set_kind(ctx, kind, times, on=True)


def _unread(ctx: Ctx, topic: str, text: str) -> list[Reply] | None:
    """A one-line hint for an answer that looks meant for the question but can't be read."""
    words = _words(text)
    if topic == ZONE:
        if not words or any(c.isdigit() for c in words) or len(words) > 40:
            return None
        if len(words.split()) > 4:
            return None
        hint = parsing.suggest_timezones(text, limit=3)
        more = f" Did you mean {', '.join(hint)}?" if hint else ""
        # The zone buttons again: a typed answer took the location keyboard away.
        again = zone_question(ctx, settings=True).buttons
        return [Reply(UNKNOWN_PLACE + more, buttons=again, private=True)]
    if _TIMEISH.search(words) or _MORNING.search(words) or _EVENING.search(words):
        return [Reply(UNREAD_TIME, private=True)]
    if parsing.looks_like_score_attempt(text):
        return None  # "-1", "3.5": the score's own hint fits better
    if any(c.isdigit() for c in words):
        return [Reply(UNREAD_TIME, private=True)]
    return None


# ---- /settings' buttons ---------------------------------------------------------------------


async def _quiet(ctx: Ctx, answer: Answer) -> list[Reply]:
    if answer.yes is False or answer.times is None:
        arg = "off"
    else:
        start, end = answer.times
        arg = f"{start:%H:%M}-{end:%H:%M}"
    _ask(ctx, None)
    return await reminders.cmd_quiet(ctx, Command("quiet", (arg,), arg))


async def on_settings(ctx: Ctx, action: Action) -> list[Reply]:
    """/settings' buttons: each opens its question, or changes one thing at once."""
    if ctx.person is None:
        return [Reply("Send /start first.", private=True)]
    what, *args = action.args
    if what == "zone":
        reply = zone_question(ctx, settings=True)
        _ask(ctx, ZONE, settings=True)
        await ctx.commit()
        return [reply]
    if what == "k":
        kind = reminder_kinds.find(args[0])
        if kind is None:
            return [Reply("That reminder no longer exists; see /settings.", private=True)]
        reply = await _question(ctx, kind.key, True)
        await ctx.commit()
        return [reply]
    if what == "n":
        ctx.person.nudge = args[0] == "1"
        await ctx.commit()
        if ctx.person.nudge:
            hours = int(NUDGE_DELAY.total_seconds() // 3600)
            return [
                Reply(
                    f"Nudge on: when no score has come {hours} hours after your check-in, I'll "
                    f"remind you once (never after {NUDGE_LATEST:%H:%M}).",
                    private=True,
                )
            ]
        return [Reply("Nudge off: one check-in a day, nothing more.", private=True)]
    if what == "quiet":
        return await _quiet_question(ctx)
    if what == "q":
        start, _, end = args[0].partition("-")
        arg = "off" if args[0] == "off" else f"{start[:2]}:{start[2:]}-{end[:2]}:{end[2:]}"
        return await reminders.cmd_quiet(ctx, Command("quiet", (arg,), arg))
    if what == "pause":
        buttons = tuple(
            Button(label, actions.encode("g", "p", days)) for days, label in PAUSE_CHOICES
        )
        return [Reply(PAUSE_QUESTION, buttons=(buttons,), private=True)]
    days = int(args[0])
    if days == 0:
        return await reminders.cmd_resume(ctx, Command("resume", (), ""))
    return await reminders.cmd_pause(ctx, Command("pause", (str(days),), str(days)))


async def _quiet_question(ctx: Ctx) -> list[Reply]:
    person = ctx.person
    assert person is not None
    now = (
        f"{person.quiet_start:%H:%M}-{person.quiet_end:%H:%M}"
        if person.quiet_start is not None and person.quiet_end is not None
        else "none"
    )
    buttons = [
        Button(f"{a:%H:%M}-{b:%H:%M}", actions.encode("g", "q", f"{a:%H%M}-{b:%H%M}"))
        for a, b in QUIET_CHOICES
    ]
    buttons.append(Button("No quiet hours", actions.encode("g", "q", "off"), Role.CANCEL))
    _ask(ctx, QUIET, settings=True)
    await ctx.commit()
    return [Reply(QUIET_QUESTION.format(now=now), buttons=(tuple(buttons),), private=True)]


ACTIONS = {"o": on_answer, "g": on_settings}
TEXT = (on_text,)
