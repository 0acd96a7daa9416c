"""Where it hurts, what set it off, morning stiffness: optional questions after a rise.

After a daily score 2 or more above the score before it (the smallest real change, the same
rise that brings the red-flag screen), three short questions follow the screen as their own
message, one at a time: each answer is one tap and any can be skipped. They are asked once a
day, in a private chat, never before consent, never beside get-help advice and never while
an episode is open. `/history` counts the answers over the bad days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot import actions, formatting, parsing, trends
from bot.actions import Action
from bot.context import Ctx
from bot.events import Button, ChatKind, Kind, Reply, Role
from bot.store import repo
from bot.store.repo import PainContextDay
from content.loader import ContextOption, ContextQuestion, PainContextText

KIND = "pc"
WHERE, TRIGGER, STIFFNESS = "w", "t", "m"
SKIP, STOP = "skip", "stop"
CLUB_TAP = "k"  # a score tapped on a club post (bot.handlers.clubs' button kind)
REMOVE = "-"  # before a place's code: take a ticked place back
TICK = "✓ "
# get-help advice in the same answer leaves no room for optional questions (CLINICAL.md:
# emergency advice always wins; "see a professional" is advice to get help too).
GET_HELP_TIERS = frozenset({"emergency", "urgent", "professional"})
# /history counts bad days over this many days: enough of them to show a pattern, the same
# span as the physio report.
COUNT_DAYS = 90
ROW = 2  # answer buttons a row on a phone
LONG_LABEL = 14  # a label longer than this ("Getting out of a car") gets a row of its own
BACKFILL_DAYS = 14  # a stale question records as far back as a score may be filed (/log)
FOLLOWS = {WHERE: TRIGGER, TRIGGER: STIFFNESS, STIFFNESS: None}
STALE = "Those questions were about {day}, more than {days} days ago, so I left them as they were."


# --- the rule and the counts: pure ----------------------------------------------------------


def rose(daily: Mapping[date, int], day: date) -> bool:
    """Whether `day`'s daily score is 2 or more above the last score before it (within the
    28 days a baseline may look back: a score from months ago says nothing about today)."""
    now = daily.get(day)
    if now is None:
        return False
    oldest = day - timedelta(days=trends.BASELINE_DAYS)
    before = [d for d in daily if oldest <= d < day]
    return bool(before) and now - daily[max(before)] >= trends.REAL_CHANGE


def bad_days(daily: Mapping[date, int], since: date, until: date) -> list[date]:
    """The bad days from `since` to `until`: days whose score rose by 2 or more."""
    return sorted(d for d in daily if since <= d <= until and rose(daily, d))


@dataclass(frozen=True)
class BadDayCounts:
    """How often each answer was given on the bad days of a span.

    `bad_days` counts every bad day, answered or not; each Counter counts the bad days an
    answer was given on (one day counts once per answer, and a day may have several places).
    """

    bad_days: int = 0
    answered: int = 0
    places: Counter[str] = field(default_factory=Counter)
    triggers: Counter[str] = field(default_factory=Counter)
    stiffness: Counter[str] = field(default_factory=Counter)


def count_bad_days(
    daily: Mapping[date, int], answers: Iterable[PainContextDay], since: date, until: date
) -> BadDayCounts:
    """Count the answers given on the bad days from `since` to `until`.

    `daily` needs the 28 days before `since` too, so the first days' rises can be read.
    Answers about a day that is no longer a bad day (its score was changed) are not counted.
    """
    days = set(bad_days(daily, since, until))
    counted = [a for a in answers if a.day in days and a.answered]
    places: Counter[str] = Counter()
    triggers: Counter[str] = Counter()
    stiffness: Counter[str] = Counter()
    for a in counted:
        places.update(a.places)
        triggers.update(a.triggers)
        if a.stiffness:
            stiffness[a.stiffness] += 1
    return BadDayCounts(len(days), len(counted), places, triggers, stiffness)


def count_lines(text: PainContextText, counts: BadDayCounts, days: int = COUNT_DAYS) -> list[str]:
    """The counts as /history says them; nothing when no bad day has an answer."""
    if not counts.answered:
        return []
    n = counts.bad_days
    lines = [f"Bad days (score up 2 or more from the one before), last {days} days: {n}."]
    if counts.triggers:
        first, rest = _first_and_rest(_listed(text.trigger, counts.triggers), n, " set it off")
        lines.append(f"{first[:1].upper()}{first[1:]}{rest}.")
    if counts.places:
        first, rest = _first_and_rest(_listed(text.where, counts.places), n)
        lines.append(f"Where it hurt: {first}{rest}.")
    if counts.stiffness:
        first, rest = _first_and_rest(_listed(text.stiffness, counts.stiffness), n)
        lines.append(f"Morning stiffness: {first}{rest}.")
    return lines


def _listed(question: ContextQuestion, counter: Counter[str]) -> list[tuple[str, int]]:
    """(how a sentence says the answer, days) most often first, then in button order."""
    order = {o.code: i for i, o in enumerate(question.options)}
    said = {o.code: o.said for o in question.options}
    codes = sorted((c for c in counter if c in said), key=lambda c: (-counter[c], order[c]))
    return [(said[c], counter[c]) for c in codes]


def _first_and_rest(items: Sequence[tuple[str, int]], n: int, verb: str = "") -> tuple[str, str]:
    """("sitting set it off on 5 of 8 bad days", "; stairs on 2"): the rest count the same
    bad days, so "of 8" is said once."""
    (what, k), rest = items[0], items[1:]
    tail = "".join(f"; {w} on {c}" for w, c in rest)
    return f"{what}{verb} on {k} of {n} bad day{'' if n == 1 else 's'}", tail


# --- the questions ---------------------------------------------------------------------------


def _get_help(reply: Reply) -> bool:
    """Whether a reply is get-help advice (emergency, same day, see a professional)."""
    return reply.urgent or (reply.kind is Kind.ADVICE and reply.tier in GET_HELP_TIERS)


async def offer(
    ctx: Ctx, day: date, daily: Mapping[date, int], replies: Sequence[Reply]
) -> list[Reply]:
    """After a score: the first question, as its own message after everything else, when
    today's score rose by 2 or more; once a day, in a private chat, never beside get-help
    advice and never while an episode is open."""
    person = ctx.person
    if (
        person is None
        or day != ctx.today
        or ctx.inc.chat_kind is not ChatKind.PRIVATE
        or _club_tap(ctx)
        or person.episode_tier is not None
        or any(_get_help(r) for r in replies)
        or not rose(daily, day)
    ):
        return []
    if not await repo.ask_pain_context(ctx.session, person.id, day, ctx.now):
        return []  # asked already today (the unique key decides, so two taps ask once)
    await ctx.commit()
    return [_question(ctx, day, WHERE, frozenset(), ctx.content.pain_context.intro)]


def _club_tap(ctx: Ctx) -> bool:
    """Whether the score came from a club post: its answer is cut to a short acknowledgement
    in the channel (bot.handlers.clubs), where no buttons would survive."""
    tapped = actions.decode(ctx.inc.action)
    return tapped is not None and tapped.kind == CLUB_TAP


def _of(text: PainContextText, step: str) -> ContextQuestion:
    return {WHERE: text.where, TRIGGER: text.trigger, STIFFNESS: text.stiffness}[step]


def _about(day: date, today: date) -> str:
    """A stale question's answer names the day it is about."""
    return "" if day == today else f"About {formatting.day(day, today)}: "


