"""Load, validate and render the YAML content library (exercises, tips, advice)."""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

CONTENT_DIR = Path(__file__).resolve().parent

# Escalation tiers that must each have a title and advice in tiers.yaml.
TIER_KEYS: tuple[str, ...] = ("emergency", "urgent", "professional", "modify", "improving")
# What routine_for accepts: no tier at all, or one of the escalation tiers.
ROUTINE_TIERS: tuple[str, ...] = ("none", *TIER_KEYS)

ROUTINE_MIN_MINUTES = 10
ROUTINE_MAX_MINUTES = 15
# Chat platforms cut messages at 2000 (Discord) / 4096 (Telegram); stay well under both.
MAX_TEXT_CHARS = 1800
STRENGTH_WEEKS = 6

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class ContentError(ValueError):
    """The content files are missing, malformed or inconsistent."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exercise(_Model):
    """One exercise with its dose and how to make it harder or easier."""

    id: Slug
    name: Text
    aliases: list[Text] = Field(default_factory=list)
    category: Literal["core", "mobility", "release"]
    # Kept in the gentle routine given while someone is waiting to see a professional.
    gentle: bool
    steps: list[Text] = Field(min_length=1)
    dose: Text
    progression: Text
    regression: Text
    cues: list[Text] = Field(min_length=1)
    caution: Text
    minutes: StrictInt = Field(ge=1, le=ROUTINE_MAX_MINUTES)


class CrossTraining(_Model):
    """An alternative to running: low-impact cardio or mobility-and-control work."""

    id: Slug
    name: Text
    kind: Literal["low_impact", "mobility"]
    how: Text

    def line(self) -> str:
        """One line: name and how/why."""
        return f"{self.name}: {self.how}"


class RunStage(_Model):
    """One rung of the return-to-run ladder: walk/run intervals repeated."""

    stage: StrictInt = Field(ge=1)
    walk_minutes: StrictInt = Field(ge=0)
    run_minutes: StrictInt = Field(ge=1)
    repeats: StrictInt = Field(ge=1)

    def describe(self) -> str:
        """The session in words, e.g. 'walk 4 min / run 1 min × 4 (20 min)'."""
        if self.walk_minutes == 0:
            return f"run {self.run_minutes * self.repeats} min continuously"
        total = (self.walk_minutes + self.run_minutes) * self.repeats
        return (
            f"walk {self.walk_minutes} min / run {self.run_minutes} min × {self.repeats}"
            f" ({total} min)"
        )


class ReturnToRun(_Model):
    """The return-to-run ladder: entry criterion, stages and the rules for moving on."""

    title: Text
    entry: Text
    frequency: Text
    # CLINICAL.md: repeat each stage 2–3 times, no more than 4 runs a week, every other day.
    good_runs_to_advance: StrictInt = Field(default=2, ge=2, le=3)
    max_runs_a_week: StrictInt = Field(default=4, ge=1, le=4)
    days_between_runs: StrictInt = Field(default=2, ge=2)
    stages: list[RunStage] = Field(min_length=1)
    rules: list[Text] = Field(min_length=1)


class StrengthExercise(_Model):
    """One lift of the strength block."""

    name: Text
    how: Text


class StrengthWeek(_Model):
    """One week of the strength block; sets and reps stay inside CLINICAL.md's 2–3 × 6–10."""

    week: StrictInt = Field(ge=1, le=STRENGTH_WEEKS)
    sets: StrictInt = Field(ge=2, le=3)
    reps: StrictInt = Field(ge=6, le=10)
    load: Text


class StrengthBlock(_Model):
    """The 6-week strength block, week by week."""

    title: Text
    dose: Text
    sessions: Text
    # Workouts marked done that make a week of the block (CLINICAL.md: 2–3 a week).
    sessions_per_week: StrictInt = Field(default=2, ge=2, le=3)
    load_rule: Text
    exercises: list[StrengthExercise] = Field(min_length=1)
    weeks: list[StrengthWeek] = Field(min_length=STRENGTH_WEEKS, max_length=STRENGTH_WEEKS)


class Notice(_Model):
    """A titled piece of advice: a tier announcement or a one-off notice."""

    title: Text
    advice: Text


class Messages(_Model):
    """Fixed wording the engine uses outside the tiers."""

    disclaimer: Text
    si_belt: Text
    rule_of_thumb_note: Text
    pain_monitoring: Text
    runner_tips: list[Text] = Field(min_length=1)
    return_to_run_offer: Notice
    building_baseline: Notice
    sacral_stress_fracture: Notice


