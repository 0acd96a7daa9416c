"""Red flags in free text: which screen options a message mentions, and which it denies.

A pure reader: text in, a Reading out. No clock, no database, no platform. The vocabulary
lives in content/red_flags.yaml (loaded once and compiled into a word index); this module
only knows how to apply it. shared/CLINICAL.md ("Red-flag screen") is the spec.

How a message is read:
1. Normalise (lower case, apostrophes dropped, "&" as "and", emoji and symbols dropped) and
   split into words and clause breaks.
2. Read misspellings of long words as the word they miss ("nummness" -> "numbness") with
   rapidfuzz; short words stay exact so "feel" never becomes "fell".
3. Find every phrase of every word list in one pass, then combine lists that must occur near
   each other ("numb" near "groin") and drop matches an `unless` phrase covers
   ("fell asleep").
4. Decide negation: a negation word before the symptom words, reaching only over filler in
   the same clause ("no numbness", "haven't peed myself"), or a denial right after them
   ("bladder and bowels fine").
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

import content
from bot.trends import SYMPTOMS, Tier, symptom

VOCABULARY_PATH = Path(content.__file__).resolve().parent / "red_flags.yaml"

# Platforms cap messages at 2000-4096 characters; the cap bounds the work on anything longer.
MAX_CHARS = 5000
# Misspellings are looked for only in words at least this long: short words are too close
# to each other ("fell", "feel", "fall") for a one-letter slip to mean anything.
FUZZY_MIN_LENGTH = 6
# Long words may differ more: "tempreture" is two edits from "temperature".
FUZZY_LONG_LENGTH = 9
FUZZY_LONG_RATIO = 85.0

_WORD, _HARD, _SOFT = 0, 1, 2
_HARD_MARK, _SOFT_MARK = ".", ","


@dataclass(frozen=True, slots=True)
class Mention:
    """One red-flag symptom named in the text."""

    code: str  # one of bot.trends.SYMPTOMS codes
    tier: Tier  # bot.trends.symptom(code).tier
    negated: bool  # "no numbness", "not numb", "never had cancer"
    words: str  # the words in the text that matched (for tests; never logged by the bot)


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything the text says about red flags, denied mentions included."""

    mentions: tuple[Mention, ...]

    @property
    def codes(self) -> frozenset[str]:
        """Codes of the mentions that are reported, not denied."""
        return frozenset(m.code for m in self.mentions if not m.negated)

    @property
    def emergency_codes(self) -> frozenset[str]:
        """Codes of the reported emergency-tier mentions."""
        return frozenset(
            m.code for m in self.mentions if m.tier == Tier.EMERGENCY and not m.negated
        )

    @property
    def emergency(self) -> bool:
        """True when a reported (not denied) mention is an emergency-tier symptom."""
        return any(m.tier == Tier.EMERGENCY and not m.negated for m in self.mentions)

    @property
    def tier(self) -> Tier:
        """The highest tier among reported mentions; Tier.NONE when there are none."""
        return max((m.tier for m in self.mentions if not m.negated), default=Tier.NONE)


def read(text: str) -> Reading:
    """Read the red-flag symptoms a message mentions, each with its tier and negation."""
    vocab = _vocabulary()
    return Reading(vocab.mentions(_Text(vocab, text)))


def mentions_belt(text: str) -> bool:
    """True when the person talks about an SI / sacroiliac / pelvic support belt."""
    vocab = _vocabulary()
    found = _Text(vocab, text)
    return bool(vocab.candidates(found, vocab.belt))


# ---------------------------------------------------------------------------------------
# Compiled vocabulary
# ---------------------------------------------------------------------------------------


class _Prefix(str):
    """A word stem written "stem*" in the vocabulary."""

    __slots__ = ()


_Atom = str | _Prefix | re.Pattern[str]
_Seq = tuple[_Atom, ...]


@dataclass(frozen=True, slots=True)
class _Near:
    first: int
    second: int
    window: int
    ordered: bool


@dataclass(frozen=True, slots=True)
class _Rule:
    any: tuple[int, ...]
    near: tuple[_Near, ...]
    unless_any: tuple[int, ...]
    unless_near: tuple[_Near, ...]


