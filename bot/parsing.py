"""Pure text parsing: pain scores, commands, dates, time zones, durations and red-flag words."""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import date, time, timedelta, timezone, tzinfo
from importlib import resources

NOTE_LIMIT = 280
# A pain report typed on a phone is a few words; anything longer is a story, not a score.
SCORE_TEXT_LIMIT = 80
MAX_SCORE = 10
MAX_PAUSE_DAYS = 90
# Offsets in use anywhere on Earth lie between these (Baker Island .. Line Islands).
MIN_OFFSET = timedelta(hours=-12)
MAX_OFFSET = timedelta(hours=14)

# ---------------------------------------------------------------------------
# Cleaning
# ---------------------------------------------------------------------------

_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# Cc/Cf/Cs cover zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and
# bidi controls (U+200E/F, U+202A-E, U+2066-9), which people never mean to type
# but which hide inside copy-pasted text and spoof what a note looks like.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_WHITESPACE_RUN = re.compile(r"\s+")


def _clean_char(char: str) -> str:
    if char in _LINE_BREAKS:
        return "\n"
    if char.isspace():
        return " "
    if unicodedata.category(char) in _DROPPED_CATEGORIES:
        return ""
    return char


def _collapse(text: str) -> str:
    text = "".join(_clean_char(c) for c in unicodedata.normalize("NFKC", text))
    # A run containing a line break stays one line break so notes keep their paragraphs.
    text = _WHITESPACE_RUN.sub(lambda m: "\n" if "\n" in m.group() else " ", text)
    return text.strip()


def clean_text(text: str | None, limit: int = 2000) -> str:
    """Normalise user text: NFKC, no invisible or control characters, tidy whitespace, capped."""
    if not text:
        return ""
    cleaned = _collapse(text)
    # Cutting can leave a trailing space or split a sequence NFKC would compose,
    # so re-clean until the capped text is stable.
    while len(cleaned) > limit:
        cleaned = _collapse(cleaned[:limit])
    return cleaned


# ---------------------------------------------------------------------------
# Pain scores
# ---------------------------------------------------------------------------

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
# Words that may surround a score without changing its meaning. Anything else
# ("ran", "km", "or") means the number might not be a pain report.
_SCORE_WORDS = frozenset(
    [
        "pain",
        "is",
        "its",
        "it's",
        "it",
        "i",
        "i'm",
        "im",
        "am",
        "my",
        "a",
        "an",
        "the",
        "this",
        "at",
        "about",
        "around",
        "approx",
        "approximately",
        "roughly",
        "maybe",
        "probably",
        "today",
        "tonight",
        "now",
        "right",
        "currently",
        "still",
        "just",
        "only",
        "so",
        "solid",
        "score",
        "level",
        "rating",
        "rate",
        "say",
        "said",
        "feels",
        "feel",
        "feeling",
        "like",
        "sits",
        "sitting",
        "out",
        "of",
        "morning",
        "evening",
        "back",
        "si",
        "joint",
        "hip",
        "sacroiliac",
        "ok",
        "okay",
        "hmm",
        "um",
        "uh",
    ]
)
# Decoration that a phone user adds to a bare score.
_SCORE_PUNCTUATION = frozenset(".!?,:;=~()\"'«»“”")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_KEYCAP = re.compile(r"([0-9])\ufe0f?\u20e3")
_NUMBER_TOKEN = "|".join(["\\d+", *_NUMBER_WORDS])
# "4/10", "4 / 10", "4 out of 10", "four out of ten": the "of 10" part confirms the scale.
_OUT_OF_TEN = re.compile(rf"\b({_NUMBER_TOKEN})\s*(?:/|out\s+of)\s*(?:10|ten)\b")
_SCORE_TOKENS = re.compile(r"[a-z']+|\d+|\S")
# Shapes of a failed score: a range, a decimal, a fraction, a signed number.
_ATTEMPT_WORDS = _SCORE_WORDS | {"or", "to", "and", "between", "minus", "negative"}
_ATTEMPT_PUNCTUATION = _SCORE_PUNCTUATION | {"-", "–", "—", "/", "+", "−"}


