"""Pure text parsing: pain scores, yes/no answers, commands, dates, zones, times, durations."""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta, timezone, tzinfo
from importlib import resources

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

NOTE_LIMIT = 280
# A pain report typed on a phone is a few words; anything longer is a story, not a score.
SCORE_TEXT_LIMIT = 80
MAX_SCORE = 10
# Above the scale, "11" or "12" still means the worst pain; "45" is not a score at all.
OVER_SCALE_MAX = 20
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

NUMBER_WORDS = {
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


def bare_number(text: str) -> int | None:
    """A message that is only a number from 0 to 10, in figures or words, maybe beside an
    emoji or punctuation ("4", "four", "😣 6", "7!"): the number; None for anything more."""
    cleaned = clean_text(text, SCORE_TEXT_LIMIT * 4).lower()
    tokens = re.findall(r"\w+", cleaned)
    if len(tokens) != 1 or any(c in "-+,:/" for c in cleaned):
        return None  # "-1", "+2", "4:30", "4/10" are not a bare number
    token = tokens[0]
    value = int(token) if token.isdecimal() and len(token) <= 2 else NUMBER_WORDS.get(token)
    if value is None or value > MAX_SCORE:
        return None
    # Never looser than the score reader: "4" beside broken bytes is no score there either.
    return value if read_score(text).score == value else None


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
_NUMBER_TOKEN = "|".join(["\\d+", *NUMBER_WORDS])
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
        if token.isdecimal():
            if len(token) > 2:
                return None
            numbers.append(int(token))
        elif token in NUMBER_WORDS:
            numbers.append(NUMBER_WORDS[token])
        elif token in _SCORE_WORDS or token in _SCORE_PUNCTUATION or _is_decoration(token):
            continue
        else:
            return None
    if len(numbers) != 1 or not 0 <= numbers[0] <= MAX_SCORE:
        return None
    return numbers[0]


# ---- The full reader: a score anywhere in a message, as people write on a phone -----------
#
# A message is cut into tokens, then into clauses (at punctuation and "and"/"but"). Every 1-2
# digit number or number word is a possible score unless its neighbours make it a runner
# number ("10k", "3 sets", "week 3", "ran 6", "at 7"). A possible score counts when something
# says it is one: "/10", a pain word in its clause, "a 6", or a place where people put a bare
# score (opening the message or a clause, closing the message, alone in its clause).
# Rival scores are settled by "now"/"today" against "yesterday"/"was", or by a correction
# ("actually", "i mean"); otherwise there is no score and the bot asks.


def _word_set(words: str) -> frozenset[str]:
    """The set of space-separated words in a literal list."""
    return frozenset(words.split())


# Messages longer than a note are stories; reading a number out of them is a guess.
SCORE_READ_LIMIT = NOTE_LIMIT
_READ_TOKENS = re.compile(r"\d+|[a-z]+(?:'[a-z]+)*|\S")
_SEPARATORS = frozenset(",;.!?:()[]{}|…&\n") | {"-", "–", "—", "but", "and", "tho", "though"}
_SEPARATORS |= {"although", "then", "while", "whereas", "cos", "because", "plus"}
# Between two numbers these make a range or a choice ("4-5", "4 or 5"): no single score.
_RANGE_WORDS = frozenset({"-", "–", "—", "~", "/", "or", "to", "and", "maybe", "till", "until"})
_RANGE_WORDS |= {"between", "ish"}
# A number right before one of these counts something else.
_COUNTED = _word_set(
    """
    k ks km kms kilometer kilometers kilometre kilometres mi mile miles miler m meter meters
    metre metres min mins minute minutes sec secs second seconds s h hr hrs hour hours d day days
    week weeks wk wks w month months mo year years yr yrs y am pm a.m p.m o'clock oclock kg kgs
    kilo kilos lb lbs pound pounds stone st bpm mph kph times time set sets rep reps round rounds
    lap laps step steps floor floors percent more less extra other others new of ago off in
    ibuprofen paracetamol advil tylenol aspirin naproxen codeine tablet tablets pill pills dose
    doses coffee coffees beer beers glass glasses cup cups kid kids people person mate mates leg
    legged foot feet arm arms marathon marathons halfs ultra ultras parkrun parkruns run runs
    race races session sessions workout workouts k's hrs mile's"""
)
# A number right after one of these is a position or a measure: "week 3", "zone 2", "hr 145".
_INDEX_WORDS = _word_set(
    """
    week wk day mile km k lap rep set round zone stage phase step gate number num page size
    chapter hr bpm pace cadence age aged turned vo2 vo2max split splits km's mile's interval rpe
    jan january feb february mar march apr april may jun june jul july aug august sep sept
    september oct october nov november dec december monday tuesday wednesday thursday friday
    saturday sunday mon tue tues wed thu thurs fri sat sun version v by till til until before after
    since from to for in on with over under than x times plus minus every each last next first
    top the this that no any which some another"""
)
# Activity before a number in the same clause makes it a distance or count: "ran 6", "easy 5".
_ACTIVITY_WORDS = _word_set(
    """
    ran run running jog jogged jogging walk walked walking hike hiked cycled cycle biked bike
    rode ride swam swim did do done doing completed finished managed tempo easy long recovery
    steady intervals hills strides fartlek parkrun race raced slept sleep woke bed took take taken
    had ate drank lost gained lifted weigh weighed weighs hit logged clocked averaged"""
)
# Words that make a clause about pain, so any number in it may be the score.
_PAIN_WORDS = _word_set(
    """
    pain pains painful score scale level lvl rating rate rated hurt hurts hurting sore soreness
    ache aches aching achy stiff stiffness tight si sij joint hip hips back back's lower left right
    side glute glutes bum butt ouch ow"""
)
# A bare number right after these is offered as a score: "i'd say 4", "yesterday was 5".
_SCORE_LEADS = _word_set(
    """
    say reckon guess call is was it's its like about around bout roughly approx maybe prob
    probably prolly def definitely honestly feeling feel feels today now yesterday yday morning
    night tonight rn atm currently still only just solid strong low high mild good bad ever
    ugh meh ok okay lol hmm tbh im i'm am"""
)
# "at 7" is a clock time unless a state comes before it: "sitting at 4", "im at 3".
_AT_STATES = _word_set(
    "sitting sat still stuck hovering holding steady staying im i'm been is was back's its it's"
)
# Mood and filler words that may share a clause with a bare number word ("six ugh").
_FILLERS = _SCORE_WORDS | _SCORE_LEADS | {"thanks", "thank", "you", "cheers", "x", "xx", "xxx"}
_FILLERS |= {"awful", "great", "fine", "better", "worse", "same", "sadly", "oof", "argh", "ah"}
_FILLERS |= {"oh", "hi", "hey", "hello", "yes", "yeah", "yep", "really", "pretty", "very", "bit"}
_FILLERS |= {"quite", "again", "think", "ish", "sore", "stiff", "achy", "rough", "tired"}
# A plural after an opening number counts things ("2 kids"); these words only look plural.
_NOT_PLURAL = _word_set(
    """
    this was is its it's yes thanks cheers always hurts aches feels seems sucks stings burns
    throbs twinges gets goes does has tbh lol omg atm this thus plus less"""
)
_NOW_WORDS = frozenset({"now", "today", "todays", "today's", "tonight", "currently", "rn", "atm"})
_PAST_WORDS = frozenset({"yesterday", "yesterdays", "yesterday's", "yday", "yest", "was", "were"})
_PAST_WORDS |= {"earlier"}
_CORRECTIONS = frozenset({"actually", "sorry", "mean", "wait", "correction", "oops", "make"})
_QUESTION_WORDS = _word_set(
    "what what's whats is does do can should why when where which who will would could how are"
)
# Words that deny or wish away "pain free" / "no pain".
_ZERO_NEGATORS = _word_set(
    "not never wish hope hoping almost nearly until till til want wanna if when isn't aren't"
)
_PAIN_RELIEF = _word_set("meds med medication medicine relief killers killer pills tablets")
# "no pain at night" or "no pain when i sit" answers about one situation, not the day.
_SITUATIONS = _word_set("at when while during in on or with sitting walking running")
_ZERO_ALONE = frozenset({"none", "nil", "nothing", "nada", "zilch"})
_SQUEEZE = re.compile(r"([a-z])\1{2,}")
# A number as pasted code or markup writes it, "alert(1)", "[7]", "<1>": never a score. A
# plain "(4)" stays one.
NUMBER_IN_CODE = re.compile(r"[a-z_]\(\s*\d+(?:\.\d+)?\s*\)|[\[{<]\s*\d+(?:\.\d+)?\s*[\]}>]")
# Two numbers as a range with a unit after the second: "5-10 km", "5 to 10 miles", "10-15k"
# (a spaced dash separates: "3 - 8k" is a 3 and a distance).
_MEASURED_RANGE = re.compile(
    r"\b\d+(?:[-–—]|\s*to\s+)\d+\s*(?:k|km|kms|kilometers?|kilometres?|mi|miles?|mins?|minutes?|h|hrs?|hours?)\b"
)


@dataclass(frozen=True)
class ScoreReading:
    """The score a message states (None when none or unclear) and whether it is about yesterday.

    `over_scale`: no score, but plainly one above the top of the scale ("11", "15/10"), which
    people mean as the worst pain.
    """

    score: int | None
    yesterday: bool = False
    over_scale: bool = False


@dataclass
class _Token:
    text: str
    start: int
    end: int
    clause: int = 0
    # For numbers: the value (None when it is a malformed score such as 3.5 or 4/5).
    number: bool = False
    value: int | None = None
    word: bool = False
    veto: bool = False
    strong: bool = False


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    for match in _READ_TOKENS.finditer(text):
        token = _Token(match.group(), match.start(), match.end())
        if _is_decoration(token.text) or token.text in {"\ufe0f", "*", '"', "'", "~", "="}:
            continue
        out.append(token)
    return out


def _mark_numbers(text: str, tokens: list[_Token]) -> list[_Token]:
    """Turn number tokens into possible scores, folding "/10" and "out of 10" into them."""
    kept: list[_Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token.text in NUMBER_WORDS:
            token.number, token.word, token.value = True, True, NUMBER_WORDS[token.text]
        elif token.text.isdecimal():
            token.number, token.value = True, int(token.text)
            before = text[token.start - 1] if token.start else " "
            after = text[token.end] if token.end < len(text) else " "
            glued = re.match(r"[a-z]+", text[token.end :])
            if before.isalpha() or before in "£$€#+" or after == "%" or len(token.text) > 2:
                token.veto = True
            elif before in "-−" and (token.start < 2 or not text[token.start - 2].isdecimal()):
                token.value = None  # "-1": a signed number is a mistyped score
            elif glued and glued.group() != "ish":
                token.veto = True  # "5k", "7am", "3rd", "3x10", "10kg"
            elif after in ".,:" and text[token.end + 1 : token.end + 2].isdecimal():
                # "7:30" and "6.30" are clock times; "3.5" and "3,5" are decimals.
                frac = re.match(r"[.,:](\d+)", text[token.end :])
                assert frac is not None  # the test above saw the separator and a digit
                token.veto = after == ":" or len(frac.group(1)) == 2
                token.value = None
                while i < len(tokens) and tokens[i].start < token.end + len(frac.group()):
                    i += 1
        else:
            kept.append(token)
            continue
        # "4/10", "4 / 10", "4 out of 10", "four outta ten": the scale confirms a score.
        rest = text[token.end :]
        scale = re.match(r"\s*(?:/|out\s+of|outta)\s*(\d+|ten)\b", rest)
        if scale and not token.veto:
            if scale.group(1) in {"10", "ten"}:
                token.strong = True
            else:
                token.value = None  # "4/5", "3 out of 5": another scale
            while i < len(tokens) and tokens[i].start < token.end + scale.end():
                i += 1
        kept.append(token)
    return kept


def _mark_clauses(tokens: list[_Token]) -> list[_Token]:
    """Number each token's clause and drop the separators."""
    clause = 0
    out: list[_Token] = []
    for token in tokens:
        if not token.number and token.text in _SEPARATORS:
            clause += 1
            continue
        token.clause = clause
        out.append(token)
    return out


def _is_plural(word: str) -> bool:
    return (
        len(word) > 3
        and word.endswith("s")
        and not word.endswith(("ss", "ness", "less", "ous", "us", "is"))
        and word not in _NOT_PLURAL
    )


def _zero_phrases(tokens: list[_Token]) -> None:
    """Mark "none", "no pain", "pain free", "zero pain" as a score of 0."""
    for i, token in enumerate(tokens):
        words = [t.text for t in tokens if t.clause == token.clause]
        earlier = {t.text for t in tokens[:i] if t.clause == token.clause}
        nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
        nxt_same = nxt if i + 1 < len(tokens) and tokens[i + 1].clause == token.clause else ""
        zero = (token.text in {"none", "nil"} and nxt_same not in {"of", "at"}) or (
            token.text in _ZERO_ALONE and set(words) <= _FILLERS | _ZERO_ALONE
        )
        if token.text == "no" and nxt == "pain" and tokens[i + 1].clause == token.clause:
            after = [t.text for t in tokens[i + 2 : i + 4] if t.clause == token.clause]
            situation = after[:1] and after[0] in _SITUATIONS and after != ["at", "all"]
            zero = not (after[:1] and after[0] in _PAIN_RELIEF) and not situation
        elif token.text == "painfree" or (token.text == "pain" and nxt_same == "free"):
            zero = True
        if zero and not earlier & _ZERO_NEGATORS:
            token.number, token.value, token.strong = True, 0, True


# A number straight after one of these is what the pain is not.
_NEGATIONS = frozenset({"not", "isn't", "isnt", "never", "wasn't", "wasnt"})
_ARTICLES = frozenset({"a", "an"})


def _is_candidate(tokens: list[_Token], i: int) -> bool:
    """Whether the number at i is offered as a pain score by its neighbours."""
    token = tokens[i]
    if token.veto:
        return False
    same = [t for t in tokens if t.clause == token.clause]
    k = same.index(token)
    before = [t.text for t in same[:k]]
    said_before = [w for w in before if w not in _ARTICLES]
    if said_before and said_before[-1] in _NEGATIONS:
        return False  # "my pain is not 7", "it isn't a 7/10": whatever it is, not that
    if token.strong:
        return True
    after = [t.text for t in same[k + 1 :]]
    prev = before[-1] if before else ""
    nxt = after[0] if after else ""
    clause_words = set(before) | set(after)
    pain = bool(clause_words & _PAIN_WORDS)
    if nxt in _COUNTED and nxt != "x" and not (nxt == "of" and after[1:2] in (["10"], ["ten"])):
        return False
    if nxt == "x" and len(after) > 1:
        return False  # "4 x 400m"; a lone trailing "x" is a kiss
    if after[:2] in (["at", "night"], ["at", "noon"], ["at", "midnight"]) and not pain:
        return False  # "7 at night" is a clock time
    if k == 0 and _is_plural(nxt):
        return False  # "2 kids", "3 coffees"
    if prev == "at":
        state = before[-2] if len(before) > 1 else ""
        return pain or state in _AT_STATES
    elif prev in {"to", "down", "up"} and pain:
        pass  # "pain went up to 6"
    elif prev in _INDEX_WORDS:
        return False
    if set(before) & _ACTIVITY_WORDS and not pain:
        return False  # "ran 6", "long run was 8", "did 5 today"
    if token.word:
        if prev in {"a", "an"} or pain or set(before) & {"say", "reckon", "rate"}:
            return True
        return set(before) | set(after) <= _FILLERS and not (before and before[-1] in {"no"})
    if prev in {"a", "an"} or before[-2:-1] in (["a"], ["an"]):
        return True  # "a 6", "a solid 6"
    if pain or k == 0 or not after or prev in _SCORE_LEADS:
        return True
    return i == len(tokens) - 1


def _markers(tokens: list[_Token], candidates: list[int]) -> dict[int, str]:
    """Which candidates are marked now or past by the time words next to them."""
    marks: dict[int, str] = {}
    for i in candidates:
        clause = tokens[i].clause
        same = [j for j, t in enumerate(tokens) if t.clause == clause]
        first_word = next((j for j in same if _time_mark(tokens, j)), None)
        first_num = next((j for j in same if j in candidates), None)
        # In "yesterday 8 today 4" the time word leads its number; in "4 today 5 yesterday"
        # it trails it. The clause's first time word tells which.
        leads = first_word is not None and first_num is not None and first_word < first_num
        rivals = [j for j in same if j in candidates]
        pos = rivals.index(i)
        if leads:
            lo = rivals[pos - 1] if pos else same[0] - 1
            span = range(i - 1, lo, -1)
        else:
            hi = rivals[pos + 1] if pos + 1 < len(rivals) else same[-1] + 1
            span = range(i + 1, hi)
        found = [mark for j in span if (mark := _time_mark(tokens, j))]
        if found:
            # "yesterday was 5": the day named beats the bare past tense.
            marks[i] = "yesterday" if "yesterday" in found else found[0]
    return marks


def _time_mark(tokens: list[_Token], j: int) -> str:
    word = tokens[j].text
    prev = tokens[j - 1].text if j else ""
    if word in _NOW_WORDS or (word in {"morning", "evening"} and prev == "this"):
        return "now"
    if word in _PAST_WORDS or (word == "night" and prev == "last"):
        return "yesterday" if word != "was" and word != "were" and word != "earlier" else "past"
    return ""


def read_score(text: str) -> ScoreReading:
    """The pain score a message states anywhere in it, read as people write on a phone."""
    lowered = _score_text(text)
    if not lowered or len(lowered) > SCORE_READ_LIMIT:
        return ScoreReading(None)
    lowered = _SQUEEZE.sub(r"\1", lowered)
    lowered = re.sub(r"\bno\.\s*(?=\d)", "number ", lowered)
    lowered = re.sub(r"\bpain[\s-]+free\b", "painfree", lowered)
    # "5-10 km" is a distance range (a range button's label, typed), never a score: it is read
    # past, so "3 after 5-10 km" is still a 3.
    lowered = _MEASURED_RANGE.sub(" ", lowered)
    lowered = NUMBER_IN_CODE.sub(" ", lowered)
    words = lowered.split()
    if not words:
        return ScoreReading(None)
    if lowered.endswith("?") and words[0].strip(",") in _QUESTION_WORDS:
        return ScoreReading(None)  # "what's a 10?" asks about the scale
    tokens = _mark_clauses(_mark_numbers(lowered, _tokens(lowered)))
    _zero_phrases(tokens)
    numbers = [i for i, t in enumerate(tokens) if t.number]
    # Two numbers joined by "-", "or", "to", "maybe" or nothing at all are a range or a choice.
    for a, b in itertools.pairwise(numbers):
        gap = [t.text for t in tokens[a + 1 : b]]
        joined = tokens[a].clause == tokens[b].clause or gap == []
        # "4/10 3 days in a row" is a score and a count, not a range.
        counted = b + 1 < len(tokens) and tokens[b + 1].text in _COUNTED
        plain = not (tokens[a].veto or tokens[b].veto or tokens[a].strong or counted)
        if plain and joined and set(gap) <= _RANGE_WORDS and len(gap) <= 1:
            return ScoreReading(None)
    candidates = [i for i in numbers if _is_candidate(tokens, i)]
    if not candidates:
        return ScoreReading(None)
    marks = _markers(tokens, candidates)
    chosen = _choose(tokens, candidates, marks)
    if chosen is None:
        return ScoreReading(None)
    value = tokens[chosen].value
    yesterday = marks.get(chosen) == "yesterday"
    if value is not None and value > MAX_SCORE:
        return ScoreReading(None, yesterday, _over_scale(tokens, chosen, numbers))
    if value is None:
        return ScoreReading(None)
    return ScoreReading(value, yesterday)


def _over_scale(tokens: list[_Token], chosen: int, numbers: list[int]) -> bool:
    """Whether a number above 10 is plainly a score: "/10" after it, or up to 20 said alone or
    with pain words ("11", "pain 12"), not "my son is 12"."""
    token = tokens[chosen]
    if token.strong:
        return True
    others = {t.text for t in tokens if t is not token and t.clause == token.clause}
    plain = others <= _PAIN_WORDS | _FILLERS
    return len(numbers) == 1 and plain and token.value is not None and token.value <= OVER_SCALE_MAX


def _choose(tokens: list[_Token], candidates: list[int], marks: dict[int, str]) -> int | None:
    """The one candidate that is the score, or None when rivals leave it open."""
    if len(candidates) == 1 or len({tokens[i].value for i in candidates}) == 1:
        return candidates[-1]
    corrections = [j for j, t in enumerate(tokens) if t.text in _CORRECTIONS]
    if corrections and candidates[-1] > corrections[-1] > candidates[0]:
        return candidates[-1]  # "4, sorry i mean 5"
    now = [i for i in candidates if marks.get(i) == "now"]
    if len(now) == 1:
        return now[0]
    unmarked = [i for i in candidates if i not in marks]
    if not now and len(unmarked) == 1:
        return unmarked[0]  # "5 yesterday, 4" and "was 3, 6"
    return None


def score_in(text: str) -> int | None:
    """The pain score stated anywhere in a message (read_score), or None."""
    return read_score(text).score


def looks_like_score_attempt(text: str) -> bool:
    """Whether text is probably a score typed wrong (11, -1, 3.5, 4-5, 4/5) rather than chat."""
    lowered = _score_text(text)
    if not lowered or len(lowered) > SCORE_TEXT_LIMIT or parse_score(text) is not None:
        return False
    has_number = False
    for token in _SCORE_TOKENS.findall(lowered):
        if token.isdecimal() or token in NUMBER_WORDS:
            has_number = True
        elif not (
            token in _ATTEMPT_WORDS or token in _ATTEMPT_PUNCTUATION or _is_decoration(token)
        ):
            return False
    return has_number


# ---------------------------------------------------------------------------
# Yes and no
# ---------------------------------------------------------------------------

# A yes/no answer typed on a phone is a word or two; longer text says something else too.
YES_NO_LIMIT = 60
# Emoji that answer by themselves; any other symbol is mood and is dropped.
_ANSWER_EMOJI = str.maketrans(
    {
        "\U0001f44d": " yes ",  # thumbs up
        "\U0001f44c": " ok ",  # OK hand
        "\u2705": " yes ",  # check mark button
        "\u2714": " yes ",  # check mark
        "\u2611": " yes ",  # ballot box with check
        "\U0001f44e": " no ",  # thumbs down
        "\u274c": " no ",  # cross mark
        "\U0001f6ab": " no ",  # prohibited
        "\U0001f645": " no ",  # person gesturing no
    }
)
_ANSWER_WORDS = re.compile(r"[a-z]+")
_DOUBLED = re.compile(r"([a-z])\1+")


def _fold_word(word: str) -> str:
    """A word with doubled letters single, so "yesss", "okk" and "nooo" read as typed once."""
    return _DOUBLED.sub(r"\1", word)


def _phrases(listing: str) -> tuple[tuple[str, ...], ...]:
    """Comma-separated phrases of folded words."""
    return tuple(tuple(map(_fold_word, p.split())) for p in listing.split(","))


# Answers, as phrases of folded words (apostrophes dropped: "dont", "thats").
_YES_PHRASES = _phrases(
    """yes, yeah, yea, yeh, yep, yup, ya, yah, ye, yh, yas, aye, y, ok, okay, okey, oki, okie, k,
    sure, agree, agreed, i agree, fine, alright, all right, absolutely, definitely, certainly,
    ofc, of course, go ahead, go for it, sounds good, sounds great, sounds fine, why not, i do,
    thats fine, thats ok, thats okay, thats good, thats great, fine by me, fine with me,
    ok with me, okay with me, by all means, do it, go on, love to, id like, id like that,
    i would like, i would like that, sign me up, turn it on"""
)
_NO_PHRASES = _phrases(
    """no, nope, nah, naw, nay, n, nop, no way, not ok, not okay, not really, not now, not yet,
    dont, i dont, do not, i do not, dont agree, i dont agree, do not agree, i do not agree,
    disagree, never, rather not, not interested, no chance, maybe later, later, skip, pass,
    dont need it, no need, not needed, not for me, leave it"""
)
# Words that may sit around an answer without changing it ("yes please", "no thanks").
_ANSWER_FILLERS = frozenset(
    map(
        _fold_word,
        _word_set(
            """please pls plz thanks thank you ty thx cheers i that thats its it is me with by
            for then so cool great good perfect lovely thing too also and mate x xx lol haha oh
            um well right now sorry id totally very much just"""
        ),
    )
)
_ANSWERS: dict[tuple[str, ...], bool] = {
    **{phrase: True for phrase in _YES_PHRASES},
    **{phrase: False for phrase in _NO_PHRASES},
}
_LONGEST_ANSWER = max(len(phrase) for phrase in _ANSWERS)


def read_yes_no(text: str) -> bool | None:
    """True for a typed yes ("ok", "yes please", "👍"), False for a no ("nope", "no thanks"),
    None when the text is anything more or else ("no pain", "not sure", "ok but ...")."""
    cleaned = clean_text(text, limit=YES_NO_LIMIT * 2).lower().translate(_APOSTROPHES)
    if not cleaned or len(cleaned) > YES_NO_LIMIT or cleaned.rstrip().endswith("?"):
        return None  # "ok?" asks rather than answers
    cleaned = cleaned.translate(_ANSWER_EMOJI).replace("'", "")
    # Anything but words, spaces, emoji and sentence punctuation ("ok 4", "yes/no") is more
    # than an answer.
    rest = _ANSWER_WORDS.sub(" ", cleaned)
    if any(not (c.isspace() or c in ".,!;:~-" or _is_decoration(c)) for c in rest):
        return None
    words = [_fold_word(w) for w in _ANSWER_WORDS.findall(cleaned)]
    said: set[bool] = set()
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST_ANSWER, len(words) - i), 0, -1):
            answer = _ANSWERS.get(tuple(words[i : i + size]))
            if answer is not None:
                said.add(answer)
                i += size
                break
        else:
            if words[i] not in _ANSWER_FILLERS:
                return None
            i += 1
    return said.pop() if len(said) == 1 else None


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
# A name as Telegram allows it (letters, digits, underscores; a letter first here, so "/4" is
# no command), then any "!", "?" or "." typed after it ("/undo!" is /undo).
_COMMAND = re.compile(r"/([A-Za-z_][A-Za-z0-9_]{0,31})(?:@\w+)?[!?.]*(?:\s+(.*))?", re.DOTALL)