@dataclass(frozen=True, slots=True)
class _Match:
    start: int
    end: int
    parts: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class _Negation:
    words: frozenset[str]
    reach: int
    filler: frozenset[str]
    determiners: frozenset[str]
    after_determiner: frozenset[str]
    coordinators: frozenset[str]
    after_filler: frozenset[str]
    after: int
    after_final: int
    after_final_tail: frozenset[str]


class _Text:
    """One message, split into words, with every vocabulary phrase found in it."""

    __slots__ = ("canon", "hard_before", "kinds", "orig", "spans")

    def __init__(self, vocab: _Vocabulary, text: str) -> None:
        self.orig, self.kinds = _tokens(text, vocab.breaks, vocab.new_clause)
        marks = {_WORD: "", _HARD: _HARD_MARK, _SOFT: _SOFT_MARK}
        self.canon = [
            vocab.canonical(word) if kind == _WORD else marks[kind]
            for word, kind in zip(self.orig, self.kinds, strict=True)
        ]
        self.spans = vocab.scan(self.canon, self.kinds)
        # Prefix counts of clause breaks: "is there a break between i and j" in O(1).
        counts = [0]
        for kind in self.kinds:
            counts.append(counts[-1] + (kind == _HARD))
        self.hard_before = counts

    def broken(self, lo: int, hi: int) -> bool:
        return self.hard_before[hi] - self.hard_before[lo] > 0


