"""Run details as people type them ("8k 45min trail", "5 miles in 1:20"), and weekly load.

Pure functions only: no database, no clock. The reader takes the words after /run and
returns what it could read, and which number-bearing words it could not, so a bad read
changes nothing and the answer can name the word it stopped at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from rapidfuzz.distance import DamerauLevenshtein

from bot.parsing import NUMBER_IN_CODE, NUMBER_WORDS

KM_PER_MILE = 1.609344
HALF_MARATHON_KM = 21.0975
MARATHON_KM = 42.195
PARKRUN_KM = 5.0
# Beyond these a read is more likely a slip ("80k" for "8k", "450 min") than a run.
MAX_KM = 250.0
MAX_MINUTES = 48 * 60
# "45m" is minutes; "400m" is metres (a track rep): the cut between them.
METRES_FROM = 200
# "1:20" is an hour and 20 minutes; "45:30" is 45 minutes 30 seconds (nobody logs a
# run of a few minutes, few log one of ten hours).
HOURS_BEFORE = 10
SURFACES = ("road", "trail", "track", "treadmill")
WEEK = 7

# How people name a surface, folded to the four the bot keeps.
_SURFACE_WORDS = {
    "road": "road",
    "roads": "road",
    "pavement": "road",
    "pavements": "road",
    "sidewalk": "road",
    "tarmac": "road",
    "asphalt": "road",
    "street": "road",
    "streets": "road",
    "trail": "trail",
    "trails": "trail",
    "offroad": "trail",
    "off-road": "trail",
    "fell": "trail",
    "xc": "trail",
    "woods": "trail",
    "track": "track",
    "tracks": "track",
    "oval": "track",
    "treadmill": "treadmill",
    "tread": "treadmill",
    "dreadmill": "treadmill",
    "tm": "treadmill",
}
_PHASE_WORDS = {
    "during": "during",
    "while": "during",
    "mid": "during",
    "mid-run": "during",
    "midrun": "during",
    "after": "after",
    "afterwards": "after",
    "afterward": "after",
    "post": "after",
    "post-run": "after",
    "postrun": "after",
}
_YESTERDAY_WORDS = frozenset({"yesterday", "yesterdays", "yesterday's", "yday", "yest", "ystd"})
# A run not yet run cannot be logged: the word is named back as unread, and nothing is stored.
_TOMORROW_WORDS = frozenset({"tomorrow", "tomorrows", "tomorrow's", "tmrw", "tmr", "tmw"})
# Longer key words are also read through one slip of the thumb ("durign", "treadmil").
_FUZZY_WORDS = {
    "during": ("phase", "during"),
    "after": ("phase", "after"),
    "afterwards": ("phase", "after"),
    "trail": ("surface", "trail"),
    "trails": ("surface", "trail"),
    "treadmill": ("surface", "treadmill"),
    "pavement": ("surface", "road"),
    "yesterday": ("day", "yesterday"),
}
_FUZZY_MIN = 4

_NUM = r"(\d+(?:\.\d+)?)"
_KM_UNITS = r"k|km|kms|kay|ks|k's|klicks?|kilometers?|kilometres?|kilometer's|kmh?"
_MI_UNITS = r"mi|mis|mile|miles|mls|ml"
_MIN_UNITS = r"m|mn|mns|min|mins|minute|minutes|minuten"
_H_UNITS = r"h|hr|hrs|hour|hours"
_END = r"(?![a-z0-9])"
_START = r"(?<![a-z0-9.])"

# A pace ("5:30/km", "@ 8:45 per mile", "5:30 pace"): read, and turned into a duration when
# the distance is known.
_PACE = re.compile(
    rf"{_START}@?\s*(\d{{1,2}})(?::(\d{{2}}))?\s*(?:min(?:s|utes?)?\s*)?"
    rf"(?:(?:/|per\s+|a\s+)\s*({_KM_UNITS}|{_MI_UNITS}){_END}|(?:min(?:s|utes?)?\s+)?pace{_END})"
)
_CLOCK = re.compile(rf"{_START}(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?{_END}")
_HOURS = re.compile(
    rf"{_START}{_NUM}\s*(?:{_H_UNITS})\s*(?:(\d{{1,2}})\s*(?:{_MIN_UNITS})?{_END}|{_END})"
)
_AN_HOUR = re.compile(
    r"(?<![a-z])(?:(?:an?|one)\s+hour(?:\s+and\s+a\s+half)?|half\s+an?\s+hour|half\s+hour"
    r"|hour\s+and\s+a\s+half)(?![a-z])"
)
_METRES = re.compile(rf"{_START}(\d+)\s*(?:meters?|metres?|mtrs?){_END}")
_MINUTES = re.compile(rf"{_START}{_NUM}\s*({_MIN_UNITS}){_END}")
_KM = re.compile(rf"{_START}{_NUM}\s*(?:{_KM_UNITS}){_END}")
# A range, as the distance buttons offer them and people type them: "10-15 km", "3 to 6 mi".
# A spaced dash is a separator ("3 - 8k - 45 min"), not a range.
_RANGE = re.compile(
    rf"{_START}{_NUM}(?:[-–—]|\s*to\s+){_NUM}\s*(?:({_KM_UNITS})|{_MI_UNITS}){_END}"
)
_MI = re.compile(rf"{_START}{_NUM}\s*(?:{_MI_UNITS}){_END}")
_RACES = re.compile(
    r"(?<![a-z])(?:half[\s-]*marathon|half[\s-]*mara|halfmarathon|hm|half|marathon|parkrun"
    r"|park\s+run)"
    r"(?![a-z])"
)
_OUT_OF_TEN = re.compile(r"(\d+)\s*(?:/|out\s+of)\s*(?:10|ten)(?![0-9])")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
# A number with a minus glued on, or said: a score or distance below zero, never read.
_NEGATIVE = re.compile(r"(?<![a-z0-9.])(?:[-−–]|(?:minus|negative)\s+)\d+(?:\.\d+)?[a-z]*")
_WORDS = re.compile(r"[a-z0-9'@:./-]+")


_Reader = Callable[[re.Match[str]], bool]


@dataclass(frozen=True, slots=True)
class RunReading:
    """What /run's words say: a score, when it hurt, the day, and the run's details.

    `unread` holds words with a number that could not be read ("8klm", a second bare
    number): with any of them the reading is not used.
    """

    score: int | None = None
    phase: str | None = None
    yesterday: bool = False
    km: float | None = None
    unit: str | None = None  # "km" or "mi", as they gave the distance
    minutes: float | None = None
    surface: str | None = None
    band: str | None = None  # a distance given as a range ("10-15 km"): the km is its middle
    unread: tuple[str, ...] = ()

    @property
    def said_anything(self) -> bool:
        """Whether any word was read: a score, when, the day or a detail."""
        return (
            self.score is not None or self.phase is not None or self.yesterday or self.has_details
        )

    @property
    def has_details(self) -> bool:
        """Whether a distance, a duration or a surface was given."""
        return self.km is not None or self.minutes is not None or self.surface is not None


def read_run(text: str) -> RunReading:
    """Read the words after /run: "4 after 8k 45min trail", "3 5mi", "4 after yesterday"."""
    rest = " " + _DECIMAL_COMMA.sub(".", text.lower().replace("’", "'")) + " "
    found: dict[str, object] = {}
    paces: list[tuple[float, str]] = []  # minutes per km or mile
    unread: list[str] = []

    def take(pattern: re.Pattern[str], read: _Reader) -> None:
        nonlocal rest

        def one(match: re.Match[str]) -> str:
            if not read(match):
                unread.append(match.group(0).strip())
            return " "

        rest = pattern.sub(one, rest)

    def race(match: re.Match[str]) -> bool:
        word = re.sub(r"[\s-]+", "", match.group(0))
        km = {"marathon": MARATHON_KM, "parkrun": PARKRUN_KM}.get(word, HALF_MARATHON_KM)
        return _set(found, "km", km) and _set(found, "unit", "km")

    def pace(match: re.Match[str]) -> bool:
        seconds = int(match.group(2) or 0)
        paces.append((int(match.group(1)) + seconds / 60, _unit(match.group(3))))
        return seconds < 60

    def clock(match: re.Match[str]) -> bool:
        first, second, third = match.group(1), match.group(2), match.group(3)
        if int(second) >= 60 or (third is not None and int(third) >= 60):
            return False
        if third is not None:
            minutes = int(first) * 60 + int(second) + int(third) / 60
        elif int(first) < HOURS_BEFORE:
            minutes = float(int(first) * 60 + int(second))
        else:
            minutes = int(first) + int(second) / 60
        return _set(found, "minutes", minutes)

    def hours(match: re.Match[str]) -> bool:
        extra = match.group(2)
        minutes = float(match.group(1)) * 60 + (int(extra) if extra else 0)
        return (extra is None or int(extra) < 60) and _set(found, "minutes", minutes)

    def an_hour(match: re.Match[str]) -> bool:
        said = match.group(0)
        minutes = 30.0 if said.startswith("half") else 90.0 if "half" in said else 60.0
        return _set(found, "minutes", minutes)

    def metres(match: re.Match[str]) -> bool:
        return _set(found, "km", int(match.group(1)) / 1000) and _set(found, "unit", "km")

    def minutes(match: re.Match[str]) -> bool:
        value = float(match.group(1))
        if match.group(2) == "m" and value >= METRES_FROM:
            return _set(found, "km", value / 1000) and _set(found, "unit", "km")  # "400m"
        return _set(found, "minutes", value)

    def km(match: re.Match[str]) -> bool:
        return _set(found, "km", float(match.group(1))) and _set(found, "unit", "km")

    def ranged(match: re.Match[str]) -> bool:
        low, high = float(match.group(1)), float(match.group(2))
        unit = "km" if match.group(3) is not None else "mi"
        middle = (low + high) / 2 * (1.0 if unit == "km" else KM_PER_MILE)
        band = f"{_trim(low)}-{_trim(high)} {unit}"
        if low >= high:
            return False
        return _set(found, "km", middle) and _set(found, "unit", unit) and _set(found, "band", band)

    def miles(match: re.Match[str]) -> bool:
        value = float(match.group(1)) * KM_PER_MILE
        return _set(found, "km", value) and _set(found, "unit", "mi")

    take(_NEGATIVE, lambda _: False)  # "-3", "minus 3", "-8k": nothing here is below zero
    take(NUMBER_IN_CODE, lambda _: False)  # "alert(1)", "[7]": code, not a run
    take(_AN_HOUR, an_hour)
    take(_RACES, race)
    take(_PACE, pace)
    take(_HOURS, hours)
    take(_CLOCK, clock)
    take(_RANGE, ranged)
    take(_METRES, metres)
    take(_MINUTES, minutes)
    take(_KM, km)
    take(_MI, miles)
    rest = _OUT_OF_TEN.sub(r" \1 ", rest)

    scores: list[int] = []
    phase = surface = None
    yesterday = False
    for word in _WORDS.findall(rest):
        word = word.strip(".:/-'")
        if not word:
            continue
        if word.isdigit() or word in NUMBER_WORDS:
            value = int(word) if word.isdigit() else NUMBER_WORDS[word]
            if word.isdigit() and (len(word) > 2 or value > 10):
                unread.append(word)
            else:
                scores.append(value)
            continue
        if any(c.isdigit() for c in word) or word.lower() in _TOMORROW_WORDS:
            unread.append(word)
            continue
        what, value_word = _key_word(word)
        if what == "phase":
            phase = value_word
        elif what == "surface":
            surface = value_word
        elif what == "day":
            yesterday = True
    if len(scores) > 1:
        unread += [str(s) for s in scores[1:]]
    distance = found.get("km")
    duration = found.get("minutes")
    if paces and duration is None and isinstance(distance, float):
        per, unit = paces[0]
        duration = per * (distance / KM_PER_MILE if unit == "mi" else distance)
    if "conflict" in found:
        unread.append(str(found["conflict"]))
    if isinstance(distance, float) and not 0 < distance <= MAX_KM:
        unread.append(f"{_trim(distance)} km")
        distance = None
    if isinstance(duration, float) and not 0 < duration <= MAX_MINUTES:
        unread.append(f"{_trim(duration)} min")
        duration = None
    return RunReading(
        score=scores[0] if scores else None,
        phase=phase,
        yesterday=yesterday,
        km=distance if isinstance(distance, float) else None,
        unit=str(found["unit"]) if distance is not None and "unit" in found else None,
        minutes=duration if isinstance(duration, float) else None,
        surface=surface,
        band=str(found["band"]) if distance is not None and "band" in found else None,
        unread=tuple(unread),
    )


# A score tied to a run in a chat message ("6 after my run", "mid-run 5", "ran 8k, 6 after"):
# the run's score, kept beside the day's. The phase word and the run are next to each other,
# with at most a determiner and two words between ("after my 7:30 run", "during the long
# run"); or the message says they ran and its score is followed by "after" or "during".
_TIE_AFTER = r"after|aftr|afer|afetr|afterwards?|post|following|(?:at\s+)?the\s+end\s+of|end\s+of"
_TIE_DURING = r"during|while|whilst|mid|on"
_TIE_DETERMINER = (
    r"the|my|a|an|this|that|our|today'?s|todays|tonight'?s|tonights|yesterday'?s|yesterdays"
    r"|last\s+night'?s|last\s+nights|this\s+morning'?s"
)
# A run named by what it was: "my run", "a jog", "the parkrun", "10k", "the half marathon".
# Not a run: the school run, a dry, test or trial run, running errands or around.
_TIE_RUN = (
    r"run|runs|jog|jogging|parkrun|park\s*run|race|marathon"
    r"|running(?!\s+(?:errands|around|about|late|out|low))"
    r"|\d+(?:\.\d+)?\s*(?:k|km|kms|mi|mile|miles|miler)"
)
_TIE_FILLER = r"(?!school|dry|test|trial|after|during|while)[a-z0-9:.'’]+"
_TIED = re.compile(
    rf"(?<![a-z])(?P<phase>(?:{_TIE_AFTER}|{_TIE_DURING})(?![a-z])|post(?=run)|mid(?=run))[\s-]*"
    rf"(?:(?:{_TIE_DETERMINER})\s+)?(?P<filler>(?:{_TIE_FILLER}\s+){{0,2}}?)"
    rf"(?P<run>{_TIE_RUN})(?![a-z])"
)
_RAN = re.compile(
    r"(?<![a-z])(?:ran|run|jog|jogged|parkrun|\d+(?:\.\d+)?\s*(?:k|km|mi|miles?))(?![a-z])"
)
_SCORE_THEN_PHASE = re.compile(
    r"(?<![a-z0-9.])(?:\d{1,2}|" + "|".join(NUMBER_WORDS) + r")(?:\s*(?:/|out\s+of)\s*10)?"
    rf"\s+(?P<phase>{_TIE_AFTER}|during)(?=\s*(?:$|[,.!;)]|and\b|but\b))"
)
_CLOCK_TIME = re.compile(r"^\d{1,2}[:.]\d{2}$")


def tied_to_run(text: str, score: int | None) -> str | None:
    """/run's words for a chat message whose score is a run's: "pain 6 after my run" gives
    "pain 6 after run". None when its score, if any, is the day's, or it has none.

    `score` is what the daily score reader took from the message, if anything: "no pain
    after 10k" has a score only in its words.
    """
    words = _run_words(" ".join(text.lower().replace("’", "'").split()))
    if words is None or read_run(words).score is not None:
        return words
    return None if score is None else f"{score} {words}"


def _run_words(said: str) -> str | None:
    tied = _TIED.search(said)
    if tied is not None:
        phase = "during" if re.fullmatch(_TIE_DURING, tied["phase"]) else "after"
        # What stays is what /run can read: a distance or race in the run's name; a clock
        # time ("my 7:30 run") says when, not how long.
        kept = [w for w in tied["filler"].split() if not _CLOCK_TIME.match(w)]
        words = " ".join([phase, *kept, tied["run"]])
        return f"{said[: tied.start()]} {words} {said[tied.end() :]}".strip()
    then = _SCORE_THEN_PHASE.search(said)
    if then is not None and _RAN.search(said[: then.start()]):
        phase = "during" if then["phase"] == "during" else "after"
        return f"{said[: then.start('phase')]}{phase}{said[then.end('phase') :]}"
    return None


# Two readings of one kind this close are one ("half marathon 21k"); further apart, a conflict.
_SAME_WITHIN = 0.1


def _set(found: dict[str, object], key: str, value: object) -> bool:
    """Keep the first value of each kind; a second, different one is a conflict to report."""
    if key not in found:
        found[key] = value
        return True
    old = found[key]
    if isinstance(old, float) and isinstance(value, float):
        same = abs(old - value) <= _SAME_WITHIN * max(old, value)
    else:
        same = key == "unit" or old == value
    if not same:
        found.setdefault("conflict", "two distances" if key == "km" else "two times")
    return True


def _unit(word: str | None) -> str:
    return "mi" if word and word.startswith("m") else "km"


def _key_word(word: str) -> tuple[str | None, str | None]:
    """A phase, surface or day word, also through one slip in a longer word."""
    if word in _PHASE_WORDS:
        return "phase", _PHASE_WORDS[word]
    if word in _SURFACE_WORDS:
        return "surface", _SURFACE_WORDS[word]
    if word in _YESTERDAY_WORDS:
        return "day", "yesterday"
    if len(word) >= _FUZZY_MIN:
        for known, meaning in _FUZZY_WORDS.items():
            if DamerauLevenshtein.distance(word, known, score_cutoff=1) <= 1:
                return meaning
    return None, None


def _trim(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def distance_text(km: float, unit: str | None) -> str:
    """A distance as the person gave it: "8 km", "5 mi", "21.1 km"."""
    if unit == "mi":
        return f"{_trim(km / KM_PER_MILE)} mi"
    return f"{_trim(km)} km"


def duration_text(minutes: float) -> str:
    """A duration as runners say it: "45 min", "1 h 20 min"."""
    whole = round(minutes)
    if whole < 60:
        return f"{whole} min"
    h, m = divmod(whole, 60)
    return f"{h} h {m} min" if m else f"{h} h"


# ------------------------------------------------------------------------- weekly load


@dataclass(frozen=True, slots=True)
class Run:
    """One day's run as stored: its pain scores, distance (km), minutes and surface."""

    day: date
    during: int | None = None
    after: int | None = None
    km: float | None = None
    minutes: float | None = None
    surface: str | None = None
    unit: str | None = None
    # A distance from a range button is an estimate: the range's label.
    band: str | None = None