def _score_text(text: str) -> str:
    text = clean_text(text, limit=SCORE_TEXT_LIMIT * 4)
    text = _KEYCAP.sub(r"\1", text.replace("\U0001f51f", "10"))
    return text.lower().translate(_APOSTROPHES)


def _is_decoration(token: str) -> bool:
    # Emoji and other symbols ("4 😣") carry mood, not a second number.
    return unicodedata.category(token[0]) in {"So", "Sk", "Mn", "Me"}


def parse_score(text: str) -> int | None:
    """The 0-10 pain score a message clearly states, or None when there isn't exactly one."""
    lowered = _score_text(text)
    if not lowered or len(lowered) > SCORE_TEXT_LIMIT:
        return None
    lowered = _OUT_OF_TEN.sub(r" \1 ", lowered)
    numbers: list[int] = []
    for token in _SCORE_TOKENS.findall(lowered):
        if token.isdigit():
            if len(token) > 2:
                return None
            numbers.append(int(token))
        elif token in _NUMBER_WORDS:
            numbers.append(_NUMBER_WORDS[token])
        elif token in _SCORE_WORDS or token in _SCORE_PUNCTUATION or _is_decoration(token):
            continue
        else:
            return None
    if len(numbers) != 1 or not 0 <= numbers[0] <= MAX_SCORE:
        return None
    return numbers[0]


# A score that opens a message and is set off from the words after it: "7, and my groin is
# numb", "4/10 - stiff", "3. slept badly". The words must hold no other number.
_LEADING_SCORE = re.compile(
    rf"\s*(?:pain\s+)?({_NUMBER_TOKEN})\s*(?:(?:/|out\s+of)\s*(?:10|ten)\b)?\s*"
    r"(?:[,;:.!\-–—]|\band\b|\bbut\b)\s*(.*)",
    re.DOTALL,
)
_ANY_NUMBER = re.compile(rf"\d|\b(?:{'|'.join(_NUMBER_WORDS)})\b")


def score_in(text: str) -> int | None:
    """A score stated alone (parse_score) or opening a message with words after it."""
    value = parse_score(text)
    if value is not None:
        return value
    match = _LEADING_SCORE.fullmatch(_score_text(text))
    if match is None or _ANY_NUMBER.search(match.group(2)):
        return None
    token = match.group(1)
    value = int(token) if token.isdigit() else _NUMBER_WORDS[token]
    return value if value <= MAX_SCORE else None