class _Vocabulary:
    """The YAML vocabulary compiled into a first-word index and per-code rules."""

    def __init__(self, path: Path, data: Any) -> None:
        self._path = path
        self._sets: list[list[_Seq]] = []
        self.literals: set[str] = set()
        self.prefixes: set[str] = set()
        self._expanded: dict[str, list[_Seq]] = {}
        self._named_sets: dict[str, int] = {}

        data = _mapping(data, path, "the file")
        for key in ("window", "text", "negation", "fuzzy", "lists", "symptoms", "belt"):
            if key not in data:
                raise self._error(key, "missing")
        self._window = _int(data["window"], self._where("window"))
        self._lists = _mapping(data["lists"], path, "lists")
        for name, items in self._lists.items():
            _strings(items, self._where(f"lists.{name}"))

        text = _mapping(data["text"], path, "text")
        self.breaks = frozenset(_strings(text.get("breaks", []), self._where("text.breaks")))
        self.new_clause = frozenset(
            _strings(text.get("new_clause", []), self._where("text.new_clause"))
        )

        self.negation = self._compile_negation(_mapping(data["negation"], path, "negation"))

        symptoms = _mapping(data["symptoms"], path, "symptoms")
        known = {s.code for s in SYMPTOMS}
        for code in symptoms:
            if code not in known:
                raise self._error(f"symptoms.{code}", "unknown symptom code")
        for code in known - set(symptoms):
            raise self._error(f"symptoms.{code}", "missing (every screen option needs words)")
        self.rules: dict[str, _Rule] = {}
        self.supersedes: dict[str, frozenset[str]] = {}
        # Walk SYMPTOMS so mentions come out in screen order for equal positions.
        for s in SYMPTOMS:
            where = f"symptoms.{s.code}"
            block = _mapping(symptoms[s.code], path, where)
            self.rules[s.code] = self._compile_rule(block, where)
            over = _strings(block.get("supersedes", []) or [], self._where(f"{where}.supersedes"))
            for other in over:
                if other not in known:
                    raise self._error(f"{where}.supersedes", f"unknown symptom code {other!r}")
            self.supersedes[s.code] = frozenset(over)
        self.tiers = {s.code: _tier(s.code) for s in SYMPTOMS}
        self.belt = self._compile_rule(_mapping(data["belt"], path, "belt"), "belt")

        self._compile_fuzzy(_mapping(data["fuzzy"], path, "fuzzy"))
        self._build_index()

    # --- errors -----------------------------------------------------------------------

    def _where(self, entry: str) -> str:
        return f"{self._path.name}: {entry}"

    def _error(self, entry: str, problem: str) -> ValueError:
        return ValueError(f"{self._path.name}: {entry}: {problem}")

    # --- phrases ----------------------------------------------------------------------

    def _expand_list(self, name: str, where: str, stack: tuple[str, ...]) -> list[_Seq]:
        if name in self._expanded:
            return self._expanded[name]
        if name not in self._lists:
            raise self._error(where, f"unknown list {{{name}}}")
        if name in stack:
            raise self._error(where, f"list {{{name}}} refers to itself")
        seqs: list[_Seq] = []
        for item in self._lists[name]:
            seqs.extend(self._phrase(item, f"lists.{name}: {item!r}", (*stack, name)))
        self._expanded[name] = seqs
        return seqs

    def _phrase(self, phrase: str, where: str, stack: tuple[str, ...] = ()) -> list[_Seq]:
        words = phrase.split()
        if not words:
            raise self._error(where, "empty phrase")
        options: list[list[_Seq]] = []
        for word in words:
            if word.startswith("{") and word.endswith("}"):
                options.append(self._expand_list(word[1:-1], where, stack))
            elif len(word) > 2 and word.startswith("/") and word.endswith("/"):
                try:
                    options.append([(re.compile(word[1:-1]),)])
                except re.error as exc:
                    raise self._error(where, f"bad regular expression {word}: {exc}") from None
            elif word.endswith("*") and re.fullmatch(r"[a-z0-9]+\*", word):
                self.prefixes.add(word[:-1])
                options.append([(_Prefix(word[:-1]),)])
            elif word in self.breaks:
                raise self._error(where, f"{word!r} ends a clause, so the phrase can never match")
            elif re.fullmatch(r"[a-z0-9]+", word):
                self.literals.add(word)
                options.append([(word,)])
            else:
                raise self._error(
                    where, f"word {word!r} can never match (lower-case letters and digits only)"
                )
        return [
            tuple(itertools.chain.from_iterable(combo)) for combo in itertools.product(*options)
        ]

    def _register(self, seqs: list[_Seq]) -> int:
        self._sets.append(seqs)
        return len(self._sets) - 1

    def _build_index(self) -> None:
        """Index every phrase by its first word, or first two words, for a one-pass scan."""
        owners: dict[_Seq, list[int]] = {}
        for set_id, seqs in enumerate(self._sets):
            for seq in seqs:
                ids = owners.setdefault(seq, [])
                if set_id not in ids:
                    ids.append(set_id)
        self._single: dict[str, tuple[int, ...]] = {}
        self._double: dict[tuple[str, str], list[tuple[_Seq, tuple[int, ...]]]] = {}
        self._first: dict[str, list[tuple[_Seq, tuple[int, ...]]]] = {}
        self._wild: list[tuple[_Seq, tuple[int, ...]]] = []
        for seq, ids in owners.items():
            head, second = seq[0], seq[1] if len(seq) > 1 else None
            if type(head) is str and second is None:
                self._single[head] = (*self._single.get(head, ()), *ids)
            elif type(head) is str and type(second) is str:
                key = (head, second)
                self._double.setdefault(key, []).append((seq, tuple(ids)))
            elif type(head) is str:
                self._first.setdefault(head, []).append((seq, tuple(ids)))
            else:
                self._wild.append((seq, tuple(ids)))
        self._wild_for = functools.lru_cache(maxsize=16384)(self._wild_starting)

    def _wild_starting(self, word: str) -> tuple[tuple[_Seq, tuple[int, ...]], ...]:
        """Phrases led by a stem or pattern that this word could start (cached per word)."""
        return tuple(
            (seq, ids) for seq, ids in self._wild if _seq_matches(seq[:1], [word], [_WORD], 0)
        )

    def _set(self, ref: Any, where: str) -> int:
        """A term set from a list name or an inline list of phrases."""
        if isinstance(ref, str):
            if ref not in self._named_sets:
                if ref not in self._lists:
                    raise self._error(where, f"unknown list {ref!r}")
                self._named_sets[ref] = self._register(self._expand_list(ref, where, ()))
            return self._named_sets[ref]
        items = _strings(ref, self._where(where))
        seqs = [seq for item in items for seq in self._phrase(item, f"{where}: {item!r}")]
        return self._register(seqs)

    def _near(self, entry: Any, where: str) -> _Near:
        entry = _mapping(entry, self._path, where)
        unknown = set(entry) - {"lists", "window", "ordered"}
        if unknown:
            raise self._error(where, f"unknown keys {sorted(unknown)}")
        lists = entry.get("lists")
        if not isinstance(lists, list) or len(lists) != 2:
            raise self._error(where, "'lists' must name exactly two word lists")
        window = _int(entry.get("window", self._window), self._where(f"{where}.window"))
        ordered = entry.get("ordered", False)
        if not isinstance(ordered, bool):
            raise self._error(f"{where}.ordered", "must be true or false")
        return _Near(
            self._set(lists[0], f"{where}.lists[0]"),
            self._set(lists[1], f"{where}.lists[1]"),
            window,
            ordered,
        )

    def _compile_rule(self, block: Mapping[str, Any], where: str) -> _Rule:
        unknown = set(block) - {"any", "near", "unless", "supersedes"}
        if unknown:
            raise self._error(where, f"unknown keys {sorted(unknown)}")
        any_ids = (self._set(block["any"], f"{where}.any"),) if block.get("any") else ()
        near = tuple(
            self._near(e, f"{where}.near[{i}]") for i, e in enumerate(block.get("near") or [])
        )
        if not any_ids and not near:
            raise self._error(where, "needs 'any' phrases or 'near' lists")
        unless = _mapping(block.get("unless") or {}, self._path, f"{where}.unless")
        extra = set(unless) - {"any", "near"}
        if extra:
            raise self._error(f"{where}.unless", f"unknown keys {sorted(extra)}")
        unless_any = (self._set(unless["any"], f"{where}.unless.any"),) if unless.get("any") else ()
        unless_near = tuple(
            self._near(e, f"{where}.unless.near[{i}]")
            for i, e in enumerate(unless.get("near") or [])
        )
        return _Rule(any_ids, near, unless_any, unless_near)

    def _compile_negation(self, block: Mapping[str, Any]) -> _Negation:
        def words(key: str) -> frozenset[str]:
            return frozenset(_strings(block.get(key, []), self._where(f"negation.{key}")))

        reach = _int(block.get("reach", 6), self._where("negation.reach"))
        after = self._set(block.get("after", []), "negation.after")
        after_final = self._set(block.get("after_final", []), "negation.after_final")
        return _Negation(
            words=words("words"),
            reach=reach,
            filler=words("filler"),
            determiners=words("determiners"),
            after_determiner=words("after_determiner"),
            coordinators=words("coordinators"),
            after_filler=words("after_filler"),
            after=after,
            after_final=after_final,
            after_final_tail=words("after_final_tail"),
        )

    # --- misspellings -------------------------------------------------------------------

    def _compile_fuzzy(self, block: Mapping[str, Any]) -> None:
        targets = _strings(block.get("targets", []), self._where("fuzzy.targets"))
        for word in targets:
            if word not in self.literals and not word.startswith(tuple(self.prefixes)):
                raise self._error(f"fuzzy.targets: {word!r}", "not a word of any list")
        self._never = frozenset(_strings(block.get("never", []), self._where("fuzzy.never")))
        groups: dict[str, list[str]] = {}
        for word in targets:
            groups.setdefault(word[0], []).append(word)
        self._groups = {k: tuple(v) for k, v in groups.items()}
        self._known = frozenset(self.literals) | self._never
        self._prefix_tuple = tuple(sorted(self.prefixes))
        self.canonical = functools.lru_cache(maxsize=16384)(self._canonical)

    def _canonical(self, word: str) -> str:
        if (
            len(word) < FUZZY_MIN_LENGTH
            or word in self._known
            or not word.isalpha()
            or word.startswith(self._prefix_tuple)
        ):
            return word
        group = self._groups.get(word[0])
        if not group:
            return word
        # Typos keep the first letter; comparing only within it keeps "paddle" from
        # becoming "saddle". One slip (Damerau: a swap counts once) for any long word...
        best = process.extractOne(word, group, scorer=DamerauLevenshtein.distance, score_cutoff=1)
        if best is None and len(word) >= FUZZY_LONG_LENGTH:
            # ...and a close overall likeness for long ones.
            near = process.extractOne(word, group, scorer=fuzz.ratio, score_cutoff=FUZZY_LONG_RATIO)
            return near[0] if near is not None else word
        return best[0] if best is not None else word

    # --- matching -----------------------------------------------------------------------

    def scan(self, canon: list[str], kinds: list[int]) -> dict[int, list[tuple[int, int]]]:
        """Every phrase of every set found in the words: set id -> [(start, end)]."""
        found: dict[int, dict[int, int]] = {}

        def record(ids: tuple[int, ...], start: int, end: int) -> None:
            for set_id in ids:
                starts = found.setdefault(set_id, {})
                # Longest phrase of a set at each start: "pins and needles" over "pins".
                if starts.get(start, 0) < end:
                    starts[start] = end

        n = len(canon)
        single, double, first, wild_for = self._single, self._double, self._first, self._wild_for
        for i in range(n):
            if kinds[i] != _WORD:
                continue
            word = canon[i]
            ids = single.get(word)
            if ids:
                record(ids, i, i + 1)
            longer = first.get(word, [])
            if i + 1 < n and kinds[i + 1] == _WORD:
                longer = longer + double.get((word, canon[i + 1]), [])
            for seq, ids in itertools.chain(longer, wild_for(word)):
                end = i + len(seq)
                if end <= n and _seq_matches(seq, canon, kinds, i):
                    record(ids, i, end)
        return {k: sorted(v.items()) for k, v in found.items()}

    def _pairs(self, text: _Text, near: _Near) -> Iterable[_Match]:
        first = text.spans.get(near.first)
        second = text.spans.get(near.second)
        if not first or not second:
            return
        # Spans come sorted by start: look only at those that can fall within the window.
        starts = [b0 for b0, _ in second]
        longest = max(b1 - b0 for b0, b1 in second)
        for a0, a1 in first:
            lo_i = bisect.bisect_left(starts, a0 - near.window - longest)
            hi_i = bisect.bisect_right(starts, a1 + near.window)
            for b0, b1 in second[lo_i:hi_i]:
                if a1 <= b0:
                    lo, hi = a1, b0
                elif b1 <= a0 and not near.ordered:
                    lo, hi = b1, a0
                else:
                    continue
                if hi - lo > near.window or text.broken(lo, hi):
                    continue
                parts = ((a0, a1), (b0, b1)) if a0 < b0 else ((b0, b1), (a0, a1))
                yield _Match(min(a0, b0), max(a1, b1), parts)

    def candidates(self, text: _Text, rule: _Rule) -> list[_Match]:
        """Matches of a rule that no `unless` phrase covers."""
        found = [
            _Match(s, e, ((s, e),)) for set_id in rule.any for s, e in text.spans.get(set_id, ())
        ]
        for near in rule.near:
            found.extend(self._pairs(text, near))
        if not found:
            return found
        blocked: list[tuple[int, int]] = [
            span for set_id in rule.unless_any for span in text.spans.get(set_id, ())
        ]
        for near in rule.unless_near:
            # A denied exception is no exception: "not trying to lose weight".
            blocked.extend(
                (m.start, m.end)
                for m in self._pairs(text, near)
                if not self._negated(text, m, None, None)
            )
        if not blocked:
            return found
        return [
            m for m in found if not any(s < be and bs < e for s, e in m.parts for bs, be in blocked)
        ]

    def mentions(self, text: _Text) -> tuple[Mention, ...]:
        if not text.spans:
            return ()
        by_code = {code: self.candidates(text, rule) for code, rule in self.rules.items()}
        by_code = {code: found for code, found in by_code.items() if found}
        if not by_code:
            return ()
        # Which symptom words sit where: negation reaches over other symptom words ("no
        # fever or chills") and denials after a symptom stay within its own code.
        n = len(text.canon)
        owners: list[set[str]] = [set() for _ in range(n)]
        for code, found in by_code.items():
            for m in found:
                # The symptom words themselves, not the words a "near" match spans.
                for start, end in m.parts:
                    for i in range(start, end):
                        owners[i].add(code)
        chosen: list[tuple[_Match, str, bool]] = []
        for code, found in by_code.items():
            judged = [(m, self._negated(text, m, code, owners)) for m in found]
            chosen.extend((m, code, neg) for m, neg in _best_per_cluster(judged))

        kept = [
            (m, code, neg)
            for m, code, neg in chosen
            if not any(
                code in self.supersedes[other]
                and not other_neg
                and o.start < m.end
                and m.start < o.end
                for o, other, other_neg in chosen
                if other != code
            )
        ]
        kept.sort(key=lambda item: (item[0].start, -self.tiers[item[1]], item[1]))
        return tuple(
            Mention(code, self.tiers[code], neg, " ".join(text.orig[m.start : m.end]))
            for m, code, neg in kept
        )

    # --- negation -----------------------------------------------------------------------

    def _negated(
        self, text: _Text, match: _Match, code: str | None, owners: list[set[str]] | None
    ) -> bool:
        """True when the match is denied; `owners` says which codes own each word."""
        first_start = match.parts[0][0]
        if self._denied_before(text, first_start, 0, owners):
            return True
        # A later part has its own negation inside the match: "groin isn't numb".
        for (_, prev_end), (start, _) in itertools.pairwise(match.parts):
            if self._denied_before(text, start, prev_end, owners):
                return True
        # A denial straight after any part: "groin fine", "bladder and bowels normal".
        for i, (_, end) in enumerate(match.parts):
            limit = match.parts[i + 1][0] if i + 1 < len(match.parts) else len(text.canon)
            if self._denied_after(text, end, limit, code, owners):
                return True
        return False

    def _denied_before(
        self, text: _Text, start: int, lo: int, owners: list[set[str]] | None
    ) -> bool:
        # Walk left from the symptom over filler words to a negation word, within the clause.
        neg = self.negation
        canon, kinds = text.canon, text.kinds
        steps = 0
        free_word = False
        j = start - 1
        while j >= lo:
            word, kind = canon[j], kinds[j]
            if kind == _HARD:
                return False
            in_symptom = owners is not None and bool(owners[j])
            if kind == _SOFT or word in neg.coordinators:
                # A list of denied symptoms: "no fever, chills or night sweats".
                nxt = j + 1
                while nxt < len(canon) and canon[nxt] in neg.coordinators:
                    nxt += 1  # ", or"
                either = word in ("or", "nor") or canon[nxt - 1] in ("or", "nor")
                # "or" joins denials ("no falls or had any accidents"); a comma or "and"
                # must join symptom to symptom, or it may start a report.
                if owners is None or nxt >= len(canon):
                    return False
                if not either and (not owners[nxt] or j == 0 or not owners[j - 1]):
                    return False
                # A comma list of denials ends in "or": "no weakness, numbness or tingling".
                # Without one, what follows the comma may be a report: "not numb, leg gave way".
                if kind == _SOFT and not either and not _closes_with_or(canon, kinds, nxt):
                    return False
                free_word = either
                j -= 1
                continue
            if word in neg.words:
                # "no my groin is numb" answers a question, then reports.
                return not (word == "no" and j + 1 < len(canon) and canon[j + 1] in _NOT_DENIED)
            if word in neg.determiners:
                if j > lo and canon[j - 1] in neg.after_determiner:
                    j -= 1
                    continue
                return False
            if in_symptom or word in neg.filler or free_word:
                free_word = False
                steps += 1
                if steps > neg.reach:
                    return False
                j -= 1
                continue
            return False
        return False

    def _denied_after(
        self,
        text: _Text,
        end: int,
        limit: int,
        code: str | None,
        owners: list[set[str]] | None,
    ) -> bool:
        # Walk right from the symptom over filler words to a denial ("fine", "normal").
        neg = self.negation
        canon, kinds = text.canon, text.kinds
        after = _starts(text.spans.get(neg.after))
        final = _starts(text.spans.get(neg.after_final))
        if not after and not final:
            return False
        n = len(canon)
        j, steps = end, 0
        asked = False
        while j < min(limit, n) and steps <= 4:
            if kinds[j] != _WORD:
                # A form-style answer: "numbness? no", "fever: no".
                if asked or text.orig[j] not in _ANSWER_MARKS:
                    return False
                asked = True
                j += 1
                continue
            if j in after:
                return True
            if j in final:
                k = final[j]
                if k < n and canon[k] in neg.after_final_tail:
                    k += 1
                if k >= n or kinds[k] != _WORD or canon[k] in neg.coordinators:
                    return True
            same = owners is not None and code is not None and code in owners[j]
            if same or canon[j] in neg.after_filler:
                j += 1
                steps += 1
                continue
            return False
        return False