def parse_command(text: str) -> Command | None:
    """The slash command in text ("/checkin 4", "/checkin@SiCheckinBot 4"), or None."""
    match = _COMMAND.fullmatch(clean_text(text))
    if match is None:
        return None
    raw_args = (match.group(2) or "").strip()
    return Command(match.group(1).lower(), tuple(raw_args.split()), raw_args)


# Names shorter than this are too close to everything to be read as a typo of anything.
COMMAND_TYPO_MIN = 3
# Up to this length one slip is allowed, and not a changed letter ("/fun" is not "/run");
# from COMMAND_TYPO_LONG on, two slips.
COMMAND_TYPO_SHORT = 4
COMMAND_TYPO_LONG = 7
# Endings people add to a command's name: "/reminders", "/checkins", "/notes".
_COMMAND_ENDINGS = ("s", "es", "er", "ers", "ing")
# Words people send as commands of their own: a near command would be the wrong suggestion.
_OWN_COMMANDS = frozenset({"quit", "exit", "end", "back", "menu", "cancel", "stat", "stats"})


def _typo_distance(typed: str, name: str) -> int | None:
    """How many slips turn name into typed, when that few could be a typo, else None."""
    allowed = 2 if len(typed) >= COMMAND_TYPO_LONG else 1
    distance = DamerauLevenshtein.distance(typed, name, score_cutoff=allowed)
    if distance > allowed:
        return None
    if len(typed) <= COMMAND_TYPO_SHORT and len(typed) == len(name):
        # One slip between short names of one length is a swap or a changed letter; only
        # a swap ("/hlep") is a typo, a changed letter is another word ("/fun", "/nope").
        return distance if Levenshtein.distance(typed, name) == 2 else None
    return distance


