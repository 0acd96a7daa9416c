"""Taking a score: stored with what the trend says, or, before consent, carried in the
consent button (with the red-flag screen at once for a high one)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot import formatting, trends
from bot.context import Ctx
from bot.events import Reply
from bot.handlers import advice
from bot.handlers.prompts import consent_prompt
from bot.store import repo


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
    """Store a score, commit, then confirm and add what the trend says.

    `mentioned`: emergency red flags written in the same message; they win over the score's
    own rules (red flags first, always), though only the screen records them.
    """
    assert ctx.person is not None
    # Read once before writing: the view gives the previous score and, updated in memory,
    # everything the trend rules need afterwards.
    view = await advice.history_view(ctx, ctx.today)
    previous = advice.previous_score(view, day, kind)
    await repo.upsert_checkin(ctx.session, ctx.person.id, day, kind, score, source, ctx.now)
    await ctx.commit()
    when = formatting.day(day, ctx.today)
    what = {"daily": "", "run_during": " during your run", "run_after": " after your run"}[kind]
    if previous is None:
        text = f"Recorded {formatting.score(score)}{what} for {when}."
    elif previous == score:
        text = f"Already had {formatting.score(score)}{what} for {when}; nothing changed."
    else:
        text = (
            f"Updated {when}'s score{what} to {formatting.score(score)} "
            f"(it was {formatting.score(previous)})."
        )
    view = advice.with_score(view, day, kind, score)
    if mentioned and day == ctx.today:
        today_codes = view.symptoms.get(day, frozenset()) | mentioned
        view = replace(view, symptoms={**view.symptoms, day: today_codes})
    return await advice.after_score(ctx, day, Reply(text, private=True), view)