def looks_like_score_attempt(text: str) -> bool:
    """Whether text is probably a score typed wrong (11, -1, 3.5, 4-5, 4/5) rather than chat."""
    lowered = _score_text(text)
    if not lowered or len(lowered) > SCORE_TEXT_LIMIT or parse_score(text) is not None:
        return False
    has_number = False
    for token in _SCORE_TOKENS.findall(lowered):
        if token.isdigit() or token in _NUMBER_WORDS:
            has_number = True
        elif not (
            token in _ATTEMPT_WORDS or token in _ATTEMPT_PUNCTUATION or _is_decoration(token)
        ):
            return False
    return has_number


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A slash command: its lower-case name and its arguments."""

    name: str
    args: tuple[str, ...]
    raw_args: str


# Telegram appends "@BotName" in groups so the right bot gets the command.
_COMMAND = re.compile(r"/([A-Za-z_]{1,32})(?:@\w+)?(?:\s+(.*))?", re.DOTALL)


def parse_command(text: str) -> Command | None:
    """The slash command in text ("/checkin 4", "/checkin@SiCheckinBot 4"), or None."""
    match = _COMMAND.fullmatch(clean_text(text))
    if match is None:
        return None
    raw_args = (match.group(2) or "").strip()
    return Command(match.group(1).lower(), tuple(raw_args.split()), raw_args)


# ---------------------------------------------------------------------------
# Backfill dates
# ---------------------------------------------------------------------------

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DAYS_AGO = re.compile(r"-?(\d{1,3})\s*(?:d|days?)?(?:\s+ago)?")
DATE_HELP = "Use a date like 2026-03-04, 'yesterday', or days ago like '2d'."


def parse_log_date(arg: str | None, today: date) -> date | str:
    """The day a /log argument names (today, yesterday, 2026-03-04, -2, 2d), or an error line."""
    text = clean_text(arg).lower()
    if text in {"", "today", "now"}:
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    if iso := _ISO_DATE.fullmatch(text):
        try:
            return date(*(int(part) for part in iso.groups()))
        except ValueError:
            return f"{text} isn't a real date. {DATE_HELP}"
    # A bare number here means days ago only with a minus sign or a unit,
    # so "/log 4 3" is not silently read as three days ago.
    ago = _DAYS_AGO.fullmatch(text)
    if ago and (text.startswith("-") or not text.isdigit()):
        try:
            return today - timedelta(days=int(ago.group(1)))
        except OverflowError:
            return f"That is too far back. {DATE_HELP}"
    return f"I couldn't read {text!r} as a date. {DATE_HELP}"


def check_backfill(day: date, today: date, max_days: int = 14) -> str | None:
    """A one-line refusal when day is in the future or too far back to log, else None."""
    if day > today:
        return "That date is in the future; log it on the day."
    if (today - day).days > max_days:
        return f"I can only backfill the last {max_days} days; {day.isoformat()} is too far back."
    return None


# ---------------------------------------------------------------------------
# Time zones
# ---------------------------------------------------------------------------

_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+\-−])\s*(\d{1,2})(?::?(\d{2}))?")
_OFFSET_KEY = re.compile(r"UTC([+-])(\d{2}):(\d{2})")
_REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
# Common names people type that are not the last part of any IANA key.
_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "nyc": "America/New_York",
    "new york city": "America/New_York",
    "ny": "America/New_York",
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "dc": "America/New_York",
    "boston": "America/New_York",
    "philadelphia": "America/New_York",
    "atlanta": "America/New_York",
    "miami": "America/New_York",
    "eastern": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "chicago": "America/Chicago",
    "dallas": "America/Chicago",
    "houston": "America/Chicago",
    "austin": "America/Chicago",
    "central": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "mountain": "America/Denver",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "portland": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "montreal": "America/Toronto",
    "ottawa": "America/Toronto",
    "rio": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo",
    "uk": "Europe/London",
    "england": "Europe/London",
    "britain": "Europe/London",
    "great britain": "Europe/London",
    "scotland": "Europe/London",
    "wales": "Europe/London",
    "manchester": "Europe/London",
    "edinburgh": "Europe/London",
    "ireland": "Europe/Dublin",
    "germany": "Europe/Berlin",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "france": "Europe/Paris",
    "spain": "Europe/Madrid",
    "barcelona": "Europe/Madrid",
    "italy": "Europe/Rome",
    "milan": "Europe/Rome",
    "netherlands": "Europe/Amsterdam",
    "geneva": "Europe/Zurich",
    "st petersburg": "Europe/Moscow",
    "saint petersburg": "Europe/Moscow",
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "india": "Asia/Kolkata",
    "beijing": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "japan": "Asia/Tokyo",
    "osaka": "Asia/Tokyo",
    "abu dhabi": "Asia/Dubai",
    "wellington": "Pacific/Auckland",
    "cape town": "Africa/Johannesburg",
}


def _zone_words(name: str) -> str:
    """Fold a place name for comparison: no accents, case, punctuation or underscores."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = re.sub(r"[.'’]", "", plain)
    return " ".join(re.split(r"[\s_\-]+", plain)).strip()


@functools.cache
def _iana_keys() -> dict[str, str]:
    """Lower-case IANA key -> the key as spelled in the database."""
    return {key.lower(): key for key in zoneinfo.available_timezones() if key not in _NOT_ZONES}


@functools.cache
def _canonical_keys() -> frozenset[str]:
    """Keys the tz database lists as the zone of a country (zone.tab), preferred over links."""
    try:
        table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return frozenset()
    return frozenset(
        line.split("\t")[2] for line in table.splitlines() if line and not line.startswith("#")
    )


@functools.cache
def _cities() -> dict[str, str]:
    """Folded city name ("new york", "sao paulo") -> IANA key, canonical zones first."""
    canonical = _canonical_keys()
    keys = sorted(
        (key for key in _iana_keys().values() if key.split("/")[0] in _REGIONS),
        key=lambda key: (key not in canonical, key),
    )
    cities: dict[str, str] = {}
    for key in keys:
        cities.setdefault(_zone_words(key.rsplit("/", 1)[-1]), key)
    return cities


def _offset_key(text: str) -> str | None:
    match = _OFFSET.fullmatch(text.lower())
    if match is None:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
    if not MIN_OFFSET <= offset <= MAX_OFFSET:
        return None
    return _format_offset(offset)


def _format_offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_timezone(text: str) -> str | None:
    """A canonical zone key (IANA name or "UTC+02:00") for a zone, city or offset, or None."""
    cleaned = clean_text(text, limit=100)
    if not cleaned:
        return None
    if offset := _offset_key(cleaned.replace(" ", "")):
        return offset
    keys = _iana_keys()
    # "Berlin, Germany" -> try the whole text, then the place before the comma.
    for candidate in dict.fromkeys([cleaned, cleaned.split(",")[0].strip()]):
        words = _zone_words(candidate)
        if words in _ALIASES:
            return _ALIASES[words]
        if "/" in candidate and (key := keys.get(candidate.lower().replace(" ", "_"))):
            return key
        if words in _cities():
            return _cities()[words]
        if key := keys.get(candidate.lower()):
            return key
    return None


def zone(key: str) -> tzinfo:
    """The tzinfo for a key from parse_timezone; ValueError if the key is unknown."""
    if match := _OFFSET_KEY.fullmatch(key):
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes)) * (1 if sign == "+" else -1)
        if not MIN_OFFSET <= offset <= MAX_OFFSET:
            raise ValueError(f"offset out of range: {key}")
        return timezone(offset, key)
    # Checking the known keys first keeps odd strings ("../x") away from the file lookup.
    if key not in _iana_keys().values():
        raise ValueError(f"unknown time zone: {key}")
    return zoneinfo.ZoneInfo(key)


