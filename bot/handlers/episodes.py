"""After "get help": the answers to "Have you been checked?" and "Did you book it?".

CLINICAL.md "Episodes": emergency or same-day advice opens an episode (advice.open_episode);
the daily check-in asks whether they have been checked until they say they were cleared.
"""

from __future__ import annotations

from bot import actions, formatting
from bot.actions import Action
from bot.context import Ctx
from bot.events import Button, Reply
from bot.handlers import advice
from bot.handlers.prompts import ask_score
from bot.parsing import Command
from bot.store import repo
from bot.trends import Tier

# The reminders an open episode holds back, as "cleared" names them (only those chosen).
HELD_DURING_EPISODE = (("core", "core-work"), ("posture", "posture"))

CLEARED = "Yes, cleared to train"
REST = "Yes, told to rest"
NOT_YET = "Not yet"
CHECKED_QUESTION = "Have you been checked by a doctor or physio?"
CLEARED_QUESTION = "Have you been cleared to train?"


def checked_buttons() -> tuple[tuple[Button, ...], ...]:
    """[Yes, cleared to train] [Yes, told to rest] [Not yet]."""
    return (
        (Button(CLEARED, actions.encode("e", "cleared")),),
        (Button(REST, actions.encode("e", "rest")), Button(NOT_YET, actions.encode("e", "notyet"))),
    )


def cleared_buttons() -> tuple[tuple[Button, ...], ...]:
    """[Yes, cleared to train] [Not yet], once they were told to rest."""
    return (
        (
            Button(CLEARED, actions.encode("e", "cleared")),
            Button(NOT_YET, actions.encode("e", "notyet")),
        ),
    )


def booked_buttons() -> tuple[tuple[Button, ...], ...]:
    """[Booked] [Not yet] for the "see a professional" follow-up."""
    return (
        (Button("Booked", actions.encode("b", "y")), Button(NOT_YET, actions.encode("b", "n"))),
    )


async def cmd_checked(ctx: Ctx, _: Command) -> list[Reply]:
    """/checked: the "Have you been checked?" buttons, any time an episode is open."""
    person = ctx.person
    assert person is not None
    if person.episode_tier is None:
        return [Reply("There's no open advice to follow up: send your score any time.")]
    said = formatting.in_sentence(ctx.content.tiers[person.episode_tier].title)
    if person.episode_rest:
        # They said they were checked and told to rest: what is left to ask, as the morning
        # check-in asks it.
        text = f"{CLEARED_QUESTION} I said: {said}, and you were told to rest."
        return [Reply(text, buttons=cleared_buttons(), private=True)]
    text = f"{CHECKED_QUESTION} I said: {said}."
    return [Reply(text, buttons=checked_buttons(), private=True)]


async def on_checked(ctx: Ctx, action: Action) -> list[Reply]:
    """The person says whether they have been checked since get-help advice."""
    person = ctx.person
    if person is None:
        return [Reply("There's nothing stored about you.", private=True)]
    if person.episode_tier is None:
        return [
            Reply(
                "Thanks. There's no open advice to follow up: send your score any time.",
                private=True,
            )
        ]
    answer = action.args[0]
    await repo.set_activity(ctx.session, person.id, ctx.today, f"checked_{answer}", ctx.now)
    tier = Tier[person.episode_tier.upper()]
    if answer == "notyet":
        # The advice in full, every time, unhedged.
        text = f"{advice.headline(ctx, tier)}\n\nI'll ask again tomorrow."
        await ctx.commit()
        replies = [advice.advice_reply(text, tier)]
        return replies if tier is Tier.EMERGENCY else [*replies, ask_score()]
    if answer == "rest":
        person.episode_rest = True
        await ctx.commit()
        text = (
            "Then rest as you were told. I'll keep training advice and core-work reminders off "
            "until you tell me you're cleared to train; I'll ask each morning."
        )
        return [Reply(text, private=True), ask_score()]
    person.episode_tier = None
    person.episode_opened = None
    person.episode_rest = False
    person.cleared_on = ctx.today
    await ctx.commit()
    chosen = {r.kind for r in await repo.reminders_of(ctx.session, person.id) if r.enabled}
    held = [label for kind, label in HELD_DURING_EPISODE if kind in chosen]
    back = f" {' and '.join(held).capitalize()} reminders are back on." if held else ""
    text = (
        f"Good to hear you've been checked.{back} For the next week I'll keep your training "
        "advice at an easy level (shorter, slower, flat or soft ground), then back to the usual "
        "rules. Follow what your clinician told you first."
    )
    return [Reply(text, private=True), ask_score()]


async def on_booked(ctx: Ctx, action: Action) -> list[Reply]:
    """The answer to "Did you book the physio or sports doctor?", asked once."""
    person = ctx.person
    if person is None:
        return [Reply("There's nothing stored about you.", private=True)]
    booked = action.args[0] == "y"
    kind = "pro_booked" if booked else "pro_not_booked"
    await repo.set_activity(ctx.session, person.id, ctx.today, kind, ctx.now)
    await ctx.commit()
    if booked:
        text = (
            "Good. Keep logging until then; /export gives you a file of your history to show them."
        )
    else:
        text = (
            f"{advice.headline(ctx, Tier.PROFESSIONAL)} /export gives you a file of your history "
            "to take along."
        )
    return [Reply(text, private=True)]


ACTIONS = {"e": on_checked, "b": on_booked}