def suggest_command(typed: str, names: Sequence[str], next_word: str = "") -> str | None:
    """The one command name a mistyped one ("chekin", "check" + "in") most likely meant."""
    typed = typed.lower()
    if typed in names:
        return None
    if next_word and (joined := typed + next_word.lower()) in names:
        return joined  # "/check in" and "/time zone"
    if typed.replace("_", "") in names:
        return typed.replace("_", "")
    if len(typed) < COMMAND_TYPO_MIN or typed in _OWN_COMMANDS:
        return None
    ranked: list[tuple[int, int, str]] = []
    for order, name in enumerate(names):
        if len(typed) >= COMMAND_TYPO_SHORT and name.startswith(typed):
            ranked.append((0, order, name))  # "/hist"
        elif typed.startswith(name) and typed[len(name) :] in _COMMAND_ENDINGS:
            ranked.append((0, order, name))  # "/reminders"
        elif (distance := _typo_distance(typed, name)) is not None:
            ranked.append((distance, order, name))
    if not ranked:
        return None
    ranked.sort()
    # Two names equally close and equally early cannot both be meant: the registry's order
    # (the order /help shows) settles a tie, as people reach for the commands listed first.
    return ranked[0][2]


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
    if ago and (text.startswith("-") or not text.isdecimal()):
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
    "chicago": "America/Chicago",
    "dallas": "America/Chicago",
    "houston": "America/Chicago",
    "austin": "America/Chicago",
    "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "portland": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "montreal": "America/Toronto",
    "ottawa": "America/Toronto",
    "rio": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo",
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
    "hawaii": "Pacific/Honolulu",
    "alaska": "America/Anchorage",
    "united kingdom": "Europe/London",
    "portugal": "Europe/Lisbon",
    "holland": "Europe/Amsterdam",
    "korea": "Asia/Seoul",
    "south korea": "Asia/Seoul",
    "new zealand": "Pacific/Auckland",
    "uae": "Asia/Dubai",
    "east coast": "America/New_York",
    "west coast": "America/Los_Angeles",
    # Names of big cities in their own language, which the tz database spells in English.
    "munchen": "Europe/Berlin",
    "muenchen": "Europe/Berlin",
    "koln": "Europe/Berlin",
    "wien": "Europe/Vienna",
    "roma": "Europe/Rome",
    "lisboa": "Europe/Lisbon",
    "praha": "Europe/Prague",
    "warszawa": "Europe/Warsaw",
    "bruxelles": "Europe/Brussels",
    "brussel": "Europe/Brussels",
    "kobenhavn": "Europe/Copenhagen",
    "moskva": "Europe/Moscow",
    "singapur": "Asia/Singapore",
}
# Abbreviations and names of zones as people say them, the zone they mean (the one whose
# clocks they live by, summer time included: "EST" in July still means New York), and the
# zone's name in words, said back so a person sees what "CET" was taken for.
_EASTERN = ("America/New_York", "Eastern Time")
_CENTRAL = ("America/Chicago", "Central Time")
_MOUNTAIN = ("America/Denver", "Mountain Time")
_PACIFIC = ("America/Los_Angeles", "Pacific Time")
_CENTRAL_EUROPE = ("Europe/Berlin", "Central European Time")
_ABBREVIATIONS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(["est", "edt", "et", "eastern", "us eastern", "eastern standard"], _EASTERN),
    **dict.fromkeys(["cst", "cdt", "ct", "central", "us central", "central standard"], _CENTRAL),
    **dict.fromkeys(["mst", "mdt", "mt", "mountain", "us mountain"], _MOUNTAIN),
    **dict.fromkeys(["pst", "pdt", "pt", "pacific", "us pacific", "pacific standard"], _PACIFIC),
    **dict.fromkeys(["akst", "akdt"], ("America/Anchorage", "Alaska Time")),
    **dict.fromkeys(["hst", "hast", "hdt"], ("Pacific/Honolulu", "Hawaii Time")),
    **dict.fromkeys(["ast", "adt", "atlantic"], ("America/Halifax", "Atlantic Time")),
    **dict.fromkeys(["nst", "ndt"], ("America/St_Johns", "Newfoundland Time")),
    **dict.fromkeys(["bst", "uk"], ("Europe/London", "UK time")),
    "ist": ("Asia/Kolkata", "India Standard Time"),
    **dict.fromkeys(["cet", "cest", "mez", "mesz", "central european"], _CENTRAL_EUROPE),
    **dict.fromkeys(
        ["eet", "eest", "eastern european"], ("Europe/Athens", "Eastern European Time")
    ),
    **dict.fromkeys(["wet", "western european"], ("Europe/Lisbon", "Western European Time")),
    "msk": ("Europe/Moscow", "Moscow Time"),
    "jst": ("Asia/Tokyo", "Japan Standard Time"),
    "kst": ("Asia/Seoul", "Korea Standard Time"),
    **dict.fromkeys(["aest", "aedt", "aet"], ("Australia/Sydney", "Australian Eastern Time")),
    **dict.fromkeys(["acst", "acdt"], ("Australia/Adelaide", "Australian Central Time")),
    "awst": ("Australia/Perth", "Australian Western Time"),
    **dict.fromkeys(["nzst", "nzdt", "nzt"], ("Pacific/Auckland", "New Zealand Time")),
    "sgt": ("Asia/Singapore", "Singapore Time"),
    "hkt": ("Asia/Hong_Kong", "Hong Kong Time"),
    "pht": ("Asia/Manila", "Philippine Time"),
    "wib": ("Asia/Jakarta", "Western Indonesia Time"),
    "ict": ("Asia/Bangkok", "Indochina Time"),
    "pkt": ("Asia/Karachi", "Pakistan Standard Time"),
    "gst": ("Asia/Dubai", "Gulf Standard Time"),
    "sast": ("Africa/Johannesburg", "South African Standard Time"),
    "eat": ("Africa/Nairobi", "East Africa Time"),
    "wat": ("Africa/Lagos", "West Africa Time"),
    "cat": ("Africa/Maputo", "Central Africa Time"),
    "brt": ("America/Sao_Paulo", "Brasília Time"),
    "art": ("America/Argentina/Buenos_Aires", "Argentina Time"),
}
# Countries spanning several zones, by ISO code: no one zone, but these are the ones to offer,
# most people first (bot.zones offers them for a language tag like "en-US" too).
MULTI_ZONE_COUNTRIES: dict[str, tuple[str, ...]] = {
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "CA": (
        "America/Toronto",
        "America/Vancouver",
        "America/Edmonton",
        "America/Winnipeg",
        "America/Halifax",
    ),
    "AU": ("Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide", "Australia/Perth"),
    "RU": ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Vladivostok"),
    "BR": ("America/Sao_Paulo", "America/Manaus"),
    "MX": ("America/Mexico_City", "America/Tijuana", "America/Cancun"),
}
_COUNTRY_ZONES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ["usa", "us", "america", "united states", "united states of america"],
        MULTI_ZONE_COUNTRIES["US"],
    ),
    "canada": MULTI_ZONE_COUNTRIES["CA"],
    "australia": MULTI_ZONE_COUNTRIES["AU"],
    "russia": MULTI_ZONE_COUNTRIES["RU"],
    "brazil": MULTI_ZONE_COUNTRIES["BR"],
    "mexico": MULTI_ZONE_COUNTRIES["MX"],
}
# Words after a zone that add nothing: "CET time", "London UK", "Eastern standard time".
_ZONE_TAIL = frozenset({"time", "timezone", "zone", "tz", "standard", "daylight", "summer"})
# A misspelt place is read as the one place a slip or two away: one slip up to this length,
# two from the next. "Atlantis" stays two slips from Atlanta, and unknown.
ZONE_TYPO_MIN = 5
ZONE_TYPO_ONE_SLIP = 8
# Autocomplete finds a query inside a name (not only at a word's start) from this length.
ZONE_INSIDE_MIN = 4


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
def _countries() -> dict[str, tuple[str, ...]]:
    """Folded country name ("denmark", "kenya") -> its zones, as zone.tab lists them."""
    try:
        base = resources.files("tzdata.zoneinfo")
        names = base.joinpath("iso3166.tab").read_text("utf-8")
        table = base.joinpath("zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return {}
    zones: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            code, _, key = line.split("\t")[:3]
            zones.setdefault(code, []).append(key)
    found: dict[str, tuple[str, ...]] = {}
    twice: set[str] = set()
    for line in names.splitlines():
        if not line or line.startswith("#"):
            continue
        code, name = line.split("\t")[:2]
        # "Korea (North)" and "Korea (South)" both fold to "korea", which is neither.
        folded = _zone_words(re.sub(r"\s*\(.*?\)", "", name))
        if folded in found:
            twice.add(folded)
        found[folded] = tuple(zones.get(code, ()))
    return {name: keys for name, keys in found.items() if keys and name not in twice}


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


def _zone_readings(text: str) -> list[tuple[str, str]]:
    """Ways to read a zone text, each as (the text, its folded words): the whole, the place
    before a comma ("Berlin, Germany"), and without trailing words that add nothing
    ("CET time", "London UK")."""
    readings: dict[tuple[str, str], None] = {}
    for part in dict.fromkeys([text, text.split(",")[0].strip()]):
        words = re.sub(r"[()\[\]\"]", " ", _zone_words(part)).split()
        readings[(part, " ".join(words))] = None
        while len(words) > 1 and (
            words[-1] in _ZONE_TAIL
            or words[-1] in _ABBREVIATIONS
            or words[-1] in _ALIASES
            or words[-1] in _COUNTRY_ZONES
        ):
            words = words[:-1]
            readings[(part, " ".join(words))] = None
    return [reading for reading in readings if reading[1]]


@functools.cache
def _places() -> dict[str, str]:
    """Folded place names a misspelling may be read as -> their key: cities, then aliases."""
    named = {name: key for name, key in _ALIASES.items() if len(name) >= ZONE_TYPO_MIN}
    return {**named, **_cities()}


def _misspelt_place(words: str) -> str | None:
    """The key of the one place a misspelling is a slip or two from ("new yrok"), or None."""
    if len(words.replace(" ", "")) < ZONE_TYPO_MIN:
        return None
    allowed = 1 if len(words) <= ZONE_TYPO_ONE_SLIP else 2
    found = process.extract(
        words,
        _places().keys(),
        scorer=DamerauLevenshtein.distance,
        score_cutoff=allowed,
        limit=None,
    )
    if not found:
        return None
    best = min(distance for _, distance, _ in found)
    keys = {_places()[name] for name, distance, _ in found if distance == best}
    # Two places equally near ("lome" is one slip from both Rome and Lima): no guess.
    return keys.pop() if len(keys) == 1 else None


def parse_timezone(text: str) -> str | None:
    """A canonical zone key (IANA name or "UTC+02:00") for a zone, abbreviation, city (misspelt
    too) or offset, or None."""
    cleaned = clean_text(text, limit=100)
    if not cleaned:
        return None
    if offset := _offset_key(cleaned.replace(" ", "")):
        return offset
    keys = _iana_keys()
    readings = _zone_readings(cleaned)
    for part, words in readings:
        if words in _ABBREVIATIONS:
            return _ABBREVIATIONS[words][0]
        if words in _ALIASES:
            return _ALIASES[words]
        if "/" in part and (key := keys.get(part.lower().replace(" ", "_"))):
            return key
        if words in _cities():
            return _cities()[words]
        if key := keys.get(part.lower()):
            return key
        if len(country := _countries().get(words, ())) == 1:
            return country[0]
    for _, words in readings:
        # A country's name is never a misspelt city ("canada" is not "canary").
        known = words in _COUNTRY_ZONES or words in _countries()
        if not known and (key := _misspelt_place(words)):
            return key
    return None


def zone_label(text: str) -> str | None:
    """The zone's name in words when text is an abbreviation ("CET": "Central European Time"),
    so the answer can say what it was taken for; None for a city, key or offset."""
    cleaned = clean_text(text, limit=100)
    if not cleaned or _offset_key(cleaned.replace(" ", "")):
        return None
    for _, words in _zone_readings(cleaned):
        if words in _ABBREVIATIONS:
            return _ABBREVIATIONS[words][1]
    return None


@functools.lru_cache(maxsize=1024)
def zone(key: str) -> tzinfo:
    """The tzinfo for a key from parse_timezone; ValueError if the key is unknown.

    Cached: every message and every reminder asks for its person's zone."""
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
    for order, key in enumerate(_COUNTRY_ZONES.get(query) or _countries().get(query, ())):
        offer(key, (0, 1, f"{order:03d}"))
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
            elif len(query) >= ZONE_INSIDE_MIN and query in name:
                # Three letters turn up inside too many names ("est" in Bucharest) to help.
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


# A time of day as typed: "8", "8am", "8.30", "20:00", "2000", "half past 7", "noon",
# "8 in the evening". A bare hour is read on the 24-hour clock (8 is 08:00, 20 is 20:00); the
# answers that use a time say it back, so "8" meant as 20:00 shows at once.
CLOCK_TEXT_LIMIT = 40
_HOUR_WORDS = {name: value for name, value in NUMBER_WORDS.items() if value >= 1}
_HOUR_WORDS |= {"eleven": 11, "twelve": 12}
_HOUR_TOKEN = "|".join(["\\d{1,2}", *_HOUR_WORDS])
# Minutes said in words after an hour word: "eight thirty", "seven forty-five".
_MINUTE_WORDS = {"oh five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30}
_MINUTE_WORDS |= {"forty": 40, "forty five": 45, "fifty": 50}
# Minutes before "past" or "to": "quarter to 8", "20 past 7", "half past 6".
_PAST_MINUTES = {"five": 5, "ten": 10, "quarter": 15, "a quarter": 15, "twenty": 20}
_PAST_MINUTES |= {"twenty five": 25, "half": 30}
_PAST_TOKEN = "|".join(["\\d{1,2}", *sorted(_PAST_MINUTES, key=len, reverse=True)])
_CLOCK_LEAD = re.compile(r"(?:at|@|around|about|approximately|approx|roughly|by|from)\b\s*|@\s*")
_CLOCK_REPEAT = re.compile(r"\s*(?:every\s*day|everyday|daily|each\s*day)$")
_CLOCK_ISH = re.compile(r"\s*-?\s*ish$")
_CLOCK_AMPM = re.compile(r"(?<=[\d\s])([ap])m?$")
_CLOCK_PERIOD = re.compile(
    r"\s*(?:(?:in\s+the|this|every|at|in|of\s+the)\s+)?\b(morning|afternoon|evening|night)$"
    r"|\s*(tonight)$"
)
_CLOCK_OCLOCK = re.compile(r"\s*o\s*'?\s*clock$")
_CLOCK_DIGITS = re.compile(r"(\d{1,2})(?:[:.h](\d{2})(?::(\d{2}))?|h)?")
_CLOCK_HHMM = re.compile(r"(\d{1,2})(\d{2})")
_CLOCK_WORDS = re.compile(
    rf"({'|'.join(_HOUR_WORDS)})(?:\s+({'|'.join(sorted(_MINUTE_WORDS, key=len, reverse=True))}))?"
)
_CLOCK_PAST = re.compile(rf"({_PAST_TOKEN})\s+(past|after|to|til|till)\s+({_HOUR_TOKEN})")
_CLOCK_HALF = re.compile(rf"half\s+({_HOUR_TOKEN})")  # British "half 7" is 7:30
_NOON = frozenset({"noon", "midday", "mid day", "12 noon", "12 midday"})
_MIDNIGHT = frozenset({"midnight", "12 midnight"})
# Which hours a part of the day turns into which: "8 in the evening" is 20:00, "12 at night"
# is 00:00. An hour the part of the day cannot have ("12 in the evening") is no time.
_PERIOD_HOURS: dict[str, dict[int, int]] = {
    "morning": {h: h for h in range(1, 12)},
    "afternoon": {12: 12} | {h: h + 12 for h in range(1, 7)},
    "evening": {h: h + 12 for h in range(4, 12)},
    "tonight": {12: 0} | {h: h + 12 for h in range(4, 12)},
    "night": {12: 0} | {h: h for h in range(1, 5)} | {h: h + 12 for h in range(6, 12)},
}


@dataclass(frozen=True)
class _Clock:
    """A time read from text, and whether it was a bare hour that could be am or pm."""

    when: time
    bare: bool


def _hour(token: str) -> int:
    return _HOUR_WORDS[token] if token in _HOUR_WORDS else int(token)


def _read_clock(text: str) -> _Clock | None:
    """The time of day a text gives, or None: words around it ("at", "daily", "ish") are
    dropped, and am/pm or a part of the day ("in the evening") turns the hour."""
    cleaned = clean_text(text, limit=CLOCK_TEXT_LIMIT * 2).lower().translate(_APOSTROPHES)
    if len(cleaned) > CLOCK_TEXT_LIMIT:
        return None
    cleaned = re.sub(r"(?<![a-z])([ap])\.\s?m\.?(?![a-z])", r"\1m", cleaned)
    cleaned = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", cleaned).strip(" .!")  # "mid-day", "pm-ish"
    cleaned = _WHITESPACE_RUN.sub(" ", cleaned)
    if lead := _CLOCK_LEAD.match(cleaned):
        cleaned = cleaned[lead.end() :]
    cleaned = _CLOCK_REPEAT.sub("", cleaned)
    cleaned = _CLOCK_ISH.sub("", cleaned)
    half = ""  # "am"/"pm" or a part of the day; both at once contradict or repeat
    cues = 0
    if match := _CLOCK_AMPM.search(cleaned):
        half, cues = match.group(1) + "m", cues + 1
        cleaned = cleaned[: match.start()].strip()
    if match := _CLOCK_PERIOD.search(cleaned):
        half, cues = match.group(1) or match.group(2), cues + 1
        cleaned = cleaned[: match.start()].strip()
    cleaned = _CLOCK_OCLOCK.sub("", cleaned)
    if cues > 1 or not cleaned:
        return None
    if cleaned in _NOON or cleaned in _MIDNIGHT:
        return None if half else _Clock(time(12 if cleaned in _NOON else 0), False)
    minute, second, bare, shift = 0, 0, False, 0
    if match := _CLOCK_PAST.fullmatch(cleaned):
        token, direction, hour_token = match.groups()
        minutes = int(token) if token.isdecimal() else _PAST_MINUTES[token]
        hour, after = _hour(hour_token), direction in {"past", "after"}
        if not 1 <= hour <= 12 or not 1 <= minutes <= (59 if after else 30):
            return None
        shift, bare = minutes if after else -minutes, True
    elif match := _CLOCK_HALF.fullmatch(cleaned):
        hour, shift, bare = _hour(match.group(1)), 30, True
        if not 1 <= hour <= 12:
            return None
    elif match := _CLOCK_WORDS.fullmatch(cleaned):
        hour = _HOUR_WORDS[match.group(1)]
        minute = _MINUTE_WORDS[match.group(2)] if match.group(2) else 0
        bare = not match.group(2)
    elif match := _CLOCK_DIGITS.fullmatch(cleaned):
        hour = int(match.group(1))
        minute, second = int(match.group(2) or 0), int(match.group(3) or 0)
        # "10" and "10:30" could be am or pm; "09", "10h" and "22" say which.
        bare = not cleaned.startswith("0") and not cleaned.endswith("h")
    elif match := _CLOCK_HHMM.fullmatch(cleaned):
        hour, minute = int(match.group(1)), int(match.group(2))
    else:
        return None
    if half:
        if half in _PERIOD_HOURS:
            if hour not in _PERIOD_HOURS[half]:
                return None
            hour = _PERIOD_HOURS[half][hour]
        else:
            if not 1 <= hour <= 12:
                return None  # "13pm", "0am"
            hour = hour % 12 + (12 if half == "pm" else 0)  # 12am is midnight, 12pm noon
        bare = False
    if hour > 23 or minute > 59 or second > 59:
        return None
    bare = bare and 1 <= hour <= 12  # "22" can only be 22:00
    moment = (hour * 60 + minute + shift) % (24 * 60)
    return _Clock(time(moment // 60, moment % 60, second), bare)


def parse_clock_time(text: str) -> time | None:
    """A time of day as people type it (07:30, 8, 8am, 8.30, 2000, half past 7, noon), or None."""
    read = _read_clock(text)
    return read.when if read else None


def _clock_words(words: list[str]) -> list[_Clock] | None:
    """Times in a run of words, each as long as it can be ("7 pm 8 in the evening")."""
    found: list[_Clock] = []
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            if read := _read_clock(" ".join(words[i:j])):
                found.append(read)
                i = j
                break
        else:
            return None
    return found


def parse_time_list(text: str) -> list[time] | None:
    """Sorted distinct times from '10:00,14:00', '10 14', '7am and 7pm' or 'noon, 6pm', or None."""
    found: set[time] = set()
    for part in _LIST_SEPARATOR.split(clean_text(text, limit=200).lower()):
        read = _read_clock(part)
        reads = [read] if read else _clock_words(part.split())
        if not reads:
            return None
        found.update(r.when for r in reads)
    return sorted(found) or None


def parse_time_range(text: str) -> tuple[time, time] | None:
    """A (start, end) window like 22:00-07:00, '10pm to 7am' or '22-7'; may wrap past midnight.

    A window of bare hours that would run backwards ("10-7") is a night: the start is evening.
    """
    cleaned = clean_text(text, limit=50).lower()
    windows: list[tuple[_Clock, _Clock]] = []
    # "quarter to 8" holds a "to" and "7pm-ish" a dash: every split is tried.
    for match in _RANGE_SEPARATOR.finditer(cleaned):
        start, end = _read_clock(cleaned[: match.start()]), _read_clock(cleaned[match.end() :])
        if start is not None and end is not None:
            windows.append((start, end))
    if len(windows) != 1:
        return None
    ((start, end),) = windows
    begin = start.when
    if start.bare and begin > end.when:
        begin = time((begin.hour % 12) + 12 if begin.hour < 12 else 0, begin.minute)
    if begin == end.when:
        return None
    return begin, end.when


_PAUSE = re.compile(r"(\d{1,3})\s*(d|days?|w|weeks?)?")


def parse_days(text: str) -> int | None:
    """A number of days from 3, 3d, 3 days or 2w, within 1..90, or None."""
    match = _PAUSE.fullmatch(clean_text(text, limit=20).lower())
    if match is None:
        return None
    days = int(match.group(1)) * (7 if (match.group(2) or "d").startswith("w") else 1)
    return days if 1 <= days <= MAX_PAUSE_DAYS else None


_STOP = re.compile(
    r"(?:please\s+)?(?:stop(?:\s+(?:it|that|this|now|please|messaging(?:\s+me)?|texting(?:\s+me)?"
    r"|sending(?:\s+me)?(?:\s+(?:messages|reminders|these|this|stuff))?|the\s+(?:messages|reminders)"
    r"|(?:the\s+)?(?:notifications|reminders|messages)))?|unsubscribe|leave\s+me\s+alone"
    r"|no\s+more\s+(?:messages|reminders)|opt\s+out)(?:\s+please)?"
)


def asks_to_stop(text: str) -> bool:
    """Whether a whole message asks the bot to stop messaging ("STOP", "stop sending me
    messages", "unsubscribe"), as people answer a text message they no longer want."""
    said = re.sub(r"[^a-z ]+", " ", text.lower())
    return _STOP.fullmatch(" ".join(said.split())) is not None
