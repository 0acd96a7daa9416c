"""The two questions every part of the conversation may ask: consent, and today's score."""

from __future__ import annotations

from datetime import date

from bot import actions, formatting
from bot.context import Ctx
from bot.events import Button, Reply, Role

# A score above the scale ("11", "15/10") is read as the top of it, and said so.
OVER_SCALE = "The scale stops at 10, so I've taken that as 10/10."
ASK_SCORE = "How's your SI pain right now, from 0 (none) to 10 (worst imaginable)?"
CONSENT_TEXT = (
    "{disclaimer}\n\n"
    "To keep your history I need to store your pain scores and your answers to my questions, "
    "linked to your {platform} account. Only you see them: in groups I only ever show totals. "
    "/export gives you a copy and /delete erases everything, any time. Is that OK?"
)


def ask_score() -> Reply:
    """The check-in question with the 0-10 keyboard."""
    return Reply(ASK_SCORE, buttons=formatting.score_keyboard(), private=True)


def disclaimer(ctx: Ctx) -> str:
    """The one-line 'what I am not', from the content library."""
    return ctx.content.messages.disclaimer


def consent_prompt(
    ctx: Ctx,
    pending: int | None,
    club_id: int | None = None,
    flag: str | None = None,
    day: date | None = None,
) -> list[Reply]:
    """Ask for consent, with what the bot is not; a score or a red flag given before
    consenting rides along in the button, not the database."""
    args: tuple[object, ...] = ("y",)
    if flag is not None:
        args += ("f", flag)
    elif pending is not None:
        # The day it was typed rides along too: a tap days later records it on that day.
        args += (pending, club_id or 0, (day or ctx.today).toordinal())
    yes = actions.encode("c", *args)
    text = CONSENT_TEXT.format(disclaimer=disclaimer(ctx), platform=ctx.inc.platform.capitalize())
    if flag is not None:
        text = "I'll keep what you told me in your history as soon as you say yes. " + text
    elif pending is not None:
        text = f"I'll record {formatting.score(pending)} as soon as you say yes. " + text
    return [
        Reply(
            text,
            buttons=(
                (
                    Button("I agree", yes, Role.CONFIRM),
                    Button("No thanks", actions.encode("c", "n"), Role.CANCEL),
                ),
            ),
            private=True,
        )
    ]