def _rows(buttons: Sequence[Button]) -> list[tuple[Button, ...]]:
    """Answer buttons two a row, a long label alone, so nothing is cut on a phone."""
    rows: list[tuple[Button, ...]] = []
    pending: list[Button] = []
    for b in buttons:
        if len(b.label) > LONG_LABEL:
            if pending:
                rows.append(tuple(pending))
                pending = []
            rows.append((b,))
            continue
        pending.append(b)
        if len(pending) == ROW:
            rows.append(tuple(pending))
            pending = []
    if pending:
        rows.append(tuple(pending))
    return rows


def _question(ctx: Ctx, day: date, step: str, ticked: frozenset[str], lead: str = "") -> Reply:
    """One question with its answers as buttons; ticked places show ✓ and take a place back."""
    question = _of(ctx.content.pain_context, step)
    words = question.again if ticked and question.again else question.question
    answers = [
        Button(
            TICK + o.label if o.code in ticked else o.label,
            _payload(day, step, REMOVE + o.code if o.code in ticked else o.code),
        )
        for o in question.options
    ]
    last = [Button("Next" if ticked else "Skip", _payload(day, step, SKIP), Role.CANCEL)]
    if FOLLOWS[step] is not None:
        last.append(Button("Not now", _payload(day, step, STOP), Role.CANCEL))
    text = "\n\n".join(p for p in (lead, _about(day, ctx.today) + words) if p)
    return Reply(text, buttons=(*_rows(answers), tuple(last)), private=True)


def _payload(day: date, step: str, answer: str) -> str:
    return actions.encode(KIND, day.toordinal(), step, answer)


def _option(question: ContextQuestion, code: str) -> ContextOption | None:
    return next((o for o in question.options if o.code == code), None)