def _tier(code: str) -> Tier:
    found = symptom(code)
    assert found is not None  # the loader only accepts codes from SYMPTOMS
    return found.tier


_NOT_DENIED = frozenset({"my", "i", "im", "ive", "the", "it", "its"})
_ANSWER_MARKS = frozenset({"?", ":", "-", "=", "\u2013", "\u2014", "?:", ":-", "=>", "->"})


def _closes_with_or(canon: list[str], kinds: list[int], start: int) -> bool:
    """Whether an "or" or "nor" follows start within its clause."""
    for word, kind in zip(canon[start:], kinds[start:], strict=True):
        if kind == _HARD:
            return False
        if word in ("or", "nor"):
            return True
    return False


def _starts(spans: list[tuple[int, int]] | None) -> dict[int, int]:
    return dict(spans) if spans else {}


def _seq_matches(seq: _Seq, canon: list[str], kinds: list[int], i: int) -> bool:
    for k, atom in enumerate(seq):
        j = i + k
        if kinds[j] != _WORD:
            return False
        word = canon[j]
        kind = type(atom)
        if kind is str:
            if atom != word:
                return False
        elif isinstance(atom, str):  # a _Prefix; isinstance tells the type checker it is a str
            if not word.startswith(atom):
                return False
        elif atom.fullmatch(word) is None:
            return False
    return True