def suggest_timezones(text: str, limit: int = 10) -> list[str]:
    """Zone keys matching what someone has typed so far, best first, for autocomplete."""
    query = _zone_words(clean_text(text, limit=100))
    if not query or limit <= 0:
        return []
    # Rank by how well the name matches, then cities before aliases before full keys.
    ranked: dict[str, tuple[int, int, str]] = {}

    def offer(key: str, rank: tuple[int, int, str]) -> None:
        if key not in ranked or rank < ranked[key]:
            ranked[key] = rank

    if exact := parse_timezone(text):
        offer(exact, (0, 0, ""))
    sources = [
        _cities().items(),
        ((name, key) for name, key in _ALIASES.items() if len(name) > 3),
        # Etc/GMT+2 means UTC-02:00 (POSIX sign), which would only mislead here.
        (
            (_zone_words(key), key)
            for key in _iana_keys().values()
            if "/" in key and not key.startswith("Etc/")
        ),
    ]
    for source, names in enumerate(sources):
        for name, key in names:
            if name.startswith(query):
                offer(key, (1, source, name))
            elif any(word.startswith(query) for word in name.split()):
                offer(key, (2, source, name))
            elif query in name:
                offer(key, (3, source, name))
    return [key for key, _ in sorted(ranked.items(), key=lambda item: item[1])[:limit]]