class _ExercisesFile(_Model):
    exercises: list[Exercise] = Field(min_length=1)


class _PostureFile(_Model):
    tips: list[Text] = Field(min_length=1)


class _CrossTrainingFile(_Model):
    alternatives: list[CrossTraining] = Field(min_length=1)


class _TiersFile(_Model):
    tiers: dict[str, Notice]


class ContextOption(_Model):
    """One answer button after a rise: its stored code, its label, and how a sentence says it."""

    code: Slug
    label: Text
    said: Text


class ContextQuestion(_Model):
    """One optional question after a rise, with its answers in button order."""

    question: Text
    # Said instead of the question once a place is ticked (the places question only).
    again: Text | None = None
    options: list[ContextOption] = Field(min_length=1)


class PainContextText(_Model):
    """The wording of the optional questions after a rise (pain_context.yaml).

    The codes are stored and exported, so the loader holds each question to its own set.
    """

    intro: Text
    where: ContextQuestion
    trigger: ContextQuestion
    stiffness: ContextQuestion
    leg_check: Text


# The stored codes of each question after a rise; content may relabel them, never change them.
PAIN_CONTEXT_CODES: dict[str, tuple[str, ...]] = {
    "where": ("left_si", "right_si", "buttock", "groin", "down_leg"),
    "trigger": ("sitting", "stairs", "car", "uphill", "long_run"),
    "stiffness": ("under_30", "over_30", "none"),
}


def _check_pain_context(text: PainContextText) -> None:
    for name, codes in PAIN_CONTEXT_CODES.items():
        found = tuple(o.code for o in getattr(text, name).options)
        if sorted(found) != sorted(codes) or len(set(found)) != len(found):
            raise ContentError(
                f"pain_context.yaml: question '{name}': field 'options': codes must be "
                f"{', '.join(codes)} (each once), found {', '.join(found)}"
            )


class Content(_Model):
    """The whole validated content library."""

    exercises: list[Exercise]
    posture_tips: list[str]
    cross_training: list[CrossTraining]
    return_to_run: ReturnToRun
    strength_block: StrengthBlock
    tiers: dict[str, Notice]
    messages: Messages
    pain_context: PainContextText


@dataclass(frozen=True, slots=True)
class _FileSpec:
    """How to read one file and how to name its entries in error messages."""

    model: type[BaseModel]
    # Top-level key holding the entries (None: the top-level keys are the entries).
    entries_key: str | None
    noun: str
    id_key: str | None = None


_FILES: dict[str, _FileSpec] = {
    "exercises.yaml": _FileSpec(_ExercisesFile, "exercises", "exercise", "id"),
    "posture.yaml": _FileSpec(_PostureFile, "tips", "tip"),
    "cross_training.yaml": _FileSpec(_CrossTrainingFile, "alternatives", "alternative", "id"),
    "return_to_run.yaml": _FileSpec(ReturnToRun, "stages", "stage", "stage"),
    "strength.yaml": _FileSpec(StrengthBlock, "weeks", "week", "week"),
    "tiers.yaml": _FileSpec(_TiersFile, "tiers", "tier"),
    "messages.yaml": _FileSpec(Messages, None, "message"),
    "pain_context.yaml": _FileSpec(PainContextText, None, "question"),
}


def _entry_name(spec: _FileSpec, container: Any, key: Any) -> str:
    """Name an entry by its id when it has one, else by its index or key."""
    if isinstance(key, int):
        item = container[key] if isinstance(container, list) and key < len(container) else None
        if spec.id_key and isinstance(item, dict) and spec.id_key in item:
            return f"{spec.noun} '{item[spec.id_key]}'"
        return f"{spec.noun} at index {key}"
    return f"{spec.noun} '{key}'"


def _describe_error(filename: str, spec: _FileSpec, raw: Any, error: ErrorDetails) -> str:
    """Turn one pydantic error into 'file: entry: field: message'."""
    loc = list(error["loc"])
    msg = error["msg"]
    parts = [filename]
    if spec.entries_key is None:
        container, rest = raw, loc
        if len(loc) >= 2:
            parts.append(_entry_name(spec, container, loc[0]))
            rest = loc[1:]
    elif len(loc) >= 2 and loc[0] == spec.entries_key:
        container = raw.get(spec.entries_key) if isinstance(raw, dict) else None
        parts.append(_entry_name(spec, container, loc[1]))
        rest = loc[2:]
    else:
        rest = loc
    if rest:
        parts.append("field '" + ".".join(str(p) for p in rest) + "'")
    parts.append(msg)
    return ": ".join(parts)


