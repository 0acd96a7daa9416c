"""The core-work buttons under a routine or a core-work reminder: Done, Snooze 1h, Skip."""

from __future__ import annotations

from bot.actions import Action
from bot.context import Ctx
from bot.events import Reply
from bot.handlers.prompts import consent_prompt
from bot.handlers.reminders import on_snooze
from bot.store import repo


async def on_routine_button(ctx: Ctx, action: Action) -> list[Reply]:
    """Core-work buttons: Done and Skip are recorded per local day; Snooze moves the reminder."""
    if ctx.person is None:
        return consent_prompt(ctx, None)
    kind = {"done": "core_done", "skip": "core_skipped"}.get(action.args[0])
    if kind is None:
        return await on_snooze(ctx, action)
    added = await repo.set_activity(ctx.session, ctx.person.id, ctx.today, kind, ctx.now)
    await ctx.commit()
    if kind == "core_done":
        return [
            Reply(
                "Nice work: core done for today." if added else "Already noted for today.",
                private=True,
            )
        ]
    return [Reply("Skipped for today. See you tomorrow.", private=True)]


ACTIONS = {"r": on_routine_button}