def _best_per_cluster(judged: list[tuple[_Match, bool]]) -> list[tuple[_Match, bool]]:
    """One mention per run of overlapping matches: the longest, reported over denied."""
    judged.sort(key=lambda item: (item[0].start, item[0].end))
    out: list[tuple[_Match, bool]] = []
    cluster: list[tuple[_Match, bool]] = []
    reach = -1
    for item in judged:
        if cluster and item[0].start >= reach:
            out.append(_pick(cluster))
            cluster = []
        reach = max(reach, item[0].end) if cluster else item[0].end
        cluster.append(item)
    if cluster:
        out.append(_pick(cluster))
    return out


def _pick(cluster: list[tuple[_Match, bool]]) -> tuple[_Match, bool]:
    # The longest reading describes the words best ("no bladder control" over "bladder");
    # on a tie, err wide and keep the one that reports the symptom.
    return max(cluster, key=lambda item: (item[0].end - item[0].start, not item[1]))


# ---------------------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'"}
)
# Joiners inside a word split it into words: "pins-and-needles", "bladder/bowel", "4/10".
_JOINER = re.compile(r"(?<=[a-z0-9])[-/_*+~](?=[a-z0-9])")
_TOKEN = re.compile(
    r"(?P<word>[0-9]+(?:[.,][0-9]+)*[a-z]*|[a-z][a-z0-9]*)"
    r"|(?P<hard>[.!?;:\n\r\u2026]+)"
    r"|(?P<soft>[^\s\w]+|_+)"
)


