"""Safety before consent on Discord: the real adapter and discord.py client against the loopback
Discord fake, with the real engine on SQLite and PostgreSQL. Red flags get help at once, from
anyone; nothing is stored until the person agrees; and a club channel never sees a member."""

from __future__ import annotations

from sqlalchemy import select

from adapters.discord import DiscordAdapter
from bot.app import App
from bot.store import repo
from bot.store.models import Escalation, Person, SymptomReport
from bot.trends import SYMPTOMS
from tests import test_discord_clubs
from tests.conftest import row_counts
from tests.fakes.discord_server import DiscordFake, Message
from tests.test_discord import TODAY, dm, onboard, scores, tap
from tests.test_discord_clubs import (
    BOB,
    CLUB,
    DAN,
    channel_text,
    club_on,
    members,
    post,
    press,
    slash,
)

# The club tests' fixtures, by name: the fake with the Trail Runners guild (Alice its admin;
# Bob, Carol and Dan members), settings pointing discord.py at it, and the started adapter.
fake = test_discord_clubs.fake
settings = test_discord_clubs.settings
bot = test_discord_clubs.bot

EMERGENCY = "Get help now. Call emergency services"
SCREEN = "A quick safety check"
DISCLAIMER = "I can't diagnose you or replace a physio or doctor."
SADDLE = "Numb saddle area (groin, buttocks)"
FEVER = "Fever with back pain"
NONE = "None of these"


async def nothing_stored(app: App) -> bool:
    """No row in any table the bot owns."""
    return not any((await row_counts(app)).values())


async def person_of(app: App, user: int) -> Person | None:
    async with app.sessions() as s:
        return await repo.find_person(s, "discord", str(user))


async def flags_of(app: App, user: int) -> list[str]:
    """The red flags stored for a Discord user."""
    async with app.sessions() as s:
        rows = await s.scalars(
            select(SymptomReport.code)
            .join(Person, Person.id == SymptomReport.person_id)
            .where(Person.platform == "discord", Person.user_id == str(user))
        )
        return list(rows)


def is_screen(message: Message) -> bool:
    """The red-flag screen: the safety-check question with one button per symptom."""
    labels = message.button_labels
    return SCREEN in message.content and SADDLE in labels and FEVER in labels and NONE in labels


def is_consent(message: Message) -> bool:
    return "Is that OK?" in message.content and message.button_labels == ["I agree", "No thanks"]


# ------------------------------------------------------------------------ before consent