# ---------------------------------------------------------------------------
# Durations and clock times
# ---------------------------------------------------------------------------

_UNITS = {
    "s": "seconds",
    "sec": "seconds",
    "secs": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "wk": "weeks",
    "wks": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}
_DURATION_PART = re.compile(r"(\d{1,6})\s*([a-z]+)")
_DURATION = re.compile(r"(?:\d{1,6}\s*[a-z]+(?:\s*,\s*|\s+and\s+|\s*))+")
_CLOCK_24 = re.compile(r"(\d{1,2})[:.h](\d{2})(?::(\d{2}))?|(\d{2})(\d{2})")
_CLOCK_12 = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m\.?")
_RANGE_SEPARATOR = re.compile(r"\s*(?:-|–|—|\bto\b|\buntil\b|\btill\b)\s*")
_LIST_SEPARATOR = re.compile(r"\s*(?:[,;]|\band\b)\s*")


def parse_duration(text: str) -> timedelta | None:
    """A positive duration like 90m, 1h30m, 2w, 45s or '3 days', or None."""
    cleaned = clean_text(text, limit=100).lower()
    if not _DURATION.fullmatch(cleaned):
        return None
    total = timedelta(0)
    for amount, unit in _DURATION_PART.findall(cleaned):
        if unit not in _UNITS:
            return None
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total if total > timedelta(0) else None


def parse_clock_time(text: str) -> time | None:
    """A time of day from 07:30, 7:30, 19:00, 0730, 7pm or 7:30am, or None."""
    cleaned = clean_text(text, limit=20).lower()
    if cleaned == "noon":
        return time(12, 0)
    if cleaned == "midnight":
        return time(0, 0)
    if match := _CLOCK_12.fullmatch(cleaned):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        # 12am is midnight and 12pm is noon.
        return time(hour % 12 + (12 if match.group(3) == "p" else 0), minute)
    if match := _CLOCK_24.fullmatch(cleaned):
        hour = int(match.group(1) or match.group(4))
        minute = int(match.group(2) or match.group(5))
        second = int(match.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        return time(hour, minute, second)
    return None


def parse_time_list(text: str) -> list[time] | None:
    """Sorted distinct times from '10:00,14:00' or '10:00 14:00' or '7am and 7pm', or None."""
    found: set[time] = set()
    for part in _LIST_SEPARATOR.split(clean_text(text, limit=200).lower()):
        words = part.split()
        i = 0
        while i < len(words):
            # "7 pm" is one time written as two words.
            pair = " ".join(words[i : i + 2]) if i + 1 < len(words) else None
            if pair and words[i + 1][0] in "ap" and (when := parse_clock_time(pair)):
                found.add(when)
                i += 2
            elif when := parse_clock_time(words[i]):
                found.add(when)
                i += 1
            else:
                return None
    return sorted(found) or None


def parse_time_range(text: str) -> tuple[time, time] | None:
    """A (start, end) window like 22:00-07:00 or '10pm to 7am'; may wrap past midnight."""
    parts = _RANGE_SEPARATOR.split(clean_text(text, limit=50).lower())
    if len(parts) != 2:
        return None
    start, end = parse_clock_time(parts[0]), parse_clock_time(parts[1])
    if start is None or end is None or start == end:
        return None
    return start, end


_PAUSE = re.compile(r"(\d{1,3})\s*(d|days?|w|weeks?)?")


def parse_days(text: str) -> int | None:
    """A number of days from 3, 3d, 3 days or 2w, within 1..90, or None."""
    match = _PAUSE.fullmatch(clean_text(text, limit=20).lower())
    if match is None:
        return None
    days = int(match.group(1)) * (7 if (match.group(2) or "d").startswith("w") else 1)
    return days if 1 <= days <= MAX_PAUSE_DAYS else None