# libyaml's safe loader when PyYAML was built with it: the same documents, read about ten
# times faster, which every start of the bot pays once per content file.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(directory: Path, filename: str) -> Any:
    """Parse one YAML file into a validated model, naming the file on any failure."""
    spec = _FILES[filename]
    path = directory / filename
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError:
        raise ContentError(f"{filename}: file not found in {directory}") from None
    except yaml.YAMLError as exc:
        raise ContentError(f"{filename}: not valid YAML: {exc}") from None
    try:
        return spec.model.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe_error(filename, spec, raw, e) for e in exc.errors()]
        raise ContentError("\n".join(lines)) from None


def normalise(text: str) -> str:
    """Reduce a name to lowercase letters and digits, so spelling variants compare equal."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _exercise_keys(ex: Exercise) -> list[str]:
    return [normalise(k) for k in (ex.id, ex.name, *ex.aliases)]


def _check_exercises(exercises: list[Exercise]) -> None:
    """Ids unique; no alias or name reaches two different exercises."""
    seen_ids: dict[str, int] = {}
    owner: dict[str, str] = {}
    for index, ex in enumerate(exercises):
        if ex.id in seen_ids:
            raise ContentError(
                f"exercises.yaml: exercise '{ex.id}': field 'id': duplicate id"
                f" (also at index {seen_ids[ex.id]})"
            )
        seen_ids[ex.id] = index
        for key in set(_exercise_keys(ex)):
            if key in owner:
                raise ContentError(
                    f"exercises.yaml: exercise '{ex.id}': field 'aliases':"
                    f" '{key}' also names exercise '{owner[key]}'"
                )
            owner[key] = ex.id


def _check_unique(filename: str, noun: str, ids: list[Any], field_name: str) -> None:
    seen: set[Any] = set()
    for value in ids:
        if value in seen:
            raise ContentError(
                f"{filename}: {noun} '{value}': field '{field_name}': duplicate {field_name}"
            )
        seen.add(value)


def _check_numbered(filename: str, noun: str, numbers: list[int]) -> None:
    """Stages and weeks are numbered 1, 2, 3... in order."""
    for index, number in enumerate(numbers):
        if number != index + 1:
            raise ContentError(
                f"{filename}: {noun} at index {index}: field '{noun}':"
                f" expected {index + 1}, found {number} (number them 1, 2, 3... in order)"
            )


def _check_tiers(tiers: dict[str, Notice]) -> None:
    for key in TIER_KEYS:
        if key not in tiers:
            raise ContentError(f"tiers.yaml: tier '{key}': missing (needs title and advice)")
    for key in tiers:
        if key not in TIER_KEYS:
            raise ContentError(
                f"tiers.yaml: tier '{key}': unknown tier (expected one of {', '.join(TIER_KEYS)})"
            )


def load_content(directory: Path | None = None) -> Content:
    """Load and validate every content file; raise ContentError naming file, entry and field."""
    directory = CONTENT_DIR if directory is None else Path(directory)
    exercises: _ExercisesFile = _read(directory, "exercises.yaml")
    posture: _PostureFile = _read(directory, "posture.yaml")
    cross: _CrossTrainingFile = _read(directory, "cross_training.yaml")
    ladder: ReturnToRun = _read(directory, "return_to_run.yaml")
    strength: StrengthBlock = _read(directory, "strength.yaml")
    tiers: _TiersFile = _read(directory, "tiers.yaml")
    messages: Messages = _read(directory, "messages.yaml")
    pain_context: PainContextText = _read(directory, "pain_context.yaml")
    _check_pain_context(pain_context)

    _check_exercises(exercises.exercises)
    _check_unique("cross_training.yaml", "alternative", [c.id for c in cross.alternatives], "id")
    if not any(c.kind == "low_impact" for c in cross.alternatives):
        raise ContentError("cross_training.yaml: needs at least one 'low_impact' alternative")
    _check_numbered("return_to_run.yaml", "stage", [s.stage for s in ladder.stages])
    _check_numbered("strength.yaml", "week", [w.week for w in strength.weeks])
    _check_tiers(tiers.tiers)

    content = Content(
        exercises=exercises.exercises,
        posture_tips=posture.tips,
        cross_training=cross.alternatives,
        return_to_run=ladder,
        strength_block=strength,
        tiers=tiers.tiers,
        messages=messages,
        pain_context=pain_context,
    )
    # A library that cannot fill a 10-15 minute routine on some day is broken content.
    for weekday in range(7):
        for gentle in (False, True):
            _pick_routine(content.exercises, weekday, gentle=gentle)
    return content


@functools.cache
def default_content() -> Content:
    """The shipped content, loaded once per process."""
    return load_content()


# --- lookup -----------------------------------------------------------------


def find_exercise(content: Content, query: str) -> Exercise | None:
    """The exercise whose id, name or alias matches query, ignoring case and punctuation."""
    key = normalise(query)
    if not key:
        return None
    for ex in content.exercises:
        if key in _exercise_keys(ex):
            return ex
    return None


def closest_exercises(content: Content, query: str, n: int = 3) -> list[str]:
    """The names of the n exercises closest to query, best first (always n if there are n)."""
    key = normalise(query)

    def score(ex: Exercise) -> float:
        best = 0.0
        for candidate in _exercise_keys(ex):
            ratio = difflib.SequenceMatcher(None, key, candidate).ratio()
            # A query contained in a name ("plank" in "side plank") is a strong hint.
            if key and key in candidate:
                ratio += 1.0
            best = max(best, ratio)
        return best

    ranked = sorted(content.exercises, key=lambda ex: (-score(ex), ex.name))
    return [ex.name for ex in ranked[:n]]


# --- routines ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutineItem:
    """One exercise in a routine with today's dose."""

    exercise: Exercise
    dose: str