async def test_emergency_words_before_consent_get_help_first_then_the_screen_and_store_nothing(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    said = await dm(fake, bot, BOB, "I cant feel my groin and I peed myself")
    assert said[0].startswith(EMERGENCY)
    messages = fake.dm_messages(BOB)
    assert messages[0].components == []  # nothing to tap past under emergency advice
    screens = [m for m in messages if is_screen(m)]
    assert len(screens) == 1 and messages.index(screens[0]) > 0  # the emergency line leads
    [screen] = screens
    assert screen.button_labels[-1] == NONE
    assert len(screen.button_labels) == len(SYMPTOMS) + 1
    assert "Nothing is stored unless you agree" in screen.content
    assert not any(is_consent(m) for m in messages)  # help, not a form
    assert await nothing_stored(app)
    assert await person_of(app, BOB) is None


async def test_a_screen_tap_before_consent_gives_the_advice_and_stores_only_after_i_agree(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    _, shown = await slash(fake, bot, BOB, "symptoms")
    [screen] = [m for m in shown if is_screen(m)]
    said = await tap(fake, bot, BOB, screen, FEVER)
    assert said[0].content.startswith("See a doctor today.")
    consent = said[-1]
    assert len(said) >= 2 and is_consent(consent)  # the advice at once, the question after
    assert DISCLAIMER in consent.content
    assert screen.button_labels[-1] == NONE  # "tap any that apply": the screen stays
    assert await nothing_stored(app)  # the flag waits in the button

    agreed = await tap(fake, bot, BOB, consent, "I agree")
    assert any("you're set up" in m.content for m in agreed)
    assert consent.components == []  # the consent keyboard is single-use
    assert await flags_of(app, BOB) == ["fever"]
    person = await person_of(app, BOB)
    assert person is not None and person.episode_tier == "urgent"


async def test_slash_symptoms_works_before_consent_and_only_the_person_sees_it(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    _, shown = await slash(fake, bot, BOB, "symptoms", guild=CLUB)
    assert shown and all(m.ephemeral for m in shown)
    [screen] = [m for m in shown if is_screen(m)]
    assert screen.button_labels == [s.label for s in SYMPTOMS] + [NONE]
    assert not any(is_consent(m) for m in shown)  # the screen, not the consent gate
    assert channel_text(fake) == []

    said = await tap(fake, bot, BOB, screen, NONE)
    assert said and all(m.ephemeral for m in said)
    assert "haven't stored anything" in said[0].content
    assert channel_text(fake) == []
    assert await nothing_stored(app)


async def test_a_high_first_score_before_consent_brings_the_screen_before_the_question(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await dm(fake, bot, BOB, "9")
    messages = fake.dm_messages(BOB)
    [screen] = [i for i, m in enumerate(messages) if is_screen(m)]
    [consent] = [i for i, m in enumerate(messages) if is_consent(m)]
    assert screen < consent
    question = messages[consent]
    assert "I'll record 9/10 as soon as you say yes" in question.content
    assert DISCLAIMER in question.content
    assert await nothing_stored(app)

    said = await tap(fake, bot, BOB, question, "I agree")
    assert any(m.content.startswith("Recorded 9/10 for today") for m in said)
    assert await scores(app, BOB) == {TODAY: 9}


# ------------------------------------------------------------------------ after consent


async def test_a_score_with_emergency_words_is_recorded_and_the_emergency_line_leads(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, BOB)
    before = len(fake.dm_messages(BOB))
    said = await dm(fake, bot, BOB, "7, and my inner thighs feel numb")
    assert said[0].startswith(EMERGENCY)
    assert any(t.startswith("Recorded 7/10 for today") for t in said[1:])
    assert any(is_screen(m) for m in fake.dm_messages(BOB)[before:])
    assert await scores(app, BOB) == {TODAY: 7}
    person = await person_of(app, BOB)
    assert person is not None and person.episode_tier == "emergency"
    async with app.sessions() as s:
        assert "emergency" in list(await s.scalars(select(Escalation.tier)))


# ------------------------------------------------------------------------ in a club


async def test_a_high_club_tap_from_someone_who_never_agreed_stays_out_of_the_channel(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await club_on(app, fake, bot)
    message = await post(app, fake, bot)
    public = channel_text(fake)
    assert public[-1] == message.content
    stored = await row_counts(app)

    _, said = await press(fake, bot, DAN, message, "9")
    assert said and all(m.ephemeral for m in said)  # only Dan sees any of it
    private = said + fake.dm_messages(DAN)
    [screen] = [i for i, m in enumerate(private) if is_screen(m)]
    [asked] = [i for i, m in enumerate(private) if is_consent(m)]
    assert screen < asked  # a high first score: the safety check comes first
    consent = private[asked]
    assert "I'll record 9/10 as soon as you say yes" in consent.content
    assert DISCLAIMER in consent.content
    assert channel_text(fake) == public  # nothing in the channel but the club post
    assert await row_counts(app) == stored
    assert await person_of(app, DAN) is None
    assert message.components != []  # the post's keyboard stays for everyone else

    _, agreed = await press(fake, bot, DAN, consent, "I agree")
    assert agreed and all(m.ephemeral for m in agreed)
    assert any(m.content.startswith("Recorded 9/10 for today") for m in agreed)
    assert any(is_screen(m) for m in agreed + fake.dm_messages(DAN))
    assert await scores(app, DAN) == {TODAY: 9}
    assert await members(app) == 1
    assert channel_text(fake) == public
    assert not any("9/10" in t or "Dan" in t or SCREEN in t for t in channel_text(fake))