def _tokens(
    text: str, breaks: frozenset[str], new_clause: frozenset[str]
) -> tuple[list[str], list[int]]:
    """Words and clause marks of a message, lower-case, apostrophes dropped."""
    if not text:
        return [], []
    folded = unicodedata.normalize("NFKD", text[:MAX_CHARS])
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = folded.lower().translate(_APOSTROPHES).replace("'", "").replace("&", " and ")
    folded = _JOINER.sub(" ", folded)
    words: list[str] = []
    kinds: list[int] = []
    for m in _TOKEN.finditer(folded):
        group = m.lastgroup
        if group == "word":
            word = m.group()
            words.append(word)
            kinds.append(_HARD if word in breaks else _WORD)
        elif group == "hard":
            words.append(m.group().strip(" \t") or _HARD_MARK)
            kinds.append(_HARD)
        else:
            # Emoji, dashes and brackets standing between words separate them like a comma.
            words.append(m.group())
            kinds.append(_SOFT)
    # "and i peed myself" starts a new clause: nothing reaches across it.
    for i in range(len(words) - 1):
        joins = (words[i] == "and" and kinds[i] == _WORD) or kinds[i] == _SOFT
        if joins and words[i + 1] in new_clause:
            kinds[i] = _HARD
    return words, kinds


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def _mapping(value: Any, path: Path, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{path.name}: {where}: must be a mapping")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: must be a list of phrases")
    for item in value:
        # YAML reads a bare no/off/on as a boolean: the phrase must be quoted.
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{where}: {item!r} is not a phrase (quote it)")
    return value


def _int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{where}: must be a whole number, 0 or more")
    return value


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_vocabulary(path: Path) -> _Vocabulary:
    """Read and compile a vocabulary file; ValueError naming the file and entry if broken."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML: {exc}") from exc
    return _Vocabulary(path, data)


@functools.lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    return _load_vocabulary(VOCABULARY_PATH)