@dataclass(frozen=True, slots=True)
class Routine:
    """Today's routine, adapted to the escalation tier."""

    title: str
    items: tuple[RoutineItem, ...] = ()
    notes: tuple[str, ...] = ()
    swap_run: str | None = None
    strength: str | None = None

    @property
    def minutes(self) -> int:
        """Estimated minutes for the exercises (the strength session is extra)."""
        return sum(item.exercise.minutes for item in self.items)

    def text(self) -> str:
        """Plain text for a chat message."""
        lines = [self.title]
        if self.items:
            lines.append(f"About {self.minutes} minutes:")
            lines += [
                f"{i}. {item.exercise.name}: {item.dose}" for i, item in enumerate(self.items, 1)
            ]
        if self.swap_run:
            lines += ["", self.swap_run]
        if self.strength:
            lines += ["", self.strength]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)


def _rotate(items: list[Exercise], by: int) -> list[Exercise]:
    if not items:
        return []
    by %= len(items)
    return items[by:] + items[:by]


def _pick_routine(exercises: list[Exercise], weekday: int, *, gentle: bool) -> list[Exercise]:
    """Pick 10-15 minutes of exercises for a weekday, mixing core and mobility."""
    pool = [ex for ex in exercises if ex.gentle] if gentle else list(exercises)
    core = [ex for ex in pool if ex.category == "core"]
    loosen = [ex for ex in pool if ex.category != "core"]
    if not core or not loosen:
        raise ContentError(
            "exercises.yaml: a routine needs at least one core and one mobility or release"
            f" exercise{' marked gentle' if gentle else ''}"
        )
    # Core and mobility rotate at different speeds so the pairings change across the week.
    core = _rotate(core, weekday)
    loosen = _rotate(loosen, weekday * 2 + weekday // len(loosen))
    # One mobility exercise, then two core, and so on.
    order: list[Exercise] = []
    while core or loosen:
        if loosen:
            order.append(loosen.pop(0))
        order += core[:2]
        core = core[2:]
    picked: list[Exercise] = []
    total = 0
    for ex in order:
        if total + ex.minutes > ROUTINE_MAX_MINUTES:
            continue
        picked.append(ex)
        total += ex.minutes
        categories = {e.category == "core" for e in picked}
        if total >= ROUTINE_MIN_MINUTES and categories == {True, False}:
            return picked
    raise ContentError(
        f"exercises.yaml: cannot build a {ROUTINE_MIN_MINUTES}-{ROUTINE_MAX_MINUTES} minute"
        f" {'gentle ' if gentle else ''}routine for {WEEKDAYS[weekday]} from the library"
    )


def routine_for(
    content: Content, day: date, tier: str, strength_week: int | None = None
) -> Routine:
    """Today's 10-15 minute routine for a date, adapted to the tier (see ROUTINE_TIERS)."""
    if tier not in ROUTINE_TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(ROUTINE_TIERS)}")
    if strength_week is not None and not 1 <= strength_week <= STRENGTH_WEEKS:
        raise ValueError(f"strength_week must be 1..{STRENGTH_WEEKS}, not {strength_week}")
    weekday = day.weekday()
    if tier in ("urgent", "emergency"):
        notice = content.tiers[tier]
        return Routine(title=notice.title, notes=(notice.advice,))

    gentle = tier == "professional"
    picked = _pick_routine(content.exercises, weekday, gentle=gentle)
    items = tuple(RoutineItem(ex, ex.dose) for ex in picked)
    notes: list[str] = []
    swap_run = None
    strength = None
    if gentle:
        title = f"Gentle routine for {WEEKDAYS[weekday]}"
        notes.append(content.tiers["professional"].advice)
        if strength_week is not None:
            notes.append("Pause the strength block until you have been seen.")
    else:
        title = f"Your routine for {WEEKDAYS[weekday]}"
        if strength_week is not None:
            strength = strength_week_text(content, strength_week)
    if tier == "modify":
        title = f"Your routine for {WEEKDAYS[weekday]} (easy day)"
        low_impact = [c for c in content.cross_training if c.kind == "low_impact"]
        choice = low_impact[day.toordinal() % len(low_impact)]
        mobility = [c for c in content.cross_training if c.kind == "mobility"]
        swap_run = f"Instead of today's run, try low-impact cross-training. {choice.line()}"
        if mobility:
            # Yoga, Pilates and tai chi are in the library to be shown, not just stored.
            extra = mobility[day.toordinal() % len(mobility)]
            swap_run += f"\nFor mobility and control: {extra.line()}"
        if strength is not None:
            notes.append("Strength today: keep last week's load; don't add any.")
    notes.append(content.messages.pain_monitoring)
    return Routine(
        title=title, items=items, notes=tuple(notes), swap_run=swap_run, strength=strength
    )


