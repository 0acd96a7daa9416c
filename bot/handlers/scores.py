"""Taking a score: stored for the day it is about with what the trend says, or, before
consent, carried in the consent button (with the red-flag screen at once for a high one)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from bot import actions, formatting, parsing, trends
from bot.context import Ctx
from bot.events import Button, Reply
from bot.handlers import advice
from bot.handlers.prompts import consent_prompt
from bot.store import repo

# A score typed this soon after midnight may answer last night's check-in; asked, not guessed.
NIGHT_ENDS = time(3, 0)
# A check-in (or its nudge) sent from this hour on is "last night's".
EVENING_STARTS = time(18, 0)
CHECKIN_SENDS = frozenset({"checkin", "nudge"})
# How far back a score may be filed, as /log allows.
BACKFILL_DAYS = 14
YESTERDAY_LABEL = "For yesterday"
TODAY_LABEL = "For today"


def score_before_consent(
    ctx: Ctx, value: int, club_id: int | None = None, day: date | None = None
) -> list[Reply]:
    """A score from someone not set up: a high one brings the red-flag screen at once; the
    score itself waits in the consent button."""
    first = (
        advice.screen(ctx, reason=f"{formatting.score(value)} is high.")
        if value >= trends.HIGH_SCORE
        else []
    )
    return [*first, *consent_prompt(ctx, value, club_id, day=day)]


async def record_score(
    ctx: Ctx,
    score: int,
    day: date,
    kind: str,
    source: str,
    mentioned: frozenset[str] = frozenset(),
) -> list[Reply]:
    """Store a score, then confirm and add what the trend says.

    The score is committed with everything else the event changes, in the engine's one commit
    before any reply is sent (or by advice stored on the way, which commits first): a tap is
    one transaction, and a failure anywhere leaves nothing half-recorded behind an error.

    `mentioned`: emergency red flags written in the same message; they win over the score's
    own rules (red flags first, always), though only the screen records them.
    """
    assert ctx.person is not None
    # Read once before writing: the view gives the previous score and, updated in memory,
    # everything the trend rules need afterwards.
    view = await advice.history_view(ctx, ctx.today)
    previous = advice.previous_score(view, day, kind)
    await repo.upsert_checkin(ctx.session, ctx.person.id, day, kind, score, source, ctx.now)
    when = formatting.day(day, ctx.today)
    what = {"daily": "", "run_during": " during your run", "run_after": " after your run"}[kind]
    if previous is None:
        text = f"Recorded {formatting.score(score)}{what} for {when}."
    elif previous == score:
        text = f"Already had {formatting.score(score)}{what} for {when}; nothing changed."
    else:
        text = (
            f"Changed {when}'s score{what} from {formatting.number(previous)} to "
            f"{formatting.score(score)}."
        )
    view = advice.with_score(view, day, kind, score)
    if previous is not None and previous != score:
        # Put right (a 6 meant as a 3): what the first score alone led to goes, as with /undo.
        view, withdrawn = await advice.withdraw_stale(ctx, view, {day, ctx.today})
        text += advice.withdrawn_words(ctx, withdrawn)
    if mentioned and day == ctx.today:
        today_codes = view.symptoms.get(day, frozenset()) | mentioned
        view = replace(view, symptoms={**view.symptoms, day: today_codes})
    return await advice.after_score(ctx, day, Reply(text, private=True), view)


async def typed_score(ctx: Ctx, value: int, mentioned: frozenset[str] = frozenset()) -> list[Reply]:
    """A score typed with no day: today's, unless it comes just after midnight while last
    night's check-in is unanswered; then the person says which day it is for."""
    if await _may_answer_last_night(ctx):
        return which_day(ctx, value)
    return await record_score(ctx, value, ctx.today, "daily", "chat", mentioned)


async def _may_answer_last_night(ctx: Ctx) -> bool:
    person = ctx.person
    assert person is not None
    if ctx.now.astimezone(ctx.tz).time() >= NIGHT_ENDS:
        return False
    yesterday = ctx.today - timedelta(days=1)
    if yesterday in await repo.daily_scores(ctx.session, person.id, yesterday):
        return False
    evening = datetime.combine(yesterday, EVENING_STARTS, tzinfo=ctx.tz).astimezone(UTC)
    return await repo.reminder_sent_between(ctx.session, person.id, CHECKIN_SENDS, evening, ctx.now)


def which_day(ctx: Ctx, value: int) -> list[Reply]:
    """[For yesterday] [For today]: the score rides in both buttons, nothing is stored yet.

    A high score brings the red-flag screen at once: tonight's pain is now's pain, whichever
    day it is filed under.
    """
    yesterday = ctx.today - timedelta(days=1)
    first = (
        advice.screen(ctx, reason=f"{formatting.score(value)} is high.")
        if value >= trends.HIGH_SCORE
        else []
    )
    text = (
        f"It's just after midnight: is {formatting.score(value)} for yesterday "
        f"({formatting.day(yesterday)}), the check-in I sent last night, or for today?"
    )
    row = (
        Button(YESTERDAY_LABEL, actions.encode("s", value, yesterday.toordinal())),
        Button(TODAY_LABEL, actions.encode("s", value, ctx.today.toordinal())),
    )
    return [*first, Reply(text, buttons=(row,), private=True)]


async def tapped_score(ctx: Ctx, value: int, asked: date | None) -> list[Reply]:
    """A tap on a score keyboard: recorded for the day the buttons asked about (today for
    buttons made before they carried one), within the days /log may backfill."""
    # A day ahead of the person's today (they moved west since) is today.
    day = ctx.today if asked is None else min(asked, ctx.today)
    if ctx.person is None:
        return score_before_consent(ctx, value, day=day)
    if parsing.check_backfill(day, ctx.today, BACKFILL_DAYS) is not None:
        return [
            Reply(
                f"Those buttons asked about {formatting.day(day)}, more than {BACKFILL_DAYS} "
                "days ago: send today's score instead.",
                private=True,
            )
        ]
    return await record_score(ctx, value, day, "daily", "button")