async def on_tap(ctx: Ctx, action: Action) -> list[Reply]:
    """An answer, Skip/Next or Not now: stored for the day the question asked about, then the
    next question in place of this one (or the places again, ticked, for another place)."""
    ordinal, step, answer = action.args
    person = ctx.person
    if person is None:
        # Nothing before consent: the tap keeps nothing.
        return [Reply("I don't store anything about you, so I kept nothing. Send /start to begin.")]
    day = min(date.fromordinal(int(ordinal)), ctx.today)
    if parsing.check_backfill(day, ctx.today, BACKFILL_DAYS) is not None:
        text = STALE.format(day=formatting.day(day), days=BACKFILL_DAYS)
        return [Reply(text, private=True)]
    about = _about(day, ctx.today)
    if answer == STOP:
        when = "today" if day == ctx.today else f"about {formatting.day(day, ctx.today)}"
        return [Reply(f"OK, no more questions {when}.", private=True)]
    content = ctx.content.pain_context
    question = _of(content, step)
    pid = person.id
    current = await repo.pain_context_on(ctx.session, pid, day) or PainContextDay(day)
    said: list[str] = []
    if answer != SKIP:
        removed = answer.startswith(REMOVE)
        option = _option(question, answer.removeprefix(REMOVE))
        if option is None:
            return [Reply("This button has expired.", private=True, kind=Kind.ERROR)]
        if step == WHERE:
            places = current.places - {option.code} if removed else current.places | {option.code}
            current = await repo.set_pain_context(ctx.session, pid, day, ctx.now, places=places)
        elif step == TRIGGER:
            triggers = current.triggers | {option.code}
            current = await repo.set_pain_context(ctx.session, pid, day, ctx.now, triggers=triggers)
        else:
            current = await repo.set_pain_context(
                ctx.session, pid, day, ctx.now, stiffness=option.code
            )
        await ctx.commit()
        said.append(f"{about}{'Taken back' if removed else 'Noted'}: {option.said}.")
        if option.code == "down_leg" and not removed and not await _screen_answered(ctx, day):
            said.append(content.leg_check)
    elif step == WHERE and current.places:
        said.append(f"{about}Where: {_said(content.where, current.places)}.")
    if person.episode_tier is not None:
        # Advice to get help came since the questions were asked: it comes first now.
        said.append("No more questions now: the advice I gave you comes first.")
        return [Reply("\n\n".join(said), private=True)]
    lead = "\n\n".join(said)
    if step == WHERE and answer != SKIP:
        return [_question(ctx, day, WHERE, current.places, lead)]
    following = FOLLOWS[step]
    if following is not None:
        return [_question(ctx, day, following, frozenset(), lead)]
    return [Reply(_summary(ctx, current), private=True)]


async def _screen_answered(ctx: Ctx, day: date) -> bool:
    """Whether the red-flag screen (its leg questions) was answered about `day`."""
    assert ctx.person is not None
    symptoms, _ = await repo.flags_since(ctx.session, ctx.person.id, day, ctx.today)
    return bool(symptoms.get(day))


def _said(question: ContextQuestion, codes: Iterable[str]) -> str:
    """Answers in button order, as a sentence says them."""
    chosen = set(codes)
    return ", ".join(o.said for o in question.options if o.code in chosen)


def _summary(ctx: Ctx, answers: PainContextDay) -> str:
    """What is stored about the day, once the last question is answered or skipped."""
    text = ctx.content.pain_context
    when = formatting.day(answers.day, ctx.today)
    parts = []
    if answers.places:
        parts.append(f"where: {_said(text.where, answers.places)}")
    if answers.triggers:
        parts.append(f"set off by: {_said(text.trigger, answers.triggers)}")
    if answers.stiffness:
        parts.append(f"morning stiffness: {_said(text.stiffness, [answers.stiffness])}")
    if not parts:
        return f"OK, nothing noted for {when}."
    return f"Thanks, noted for {when}: {'; '.join(parts)}. /history counts these on bad days."


async def history_lines(ctx: Ctx) -> list[str]:
    """/history's lines about the bad days of the last 90 days; none when nothing to count."""
    person = ctx.person
    assert person is not None
    today = ctx.today
    since = today - timedelta(days=COUNT_DAYS - 1)
    answers = await repo.pain_context_since(ctx.session, person.id, since)
    if not any(a.answered for a in answers):
        return []
    # The 28 days before the span too: the first days' rises are read against them.
    daily = await repo.daily_scores(
        ctx.session, person.id, since - timedelta(days=trends.BASELINE_DAYS)
    )
    lines = count_lines(ctx.content.pain_context, count_bad_days(daily, answers, since, today))
    return ["", *lines] if lines else []


ACTIONS = {KIND: on_tap}