# --- rendering --------------------------------------------------------------


def format_exercise(ex: Exercise) -> str:
    """Plain text for one exercise: numbered steps, dose, progression, regression, cues."""
    lines = [f"{ex.name} ({ex.category}, about {ex.minutes} min)"]
    lines += [f"{i}. {step}" for i, step in enumerate(ex.steps, 1)]
    lines += [
        "",
        f"Dose: {ex.dose}",
        f"Harder: {ex.progression}",
        f"Easier: {ex.regression}",
        "Cues:",
        *[f"- {cue}" for cue in ex.cues],
        f"Caution: {ex.caution}",
    ]
    return "\n".join(lines)


def format_library(content: Content) -> str:
    """All exercises, one line each: name, category and dose."""
    lines = ["Exercise library:"]
    lines += [f"- {ex.name} ({ex.category}): {ex.dose}" for ex in content.exercises]
    return "\n".join(lines)


def posture_tip(content: Content, n: int) -> str:
    """The n-th posture tip, wrapping around."""
    return content.posture_tips[n % len(content.posture_tips)]


def cross_training_line(content: Content, n: int) -> str:
    """The n-th cross-training alternative as one line, wrapping around."""
    return content.cross_training[n % len(content.cross_training)].line()


def return_to_run_text(content: Content) -> str:
    """The return-to-run ladder as plain text: entry, stages, rules."""
    ladder = content.return_to_run
    lines = [ladder.title, ladder.entry, f"Run {ladder.frequency}."]
    lines += [f"Stage {s.stage}: {s.describe()}" for s in ladder.stages]
    lines += ["Rules:", *[f"- {rule}" for rule in ladder.rules]]
    return "\n".join(lines)


def strength_week_text(content: Content, week: int) -> str:
    """One week of the strength block as plain text."""
    block = content.strength_block
    if not 1 <= week <= len(block.weeks):
        raise ValueError(f"week must be 1..{len(block.weeks)}, not {week}")
    plan = block.weeks[week - 1]
    lines = [
        f"{block.title}, week {week} of {len(block.weeks)}: {plan.sets} × {plan.reps} each",
        *[f"- {ex.name}: {ex.how}" for ex in block.exercises],
        plan.load,
        block.sessions,
        block.load_rule,
    ]
    return "\n".join(lines)