@dataclass(frozen=True, slots=True)
class WeekLoad:
    """Seven days of running, last..last-6: total km, minutes and runs."""

    first: date
    last: date
    km: float
    minutes: float
    runs: int


def weekly_load(runs: Iterable[Run], today: date, weeks: int = 4) -> list[WeekLoad]:
    """Rolling 7-day blocks ending today, newest first (the blocks the pain rules use)."""
    out = []
    listed = list(runs)
    for k in range(weeks):
        last = today - timedelta(days=WEEK * k)
        first = last - timedelta(days=WEEK - 1)
        inside = [r for r in listed if first <= r.day <= last]
        out.append(
            WeekLoad(
                first=first,
                last=last,
                km=sum(r.km or 0.0 for r in inside),
                minutes=sum(r.minutes or 0.0 for r in inside),
                runs=len(inside),
            )
        )
    return out


def distances(runs: Iterable[Run]) -> dict[date, float]:
    """Km run on each day that has a distance (what the load rule reads)."""
    out: dict[date, float] = {}
    for r in runs:
        if r.km is not None:
            out[r.day] = out.get(r.day, 0.0) + r.km
    return out


def minutes_by_day(runs: Iterable[Run]) -> dict[date, float]:
    """Minutes run on each day that has a time (the chart's load row reads them)."""
    out: dict[date, float] = {}
    for r in runs:
        if r.minutes is not None:
            out[r.day] = out.get(r.day, 0.0) + r.minutes
    return out


def preferred_unit(runs: Sequence[Run]) -> str:
    """The unit the person last gave a distance in: "mi" or "km" (the default)."""
    for r in sorted(runs, key=lambda r: r.day, reverse=True):
        if r.unit is not None:
            return r.unit
    return "km"


def load_line(week: WeekLoad, unit: str = "km") -> str:
    """One week's load in words: "24 km, 2 h 30 min over 3 runs"."""
    if week.runs == 0:
        return "no runs logged"
    parts = []
    if week.km:
        parts.append(distance_text(week.km, unit))
    if week.minutes:
        parts.append(duration_text(week.minutes))
    runs = f"{week.runs} run" + ("" if week.runs == 1 else "s")
    return f"{', '.join(parts)} over {runs}" if parts else runs
